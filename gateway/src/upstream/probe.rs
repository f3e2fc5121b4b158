//! A cheap reachability check per upstream kind, with no chat turn
//! (`chat-gateway check`):
//!
//! - **Dify**: list one conversation of a made-up user
//!   (`GET /v1/conversations`), which also proves the app key;
//! - **n8n**: a `GET` on the webhook, which n8n refuses without running the
//!   workflow (any answer below 500 means it is reachable; the token is
//!   only checked when a message is posted);
//! - **OpenAI-compatible**: `GET /models`, which also proves the key (a
//!   server without that route, 404, is still reachable).

use std::time::Duration;

use reqwest::StatusCode;

use super::UpstreamError;
use crate::config::UpstreamTarget;

/// The user the Dify probe lists conversations of.
const PROBE_USER: &str = "tz-chat-gateway-check";

/// What a reachable upstream answered, or why it is not usable.
pub async fn probe(
    client: &reqwest::Client,
    target: &UpstreamTarget,
    limit: Duration,
) -> Result<String, UpstreamError> {
    let request = match target {
        UpstreamTarget::Dify(t) => client
            .get(format!("{}/v1/conversations", t.base_url))
            .query(&[("user", PROBE_USER), ("limit", "1")])
            .bearer_auth(&t.api_key),
        UpstreamTarget::N8n(t) => client.get(&t.webhook_url),
        UpstreamTarget::OpenAi(t) => match &t.azure_api_version {
            Some(version) => client
                .get(format!("{}/models", t.base_url))
                .query(&[("api-version", version.as_str())])
                .header("api-key", &t.api_key),
            None => client
                .get(format!("{}/models", t.base_url))
                .bearer_auth(&t.api_key),
        },
    };
    let response = request
        .timeout(limit)
        .send()
        .await
        .map_err(|e| unreachable(e, limit))?;
    let status = response.status();
    let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
    let checks_key = !matches!(target, UpstreamTarget::N8n(_));
    if (refused && checks_key) || status.is_server_error() {
        let body = response.bytes().await.unwrap_or_default();
        let message = super::http::body_snippet(&body);
        return Err(if refused {
            UpstreamError::Unauthorized {
                status: status.as_u16(),
                message,
            }
        } else {
            UpstreamError::Transport(format!("HTTP {}: {message}", status.as_u16()))
        });
    }
    Ok(match (target, status.is_success()) {
        (UpstreamTarget::N8n(_), _) => {
            format!(
                "reachable (HTTP {}; the token is checked on the first message)",
                status.as_u16()
            )
        }
        (_, true) => format!("reachable, key accepted (HTTP {})", status.as_u16()),
        (_, false) => format!("reachable (HTTP {})", status.as_u16()),
    })
}

/// Why a probe got no answer: the error's causes, down to the system's
/// (`Connection refused`), without the URL (a webhook's path can be a
/// secret).
fn unreachable(e: reqwest::Error, limit: Duration) -> UpstreamError {
    if e.is_timeout() {
        return UpstreamError::Timeout(limit);
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let line = c.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = c.source();
    }
    UpstreamError::Transport(text)
}
