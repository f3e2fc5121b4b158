//! Client for the Dify Service API (chat apps).
//!
//! One pooled `reqwest` client ([`super::http`]) serves every Dify app; each [`DifyUpstream`]
//! adds its base URL and app key. What the client relies on, and how it maps
//! Dify's answers:
//!
//! | Dify answers | we report |
//! |---|---|
//! | 404 `not_found` for a conversation we named | [`UpstreamError::ConversationGone`] (our 404) |
//! | 429 | [`UpstreamError::RateLimited`] (our 429); `too_many_requests` is retried twice first |
//! | 401 / 403 | [`UpstreamError::Unauthorized`] (our 502, and a log line naming the key to check) |
//! | other 4xx/5xx, JSON or HTML | [`UpstreamError::Status`] (our 502) |
//! | stream `error` event | [`UpstreamError::StreamError`] |
//! | body ends before `message_end` | [`UpstreamError::StreamCut`] |
//!
//! Reads (`GET` lists) are also retried on 5xx and connection errors; a chat
//! message is never retried after it may have reached the app, so an answer
//! is never generated twice. Message feedback (`feedback.rs`) is retried
//! like a read: the same rating twice is the same state. Lists follow every
//! page (`last_id` forward for conversations, `first_id` backward for
//! messages).

mod feedback;
mod stream;
pub(crate) mod wire;

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use self::wire::{
    BlockingAnswer, ChatMessagesRequest, ConversationItem, ErrorEnvelope, MessageItem, Page,
    RenameBody, UserBody,
};
use super::http::{body_snippet, transport_error};
use super::{
    Reply, ReplyStream, Upstream, UpstreamConversation, UpstreamError, UpstreamHistory,
    UpstreamMessage, UpstreamRequest,
};
use crate::config::{DifyTarget, UpstreamTimeouts};

/// Pages fetched at most per list call (100 items each).
const MAX_PAGES: usize = 200;
/// Attempts after the first for retryable failures.
const MAX_RETRIES: u32 = 2;

/// One Dify chat app.
pub struct DifyUpstream {
    http: reqwest::Client,
    /// `{base}/v1`
    api: String,
    key: String,
    timeouts: UpstreamTimeouts,
    /// What it was built from (for [`Upstream::target`]).
    target: DifyTarget,
}

impl std::fmt::Debug for DifyUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DifyUpstream")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Only when Dify refused before starting (429 `too_many_requests`).
    WhenRefused,
    /// Also on 5xx and connection errors (safe for reads).
    Idempotent,
}

impl DifyUpstream {
    /// A client for the app at `target`, sharing `http`'s connection pool.
    pub fn new(http: reqwest::Client, target: DifyTarget, timeouts: UpstreamTimeouts) -> Self {
        Self {
            http,
            api: format!("{}/v1", target.base_url),
            key: target.api_key.clone(),
            timeouts,
            target,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// Send a request, retrying per `retry`, and return a 2xx response.
    async fn send(
        &self,
        build: impl Fn() -> RequestBuilder,
        retry: Retry,
        names_conversation: bool,
    ) -> Result<Response, UpstreamError> {
        let mut attempt = 0;
        loop {
            let request = build()
                .headers(crate::trace_context::outgoing())
                .bearer_auth(&self.key);
            let (err, retryable) = match request.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let (err, refused) = error_from_response(resp, names_conversation).await;
                    let retryable = refused
                        || (retry == Retry::Idempotent
                            && matches!(err, UpstreamError::Status { status, .. } if status >= 500));
                    (err, retryable)
                }
                Err(e) => {
                    let err = transport_error(&e, self.timeouts.request);
                    (err, retry == Retry::Idempotent)
                }
            };
            if !retryable || attempt >= MAX_RETRIES {
                return Err(err);
            }
            tokio::time::sleep(backoff(attempt)).await;
            attempt += 1;
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, UpstreamError> {
        let url = self.url(path);
        let resp = self
            .send(
                || {
                    self.http
                        .get(&url)
                        .query(query)
                        .timeout(self.timeouts.request)
                },
                Retry::Idempotent,
                true,
            )
            .await?;
        read_json(resp, self.timeouts.request).await
    }
}

#[async_trait]
impl Upstream for DifyUpstream {
    fn kind(&self) -> &'static str {
        "dify"
    }

    fn target(&self) -> Option<crate::config::UpstreamTarget> {
        Some(crate::config::UpstreamTarget::Dify(self.target.clone()))
    }

    async fn reply(&self, req: &UpstreamRequest<'_>) -> Result<Reply, UpstreamError> {
        let body = ChatMessagesRequest {
            query: req.query,
            inputs: req.inputs,
            user: req.user,
            response_mode: "blocking",
            conversation_id: req.conversation_id,
        };
        let url = self.url("/chat-messages");
        let resp = self
            .send(
                || {
                    self.http
                        .post(&url)
                        .json(&body)
                        .timeout(self.timeouts.request)
                },
                Retry::WhenRefused,
                req.conversation_id.is_some(),
            )
            .await?;
        let answer: BlockingAnswer = read_json(resp, self.timeouts.request).await?;
        Ok(Reply {
            answer: answer.answer.unwrap_or_default(),
            conversation_id: answer.conversation_id.filter(|c| !c.is_empty()),
            message_id: answer.message_id.or(answer.id),
            usage: answer.metadata.and_then(|m| m.usage).map(Into::into),
        })
    }

    async fn stream(&self, req: &UpstreamRequest<'_>) -> Result<ReplyStream, UpstreamError> {
        let body = ChatMessagesRequest {
            query: req.query,
            inputs: req.inputs,
            user: req.user,
            response_mode: "streaming",
            conversation_id: req.conversation_id,
        };
        let url = self.url("/chat-messages");
        let idle = self.timeouts.stream_idle;
        let resp = tokio::time::timeout(
            idle,
            self.send(
                || self.http.post(&url).json(&body),
                Retry::WhenRefused,
                req.conversation_id.is_some(),
            ),
        )
        .await
        .map_err(|_| UpstreamError::Timeout(idle))??;
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !content_type.starts_with("text/event-stream") {
            return Err(UpstreamError::Protocol(format!(
                "asked for a stream but got HTTP {} with content type {content_type:?}",
                resp.status().as_u16()
            )));
        }
        Ok(stream::reply_stream(resp.bytes_stream().boxed(), idle))
    }

    async fn stop(&self, user: &str, task_id: &str) -> Result<(), UpstreamError> {
        let url = self.url(&format!("/chat-messages/{}/stop", path_segment(task_id)));
        let body = UserBody { user };
        self.send(
            || {
                self.http
                    .post(&url)
                    .json(&body)
                    .timeout(self.timeouts.connect)
            },
            Retry::WhenRefused,
            false,
        )
        .await?;
        Ok(())
    }

    fn history(&self) -> Option<&dyn UpstreamHistory> {
        Some(self)
    }

    fn feedback(&self) -> Option<&dyn super::UpstreamFeedback> {
        Some(self)
    }
}

#[async_trait]
impl UpstreamHistory for DifyUpstream {
    async fn list_conversations(
        &self,
        user: &str,
    ) -> Result<Vec<UpstreamConversation>, UpstreamError> {
        let mut out = Vec::new();
        let mut last_id: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("user", user), ("limit", "100")];
            if let Some(last) = &last_id {
                query.push(("last_id", last));
            }
            let page: Page<ConversationItem> = self.get_json("/conversations", &query).await?;
            let more = page.has_more && !page.data.is_empty();
            last_id = page.data.last().map(|c| c.id.clone());
            out.extend(page.data.into_iter().map(|c| UpstreamConversation {
                id: c.id,
                name: c.name.unwrap_or_default(),
                created_at: c.created_at.and_then(unix_time),
            }));
            if !more {
                break;
            }
        }
        Ok(out)
    }

    async fn list_messages(
        &self,
        user: &str,
        conversation_id: &str,
    ) -> Result<Vec<UpstreamMessage>, UpstreamError> {
        // Pages come newest first; items within a page oldest first.
        let mut pages: Vec<Vec<MessageItem>> = Vec::new();
        let mut first_id: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("conversation_id", conversation_id),
                ("user", user),
                ("limit", "100"),
            ];
            if let Some(first) = &first_id {
                query.push(("first_id", first));
            }
            let page: Page<MessageItem> = self.get_json("/messages", &query).await?;
            let more = page.has_more && !page.data.is_empty();
            first_id = page.data.first().map(|m| m.id.clone());
            pages.push(page.data);
            if !more {
                break;
            }
        }
        Ok(pages
            .into_iter()
            .rev()
            .flatten()
            .map(|m| UpstreamMessage {
                id: m.id,
                query: m.query,
                answer: m.answer,
                created_at: m.created_at.and_then(unix_time),
            })
            .collect())
    }

    async fn delete_conversation(
        &self,
        user: &str,
        conversation_id: &str,
    ) -> Result<(), UpstreamError> {
        let url = self.url(&format!("/conversations/{}", path_segment(conversation_id)));
        let body = UserBody { user };
        self.send(
            || {
                self.http
                    .delete(&url)
                    .json(&body)
                    .timeout(self.timeouts.request)
            },
            Retry::WhenRefused,
            true,
        )
        .await?;
        Ok(())
    }

    async fn rename_conversation(
        &self,
        user: &str,
        conversation_id: &str,
        name: &str,
    ) -> Result<(), UpstreamError> {
        let url = self.url(&format!(
            "/conversations/{}/name",
            path_segment(conversation_id)
        ));
        let body = RenameBody {
            name,
            auto_generate: false,
            user,
        };
        self.send(
            || {
                self.http
                    .post(&url)
                    .json(&body)
                    .timeout(self.timeouts.request)
            },
            Retry::WhenRefused,
            true,
        )
        .await?;
        Ok(())
    }
}

/// Map a non-2xx response. The flag says whether Dify refused before doing
/// any work (429 `too_many_requests`), which makes a retry safe.
async fn error_from_response(resp: Response, names_conversation: bool) -> (UpstreamError, bool) {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    let body = resp.bytes().await.unwrap_or_default();
    let envelope: Option<ErrorEnvelope> = if is_json {
        serde_json::from_slice(&body).ok()
    } else {
        None
    };
    let code = envelope.as_ref().map(|e| e.code.as_str()).unwrap_or("-");
    let message = match &envelope {
        Some(e) => e.message.clone(),
        None => body_snippet(&body),
    };
    let err = match status {
        StatusCode::NOT_FOUND if names_conversation && code == "not_found" => {
            UpstreamError::ConversationGone
        }
        StatusCode::TOO_MANY_REQUESTS => UpstreamError::RateLimited {
            message,
            retry_after: None,
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => UpstreamError::Unauthorized {
            status: status.as_u16(),
            message,
        },
        _ => UpstreamError::Status {
            status: status.as_u16(),
            code: code.to_owned(),
            message,
        },
    };
    let refused = status == StatusCode::TOO_MANY_REQUESTS && code == "too_many_requests";
    (err, refused)
}

async fn read_json<T: DeserializeOwned>(
    resp: Response,
    limit: Duration,
) -> Result<T, UpstreamError> {
    let bytes = tokio::time::timeout(limit, resp.bytes())
        .await
        .map_err(|_| UpstreamError::Timeout(limit))?
        .map_err(|e| transport_error(&e, limit))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        UpstreamError::Protocol(format!("unexpected body ({e}): {}", body_snippet(&bytes)))
    })
}

fn backoff(attempt: u32) -> Duration {
    let jitter = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos() % 100))
        .unwrap_or(0);
    Duration::from_millis(200 * 2u64.pow(attempt) + jitter)
}

fn unix_time(secs: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// Percent-encode one path segment (ids are UUIDs, but never trust that).
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(path_segment("0193-ab_c"), "0193-ab_c");
    }
}
