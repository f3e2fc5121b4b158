//! A fake OpenAI-compatible chat completions server, writing what OpenAI
//! writes, so the gateway's client runs against the real wire protocol:
//!
//! - `POST /v1/chat/completions` with Bearer auth (OpenAI's 401 envelope,
//!   whose message quotes part of the key, as OpenAI's does);
//! - blocking answers (`chat.completion`) and streams: a first chunk with
//!   the `role`, one chunk per word, a chunk with `finish_reason`, a usage
//!   chunk with empty `choices` when `stream_options.include_usage`, then
//!   `data: [DONE]`; a `: keep-alive` comment first;
//! - faults queued by the test: an error status with OpenAI's
//!   `{"error":{message,type,code}}` (and `Retry-After` on 429), the context
//!   length error, an `error` record mid-stream, a cut stream, a request
//!   never answered.
//!
//! The answer is `Echo: <last user message>`; every request is recorded, so
//! tests can check the history sent message by message.

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

/// Behaviour of a fake server.
#[derive(Debug, Clone)]
pub struct FakeOpenAiOptions {
    /// The API key it accepts.
    pub api_key: String,
    /// The model it serves (others get 404 `model_not_found`).
    pub model: String,
    /// Write streams in pieces of this many bytes.
    pub piece_bytes: Option<usize>,
}

impl Default for FakeOpenAiOptions {
    fn default() -> Self {
        Self {
            api_key: "sk-fake-0123456789abcdef".to_owned(),
            model: "fake-gpt".to_owned(),
            piece_bytes: None,
        }
    }
}

/// A failure for the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenAiFault {
    /// This status with OpenAI's error envelope.
    Status {
        /// HTTP status.
        status: u16,
        /// `error.type`.
        kind: String,
        /// `error.code`.
        code: Option<String>,
        /// `error.message`.
        message: String,
    },
    /// 429 `rate_limit_exceeded` with `Retry-After: <seconds>`.
    RateLimited(u64),
    /// 400 `context_length_exceeded`.
    ContextTooLong,
    /// Stream this many words, then a `data: {"error":…}` record.
    ErrorAfter(usize),
    /// Stream this many words, then drop the connection.
    CutAfter(usize),
    /// Never answer.
    Hang,
}

#[derive(Debug, Default)]
struct Data {
    faults: VecDeque<OpenAiFault>,
    requests: Vec<Value>,
}

struct Inner {
    options: FakeOpenAiOptions,
    data: Mutex<Data>,
}

impl Inner {
    fn data(&self) -> MutexGuard<'_, Data> {
        self.data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A fake OpenAI-compatible server. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct FakeOpenAi {
    inner: Arc<Inner>,
}

impl FakeOpenAi {
    /// A fake with `options`.
    pub fn new(options: FakeOpenAiOptions) -> Self {
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
            .route("/v1/chat/completions", post(completions))
            .with_state(self.inner.clone())
    }

    /// Serve on a free loopback port; returns the base URL (with `/v1`).
    pub async fn spawn(&self) -> std::io::Result<String> {
        Ok(format!("{}/v1", spawn(self.router()).await?))
    }

    /// The options it was made with.
    pub fn options(&self) -> &FakeOpenAiOptions {
        &self.inner.options
    }

    /// Make the next request fail with `fault`.
    pub fn push_fault(&self, fault: OpenAiFault) {
        self.inner.data().faults.push_back(fault);
    }

    /// Every request body received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.inner.data().requests.clone()
    }
}

fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, axum::Json(body)).into_response()
}

async fn completions(State(inner): State<Arc<Inner>>, headers: HeaderMap, raw: Bytes) -> Response {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if key != inner.options.api_key {
        let shown: String = key.chars().take(6).collect();
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            &format!(
                "Incorrect API key provided: {shown}****. You can find your API key at https://platform.openai.com/account/api-keys."
            ),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&raw) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            "We could not parse the JSON body of your request.",
        );
    };
    if request["model"].as_str() != Some(inner.options.model.as_str()) {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("model_not_found"),
            "The model does not exist or you do not have access to it.",
        );
    }
    let fault = {
        let mut data = inner.data();
        data.requests.push(request.clone());
        data.faults.pop_front()
    };
    let last = request["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    let answer = words(&format!("Echo: {last}"));
    let (count, ending, fail) = match fault {
        Some(OpenAiFault::Status {
            status,
            kind,
            code,
            message,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error(status, &kind, code.as_deref(), &message);
        }
        Some(OpenAiFault::RateLimited(seconds)) => {
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                "requests",
                Some("rate_limit_exceeded"),
                "Rate limit reached for requests",
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
            return resp;
        }
        Some(OpenAiFault::ContextTooLong) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("context_length_exceeded"),
                "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
            );
        }
        Some(OpenAiFault::ErrorAfter(n)) => (n, Ending::Clean, true),
        Some(OpenAiFault::CutAfter(n)) => (n, Ending::Cut, false),
        Some(OpenAiFault::Hang) => (0, Ending::Hang, false),
        None => (answer.len(), Ending::Clean, false),
    };
    let prompt_tokens = request["messages"].as_array().map_or(0, Vec::len);
    let usage = json!({"prompt_tokens": prompt_tokens, "completion_tokens": answer.len(), "total_tokens": prompt_tokens + answer.len()});
    let model = inner.options.model.clone();
    if request["stream"] != json!(true) {
        if ending == Ending::Hang {
            return (
                [(header::CONTENT_TYPE, "application/json")],
                body(String::new(), None, Ending::Hang),
            )
                .into_response();
        }
        return axum::Json(json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_764_547_200,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.concat()}, "finish_reason": "stop"}],
            "usage": usage
        }))
        .into_response();
    }
    let chunk = |choices: Value, usage: Value| {
        let value = json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_764_547_200,
            "model": model, "system_fingerprint": null, "choices": choices, "usage": usage
        });
        format!("data: {value}\n\n")
    };
    let mut out = String::from(": keep-alive\n\n");
    out.push_str(&chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]),
        Value::Null,
    ));
    for word in &answer[..count.min(answer.len())] {
        out.push_str(&chunk(
            json!([{"index": 0, "delta": {"content": word}, "logprobs": null, "finish_reason": null}]),
            Value::Null,
        ));
    }
    if fail {
        out.push_str(&format!(
            "data: {}\n\n",
            json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "code": null}})
        ));
    } else if ending == Ending::Clean {
        out.push_str(&chunk(
            json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}]),
            Value::Null,
        ));
        if request["stream_options"]["include_usage"] == json!(true) {
            out.push_str(&chunk(json!([]), usage));
        }
        out.push_str("data: [DONE]\n\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body(out, inner.options.piece_bytes, ending),
    )
        .into_response()
}
