//! A disabled system is refused on every door, with tokens minted before it
//! was disabled too; enabled again, it works again.

use futures::StreamExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{TestGateway, Upstream};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{SECRET_KEY, call, call_with};

/// What every door answered for `quiz`, by door.
async fn doors(gw: &TestGateway, token: &str) -> Vec<(&'static str, u16, String)> {
    let bearer = format!("Bearer {token}");
    let as_user = [("authorization", bearer.as_str())];
    let mut seen = Vec::new();
    let mut note = |door, (status, body): (u16, Value)| {
        let code = match body["error"]["code"].as_str() {
            Some(code) => code.to_owned(),
            None => String::new(),
        };
        seen.push((door, status, code));
    };
    note(
        "chat with a token",
        call_with(
            gw,
            Method::POST,
            "/v1/chat",
            Some(json!({"message": "hi"})),
            &as_user,
        )
        .await,
    );
    note(
        "chat with the key",
        call(
            gw,
            Method::POST,
            "/v1/chat",
            Some(json!({"system_id": "quiz", "user_id": "ann", "message": "hi"})),
        )
        .await,
    );
    note(
        "token minting",
        call(
            gw,
            Method::GET,
            "/v1/chat-token?system_id=quiz&user_id=ann",
            None,
        )
        .await,
    );
    note(
        "reads",
        call_with(gw, Method::GET, "/v1/conversations", None, &as_user).await,
    );
    note(
        "agents",
        call(gw, Method::GET, "/v1/agents?system_id=quiz", None).await,
    );
    note(
        "openai door",
        call_with(
            gw,
            Method::POST,
            "/v1/chat/completions",
            Some(json!({"model": "quiz", "messages": [{"role": "user", "content": "hi"}]})),
            &as_user,
        )
        .await,
    );
    let page = reqwest::get(format!("{}/chat?token={token}", gw.url()))
        .await
        .unwrap();
    seen.push(("chat page", page.status().as_u16(), String::new()));
    seen.push(websocket(gw, token).await);
    seen
}

/// The WebSocket door: its first frame, as (door, status, code).
async fn websocket(gw: &TestGateway, token: &str) -> (&'static str, u16, String) {
    let url = format!(
        "{}/v1/ws?token={token}",
        gw.url().replacen("http://", "ws://", 1)
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(&text).unwrap();
                return match frame["type"].as_str() {
                    Some("ready") => ("websocket", 200, String::new()),
                    _ => (
                        "websocket",
                        u16::try_from(frame["data"]["status"].as_u64().unwrap_or(0)).unwrap(),
                        frame["data"]["code"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    ),
                };
            }
            Message::Close(_) => return ("websocket", 0, "closed".to_owned()),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_disabled_system_is_refused_everywhere_until_enabled_again() {
    let gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .env("CHAT_GATEWAY_SECRET_KEY", SECRET_KEY)
        .start()
        .await
        .unwrap();
    let (status, body) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems",
        Some(json!({"id": "quiz"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let token = gw.token("quiz", "ann");

    let open = doors(&gw, &token).await;
    for (door, status, code) in &open {
        assert_eq!(
            (*status, code.as_str()),
            (200, ""),
            "{door} of an enabled system"
        );
    }

    let (status, body) = call(
        &gw,
        Method::PATCH,
        "/v1/admin/systems/quiz",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for (door, status, code) in doors(&gw, &token).await {
        assert_eq!(status, 403, "{door}");
        if door != "chat page" && door != "openai door" {
            assert_eq!(code, "system_disabled", "{door}");
        }
    }
    // The OpenAI door answers in OpenAI's error shape, with our code.
    let (_, body) = call_with(
        &gw,
        Method::POST,
        "/v1/chat/completions",
        Some(json!({"model": "quiz", "messages": [{"role": "user", "content": "hi"}]})),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(body["error"]["code"], "system_disabled", "{body}");
    // Other systems are not affected.
    let (status, _) = call(
        &gw,
        Method::POST,
        "/v1/chat",
        Some(json!({"system_id": "other", "user_id": "ann", "message": "hi"})),
    )
    .await;
    assert_eq!(status, 200);

    let (status, _) = call(
        &gw,
        Method::PATCH,
        "/v1/admin/systems/quiz",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doors(&gw, &token).await, open);
}
