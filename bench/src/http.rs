//! A lean HTTP/1.1 client (hyper) and the requests the benchmark sends, so
//! the client costs the same on both paths and as little as possible.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub(crate) type Client = HyperClient<HttpConnector, Full<Bytes>>;

/// A pooled keep-alive client with `TCP_NODELAY`.
pub(crate) fn client() -> Client {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    HyperClient::builder(TokioExecutor::new())
        .pool_max_idle_per_host(usize::MAX)
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// Clients that speak HTTP/2 without TLS (prior knowledge), as a proxy in
/// front of the gateway would: `streams` requests spread over one connection
/// per `per_connection` of them (each client holds one connection).
pub(crate) fn h2c_clients(streams: usize, per_connection: usize) -> Vec<Client> {
    let connections = streams.div_ceil(per_connection.max(1)).max(1);
    (0..connections)
        .map(|_| {
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            HyperClient::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector)
        })
        .collect()
}

/// The protocol an answer comes back in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    /// Dify's, straight from the fake upstream.
    Dify,
    /// The gateway's own (`POST /v1/chat`).
    Gateway,
    /// OpenAI's chat completions (the gateway's OpenAI-compatible door, a
    /// fake OpenAI, or a peer proxy).
    OpenAi,
}

/// One request, sent many times.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) uri: Uri,
    pub(crate) auth: (hyper::header::HeaderName, HeaderValue),
    pub(crate) body: Bytes,
    /// What the answer looks like.
    pub(crate) wire: Wire,
}

impl Target {
    /// `POST /v1/chat` on the gateway.
    pub(crate) fn gateway(base: &str, streaming: bool) -> anyhow::Result<Self> {
        let body = serde_json::json!({
            "system_id": "bench", "user_id": "load", "message": "How fast is this?", "stream": streaming,
        });
        Ok(Self {
            uri: format!("{base}/v1/chat").parse()?,
            auth: (
                hyper::header::HeaderName::from_static("x-api-key"),
                HeaderValue::from_static(crate::process::API_KEY),
            ),
            body: Bytes::from(body.to_string()),
            wire: Wire::Gateway,
        })
    }

    /// `POST /v1/chat` on the gateway, continuing `conversation_id`.
    pub(crate) fn gateway_in(base: &str, conversation_id: &str) -> anyhow::Result<Self> {
        let mut target = Self::gateway(base, false)?;
        let body = serde_json::json!({
            "system_id": "bench", "user_id": "load", "message": "And how fast is this?",
            "conversation_id": conversation_id,
        });
        target.body = Bytes::from(body.to_string());
        Ok(target)
    }

    /// The same request as the gateway sends it upstream.
    pub(crate) fn direct(base: &str, streaming: bool) -> anyhow::Result<Self> {
        let body = serde_json::json!({
            "query": "How fast is this?", "inputs": {}, "user": "bench_load",
            "response_mode": if streaming { "streaming" } else { "blocking" },
        });
        Ok(Self {
            uri: format!("{base}/v1/chat-messages").parse()?,
            auth: (
                AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {}", crate::FAKE_KEY))?,
            ),
            body: Bytes::from(body.to_string()),
            wire: Wire::Dify,
        })
    }

    pub(crate) fn request(&self) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = self.uri.clone();
        let headers = req.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(self.auth.0.clone(), self.auth.1.clone());
        req
    }
}

/// What the gateway says it spent on a request (`Server-Timing`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServerTiming {
    pub(crate) store: Duration,
    pub(crate) upstream: Duration,
    pub(crate) total: Duration,
}

impl ServerTiming {
    fn parse(header: &str) -> Option<Self> {
        let mut timing = Self::default();
        for metric in header.split(',') {
            let (name, rest) = metric.trim().split_once(';')?;
            let ms: f64 = rest.trim().strip_prefix("dur=")?.parse().ok()?;
            let d = Duration::from_secs_f64(ms / 1000.0);
            match name {
                "store" => timing.store = d,
                "upstream" => timing.upstream = d,
                "total" => timing.total = d,
                _ => {}
            }
        }
        Some(timing)
    }
}

/// Send one blocking request and read the whole answer: `None` unless it
/// was a 200 whose body holds an answer.
pub(crate) async fn send_blocking(
    client: &Client,
    target: &Target,
) -> Option<Option<ServerTiming>> {
    let resp = client.request(target.request()).await.ok()?;
    let timing = resp
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .and_then(ServerTiming::parse);
    let ok = resp.status().is_success();
    let body = resp.into_body().collect().await.ok()?.to_bytes();
    let field: &[u8] = match target.wire {
        Wire::Dify | Wire::Gateway => b"\"answer\"",
        Wire::OpenAi => b"\"content\"",
    };
    (ok && body.windows(field.len()).any(|w| w == field)).then_some(timing)
}
