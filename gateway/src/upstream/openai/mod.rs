//! Client for OpenAI's chat completions API and the servers that copy it
//! (vLLM, Ollama, LM Studio, LiteLLM; Azure OpenAI with its `api-key` header
//! and `api-version` query).
//!
//! The API is stateless: every message goes with the system prompt and the
//! conversation's earlier complete turns, which the gateway reads from its
//! own store ([`Upstream::wants_history`]). There is no history capability
//! (sync skips these systems) and no stop call: dropping the stream closes
//! the connection, which is how these servers are told to stop.
//!
//! | the API answers | we report |
//! |---|---|
//! | 401 / 403 | [`UpstreamError::Unauthorized`] (our 502; the body is not kept, it may quote the key) |
//! | 429 | [`UpstreamError::RateLimited`] with its `Retry-After` (our 429) |
//! | 400 `context_length_exceeded` | [`UpstreamError::ContextTooLong`] (our 422) |
//! | other non-2xx | [`UpstreamError::Status`] (our 502) |
//! | a `data: {"error":…}` record mid-stream | [`UpstreamError::StreamError`] |
//! | a body ending before `finish_reason` / `[DONE]` | [`UpstreamError::StreamCut`] |

mod stream;
mod wire;

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::{RequestBuilder, Response, StatusCode};

use self::wire::{ChatCompletion, CompletionRequest, ErrorEnvelope, Message, StreamOptions};
use super::http::{body_snippet, content_type, transport_error};
use super::n8n::retry_after;
use super::{HistoryWindow, Reply, ReplyStream, Upstream, UpstreamError, UpstreamRequest};
use crate::config::{OpenAiTarget, UpstreamTimeouts};

/// One model on one OpenAI-compatible server.
pub struct OpenAiUpstream {
    http: reqwest::Client,
    url: String,
    target: OpenAiTarget,
    timeouts: UpstreamTimeouts,
}

impl std::fmt::Debug for OpenAiUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiUpstream")
            .field("url", &self.url)
            .field("model", &self.target.model)
            .finish_non_exhaustive()
    }
}

impl OpenAiUpstream {
    /// A client for `target`, sharing `http`'s pool.
    pub fn new(http: reqwest::Client, target: OpenAiTarget, timeouts: UpstreamTimeouts) -> Self {
        Self {
            http,
            url: format!("{}/chat/completions", target.base_url),
            target,
            timeouts,
        }
    }

    fn request(&self, req: &UpstreamRequest<'_>, stream: bool) -> RequestBuilder {
        let mut messages = Vec::with_capacity(req.history.len() + 2);
        if let Some(prompt) = &self.target.system_prompt {
            messages.push(Message {
                role: "system",
                content: prompt,
            });
        }
        messages.extend(req.history.iter().map(|turn| Message {
            role: match turn.role {
                sdk::Role::User => "user",
                _ => "assistant",
            },
            content: &turn.content,
        }));
        messages.push(Message {
            role: "user",
            content: req.query,
        });
        let body = CompletionRequest {
            model: &self.target.model,
            messages,
            user: req.user,
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
            temperature: self.target.temperature,
            max_tokens: self.target.max_tokens,
        };
        let builder = self
            .http
            .post(&self.url)
            .headers(crate::trace_context::outgoing())
            .json(&body);
        match &self.target.azure_api_version {
            Some(version) => builder
                .query(&[("api-version", version)])
                .header("api-key", &self.target.api_key),
            None => builder.bearer_auth(&self.target.api_key),
        }
    }

    async fn send(&self, builder: RequestBuilder) -> Result<Response, UpstreamError> {
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
impl Upstream for OpenAiUpstream {
    fn kind(&self) -> &'static str {
        "openai"
    }

    fn target(&self) -> Option<crate::config::UpstreamTarget> {
        Some(crate::config::UpstreamTarget::OpenAi(self.target.clone()))
    }

    async fn reply(&self, req: &UpstreamRequest<'_>) -> Result<Reply, UpstreamError> {
        let limit = self.timeouts.request;
        let resp = self.send(self.request(req, false).timeout(limit)).await?;
        let bytes = resp.bytes().await.map_err(|e| transport_error(&e, limit))?;
        let completion: ChatCompletion = serde_json::from_slice(&bytes).map_err(|e| {
            UpstreamError::Protocol(format!("unexpected body ({e}): {}", body_snippet(&bytes)))
        })?;
        let answer = completion
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message)
            .and_then(|message| message.content)
            .ok_or_else(|| UpstreamError::Protocol("no choices[0].message.content".into()))?;
        Ok(Reply {
            answer,
            conversation_id: None,
            message_id: completion.id,
            usage: completion.usage.map(Into::into),
        })
    }

    async fn stream(&self, req: &UpstreamRequest<'_>) -> Result<ReplyStream, UpstreamError> {
        let idle = self.timeouts.stream_idle;
        let resp = tokio::time::timeout(idle, self.send(self.request(req, true)))
            .await
            .map_err(|_| UpstreamError::Timeout(idle))??;
        let kind = content_type(&resp);
        if !kind.starts_with("text/event-stream") {
            return Err(UpstreamError::Protocol(format!(
                "asked for a stream but got HTTP {} with content type {kind:?}",
                resp.status().as_u16()
            )));
        }
        Ok(stream::reply_stream(resp.bytes_stream().boxed(), idle))
    }

    fn wants_history(&self) -> Option<HistoryWindow> {
        Some(HistoryWindow {
            max_turns: self.target.history.max_turns,
            max_chars: self.target.history.max_chars,
        })
    }
}

async fn error_from_response(resp: Response) -> UpstreamError {
    let status = resp.status();
    let retry_after = retry_after(&resp);
    let bytes = resp.bytes().await.unwrap_or_default();
    let error = serde_json::from_slice::<ErrorEnvelope>(&bytes)
        .ok()
        .map(|e| e.error);
    let code = error
        .as_ref()
        .and_then(|e| e.code_text())
        .unwrap_or_else(|| "-".to_owned());
    let message = error
        .as_ref()
        .and_then(|e| e.message.clone())
        .unwrap_or_else(|| body_snippet(&bytes));
    match status {
        // The message may quote part of the key: keep only its kind.
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => UpstreamError::Unauthorized {
            status: status.as_u16(),
            message: format!(
                "{} ({code})",
                error
                    .as_ref()
                    .and_then(|e| e.kind.clone())
                    .unwrap_or_else(|| "refused".to_owned())
            ),
        },
        StatusCode::TOO_MANY_REQUESTS => UpstreamError::RateLimited {
            message,
            retry_after,
        },
        _ if code == "context_length_exceeded"
            || message.contains("maximum context length")
            || message.contains("context window") =>
        {
            UpstreamError::ContextTooLong(message)
        }
        _ => UpstreamError::Status {
            status: status.as_u16(),
            code,
            message,
        },
    }
}
