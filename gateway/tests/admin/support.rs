//! A test gateway with a secret key, and a client for the admin API.

use reqwest::Method;
use serde_json::Value;
use testkit::{TestGateway, Upstream};

/// `CHAT_GATEWAY_SECRET_KEY` of the test gateways (64 hex characters).
pub(crate) const SECRET_KEY: &str =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

/// A gateway with no upstream of its own (only runtime agents answer) and
/// a secret key; `env` adds variables.
pub(crate) async fn gateway(env: &[(&str, &str)]) -> TestGateway {
    TestGateway::builder()
        .upstream(Upstream::None)
        .env("CHAT_GATEWAY_SECRET_KEY", SECRET_KEY)
        .envs(env)
        .start()
        .await
        .unwrap()
}

/// A gateway without `CHAT_GATEWAY_SECRET_KEY`.
pub(crate) async fn gateway_without_key() -> TestGateway {
    TestGateway::builder()
        .upstream(Upstream::None)
        .start()
        .await
        .unwrap()
}

/// Status and JSON body (or the text as a JSON string) of a request with
/// the API key.
pub(crate) async fn call(
    gw: &TestGateway,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    call_with(gw, method, path, body, &[("x-api-key", gw.api_key())]).await
}

/// [`call`] with these headers instead of the API key.
pub(crate) async fn call_with(
    gw: &TestGateway,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", gw.url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The `error.code` of an error body.
pub(crate) fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
