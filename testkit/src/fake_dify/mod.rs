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

pub use gate::Gate;

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// How the fake writes SSE bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chunking {
    /// One write per record (what Dify does).
    #[default]
    PerEvent,
    /// One byte per write.
    ByteAtATime,
    /// Writes of this many bytes, regardless of record boundaries.
    Pieces(usize),
}

/// What the fake answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FakeAnswer {
    /// `Echo: <message>`, one delta per word.
    #[default]
    Echo,
    /// `count` words, one delta each, `delay` apart (benchmarks).
    Words {
        /// Number of deltas.
        count: usize,
        /// Pause before each delta.
        delay: Duration,
    },
}

/// Behaviour of a fake.
#[derive(Debug, Clone)]
pub struct FakeOptions {
    /// The app key it accepts.
    pub api_key: String,
    /// SSE write pattern.
    pub chunking: Chunking,
    pub answer: FakeAnswer,
    /// Send a ping before the first event and after every `ping_every` deltas.
    pub ping_every: Option<usize>,
    /// Old Dify serialisation: `", "` separators and `\uXXXX` escapes.
    pub legacy_json: bool,
    /// Pause between deltas of an echo answer.
    pub echo_delay: Duration,
    /// Keep conversations and requests (off for benchmarks: then nothing
    /// accumulates, and continuing a conversation is not checked).
    pub record: bool,
    /// Hold streamed answers here until the test opens the gate.
    pub gate: Option<Gate>,
    /// Stream as an Agent app: `agent_thought` before the first delta, and
    /// `agent_message` instead of `message`.
    pub agent: bool,
    /// After the last delta, send `message_replace` with this text (output
    /// moderation); the stored upstream answer becomes this text.
    pub replace_with: Option<String>,
}

impl Default for FakeOptions {
    fn default() -> Self {
        Self {
            api_key: "app-fake".into(),
            chunking: Chunking::PerEvent,
            answer: FakeAnswer::Echo,
            ping_every: Some(3),
            legacy_json: false,
            echo_delay: Duration::ZERO,
            record: true,
            gate: None,
            agent: false,
            replace_with: None,
        }
    }
}

/// A failure for the next chat request, queued with [`FakeDify::push_fault`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and Dify's JSON error envelope.
    Status {
        status: u16,
        /// Dify's error `code`, such as `invalid_param`.
        code: String,
        message: String,
    },
    /// A 502 with an nginx HTML page.
    Html502,
    /// Stream this many deltas, then an `error` event.
    ErrorEventAfter(usize),
    /// Stream this many deltas, then close without `message_end`.
    CutAfter(usize),
    /// Answer a streaming request with a blocking JSON body.
    JsonInsteadOfStream,
    /// Never answer.
    Hang,
}

/// A chat request as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedChat {
    /// The `user` field.
    pub user: String,
    /// The `query` field.
    pub query: String,
    /// The `conversation_id` field, if any.
    pub conversation_id: Option<String>,
    /// The `inputs` field.
    pub inputs: Value,
    /// `blocking` or `streaming`.
    pub response_mode: String,
    /// The HTTP version the request came over.
    pub http_version: axum::http::Version,
    /// The W3C `traceparent` header, if sent.
    pub traceparent: Option<String>,
}

/// A message feedback request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFeedback {
    /// The message id in the path.
    pub message_id: String,
    /// The `user` field.
    pub user: String,
    /// `like`, `dislike`, or `None` for `null` (remove).
    pub rating: Option<String>,
    /// The `content` field, if any.
    pub content: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Turn {
    pub(crate) id: String,
    pub(crate) query: String,
    pub(crate) answer: String,
    pub(crate) created_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) turns: Vec<Turn>,
}

#[derive(Debug, Default)]
pub(crate) struct Data {
    /// Conversations per user, oldest first.
    pub(crate) conversations: HashMap<String, Vec<Conversation>>,
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) chats: Vec<RecordedChat>,
    pub(crate) stopped: HashSet<String>,
    pub(crate) clock: i64,
    /// Every feedback request, in arrival order.
    pub(crate) feedback_requests: Vec<RecordedFeedback>,
    /// Statuses for the next feedback requests to fail with.
    pub(crate) feedback_faults: VecDeque<u16>,
    /// The rating (and content) each message has now.
    pub(crate) feedback: HashMap<String, (String, Option<String>)>,
}

impl Data {
    /// A strictly increasing fake clock (Unix seconds), so ordering is stable.
    pub(crate) fn tick(&mut self) -> i64 {
        self.clock += 1;
        1_800_000_000 + self.clock
    }
}

pub(crate) struct Inner {
    pub(crate) options: FakeOptions,
    pub(crate) data: Mutex<Data>,
}

impl Inner {
    pub(crate) fn data(&self) -> MutexGuard<'_, Data> {
        // A panicking test thread must not poison every later request.
        self.data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

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

/// Dify's error envelope.
pub(crate) fn dify_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"code": code, "message": message, "status": status.as_u16()});
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"api\""),
        );
    }
    resp
}

/// Check `Authorization: Bearer <key>` as Dify does; `Some` is the refusal.
pub(crate) fn refuse_unauthorized(inner: &Inner, headers: &HeaderMap) -> Option<Response> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some((scheme, key)) = value.split_once(' ') else {
        return Some(dify_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authorization header must be provided and start with 'Bearer'",
        ));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Some(dify_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authorization scheme must be 'Bearer'",
        ));
    }
    (key != inner.options.api_key).then(|| {
        dify_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Access token is invalid",
        )
    })
}

/// The nginx page a proxy returns when Dify is down.
pub(crate) fn html_502() -> Response {
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/html")],
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    )
        .into_response()
}

/// Serialise like Dify: compact raw UTF-8 (current) or spaced and
/// `\u`-escaped (old `json.dumps`).
pub(crate) fn to_json(value: &Value, legacy: bool) -> String {
    if !legacy {
        return value.to_string();
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SpacedFormatter);
    if serde::Serialize::serialize(value, &mut ser).is_err() {
        return value.to_string();
    }
    let spaced = String::from_utf8(out).unwrap_or_default();
    let mut escaped = String::with_capacity(spaced.len());
    for c in spaced.chars() {
        if c.is_ascii() {
            escaped.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                escaped.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    escaped
}

/// Python `json.dumps` separators: `", "` and `": "`.
struct SpacedFormatter;

impl serde_json::ser::Formatter for SpacedFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// Keep the fake from answering forever in a `Hang` fault.
pub(crate) const HANG: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_json_is_spaced_and_escaped() {
        let v = json!({"event": "message", "answer": "한😀", "n": [1, 2]});
        let legacy = to_json(&v, true);
        assert!(
            legacy.contains("\"answer\": \"\\ud55c\\ud83d\\ude00\""),
            "{legacy}"
        );
        assert!(legacy.contains("[1, 2]"), "{legacy}");
        let back: Value = serde_json::from_str(&legacy).unwrap();
        assert_eq!(back, v);
        assert!(to_json(&v, false).contains("한😀"));
    }
}
