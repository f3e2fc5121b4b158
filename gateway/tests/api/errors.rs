//! Bad input of every kind gets the JSON error shape and the right status.

use serde_json::json;

use crate::support::{API_KEY, Gateway, Upstream, code, json_of};

async fn raw_chat(gw: &Gateway, body: impl Into<reqwest::Body>) -> (u16, serde_json::Value) {
    let resp = gw
        .post("/v1/chat")
        .header("X-API-Key", API_KEY)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn malformed_and_mistyped_bodies() {
    let gw = Gateway::with(
        Upstream::Demo,
        &[
            ("CHAT_GATEWAY_MAX_MESSAGE_CHARS", "20"),
            ("CHAT_GATEWAY_MAX_BODY_BYTES", "2048"),
        ],
    )
    .await;
    let ok_owner = r#""system_id":"s","user_id":"u""#;
    let cases: Vec<(String, u16, &str)> = vec![
        ("{\"message\": ".into(), 400, "invalid_json"),
        ("".into(), 400, "invalid_json"),
        ("not json".into(), 400, "invalid_json"),
        (
            format!("{{{ok_owner},\"message\": 5}}"),
            422,
            "validation_failed",
        ),
        (format!("{{{ok_owner}}}"), 422, "validation_failed"),
        (
            format!("{{{ok_owner},\"message\": \"   \"}}"),
            422,
            "validation_failed",
        ),
        (
            format!("{{{ok_owner},\"message\": \"{}\"}}", "x".repeat(21)),
            422,
            "validation_failed",
        ),
        (
            format!("{{{ok_owner},\"message\": \"hi\", \"inputs\": [1]}}"),
            422,
            "validation_failed",
        ),
        (
            format!(
                "{{{ok_owner},\"message\": \"hi\", \"conversation_id\": \"{}\"}}",
                "c".repeat(65)
            ),
            422,
            "validation_failed",
        ),
        (
            format!("{{{ok_owner},\"message\": \"{}\"}}", "x".repeat(3000)),
            413,
            "payload_too_large",
        ),
        (
            format!("{{{ok_owner},\"message\": \"hi\", \"conversation_id\": \"not-a-uuid\"}}"),
            404,
            "conversation_not_found",
        ),
        (
            format!(
                "{{{ok_owner},\"message\": \"hi\", \"conversation_id\": \"{}\"}}",
                uuid_like()
            ),
            404,
            "conversation_not_found",
        ),
    ];
    for (body, want_status, want_code) in cases {
        let (status, err) = raw_chat(&gw, body.clone()).await;
        assert_eq!(
            (status, code(&err)),
            (want_status, want_code),
            "{body:.80}: {err}"
        );
        assert_eq!(
            err["detail"], err["error"]["message"],
            "seed-style detail is kept"
        );
    }
    assert!(
        gw.conversations("s", "u").await.is_empty(),
        "no refused request stored anything"
    );
}

fn uuid_like() -> String {
    "01a1fdaf-8915-7684-99bf-30941e0e2272".into()
}

#[tokio::test]
async fn over_long_inputs_are_refused() {
    let gw = Gateway::with(Upstream::Demo, &[]).await;
    let big = "x".repeat(17 * 1024);
    let (status, err) = raw_chat(
        &gw,
        json!({"system_id": "s", "user_id": "u", "message": "hi", "inputs": {"k": big}})
            .to_string(),
    )
    .await;
    assert_eq!((status, code(&err)), (422, "validation_failed"));
}

#[tokio::test]
async fn unknown_routes_methods_and_bad_queries_are_json_errors() {
    let gw = Gateway::with(Upstream::Demo, &[]).await;
    let (status, err) = json_of(gw.get("/v1/nope").send().await.unwrap()).await;
    assert_eq!((status.as_u16(), code(&err)), (404, "not_found"));
    let (status, err) = json_of(
        gw.http
            .put(format!("{}/v1/chat", gw.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), code(&err)), (405, "method_not_allowed"));
    for query in ["limit=abc", "limit=0", "limit=100000"] {
        let resp = gw
            .get(&format!("/v1/conversations?system_id=s&user_id=u&{query}"))
            .header("X-API-Key", API_KEY)
            .send()
            .await
            .unwrap();
        let (status, err) = json_of(resp).await;
        assert_eq!(
            (status.as_u16(), code(&err)),
            (422, "validation_failed"),
            "{query}"
        );
    }
    let resp = gw
        .get("/v1/conversations/definitely-not-an-id/messages?system_id=s&user_id=u")
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let (status, err) = json_of(resp).await;
    assert_eq!(
        (status.as_u16(), code(&err)),
        (404, "conversation_not_found")
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let gw = Gateway::with(Upstream::Demo, &[]).await;
    for path in ["/health", "/ready"] {
        let (status, body) = json_of(gw.get(path).send().await.unwrap()).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body, json!({"status": "ok"}));
    }
}
