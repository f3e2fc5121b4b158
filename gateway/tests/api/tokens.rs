//! Token policy (longest lifetime, `crit`, future `iat` and `nbf`) and
//! revocation with `POST /v1/tokens/revoke`.

use std::time::Duration;

use base64::Engine as _;
use reqwest::StatusCode;
use sdk::jwt::{ChatClaims, JwtSecret, mint};
use serde_json::{Value, json};

use crate::support::{API_KEY, Gateway, SECRET, code, json_of};
use crate::ws::{connect, next};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token with any header and claims, signed with the gateway's secret.
fn signed(header: &str, claims: &Value) -> String {
    use hmac::Mac;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let input = format!("{}.{}", b64(header), b64(&claims.to_string()));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{sig}")
}

async fn list_as(gw: &Gateway, token: &str) -> (StatusCode, Value) {
    let resp = gw
        .get("/v1/conversations")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    json_of(resp).await
}

async fn revoke(gw: &Gateway, body: Value) -> (StatusCode, Value) {
    let resp = gw
        .post("/v1/tokens/revoke")
        .header("X-API-Key", API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_of(resp).await
}

#[tokio::test]
async fn the_token_policy_refuses_long_lived_critical_and_future_tokens() {
    let gw = Gateway::with(
        crate::support::Upstream::Demo,
        &[
            ("CHAT_GATEWAY_TOKEN_MAX_LIFETIME_SECS", "3600"),
            ("CHAT_GATEWAY_TOKEN_TTL_SECS", "600"),
        ],
    )
    .await;
    let now = now();
    let claims = |extra: Value| {
        let mut c = json!({"system_id": "drillquiz", "user_id": "u", "exp": now + 600});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let plain = r#"{"alg":"HS256","typ":"JWT"}"#;
    let cases = [
        // exp - iat over the hour, though it expires in ten minutes.
        (
            signed(plain, &claims(json!({"iat": now - 7200}))),
            "token_malformed",
            "Token lifetime",
        ),
        // Without iat, what is left counts.
        (
            signed(plain, &claims(json!({"exp": now + 7200}))),
            "token_malformed",
            "Token lifetime",
        ),
        (
            signed(
                r#"{"alg":"HS256","crit":["x-ext"],"x-ext":true}"#,
                &claims(json!({})),
            ),
            "token_malformed",
            "Token header marks extensions critical",
        ),
        (
            signed(plain, &claims(json!({"iat": now + 300}))),
            "token_not_yet_valid",
            "Token is issued in the future",
        ),
        (
            signed(plain, &claims(json!({"nbf": now + 300}))),
            "token_not_yet_valid",
            "Token is not valid yet",
        ),
    ];
    for (token, want_code, want_detail) in cases {
        let (status, body) = list_as(&gw, &token).await;
        assert_eq!((status.as_u16(), code(&body)), (401, want_code), "{body}");
        assert!(
            body["detail"].as_str().unwrap().starts_with(want_detail),
            "{body}"
        );
    }
    // Within the policy: an hour exactly, issued now.
    let ok = signed(plain, &claims(json!({"iat": now, "exp": now + 3600})));
    assert_eq!(list_as(&gw, &ok).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_lifetime_shorter_than_the_minting_ttl_is_a_configuration_error() {
    let err = testkit::TestGateway::builder()
        .env("CHAT_GATEWAY_TOKEN_MAX_LIFETIME_SECS", "60")
        .env("CHAT_GATEWAY_TOKEN_TTL_SECS", "120")
        .start()
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("CHAT_GATEWAY_TOKEN_MAX_LIFETIME_SECS"),
        "{err}"
    );
}

#[tokio::test]
async fn minted_tokens_carry_an_id_and_revoking_it_refuses_that_token_only() {
    let gw = Gateway::start().await;
    let resp = gw
        .get("/v1/chat-token?system_id=drillquiz&user_id=alice")
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let (_, minted) = json_of(resp).await;
    let token = minted["token"].as_str().unwrap().to_owned();
    let claims = sdk::jwt::verify(&token, &JwtSecret::new(SECRET)).unwrap();
    let jti = claims.jti.expect("a minted token has a jti");
    let other = gw.token("drillquiz", "alice");
    assert_eq!(list_as(&gw, &token).await.0, StatusCode::OK);

    let (status, body) = revoke(&gw, json!({ "jti": jti })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["jti"], jti.as_str());
    let (status, body) = list_as(&gw, &token).await;
    assert_eq!((status.as_u16(), code(&body)), (401, "token_revoked"));
    assert_eq!(list_as(&gw, &other).await.0, StatusCode::OK);
    // The WebSocket door refuses it too.
    let mut ws = connect(&gw, &format!("?token={token}")).await;
    let frame = next(&mut ws).await;
    assert_eq!(frame["type"], "error", "{frame}");
    assert_eq!(frame["data"]["code"], "token_revoked");
}

#[tokio::test]
async fn revoking_a_user_refuses_every_token_issued_until_then() {
    let gw = Gateway::start().await;
    let secret = JwtSecret::new(SECRET);
    let before = gw.token("drillquiz", "bob");
    let mut no_iat = ChatClaims::new("drillquiz", "bob", Duration::from_secs(600));
    no_iat.iat = None;
    let no_iat = mint(&no_iat, &secret).unwrap();
    let carol = gw.token("drillquiz", "carol");

    let (status, body) = revoke(&gw, json!({"system_id": "drillquiz", "user_id": "bob"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cut = body["issued_before"].as_i64().unwrap();
    for token in [&before, &no_iat] {
        let (status, body) = list_as(&gw, token).await;
        assert_eq!((status.as_u16(), code(&body)), (401, "token_revoked"));
    }
    assert_eq!(list_as(&gw, &carol).await.0, StatusCode::OK);
    // A token issued after the revocation works.
    let mut later = ChatClaims::new("drillquiz", "bob", Duration::from_secs(600));
    later.iat = Some(cut + 1);
    let later = mint(&later, &secret).unwrap();
    assert_eq!(list_as(&gw, &later).await.0, StatusCode::OK);
}

#[tokio::test]
async fn revoking_needs_a_key_and_one_clear_target() {
    let gw = Gateway::start().await;
    let resp = gw
        .post("/v1/tokens/revoke")
        .bearer_auth(gw.token("drillquiz", "u"))
        .json(&json!({"jti": "abc"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!((status.as_u16(), code(&body)), (401, "missing_credentials"));
    for bad in [
        json!({}),
        json!({"jti": ""}),
        json!({"jti": "abc", "system_id": "drillquiz", "user_id": "u"}),
        json!({"system_id": "drillquiz"}),
        json!({"system_id": "drillquiz", "user_id": ""}),
        json!({"jti": "x".repeat(300)}),
        json!({"jti": "abc", "extra": 1}),
    ] {
        let (status, body) = revoke(&gw, bad.clone()).await;
        assert_eq!(
            (status.as_u16(), code(&body)),
            (422, "validation_failed"),
            "{bad}: {body}"
        );
    }
}
