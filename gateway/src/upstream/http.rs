//! The one HTTP client every HTTP upstream shares, so all of them draw on a
//! single connection pool.

use std::time::Duration;

use super::UpstreamError;
use crate::config::{UpstreamHttp2, UpstreamTimeouts};

/// Build the HTTP client shared by every HTTP upstream.
pub fn client(
    timeouts: UpstreamTimeouts,
    http2: UpstreamHttp2,
) -> Result<reqwest::Client, UpstreamError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("tz-chat-gateway/", env!("CARGO_PKG_VERSION")));
    if http2 == UpstreamHttp2::Always {
        builder = builder.http2_prior_knowledge();
    }
    builder
        .build()
        .map_err(|e| UpstreamError::Transport(e.to_string()))
}
