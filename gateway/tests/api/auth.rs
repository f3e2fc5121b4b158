//! API keys, chat tokens, identity rules and the system allowlist.

use std::time::Duration;

use base64::Engine as _;
use sdk::jwt::{ChatClaims, JwtSecret, mint};
use serde_json::json;

use crate::support::{API_KEY, Gateway, SECRET, Upstream, code, json_of};

async fn chat_with(
    gw: &Gateway,
    headers: &[(&str, &str)],
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut req = gw.post("/v1/chat").json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let (status, body) = json_of(req.send().await.unwrap()).await;
    (status.as_u16(), body)
}

fn hi() -> serde_json::Value {
    json!({"system_id": "drillquiz", "user_id": "42", "message": "hi"})
}

#[tokio::test]
async fn missing_and_wrong_api_keys_are_401() {
    let gw = Gateway::start().await;
    let resp = gw.post("/v1/chat").json(&hi()).send().await.unwrap();
    assert!(resp.headers().contains_key("www-authenticate"));
    let (status, body) = json_of(resp).await;
    assert_eq!((status.as_u16(), code(&body)), (401, "missing_credentials"));
    assert_eq!(body["detail"], "API key or Bearer token required");

    let (status, body) = chat_with(&gw, &[("X-API-Key", "not-the-key")], hi()).await;
    assert_eq!((status, code(&body)), (401, "invalid_api_key"));
    let (status, _) = chat_with(&gw, &[("X-API-Key", &API_KEY[..10])], hi()).await;
    assert_eq!(status, 401, "a prefix of a key is not a key");
}

#[tokio::test]
async fn with_no_keys_configured_every_key_is_refused() {
    let gw = Gateway::with(Upstream::Demo, &[("CHAT_GATEWAY_API_KEY", "")]).await;
    for key in ["anything", "", API_KEY] {
        let (status, body) = chat_with(&gw, &[("X-API-Key", key)], hi()).await;
        assert_eq!(
            (status, code(&body)),
            (401, "invalid_api_key"),
            "key {key:?}"
        );
    }
    // Chat tokens still work.
    let token = format!("Bearer {}", gw.token("drillquiz", "42"));
    let (status, _) = chat_with(&gw, &[("Authorization", &token)], json!({"message": "hi"})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_chat_token_names_the_user_and_may_not_be_contradicted() {
    let gw = Gateway::start().await;
    let bearer = format!("Bearer {}", gw.token("DrillQuiz", "42"));
    let auth = [("Authorization", bearer.as_str())];
    let (status, body) = chat_with(&gw, &auth, json!({"message": "from the token"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = chat_with(&gw, &auth, hi()).await;
    assert_eq!(
        status, 200,
        "matching identity (system ids are case-insensitive)"
    );
    assert_eq!(gw.conversations("drillquiz", "42").await.len(), 2);

    for body in [
        json!({"system_id": "cointutor", "message": "x"}),
        json!({"user_id": "43", "message": "x"}),
        json!({"system_id": "drillquiz", "user_id": "420", "message": "x"}),
    ] {
        let (status, err) = chat_with(&gw, &auth, body.clone()).await;
        assert_eq!((status, code(&err)), (403, "identity_mismatch"), "{body}");
        assert_eq!(err["detail"], "system_id/user_id must match token");
    }
    // The listing endpoints apply the same rule.
    let resp = gw
        .get("/v1/conversations?system_id=drillquiz&user_id=someone-else")
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn a_bearer_token_wins_over_an_api_key() {
    let gw = Gateway::start().await;
    let (status, body) = chat_with(
        &gw,
        &[
            ("Authorization", "Bearer not.a.token"),
            ("X-API-Key", API_KEY),
        ],
        hi(),
    )
    .await;
    assert_eq!((status, code(&body)), (401, "token_malformed"));
}

#[tokio::test]
async fn an_api_key_caller_must_name_the_user() {
    let gw = Gateway::start().await;
    let (status, body) = chat_with(&gw, &[("X-API-Key", API_KEY)], json!({"message": "hi"})).await;
    assert_eq!((status, code(&body)), (400, "bad_request"));
    assert_eq!(
        body["detail"],
        "system_id and user_id required in body or query when using API key"
    );
    let (status, body) = chat_with(
        &gw,
        &[("X-API-Key", API_KEY)],
        json!({"system_id": "bad id!", "user_id": "1", "message": "hi"}),
    )
    .await;
    assert_eq!((status, code(&body)), (422, "validation_failed"));
}

#[tokio::test]
async fn the_allowlist_applies_to_keys_and_tokens() {
    let gw = Gateway::with(Upstream::Demo, &[("ALLOWED_SYSTEM_IDS", "drillquiz")]).await;
    let (status, _) = chat_with(&gw, &[("X-API-Key", API_KEY)], hi()).await;
    assert_eq!(status, 200);
    let (status, body) = chat_with(
        &gw,
        &[("X-API-Key", API_KEY)],
        json!({"system_id": "cointutor", "user_id": "1", "message": "hi"}),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "system_not_allowed"));
    let bearer = format!("Bearer {}", gw.token("cointutor", "1"));
    let (status, body) =
        chat_with(&gw, &[("Authorization", &bearer)], json!({"message": "hi"})).await;
    assert_eq!((status, code(&body)), (403, "system_not_allowed"));
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn chat_token_edge_cases() {
    let gw = Gateway::start().await;
    let secret = JwtSecret::new(SECRET);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut expired = ChatClaims::new("drillquiz", "42", Duration::ZERO);
    expired.exp = now - 3600;
    let forged = mint(
        &ChatClaims::new("drillquiz", "42", Duration::from_secs(60)),
        &JwtSecret::new("some-other-secret-some-other-secret"),
    )
    .unwrap();
    let alg_none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"system_id":"drillquiz","user_id":"42","exp":{}}}"#,
            now + 60
        ))
    );
    // Properly signed, but without exp or without the identity claims.
    let sign = |payload: &str| {
        use hmac::Mac;
        let input = format!("{}.{}", b64(r#"{"alg":"HS256","typ":"JWT"}"#), b64(payload));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        let sig =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{input}.{sig}")
    };
    let no_exp = sign(r#"{"system_id":"drillquiz","user_id":"42"}"#);
    let no_user = sign(&format!(
        r#"{{"system_id":"drillquiz","exp":{}}}"#,
        now + 60
    ));

    let cases = [
        (
            mint(&expired, &secret).unwrap(),
            "token_expired",
            "Token expired",
        ),
        (forged, "token_invalid_signature", "Invalid token signature"),
        (alg_none, "token_malformed", "Invalid or expired token"),
        (no_exp, "token_missing_claims", "token must contain exp"),
        (
            no_user,
            "token_missing_claims",
            "token must contain system_id and user_id",
        ),
        (
            "garbage".to_owned(),
            "token_malformed",
            "Invalid or expired token",
        ),
    ];
    for (token, want_code, want_detail) in cases {
        let bearer = format!("Bearer {token}");
        let (status, body) =
            chat_with(&gw, &[("Authorization", &bearer)], json!({"message": "hi"})).await;
        assert_eq!((status, code(&body)), (401, want_code), "{token}");
        assert!(
            body["detail"].as_str().unwrap().starts_with(want_detail),
            "{body}"
        );
    }
    assert!(
        gw.fake.chats().is_empty(),
        "no refused request reached the upstream"
    );
}
