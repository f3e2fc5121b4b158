//! Rate limits: per end user on every door that starts a turn (blocking and
//! streamed `POST /v1/chat`, the WebSocket, the OpenAI-compatible door), per
//! API key, and per client address for minting chat tokens. A refusal is
//! 429 `rate_limited` with `Retry-After` and the `RateLimit-Policy` /
//! `RateLimit` fields.
//!
//! Rates here refill once an hour, so nothing comes back while a test runs.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{API_KEY, Gateway, Upstream, code, json_of};
use crate::ws::{connect, next, send, turn};

fn chat_body(user: &str, message: &str) -> Value {
    json!({"system_id": "drillquiz", "user_id": user, "message": message})
}

/// The refusal's headers agree with each other and with the rate.
fn assert_refused(resp: &reqwest::Response, policy: &str, quota: u32, window: u64) {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let retry: u64 = header("retry-after").parse().unwrap();
    assert!(retry >= 1 && retry <= window, "Retry-After {retry}");
    assert_eq!(
        header("ratelimit-policy"),
        format!("\"{policy}\";q={quota};w={window}")
    );
    assert_eq!(header("ratelimit"), format!("\"{policy}\";r=0;t={retry}"));
}

#[tokio::test]
async fn a_user_over_the_rate_is_refused_on_every_door() {
    let gw = Gateway::with(
        Upstream::Dify(Default::default()),
        &[("CHAT_GATEWAY_RATE_USER", "2/h,burst=2")],
    )
    .await;
    let token = gw.token("drillquiz", "alice");
    let send_as = |body: Value| gw.post("/v1/chat").bearer_auth(&token).json(&body).send();
    // The burst: one blocking turn, one streamed.
    let (status, body) = json_of(send_as(json!({"message": "one"})).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let resp = send_as(json!({"message": "two", "stream": true}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    drop(crate::support::read_events(resp).await);

    for body in [
        json!({"message": "three"}),
        json!({"message": "three", "stream": true}),
    ] {
        let resp = send_as(body.clone()).await.unwrap();
        assert_refused(&resp, "user", 2, 3600);
        let (_, error) = json_of(resp).await;
        assert_eq!(code(&error), "rate_limited", "{body}: {error}");
    }
    // The same user through the OpenAI-compatible door, and with an API key.
    let resp = gw
        .post("/v1/chat/completions")
        .bearer_auth(&token)
        .json(&json!({"model": "drillquiz",
                      "messages": [{"role": "user", "content": "three"}]}))
        .send()
        .await
        .unwrap();
    assert_refused(&resp, "user", 2, 3600);
    let (status, body) = gw.chat(chat_body("alice", "three")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    // Over the WebSocket: an error frame, and the socket stays open.
    let mut ws = connect(&gw, &format!("?token={token}")).await;
    assert_eq!(next(&mut ws).await["type"], "ready");
    send(
        &mut ws,
        json!({"type": "send_message", "data": {"content": "three"}}),
    )
    .await;
    let frames = turn(&mut ws).await;
    let refused = frames.last().unwrap();
    assert_eq!(refused["type"], "error", "{frames:?}");
    assert_eq!(refused["data"]["code"], "rate_limited");
    assert_eq!(refused["data"]["status"], 429);
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next(&mut ws).await["type"], "pong");

    // Nothing was stored for the refused turns, and other users are not
    // held back.
    let conversations = gw.conversations("drillquiz", "alice").await;
    assert_eq!(conversations.len(), 2);
    let (status, body) = gw.chat(chat_body("bob", "hello")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_api_key_has_its_own_rate_and_a_system_may_differ() {
    let gw = Gateway::with(
        Upstream::Dify(Default::default()),
        &[
            ("CHAT_GATEWAY_RATE_API_KEY", "3/h,burst=3"),
            ("CHAT_GATEWAY_RATE_USER", "off"),
            // This system's users get one turn; its key has no limit.
            ("CHAT_GATEWAY_STRICT_APP_RATE_USER", "1/h,burst=1"),
            ("CHAT_GATEWAY_STRICT_APP_RATE_API_KEY", "off"),
        ],
    )
    .await;
    for user in ["u1", "u2", "u3"] {
        let (status, body) = gw.chat(chat_body(user, "hi")).await;
        assert_eq!(status, 200, "{body}");
    }
    let resp = gw
        .post("/v1/chat")
        .header("X-API-Key", API_KEY)
        .json(&chat_body("u4", "hi"))
        .send()
        .await
        .unwrap();
    assert_refused(&resp, "api_key", 3, 3600);

    let strict = |user: &str| json!({"system_id": "strict-app", "user_id": user, "message": "hi"});
    assert_eq!(gw.chat(strict("s1")).await.0, 200);
    let resp = gw
        .post("/v1/chat")
        .header("X-API-Key", API_KEY)
        .json(&strict("s1"))
        .send()
        .await
        .unwrap();
    assert_refused(&resp, "user", 1, 3600);
    assert_eq!(
        gw.chat(strict("s2")).await.0,
        200,
        "the key is not limited there"
    );
}

#[tokio::test]
async fn minting_tokens_is_limited_per_client_address() {
    let gw = Gateway::with(
        Upstream::Demo,
        &[("CHAT_GATEWAY_RATE_TOKEN_MINT", "2/h,burst=2")],
    )
    .await;
    let mint = |user: &'static str| {
        gw.get(&format!(
            "/v1/chat-token?system_id=drillquiz&user_id={user}"
        ))
        .header("X-API-Key", API_KEY)
        // Not a trusted proxy's word: the peer address counts.
        .header("X-Forwarded-For", format!("203.0.113.{}", user.len()))
        .send()
    };
    assert_eq!(mint("a").await.unwrap().status(), 200);
    assert_eq!(mint("bb").await.unwrap().status(), 200);
    let resp = mint("ccc").await.unwrap();
    assert_refused(&resp, "token_mint", 2, 3600);
    let (_, body) = json_of(resp).await;
    assert_eq!(code(&body), "rate_limited");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_counts() {
    let gw = Gateway::with(
        Upstream::Demo,
        &[
            ("CHAT_GATEWAY_RATE_TOKEN_MINT", "1/h,burst=1"),
            ("CHAT_GATEWAY_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let mint = |client: &'static str| {
        gw.get("/v1/chat-token?system_id=drillquiz&user_id=u")
            .header("X-API-Key", API_KEY)
            .header("X-Forwarded-For", client)
            .send()
    };
    assert_eq!(mint("203.0.113.1").await.unwrap().status(), 200);
    assert_eq!(mint("203.0.113.2").await.unwrap().status(), 200);
    assert_eq!(mint("203.0.113.1").await.unwrap().status(), 429);
}
