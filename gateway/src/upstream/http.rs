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

/// A `reqwest` failure as an upstream error: a timeout names `limit`. The
/// request's URL is cut to its origin: its path or query may be a secret
/// (an n8n webhook's id), and this text reaches the log.
pub fn transport_error(e: &reqwest::Error, limit: Duration) -> UpstreamError {
    if e.is_timeout() {
        return UpstreamError::Timeout(limit);
    }
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        let origin = url.origin().ascii_serialization();
        text = text.replace(url.as_str(), &origin);
    }
    UpstreamError::Transport(text)
}

/// The first 200 characters of a body, with tags and runs of blanks squeezed
/// (HTML error pages from proxies are common).
pub fn body_snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut in_tag = false;
    let mut last_blank = true;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                if !last_blank {
                    out.push(' ');
                    last_blank = true;
                }
            }
            _ if in_tag => {}
            c if c.is_whitespace() => {
                if !last_blank {
                    out.push(' ');
                    last_blank = true;
                }
            }
            c => {
                out.push(c);
                last_blank = false;
            }
        }
        if out.chars().count() >= 200 {
            break;
        }
    }
    out.trim().to_owned()
}

/// Whether a body looks like an HTML page (a proxy's or a server's error
/// page) rather than an answer.
pub fn looks_like_html(body: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&body[..body.len().min(64)]).to_ascii_lowercase();
    let start = start.trim_start();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// The response's content type, lower-cased (empty when absent).
pub fn content_type(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_transport_error_names_the_upstreams_origin_not_its_path() {
        // A port nothing listens on: the connection is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url =
            format!("http://127.0.0.1:{port}/webhook/0f3c-secret-webhook-id/chat?token=s3cret");
        let e = reqwest::Client::new().post(&url).send().await.unwrap_err();
        let UpstreamError::Transport(text) = transport_error(&e, Duration::from_secs(1)) else {
            panic!("not a transport error: {e}");
        };
        assert!(text.contains(&format!("http://127.0.0.1:{port}")), "{text}");
        assert!(
            !text.contains("secret") && !text.contains("s3cret"),
            "{text}"
        );
    }

    #[test]
    fn html_error_pages_become_a_short_line() {
        let html = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
        assert_eq!(body_snippet(html), "502 Bad Gateway 502 Bad Gateway nginx");
        assert!(looks_like_html(b"\n<!DOCTYPE html><html>"));
        assert!(!looks_like_html(b"Hello <b>there</b>"));
    }
}
