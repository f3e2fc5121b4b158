//! Client for n8n workflows behind a Webhook or Chat Trigger node.
//!
//! The request is the body of n8n's own chat widget, so a stock "When chat
//! message received" → AI Agent workflow answers unchanged:
//! `{"action":"sendMessage","sessionId":…,"chatInput":…,"metadata":{…}}`,
//! with `Authorization: Bearer <token>` when a token is configured. The
//! session id is the gateway's conversation id, so n8n's memory nodes keep
//! one memory per conversation; the gateway's store stays the record.
//!
//! What comes back depends on the workflow, and the reply is read by its
//! content type and first bytes (see `body.rs`): a JSON answer (`output`,
//! `text`, `answer`, `message` or `response`; or an array of such items),
//! plain text, n8n's streaming (JSON lines of `begin`/`item`/`end`/`error`),
//! or the SSE of the chat service this gateway replaces
//! (`data: {"type":"message","data":{"content":…}}`). Blocking
//! [`Upstream::reply`] collects whichever it gets.
//!
//! | the webhook answers | we report |
//! |---|---|
//! | 401 / 403 (n8n's auth failures are plain text) | [`UpstreamError::Unauthorized`] (our 502) |
//! | 404 "webhook … is not registered" | [`UpstreamError::Status`] with code `webhook_not_registered` (our 502) |
//! | 429 | [`UpstreamError::RateLimited`] (our 429) |
//! | other non-2xx, an HTML page | [`UpstreamError::Status`] / [`UpstreamError::Protocol`] (our 502) |
//! | an `error` chunk or event | [`UpstreamError::StreamError`] |
//! | a body cut inside a run | [`UpstreamError::StreamCut`] |
//!
//! A webhook keeps no conversations the gateway could list, so there is no
//! history capability: sync skips n8n systems, rename and delete stay local.
//! A message is never retried: the workflow may have run.

mod body;

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::{Response, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

use super::http::{body_snippet, content_type, transport_error};
use super::{Reply, ReplyEvent, ReplyStream, Upstream, UpstreamError, UpstreamRequest};
use crate::config::{N8nTarget, UpstreamTimeouts};

/// One n8n webhook.
pub struct N8nUpstream {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    timeouts: UpstreamTimeouts,
    /// What it was built from (for [`Upstream::target`]).
    target: N8nTarget,
}

impl std::fmt::Debug for N8nUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("N8nUpstream")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The body n8n's chat widget posts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SendMessage<'a> {
    action: &'static str,
    session_id: &'a str,
    chat_input: &'a str,
    metadata: Metadata<'a>,
}

/// What the workflow may want besides the message (`$json.body.metadata`).
#[derive(Debug, Serialize)]
struct Metadata<'a> {
    system_id: &'a str,
    user_id: &'a str,
    conversation_id: &'a str,
    message_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a str>,
    inputs: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
}

impl N8nUpstream {
    /// A client for the webhook at `target`, sharing `http`'s pool.
    pub fn new(http: reqwest::Client, target: N8nTarget, timeouts: UpstreamTimeouts) -> Self {
        Self {
            http,
            url: target.webhook_url.clone(),
            token: target.token.clone(),
            timeouts,
            target,
        }
    }

    /// Post the message; a 2xx response, or the error it maps to.
    async fn post(
        &self,
        req: &UpstreamRequest<'_>,
        whole_call_limit: bool,
    ) -> Result<Response, UpstreamError> {
        let body = SendMessage {
            action: "sendMessage",
            session_id: req.turn.conversation_id,
            chat_input: req.query,
            metadata: Metadata {
                system_id: req.turn.system_id.as_str(),
                user_id: req.turn.user_id.as_str(),
                conversation_id: req.turn.conversation_id,
                message_id: req.turn.message_id,
                agent: req.turn.agent,
                inputs: req.inputs,
                language: req.turn.language,
            },
        };
        let mut builder = self
            .http
            .post(&self.url)
            .headers(crate::trace_context::outgoing())
            .header(
                reqwest::header::ACCEPT,
                "application/json, text/event-stream, text/plain;q=0.9",
            )
            .json(&body);
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        if whole_call_limit {
            builder = builder.timeout(self.timeouts.request);
        }
        let resp = builder
            .send()
            .await
            .map_err(|e| transport_error(&e, self.timeouts.request))?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(error_from_response(resp).await)
        }
    }
}

#[async_trait]
impl Upstream for N8nUpstream {
    fn kind(&self) -> &'static str {
        "n8n"
    }

    fn target(&self) -> Option<crate::config::UpstreamTarget> {
        Some(crate::config::UpstreamTarget::N8n(self.target.clone()))
    }

    async fn reply(&self, req: &UpstreamRequest<'_>) -> Result<Reply, UpstreamError> {
        let resp = self.post(req, true).await?;
        let mut events = read(resp, self.timeouts.request);
        let mut answer = String::new();
        while let Some(event) = events.next().await {
            match event? {
                ReplyEvent::Delta(text) => answer.push_str(&text),
                ReplyEvent::Replace(text) => answer = text,
                ReplyEvent::Ids { .. } => {}
                ReplyEvent::End { usage } => {
                    return Ok(Reply {
                        answer,
                        conversation_id: None,
                        message_id: None,
                        usage,
                    });
                }
            }
        }
        Err(UpstreamError::StreamCut)
    }

    async fn stream(&self, req: &UpstreamRequest<'_>) -> Result<ReplyStream, UpstreamError> {
        let idle = self.timeouts.stream_idle;
        let resp = tokio::time::timeout(idle, self.post(req, false))
            .await
            .map_err(|_| UpstreamError::Timeout(idle))??;
        Ok(read(resp, idle))
    }
}

/// The answer in `resp`, whatever its form, as reply events.
fn read(resp: Response, idle: std::time::Duration) -> ReplyStream {
    let sse = content_type(&resp).starts_with("text/event-stream");
    body::reply_stream(resp.bytes_stream().boxed(), sse, idle)
}

async fn error_from_response(resp: Response) -> UpstreamError {
    let status = resp.status();
    let retry_after = retry_after(&resp);
    let bytes = resp.bytes().await.unwrap_or_default();
    let json: Option<Value> = serde_json::from_slice(&bytes).ok();
    let message = json
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .map_or_else(|| body_snippet(&bytes), str::to_owned);
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => UpstreamError::Unauthorized {
            status: status.as_u16(),
            message,
        },
        StatusCode::TOO_MANY_REQUESTS => UpstreamError::RateLimited {
            message,
            retry_after,
        },
        StatusCode::NOT_FOUND if message.contains("not registered") => UpstreamError::Status {
            status: 404,
            code: "webhook_not_registered".to_owned(),
            message,
        },
        _ => UpstreamError::Status {
            status: status.as_u16(),
            code: "-".to_owned(),
            message,
        },
    }
}

/// `Retry-After` in seconds (the date form is not used by these servers).
pub(super) fn retry_after(resp: &Response) -> Option<u64> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}
