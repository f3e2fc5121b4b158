//! What a connection is doing: requests in progress, and when a byte last
//! moved (see [`super`] for the idle timeout this serves).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use tower::Service;

/// What a connection is doing: requests in progress and the last time a
/// byte moved.
pub(super) struct Activity {
    start: Instant,
    /// Milliseconds after `start` of the last read or write.
    last: AtomicU64,
    /// Requests whose response has not been produced yet.
    requests: AtomicUsize,
}

impl Activity {
    pub(super) fn new() -> Self {
        Self {
            start: Instant::now(),
            last: AtomicU64::new(0),
            requests: AtomicUsize::new(0),
        }
    }

    pub(super) fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// Completes once no request is in progress and nothing moved for
    /// `limit`.
    pub(super) async fn idle_for(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            let quiet = self.start.elapsed().saturating_sub(last);
            if quiet >= limit && self.requests.load(Ordering::Relaxed) == 0 {
                return;
            }
            let wait = limit.saturating_sub(quiet).max(limit / 8);
            tokio::time::sleep(wait).await;
        }
    }
}

/// The router, counting requests in progress on its connection and telling
/// each request the connection's peer address.
#[derive(Clone)]
pub(super) struct Counted {
    inner: Router,
    activity: Arc<Activity>,
    peer: ConnectInfo<SocketAddr>,
}

impl Counted {
    pub(super) fn new(inner: Router, activity: Arc<Activity>, peer: SocketAddr) -> Self {
        Self {
            inner,
            activity,
            peer: ConnectInfo(peer),
        }
    }
}

impl Service<Request<hyper::body::Incoming>> for Counted {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<Request<hyper::body::Incoming>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, mut req: Request<hyper::body::Incoming>) -> Self::Future {
        req.extensions_mut().insert(self.peer);
        let in_progress = InProgress::new(self.activity.clone());
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await;
            drop(in_progress);
            response
        })
    }
}

/// One request in progress; counted until dropped.
struct InProgress(Arc<Activity>);

impl InProgress {
    fn new(activity: Arc<Activity>) -> Self {
        activity.requests.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}
