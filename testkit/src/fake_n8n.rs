//! A fake n8n webhook speaking what real workflows answer, so the gateway's
//! n8n client runs against the real wire forms:
//!
//! - the request of n8n's chat widget (`action`, `sessionId`, `chatInput`,
//!   `metadata`), with an optional `Authorization: Bearer` check that fails
//!   as n8n's Header Auth does (403, plain text);
//! - answers as an AI Agent (`{"output":…}`), a Respond to Webhook node
//!   (`[{"text":…}]`, plain text), n8n streaming (JSON lines in two
//!   `begin … end` runs, lines split across writes when asked), or the SSE
//!   of the chat service the gateway replaces;
//! - faults queued by the test: an error status (n8n's `{"message":"Error in
//!   workflow"}`), the "webhook is not registered" 404, an HTML error page,
//!   an `error` chunk mid-stream, a cut body, a request never answered.
//!
//! The answer is `Echo: <chatInput>`, word by word where streamed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::fake_wire::{Ending, body, spawn, words};

/// The webhook's path on the fake.
pub const WEBHOOK_PATH: &str = "/webhook/chat";

/// How the workflow answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum N8nAnswer {
    /// An AI Agent behind "When Last Node Finishes": `{"output": …}`.
    #[default]
    AgentJson,
    /// Respond to Webhook with all items: `[{"text": …}]`.
    ItemsArray,
    /// Respond to Webhook with text (`text/html`, as n8n labels it).
    PlainText,
    /// n8n streaming: JSON lines, two `begin … end` runs.
    Streaming,
    /// The replaced chat service's SSE (`status`, `message`…, `done`).
    SeedSse,
}

/// Behaviour of a fake webhook.
#[derive(Debug, Clone)]
pub struct FakeN8nOptions {
    /// The bearer token required, if any.
    pub token: Option<String>,
    /// How it answers.
    pub answer: N8nAnswer,
    /// Write bodies in pieces of this many bytes (splitting lines).
    pub piece_bytes: Option<usize>,
}

impl Default for FakeN8nOptions {
    fn default() -> Self {
        Self {
            token: Some("n8n-fake-token".to_owned()),
            answer: N8nAnswer::AgentJson,
            piece_bytes: None,
        }
    }
}

/// A failure for the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum N8nFault {
    /// This status with n8n's JSON `{"message": …}`.
    Status(u16, String),
    /// 404 "The requested webhook … is not registered."
    NotRegistered,
    /// A 502 HTML page from a proxy.
    Html502,
    /// Stream this many words, then an `error` chunk (or SSE `error`).
    ErrorAfter(usize),
    /// Stream this many words, then drop the connection.
    CutAfter(usize),
    /// Never answer.
    Hang,
}

/// A request as the webhook received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedN8n {
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: Value,
}

#[derive(Debug, Default)]
struct Data {
    faults: VecDeque<N8nFault>,
    requests: Vec<RecordedN8n>,
}

struct Inner {
    options: FakeN8nOptions,
    data: Mutex<Data>,
}

impl Inner {
    fn data(&self) -> MutexGuard<'_, Data> {
        self.data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A fake n8n. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct FakeN8n {
    inner: Arc<Inner>,
}

impl FakeN8n {
    /// A fake with `options`.
    pub fn new(options: FakeN8nOptions) -> Self {
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
            .route(WEBHOOK_PATH, post(webhook))
            .fallback(|| async { not_registered() })
            .with_state(self.inner.clone())
    }

    /// Serve on a free loopback port; returns the webhook URL.
    pub async fn spawn(&self) -> std::io::Result<String> {
        Ok(format!("{}{WEBHOOK_PATH}", spawn(self.router()).await?))
    }

    /// The options it was made with.
    pub fn options(&self) -> &FakeN8nOptions {
        &self.inner.options
    }

    /// Make the next request fail with `fault`.
    pub fn push_fault(&self, fault: N8nFault) {
        self.inner.data().faults.push_back(fault);
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedN8n> {
        self.inner.data().requests.clone()
    }
}

fn not_registered() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({
            "code": 404,
            "message": "The requested webhook \"POST chat\" is not registered.",
            "hint": "The workflow must be active for a production URL to run successfully."
        })),
    )
        .into_response()
}

async fn webhook(State(inner): State<Arc<Inner>>, headers: HeaderMap, raw: Bytes) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(token) = &inner.options.token
        && authorization.as_deref() != Some(&format!("Bearer {token}"))
    {
        return (
            StatusCode::FORBIDDEN,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"Webhook\"")],
            "Authorization data is wrong!",
        )
            .into_response();
    }
    let Ok(request) = serde_json::from_slice::<Value>(&raw) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let fault = {
        let mut data = inner.data();
        data.requests.push(RecordedN8n {
            authorization,
            body: request.clone(),
        });
        data.faults.pop_front()
    };
    let input = request["chatInput"].as_str().unwrap_or_default();
    let answer = words(&format!("Echo: {input}"));
    let pieces = inner.options.piece_bytes;
    let (words_sent, ending, error) = match fault {
        Some(N8nFault::Status(status, message)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, axum::Json(json!({ "message": message }))).into_response();
        }
        Some(N8nFault::NotRegistered) => return not_registered(),
        Some(N8nFault::Html502) => {
            return (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
            )
                .into_response();
        }
        Some(N8nFault::Hang) => (0, Ending::Hang, false),
        Some(N8nFault::ErrorAfter(n)) => (n, Ending::Clean, true),
        Some(N8nFault::CutAfter(n)) => (n, Ending::Cut, false),
        None => (answer.len(), Ending::Clean, false),
    };
    let sent = &answer[..words_sent.min(answer.len())];
    let (content_type, text) = match inner.options.answer {
        N8nAnswer::Streaming => (
            "application/json; charset=utf-8",
            lines(sent, error, ending),
        ),
        N8nAnswer::SeedSse => ("text/event-stream", seed_sse(sent, error, ending)),
        // The whole-answer forms can only fail before answering.
        _ if ending == Ending::Hang => ("application/json", String::new()),
        _ if error || ending == Ending::Cut => {
            let text = format!("{{\"output\":\"{}", sent.concat());
            return (
                [(header::CONTENT_TYPE, "application/json")],
                body(text, pieces, Ending::Cut),
            )
                .into_response();
        }
        N8nAnswer::AgentJson => (
            "application/json; charset=utf-8",
            json!({ "output": answer.concat() }).to_string(),
        ),
        N8nAnswer::ItemsArray => (
            "application/json; charset=utf-8",
            json!([{ "text": answer.concat() }]).to_string(),
        ),
        N8nAnswer::PlainText => ("text/html; charset=utf-8", answer.concat()),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body(text, pieces, ending),
    )
        .into_response()
}

/// n8n streaming: the first half of the words in an agent's run, the rest
/// in a second node's run.
fn lines(words: &[String], error: bool, ending: Ending) -> String {
    let chunk = |kind: &str, node: &str, content: Option<&str>| {
        let mut value = json!({
            "type": kind,
            "metadata": {"nodeId": node, "nodeName": node, "itemIndex": 0, "runIndex": 0, "timestamp": 1_764_547_200_000_u64}
        });
        if let Some(content) = content {
            value["content"] = json!(content);
        }
        format!("{value}\n")
    };
    let mut out = chunk("begin", "agent", None);
    if error || ending != Ending::Clean {
        for word in words {
            out.push_str(&chunk("item", "agent", Some(word)));
        }
        if error {
            out.push_str(&chunk("error", "agent", Some("The model is overloaded")));
        }
        return out;
    }
    let half = words.len().div_ceil(2);
    for word in &words[..half] {
        out.push_str(&chunk("item", "agent", Some(word)));
    }
    out.push_str(&chunk("end", "agent", None));
    out.push_str(&chunk("begin", "respond", None));
    for word in &words[half..] {
        out.push_str(&chunk("item", "respond", Some(word)));
    }
    out.push_str(&chunk("end", "respond", None));
    out
}

/// The replaced chat service's SSE.
fn seed_sse(words: &[String], error: bool, ending: Ending) -> String {
    let event = |value: Value| format!("data: {value}\n\n");
    let mut out = event(
        json!({"type": "status", "data": {"description": "Sending request to n8n webhook...", "level": "info", "done": false}}),
    );
    for word in words {
        out.push_str(&event(
            json!({"type": "message", "data": {"content": word}}),
        ));
    }
    if error {
        out.push_str(&event(
            json!({"type": "error", "data": {"message": "n8n webhook failed"}}),
        ));
    } else if ending == Ending::Clean {
        out.push_str(&event(
            json!({"type": "done", "data": {"message": "Stream completed"}}),
        ));
    }
    out
}
