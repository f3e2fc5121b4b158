//! A WebSocket whose chat token is revoked while it is open is told
//! `token_revoked` and closed with 1008, whether the revocation is taken by
//! the replica holding the socket or by another one.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use sdk::jwt::JwtSecret;
use serde_json::{Value, json};
use testkit::postgres::ThrowawayPostgres;
use testkit::{Database, TestGateway, Upstream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{API_KEY, Gateway, SECRET, json_of};
use crate::ws::{Socket, deltas, next, ready, send, slow_gateway};

/// Generous: the close is expected within one revocation refresh.
const CLOSE_WAIT: Duration = Duration::from_secs(30);

/// Frames up to the close; the close code and reason.
async fn until_close(ws: &mut Socket) -> (Vec<Value>, CloseCode, String) {
    let read = async {
        let mut frames = Vec::new();
        while let Some(message) = ws.next().await {
            match message.unwrap() {
                Message::Text(text) => frames.push(serde_json::from_str(&text).unwrap()),
                Message::Close(Some(close)) => {
                    return (frames, close.code, close.reason.to_string());
                }
                Message::Close(None) => panic!("closed without a code after {frames:?}"),
                _ => {}
            }
        }
        panic!("the socket ended without a close frame after {frames:?}");
    };
    tokio::time::timeout(CLOSE_WAIT, read)
        .await
        .unwrap_or_else(|_| {
            panic!("the socket of a revoked token is not closed within {CLOSE_WAIT:?}")
        })
}

fn assert_closed_for_revocation((frames, code, reason): (Vec<Value>, CloseCode, String)) {
    let last = frames
        .last()
        .unwrap_or_else(|| panic!("no frame before the close"));
    assert_eq!(last["type"], "error", "{frames:?}");
    assert_eq!(last["data"]["code"], "token_revoked");
    assert_eq!(code, CloseCode::Policy);
    assert!(reason.contains("revoked"), "{reason}");
}

async fn revoke(url: &str, body: Value) {
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/tokens/revoke"))
        .header("X-API-Key", API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A minted token (it has a `jti`) for `user`, and its `jti`.
async fn minted(gw: &Gateway, user: &str) -> (String, String) {
    let resp = gw
        .get(&format!(
            "/v1/chat-token?system_id=drillquiz&user_id={user}"
        ))
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let (_, body) = json_of(resp).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let jti = sdk::jwt::verify(&token, &JwtSecret::new(SECRET))
        .unwrap()
        .jti
        .unwrap();
    (token, jti)
}

async fn socket_with(gw_url: &str, token: &str) -> Socket {
    let url = format!(
        "{}/v1/ws?token={token}",
        gw_url.replacen("http://", "ws://", 1)
    );
    let mut ws = tokio_tungstenite::connect_async(url).await.unwrap().0;
    let frame = next(&mut ws).await;
    assert_eq!(frame["type"], "ready", "{frame}");
    ws
}

#[tokio::test]
async fn revoking_a_token_by_its_id_closes_its_open_socket_and_no_other() {
    let gw = Gateway::start().await;
    let (token, jti) = minted(&gw, "alice").await;
    let mut revoked = socket_with(&gw.url, &token).await;
    let mut other = ready(&gw, "alice").await;

    revoke(&gw.url, json!({ "jti": jti })).await;
    assert_closed_for_revocation(until_close(&mut revoked).await);
    // The same user's other token still chats.
    send(&mut other, json!({"type": "ping"})).await;
    assert_eq!(next(&mut other).await["type"], "pong");
}

#[tokio::test]
async fn revoking_a_user_closes_their_socket_mid_answer_and_keeps_the_part() {
    let gw = slow_gateway(&[]).await;
    let mut ws = ready(&gw, "bob").await;
    let mut carol = ready(&gw, "carol").await;
    send(
        &mut ws,
        json!({"type": "send_message", "data": {"content": "a long answer please"}}),
    )
    .await;
    let frames = deltas(&mut ws, 3).await;
    let conversation = frames
        .iter()
        .find(|f| f["type"] == "start")
        .map(|f| f["data"]["conversation_id"].as_str().unwrap().to_owned())
        .unwrap();

    revoke(&gw.url, json!({"system_id": "drillquiz", "user_id": "bob"})).await;
    assert_closed_for_revocation(until_close(&mut ws).await);
    send(&mut carol, json!({"type": "ping"})).await;
    assert_eq!(next(&mut carol).await["type"], "pong");
    // The answer so far is stored, marked incomplete.
    let stored = crate::support::eventually(|| async {
        let messages = gw.messages("drillquiz", "bob", &conversation).await;
        (messages.len() == 2).then_some(messages)
    })
    .await;
    assert_eq!(stored[1].status, sdk::MessageStatus::Incomplete);
}

#[tokio::test]
async fn a_revocation_taken_by_another_replica_closes_the_socket() {
    let postgres = ThrowawayPostgres::start().await.unwrap();
    let replica = || {
        TestGateway::builder()
            .api_key(API_KEY)
            .secret(SECRET)
            .upstream(Upstream::Demo)
            .database(Database::Url(postgres.url()))
            .env("CHAT_GATEWAY_REVOCATION_REFRESH_SECS", "1")
            .start()
    };
    let holding = replica().await.unwrap();
    let taking = replica().await.unwrap();
    let token = holding.token("drillquiz", "dana");
    let mut ws = socket_with(holding.url(), &token).await;

    revoke(
        taking.url(),
        json!({"system_id": "drillquiz", "user_id": "dana"}),
    )
    .await;
    assert_closed_for_revocation(until_close(&mut ws).await);
}
