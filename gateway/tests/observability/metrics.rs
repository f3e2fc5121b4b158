//! `/metrics` as Prometheus scrapes it, moving as requests flow.

use futures::StreamExt;
use serde_json::{Value, json};
use testkit::TestGateway;
use testkit::fake_dify::{FakeOptions, Fault, Gate};
use testkit::{Upstream, test_gateway::API_KEY};

use crate::scrape::{parse, raw_value, scrape, until, value};

/// The one system these tests name in `ALLOWED_SYSTEM_IDS`, so that its
/// turns are counted under its own label.
const SYSTEM: &str = "metered";

async fn chat(gw: &TestGateway, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat", gw.url()))
        .header("x-api-key", API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn turns_errors_and_route_templates_move_the_counters() {
    let gw = TestGateway::builder()
        .env("ALLOWED_SYSTEM_IDS", SYSTEM)
        .start()
        .await
        .unwrap();
    let url = gw.url().to_owned();
    let before_text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let before = parse(&before_text);
    let turn = |outcome| {
        [
            ("system", SYSTEM),
            ("agent", "default"),
            ("upstream", "dify"),
            ("outcome", outcome),
        ]
    };
    let route = |route, status| [("route", route), ("method", "POST"), ("status", status)];

    let (status, ok) = chat(
        &gw,
        json!({"system_id": SYSTEM, "user_id": "metered-user-7", "message": "Hello"}),
    )
    .await;
    assert_eq!(status, 200, "{ok}");
    gw.fake().unwrap().push_fault(Fault::Status {
        status: 500,
        code: "internal_server_error".into(),
        message: "boom".into(),
    });
    let (status, failed) = chat(
        &gw,
        json!({"system_id": SYSTEM, "user_id": "metered-user-7", "message": "Again"}),
    )
    .await;
    assert_eq!(status, 502, "{failed}");
    // A conversation path: counted under its template, never its id.
    let conversation = ok["conversation_id"].as_str().unwrap();
    let resp = reqwest::Client::new()
        .get(format!(
            "{url}/v1/conversations/{conversation}/messages?system_id={SYSTEM}&user_id=metered-user-7"
        ))
        .header("x-api-key", API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = reqwest::get(format!("{url}/no/such/page")).await.unwrap();
    assert_eq!(resp.status(), 404);

    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let after = parse(&text);
    let moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    assert_eq!(
        moved("chat_gateway_chat_turns_total", &turn("complete")),
        1.0
    );
    assert_eq!(moved("chat_gateway_chat_turns_total", &turn("failed")), 1.0);
    let upstream = [
        ("system", SYSTEM),
        ("agent", "default"),
        ("upstream", "dify"),
    ];
    assert_eq!(
        moved("chat_gateway_upstream_duration_seconds_count", &upstream),
        2.0
    );
    assert!(
        moved(
            "chat_gateway_turn_overhead_seconds_count",
            &[("upstream", "dify")]
        ) >= 2.0
    );
    assert!(
        moved(
            "chat_gateway_store_write_duration_seconds_count",
            &[("operation", "begin_turn")]
        ) >= 2.0
    );
    assert!(
        moved(
            "chat_gateway_http_requests_total",
            &route("/v1/chat", "200")
        ) >= 1.0
    );
    assert!(
        moved(
            "chat_gateway_http_requests_total",
            &route("/v1/chat", "502")
        ) >= 1.0
    );
    assert!(
        moved(
            "chat_gateway_http_request_duration_seconds_count",
            &route("/v1/chat", "200")
        ) >= 1.0
    );
    let template = [
        ("route", "/v1/conversations/{id}/messages"),
        ("method", "GET"),
        ("status", "200"),
    ];
    // prometheus-parse cuts label sets at the first `}`, so a template's
    // braces are read from the text itself (Prometheus reads them fine).
    let count = |text: &str| raw_value(text, "chat_gateway_http_requests_total", &template);
    assert!(count(&text) >= count(&before_text) + 1.0, "{text}");
    let unmatched = [("route", "unmatched"), ("method", "GET"), ("status", "404")];
    assert!(moved("chat_gateway_http_requests_total", &unmatched) >= 1.0);
    // Ids, users and raw paths never become labels.
    for raw in [conversation, "metered-user-7", "/no/such/page"] {
        assert!(!text.contains(raw), "{raw} is in /metrics");
    }
}

#[tokio::test]
async fn a_system_the_configuration_does_not_name_is_counted_as_other() {
    let gw = TestGateway::builder().start().await.unwrap();
    let before = scrape(gw.url(), None).await;
    let (status, body) = chat(
        &gw,
        json!({"system_id": "made-up-by-a-client", "user_id": "metered-user-7", "message": "Hi"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let text = reqwest::get(format!("{}/metrics", gw.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("made-up-by-a-client"));
    let other = [("system", "other"), ("outcome", "complete")];
    let moved = value(&parse(&text), "chat_gateway_chat_turns_total", &other)
        - value(&before, "chat_gateway_chat_turns_total", &other);
    assert!(moved >= 1.0, "{moved}");
}

#[tokio::test]
async fn an_open_stream_is_counted_until_it_ends() {
    let gate = Gate::after(1);
    let gw = TestGateway::builder()
        .upstream(Upstream::Dify(FakeOptions {
            gate: Some(gate.clone()),
            ..FakeOptions::default()
        }))
        .start()
        .await
        .unwrap();
    let url = gw.url().to_owned();
    let sse = [("door", "sse")];
    let idle = value(&scrape(&url, None).await, "chat_gateway_open_streams", &sse);
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/chat"))
        .header("x-api-key", API_KEY)
        .json(&json!({"system_id": "s", "user_id": "u", "message": "Hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    gate.held(1).await;
    until(&url, "chat_gateway_open_streams", &sse, idle + 1.0).await;
    gate.open();
    let mut body = resp.bytes_stream();
    let mut text = Vec::new();
    while let Some(chunk) = body.next().await {
        text.extend_from_slice(&chunk.unwrap());
    }
    assert!(String::from_utf8_lossy(&text).contains("event: end"));
    drop(body);
    until(&url, "chat_gateway_open_streams", &sse, idle).await;
}

#[tokio::test]
async fn a_metrics_token_keeps_scrapers_without_it_out() {
    const TOKEN: &str = "scrape-token-0123456789";
    let gw = TestGateway::builder()
        .env("CHAT_GATEWAY_METRICS_TOKEN", TOKEN)
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/metrics", gw.url());
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "missing_credentials");
    let resp = http
        .get(&url)
        .bearer_auth("scrape-token-0123456780")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");
    // The gateway's API key is not the metrics token either.
    let resp = http.get(&url).bearer_auth(API_KEY).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let scraped = scrape(gw.url(), Some(TOKEN)).await;
    assert!(
        scraped
            .samples
            .iter()
            .any(|s| s.metric == "chat_gateway_http_requests_total"),
        "the refused scrapes above are counted"
    );
}
