//! A fake Dify Service API for tests, benchmarks and trying the Dify path
//! locally (`cargo run -p testkit --bin fake-dify`, see [`command`]). It speaks the real wire protocol, so
//! the real client code runs against it:
//!
//! - Bearer auth, with Dify's 401 envelope and `WWW-Authenticate` header;
//! - `POST /v1/chat-messages` in blocking and streaming mode, with Dify's
//!   validation errors (`user`, `inputs`, `response_mode`, conversation ids);
//! - SSE framing exactly as Dify writes it: `data: {json}\n\n` records whose
//!   `event` field names the type, bare `event: ping\n\n` keep-alives, no
//!   `[DONE]`; chunking per event, byte at a time, or in fixed pieces;
//!   compact raw-UTF-8 JSON (current Dify) or spaced `\u`-escaped JSON (old);
//! - conversations and messages per user, with Dify's paging (`last_id`
//!   forward, `first_id` backward), rename, delete (204) and stop;
//! - message feedback (like, dislike, `null` to remove; 404 for another
//!   user's message), recorded for the test to read;
//! - faults queued by the test: an error status with a JSON envelope, an HTML
//!   502 from a proxy, an `error` event mid-stream, a cut stream, a JSON body
//!   where a stream was asked for, a request that never answers.
//!
//! The answer to a message is deterministic: `Echo: <message>` split into
//! word deltas (or, with [`FakeAnswer::Words`], a fixed number of words at a
//! fixed pace, for benchmarks). As real Dify does, it can stream an Agent
//! app's `agent_message`/`agent_thought` events instead of `message`
//! ([`FakeOptions::agent`]) and end with output moderation's
//! `message_replace` ([`FakeOptions::replace_with`]).
//!
//! A [`Gate`] holds every streamed answer after a number of deltas until the
//! test opens it, so a test decides when an answer goes on instead of racing
//! a timer.

mod chat;
pub mod command;
mod feedback;
mod gate;
mod lists;
mod options;
mod state;
mod wire;

pub use gate::Gate;
pub use options::{Chunking, FakeAnswer, FakeOptions, Fault};
pub(crate) use state::{Conversation, Data, Inner, Turn};
pub use state::{RecordedChat, RecordedFeedback};
pub(crate) use wire::{HANG, dify_error, html_502, refuse_unauthorized, to_json};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A fake Dify server. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct FakeDify {
    inner: Arc<Inner>,
}

impl FakeDify {
    pub fn new(options: FakeOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                options,
                data: Mutex::new(Data::default()),
            }),
        }
    }

    /// The HTTP routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/", get(welcome))
            .route("/v1/chat-messages", post(chat::chat_messages))
            .route("/v1/chat-messages/{task_id}/stop", post(chat::stop))
            .route("/v1/conversations", get(lists::conversations))
            .route("/v1/conversations/{id}", delete(lists::delete_conversation))
            .route("/v1/conversations/{id}/name", post(lists::rename))
            .route("/v1/messages", get(lists::messages))
            .route("/v1/messages/{id}/feedbacks", post(feedback::give))
            .fallback(|| async {
                dify_error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "The requested URL was not found on the server.",
                )
            })
            .with_state(self.inner.clone())
    }

    /// Serve until `shutdown` completes. HTTP/1.1 and HTTP/2 (also `h2c`
    /// with prior knowledge) are both spoken, with no limit on concurrent
    /// HTTP/2 streams per connection.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = self.router();
        tokio::pin!(shutdown);
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => accepted?,
                () = &mut shutdown => return Ok(()),
            };
            let _ = stream.set_nodelay(true);
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let mut builder = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                builder.http2().max_concurrent_streams(None);
                let _ = builder
                    .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    /// Serve on a free loopback port in the background; returns the base URL
    /// to put in `DIFY_BASE_URL`.
    #[expect(
        clippy::print_stderr,
        reason = "a background fake has no caller to return its failure to; the test output shows it"
    )]
    pub async fn spawn(&self) -> std::io::Result<String> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let fake = self.clone();
        tokio::spawn(async move {
            // An accept error would otherwise look like an upstream that
            // stopped answering: say so where the test output shows it.
            if let Err(e) = fake.serve(listener, std::future::pending()).await {
                eprintln!("the fake Dify on {addr} stopped serving: {e}");
            }
        });
        Ok(format!("http://{addr}"))
    }

    /// Make the next chat request fail with `fault`.
    pub fn push_fault(&self, fault: Fault) {
        self.inner.data().faults.push_back(fault);
    }

    /// Every chat request received so far.
    pub fn chats(&self) -> Vec<RecordedChat> {
        self.inner.data().chats.clone()
    }

    /// Every message feedback request received so far, in order.
    pub fn feedback_requests(&self) -> Vec<RecordedFeedback> {
        self.inner.data().feedback_requests.clone()
    }

    /// The rating (`like`/`dislike`) and content message `message_id` has
    /// now; `None` when it has none.
    pub fn feedback_of(&self, message_id: &str) -> Option<(String, Option<String>)> {
        self.inner.data().feedback.get(message_id).cloned()
    }

    /// Make the next feedback request fail with `status` (a Dify error body).
    pub fn fail_next_feedback(&self, status: u16) {
        self.inner.data().feedback_faults.push_back(status);
    }

    /// Task ids that were asked to stop.
    pub fn stopped_tasks(&self) -> Vec<String> {
        self.inner.data().stopped.iter().cloned().collect()
    }

    /// Number of conversations `user` has.
    pub fn conversation_count(&self, user: &str) -> usize {
        self.inner
            .data()
            .conversations
            .get(user)
            .map_or(0, Vec::len)
    }

    /// Create a conversation for `user` with `(query, answer)` turns, as if
    /// made outside the gateway. Returns its id.
    pub fn add_conversation(&self, user: &str, name: &str, turns: &[(&str, &str)]) -> String {
        let mut data = self.inner.data();
        let created_at = data.tick();
        let turns = turns
            .iter()
            .map(|(q, a)| Turn {
                id: uuid::Uuid::new_v4().to_string(),
                query: (*q).to_owned(),
                answer: (*a).to_owned(),
                created_at: data.tick(),
            })
            .collect();
        let id = uuid::Uuid::new_v4().to_string();
        data.conversations
            .entry(user.to_owned())
            .or_default()
            .push(Conversation {
                id: id.clone(),
                name: name.to_owned(),
                created_at,
                updated_at: created_at,
                turns,
            });
        id
    }
}

async fn welcome() -> axum::Json<Value> {
    axum::Json(json!({"welcome": "Dify OpenAPI", "api_version": "v1", "server_version": "fake"}))
}
