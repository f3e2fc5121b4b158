//! Accepting connections and keeping each one within bounds: how many are
//! open (in all, and per client address), how long a request head may take
//! to arrive, how long a connection may sit idle, and how it is closed.
//!
//! - A connection over [`ConnectionLimits::max_connections`] (or over
//!   [`ConnectionLimits::max_per_address`] for its address) is closed as soon
//!   as it is accepted.
//! - HTTP/1 request heads must arrive within
//!   [`ConnectionLimits::header_read_timeout`], or the connection is closed
//!   (a client sending half a header cannot hold it open).
//! - A connection with no request in progress and no bytes read or written
//!   for [`ConnectionLimits::idle_timeout`] is closed. Open streams send
//!   keep-alives, and a blocking chat counts as a request in progress, so
//!   neither is cut.
//! - Closing is *lingering*: after the last response, whatever the client
//!   is still sending (the rest of a body too large to read, say) is read
//!   and dropped for a moment before the socket closes. Closing a socket
//!   with unread data makes the kernel reset the connection, and the client
//!   could lose the response (a 413) it had not read yet.
//!
//! Every request carries its connection's peer address as
//! `axum::extract::ConnectInfo<SocketAddr>` (for per-address rate limits;
//! see `activity::Counted`).
//!
//! On shutdown, accepting stops and every connection is asked to finish
//! its current requests and close; [`serve`] returns when all have.

mod activity;
mod gate;
mod lingering;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::activity::{Activity, Counted};
use self::gate::Gate;
use self::lingering::Lingering;
use crate::config::ConnectionLimits;

/// More request headers than this are refused by the HTTP parser itself;
/// the routes refuse fewer, with the JSON error shape (see `routes`).
const PARSER_MAX_HEADERS: usize = 256;

/// Serve `router` on `listener` until `shutdown` completes, then stop
/// accepting, ask every connection to close after its current requests, and
/// return once all have.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(PARSER_MAX_HEADERS);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let gate = Arc::new(Gate::new(limits));
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let Some(admitted) = gate.admit(peer.ip()) else {
            tracing::debug!(peer = %peer.ip(), "connection refused: too many open connections");
            continue;
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let (builder, router, stopping) = (builder.clone(), router.clone(), stopping.clone());
        connections.spawn(async move {
            connection(&builder, tcp, peer, router, limits.idle_timeout, stopping).await;
            drop(admitted);
        });
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}

/// After a failed `accept`: per-connection errors are the client's business;
/// anything else (out of file descriptors) gets a pause so the loop does not
/// spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Serve one connection until it ends, is idle too long, or the gateway
/// stops.
async fn connection(
    builder: &Builder<TokioExecutor>,
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    idle_timeout: Duration,
    stopping: CancellationToken,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Lingering::new(tcp, activity.clone()));
    let service = TowerToHyperService::new(Counted::new(router, activity.clone(), peer));
    let mut conn = pin!(builder.serve_connection_with_upgrades(io, service));
    let mut closing = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = stopping.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = activity.idle_for(idle_timeout), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}
