//! `POST /v1/chat-messages` (blocking and streaming) and the stop endpoint.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::{
    Chunking, Conversation, FakeAnswer, FakeOptions, Fault, HANG, Inner, RecordedChat, Turn,
    dify_error, html_502, refuse_unauthorized, to_json,
};

/// Everything a streamed or blocking answer needs.
struct Answer {
    conversation_id: String,
    message_id: String,
    task_id: String,
    created_at: i64,
    pieces: Vec<String>,
    delay: Duration,
    query_words: usize,
}

impl Answer {
    fn text(&self) -> String {
        self.pieces.concat()
    }

    fn usage(&self, completion: usize) -> Value {
        json!({
            "prompt_tokens": self.query_words,
            "prompt_unit_price": "0.001",
            "prompt_price_unit": "0.001",
            "prompt_price": "0.0000010",
            "completion_tokens": completion,
            "completion_unit_price": "0.002",
            "completion_price_unit": "0.001",
            "completion_price": "0.0000020",
            "total_tokens": self.query_words + completion,
            "total_price": "0.0000030",
            "currency": "USD",
            "latency": 0.42
        })
    }

    /// Fields every stream event carries.
    fn base(&self, event: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("event".into(), event.into());
        m.insert(
            "conversation_id".into(),
            self.conversation_id.clone().into(),
        );
        m.insert("message_id".into(), self.message_id.clone().into());
        m.insert("created_at".into(), self.created_at.into());
        m
    }
}

pub(super) async fn chat_messages(
    State(inner): State<Arc<Inner>>,
    version: axum::http::Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(resp) = refuse_unauthorized(&inner, &headers) {
        return resp;
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !is_json {
        return dify_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
        );
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return dify_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Invalid JSON payload received or JSON payload is empty.",
        );
    };
    let invalid = |msg: &str| dify_error(StatusCode::BAD_REQUEST, "invalid_param", msg);
    let Some(user) = req
        .get("user")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    else {
        return invalid("Arg user must be provided.");
    };
    let Some(query) = req.get("query").and_then(Value::as_str) else {
        return invalid("1 validation error for ChatRequestPayload\nquery\n  Field required");
    };
    let Some(inputs) = req.get("inputs").filter(|i| i.is_object()) else {
        return invalid("1 validation error for ChatRequestPayload\ninputs\n  Field required");
    };
    let streaming = match req.get("response_mode").and_then(Value::as_str) {
        None | Some("blocking") => false,
        Some("streaming") => true,
        Some(_) => return invalid("response_mode must be 'blocking' or 'streaming'"),
    };
    let conversation_id = req
        .get("conversation_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if let Some(c) = conversation_id
        && uuid::Uuid::try_parse(c).is_err()
    {
        return invalid(&format!("{c} is not a valid uuid."));
    }

    let record = inner.options.record;
    let (answer, fault) = {
        let mut data = inner.data();
        if record {
            data.chats.push(RecordedChat {
                user: user.to_owned(),
                query: query.to_owned(),
                conversation_id: conversation_id.map(str::to_owned),
                inputs: inputs.clone(),
                response_mode: if streaming { "streaming" } else { "blocking" }.to_owned(),
                http_version: version,
                traceparent: headers
                    .get("traceparent")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            });
            if let Some(c) = conversation_id {
                let exists = data
                    .conversations
                    .get(user)
                    .is_some_and(|list| list.iter().any(|conv| conv.id == c));
                if !exists {
                    return dify_error(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        "Conversation Not Exists.",
                    );
                }
            }
        }
        let fault = data.faults.pop_front();
        let (pieces, delay) = match inner.options.answer {
            FakeAnswer::Echo => (words(&format!("Echo: {query}")), inner.options.echo_delay),
            FakeAnswer::Words { count, delay } => {
                ((0..count).map(|i| format!("w{i} ")).collect(), delay)
            }
        };
        let now = data.tick();
        let message_id = uuid::Uuid::new_v4().to_string();
        let conversation_id = match conversation_id {
            Some(c) => c.to_owned(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        if record {
            let list = data.conversations.entry(user.to_owned()).or_default();
            if !list.iter().any(|c| c.id == conversation_id) {
                list.push(Conversation {
                    id: conversation_id.clone(),
                    name: query.chars().take(20).collect(),
                    created_at: now,
                    updated_at: now,
                    turns: Vec::new(),
                });
            }
            if let Some(conv) = list.iter_mut().find(|c| c.id == conversation_id) {
                conv.updated_at = now;
                conv.turns.push(Turn {
                    id: message_id.clone(),
                    query: query.to_owned(),
                    answer: inner
                        .options
                        .replace_with
                        .clone()
                        .unwrap_or_else(|| pieces.concat()),
                    created_at: now,
                });
            }
        }
        (
            Answer {
                conversation_id,
                message_id,
                task_id: uuid::Uuid::new_v4().to_string(),
                created_at: now,
                pieces,
                delay,
                query_words: query.split_whitespace().count(),
            },
            fault,
        )
    };

    match fault {
        Some(Fault::Status {
            status,
            code,
            message,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return dify_error(status, &code, &message);
        }
        Some(Fault::Html502) => return html_502(),
        Some(Fault::Hang) => {
            tokio::time::sleep(HANG).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        _ => {}
    }
    if !streaming || fault == Some(Fault::JsonInsteadOfStream) {
        return blocking(&inner.options, &answer);
    }
    stream(inner, answer, fault)
}

fn blocking(options: &FakeOptions, answer: &Answer) -> Response {
    let body = json!({
        "event": "message",
        "task_id": answer.task_id,
        "id": answer.message_id,
        "message_id": answer.message_id,
        "conversation_id": answer.conversation_id,
        "mode": if options.agent { "agent-chat" } else { "chat" },
        "answer": options.replace_with.clone().unwrap_or_else(|| answer.text()),
        "metadata": {"usage": answer.usage(answer.pieces.len()), "retriever_resources": []},
        "created_at": answer.created_at,
    });
    axum::Json(body).into_response()
}

fn stream(inner: Arc<Inner>, answer: Answer, fault: Option<Fault>) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let options = inner.options.clone();
    tokio::spawn(async move {
        let mut w = Writer {
            tx,
            chunking: options.chunking,
            pending: Vec::new(),
        };
        let _ = write_stream(
            &inner,
            &answer,
            fault,
            options.ping_every,
            options.legacy_json,
            &mut w,
        )
        .await;
        let _ = w.flush().await;
    });
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        let bytes = rx.recv().await?;
        Some((Ok::<_, Infallible>(bytes), rx))
    }));
    (
        [
            (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The client went away.
struct Gone;

async fn write_stream(
    inner: &Inner,
    answer: &Answer,
    fault: Option<Fault>,
    ping_every: Option<usize>,
    legacy: bool,
    w: &mut Writer,
) -> Result<(), Gone> {
    let cut_after = match fault {
        Some(Fault::CutAfter(n)) => Some(n),
        _ => None,
    };
    let error_after = match fault {
        Some(Fault::ErrorEventAfter(n)) => Some(n),
        _ => None,
    };
    if ping_every.is_some() {
        w.write(b"event: ping\n\n").await?;
    }
    let options = &inner.options;
    let mut sent = 0;
    for (i, piece) in answer.pieces.iter().enumerate() {
        if let Some(gate) = &options.gate {
            gate.pass(i).await;
        }
        if cut_after == Some(i) {
            return Ok(());
        }
        if error_after == Some(i) {
            return write_error(answer, legacy, w).await;
        }
        if !answer.delay.is_zero() {
            tokio::time::sleep(answer.delay).await;
        }
        if inner.data().stopped.contains(&answer.task_id) {
            break;
        }
        if options.agent && i == 0 {
            w.record(&agent_thought(answer), legacy).await?;
        }
        let mut ev = answer.base(if options.agent {
            "agent_message"
        } else {
            "message"
        });
        ev.insert("task_id".into(), answer.task_id.clone().into());
        ev.insert("id".into(), answer.message_id.clone().into());
        ev.insert("answer".into(), piece.clone().into());
        ev.insert("from_variable_selector".into(), Value::Null);
        w.record(&Value::Object(ev), legacy).await?;
        sent += 1;
        if ping_every.is_some_and(|k| k > 0 && (i + 1) % k == 0) {
            w.write(b"event: ping\n\n").await?;
        }
        if i == 0 {
            // Later Dify versions add events the client must skip.
            let mut node = answer.base("node_retry");
            node.insert("data".into(), json!({"node_id": "llm", "retry_index": 0}));
            w.record(&Value::Object(node), legacy).await?;
        }
    }
    if let Some(gate) = &options.gate {
        gate.pass(answer.pieces.len()).await;
    }
    if cut_after.is_some_and(|n| n >= answer.pieces.len()) {
        return Ok(());
    }
    if error_after.is_some_and(|n| n >= answer.pieces.len()) {
        return write_error(answer, legacy, w).await;
    }
    if let Some(text) = &options.replace_with {
        let mut ev = answer.base("message_replace");
        ev.insert("task_id".into(), answer.task_id.clone().into());
        ev.insert("answer".into(), text.clone().into());
        ev.insert("reason".into(), "output_moderation".into());
        w.record(&Value::Object(ev), legacy).await?;
    }
    let mut end = answer.base("message_end");
    end.insert("task_id".into(), answer.task_id.clone().into());
    end.insert("id".into(), answer.message_id.clone().into());
    end.insert(
        "metadata".into(),
        json!({"usage": answer.usage(sent), "retriever_resources": []}),
    );
    end.insert("files".into(), Value::Null);
    w.record(&Value::Object(end), legacy).await
}

/// The reasoning step an Agent app streams before its answer.
fn agent_thought(answer: &Answer) -> Value {
    let mut ev = answer.base("agent_thought");
    ev.insert("task_id".into(), answer.task_id.clone().into());
    ev.insert("id".into(), uuid::Uuid::new_v4().to_string().into());
    ev.insert("position".into(), 1.into());
    ev.insert("thought".into(), "I should answer directly.".into());
    ev.insert("observation".into(), "".into());
    ev.insert("tool".into(), "".into());
    ev.insert("tool_labels".into(), json!({}));
    ev.insert("tool_input".into(), "".into());
    ev.insert("message_files".into(), json!([]));
    Value::Object(ev)
}

async fn write_error(answer: &Answer, legacy: bool, w: &mut Writer) -> Result<(), Gone> {
    let mut ev = answer.base("error");
    ev.insert("status".into(), 400.into());
    ev.insert("code".into(), "completion_request_error".into());
    ev.insert("message".into(), "[openai] Rate Limit Error".into());
    w.record(&Value::Object(ev), legacy).await
}

struct Writer {
    tx: mpsc::Sender<Bytes>,
    chunking: Chunking,
    pending: Vec<u8>,
}

impl Writer {
    async fn record(&mut self, value: &Value, legacy: bool) -> Result<(), Gone> {
        let line = format!("data: {}\n\n", to_json(value, legacy));
        self.write(line.as_bytes()).await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Gone> {
        match self.chunking {
            Chunking::PerEvent => self.send(bytes.to_vec()).await,
            Chunking::ByteAtATime => {
                for b in bytes {
                    self.send(vec![*b]).await?;
                }
                Ok(())
            }
            Chunking::Pieces(n) => {
                self.pending.extend_from_slice(bytes);
                while self.pending.len() >= n.max(1) {
                    let rest = self.pending.split_off(n.max(1));
                    let piece = std::mem::replace(&mut self.pending, rest);
                    self.send(piece).await?;
                }
                Ok(())
            }
        }
    }

    async fn flush(&mut self) -> Result<(), Gone> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rest = std::mem::take(&mut self.pending);
        self.send(rest).await
    }

    async fn send(&self, bytes: Vec<u8>) -> Result<(), Gone> {
        self.tx.send(Bytes::from(bytes)).await.map_err(|_| Gone)
    }
}

/// `POST /v1/chat-messages/{task_id}/stop`: always succeeds, as in Dify.
pub(super) async fn stop(
    State(inner): State<Arc<Inner>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(resp) = refuse_unauthorized(&inner, &headers) {
        return resp;
    }
    let user = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("user").and_then(Value::as_str).map(str::to_owned))
        .filter(|u| !u.is_empty());
    if user.is_none() {
        return dify_error(
            StatusCode::BAD_REQUEST,
            "invalid_param",
            "Arg user must be provided.",
        );
    }
    inner.data().stopped.insert(task_id);
    axum::Json(json!({"result": "success"})).into_response()
}

/// Split into word deltas, each keeping its trailing blank.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if !c.is_whitespace() && current.ends_with(char::is_whitespace) {
            out.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_keep_their_blanks() {
        assert_eq!(super::words("Echo: hi  there"), ["Echo: ", "hi  ", "there"]);
        assert_eq!(super::words("Echo: 안녕"), ["Echo: ", "안녕"]);
    }
}
