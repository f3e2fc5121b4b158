//! The WebSocket door, `GET /v1/ws`, driven with a real client library
//! (tokio-tungstenite): auth, every frame type, refused frames, and what is
//! stored however a socket ends.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sdk::jwt::{ChatClaims, JwtSecret, mint};
use sdk::{MessageStatus, Role};
use serde_json::{Value, json};
use testkit::fake_dify::{FakeAnswer, FakeOptions};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{API_KEY, Gateway, SECRET, Upstream};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A gateway whose answers are 200 words, 10 ms apart: long enough to act
/// while one is running.
pub(crate) async fn slow_gateway(env: &[(&str, &str)]) -> Gateway {
    Gateway::with(
        Upstream::Dify(FakeOptions {
            answer: FakeAnswer::Words {
                count: 200,
                delay: Duration::from_millis(10),
            },
            ..FakeOptions::default()
        }),
        env,
    )
    .await
}

pub(crate) fn ws_url(gw: &Gateway, query: &str) -> String {
    format!("{}/v1/ws{query}", gw.url.replacen("http://", "ws://", 1))
}

pub(crate) async fn connect(gw: &Gateway, query: &str) -> Socket {
    tokio_tungstenite::connect_async(ws_url(gw, query))
        .await
        .unwrap()
        .0
}

/// A socket with a chat token for `user` of `drillquiz`, past its `ready`.
pub(crate) async fn ready(gw: &Gateway, user: &str) -> Socket {
    let token = gw.token("drillquiz", user);
    let mut ws = connect(gw, &format!("?token={token}")).await;
    let frame = next(&mut ws).await;
    assert_eq!(frame["type"], "ready", "{frame}");
    assert_eq!(
        frame["data"],
        json!({"system_id": "drillquiz", "user_id": user})
    );
    ws
}

pub(crate) async fn send(ws: &mut Socket, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.unwrap();
}

/// The next text frame, as JSON.
pub(crate) async fn next(ws: &mut Socket) -> Value {
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Frames up to the close; the close code.
pub(crate) async fn until_close(ws: &mut Socket) -> (Vec<Value>, CloseCode) {
    let mut frames = Vec::new();
    while let Some(message) = ws.next().await {
        match message.unwrap() {
            Message::Text(text) => frames.push(serde_json::from_str(&text).unwrap()),
            Message::Close(Some(close)) => return (frames, close.code),
            Message::Close(None) => panic!("closed without a code after {frames:?}"),
            _ => {}
        }
    }
    panic!("the socket ended without a close frame after {frames:?}");
}

/// Frames of one turn, up to its `end` or `error`.
pub(crate) async fn turn(ws: &mut Socket) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = next(ws).await;
        let last = frame["type"] == "end" || frame["type"] == "error";
        frames.push(frame);
        if last {
            return frames;
        }
    }
}

pub(crate) fn answer_of(frames: &[Value]) -> String {
    frames
        .iter()
        .filter(|f| f["type"] == "delta")
        .map(|f| f["data"]["text"].as_str().unwrap())
        .collect()
}

/// Read frames until `n` deltas arrived.
pub(crate) async fn deltas(ws: &mut Socket, n: usize) -> Vec<Value> {
    let mut frames = Vec::new();
    while frames
        .iter()
        .filter(|f: &&Value| f["type"] == "delta")
        .count()
        < n
    {
        frames.push(next(ws).await);
    }
    frames
}

#[tokio::test]
async fn a_conversation_over_a_socket_is_stored_like_any_other() {
    let gw = Gateway::start().await;
    let mut ws = ready(&gw, "u1").await;

    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next(&mut ws).await, json!({"type": "pong"}));

    send(
        &mut ws,
        json!({"type": "start_conversation", "data": {"title": "Trip plans"}}),
    )
    .await;
    let started = next(&mut ws).await;
    assert_eq!(started["type"], "conversation_started", "{started}");
    let conversation = started["data"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        gw.conversations("drillquiz", "u1").await.is_empty(),
        "nothing is stored before the first message"
    );

    for message in ["Hello socket", "And again"] {
        send(
            &mut ws,
            json!({"type": "send_message",
                   "data": {"conversation_id": conversation, "content": message,
                            "inputs": {"language": "ko"}}}),
        )
        .await;
        let frames = turn(&mut ws).await;
        assert_eq!(frames[0]["type"], "start", "{frames:?}");
        assert_eq!(frames[0]["data"]["conversation_id"], conversation.as_str());
        let end = frames.last().unwrap();
        assert_eq!(end["type"], "end", "{frames:?}");
        assert_eq!(end["data"]["conversation_id"], conversation.as_str());
        assert_eq!(end["data"]["message_id"], frames[0]["data"]["message_id"]);
        assert!(end["data"]["usage"]["total_tokens"].as_u64().unwrap() > 0);
        assert_eq!(answer_of(&frames), format!("Echo: {message}"));
    }

    let listed = gw.conversations("drillquiz", "u1").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, conversation);
    assert_eq!(listed[0].name, "Trip plans", "the title given at the start");
    let stored = gw.messages("drillquiz", "u1", &conversation).await;
    let roles: Vec<_> = stored.iter().map(|m| (m.role, m.status)).collect();
    assert_eq!(
        roles,
        [
            (Role::User, MessageStatus::Complete),
            (Role::Assistant, MessageStatus::Complete),
            (Role::User, MessageStatus::Complete),
            (Role::Assistant, MessageStatus::Complete),
        ]
    );
    assert_eq!(stored[3].content, "Echo: And again");
    let sent = gw.fake.chats();
    assert_eq!(sent[0].inputs, json!({"language": "ko"}));
    assert!(
        sent[0].conversation_id.is_none() && sent[1].conversation_id.is_some(),
        "the upstream conversation continues"
    );

    // Without a conversation id, a message starts a new conversation.
    send(
        &mut ws,
        json!({"type": "send_message", "data": {"content": "Fresh start"}}),
    )
    .await;
    let frames = turn(&mut ws).await;
    let fresh = frames[0]["data"]["conversation_id"].as_str().unwrap();
    assert_ne!(fresh, conversation);
    assert_eq!(gw.conversations("drillquiz", "u1").await.len(), 2);

    send(
        &mut ws,
        json!({"type": "end_conversation", "data": {"conversation_id": conversation}}),
    )
    .await;
    assert_eq!(
        next(&mut ws).await,
        json!({"type": "conversation_ended", "data": {"conversation_id": conversation}})
    );
    assert_eq!(
        gw.messages("drillquiz", "u1", &conversation).await.len(),
        4,
        "history stays"
    );
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn auth_by_first_frame_or_by_api_key() {
    let gw = Gateway::start().await;
    let mut ws = connect(&gw, "").await;
    let token = gw.token("drillquiz", "framed");
    send(&mut ws, json!({"type": "auth", "token": token})).await;
    assert_eq!(next(&mut ws).await["type"], "ready");

    let mut request = ws_url(&gw, "?system_id=drillquiz&user_id=server-side")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("x-api-key", API_KEY.parse().unwrap());
    let mut ws = tokio_tungstenite::connect_async(request).await.unwrap().0;
    assert_eq!(
        next(&mut ws).await["data"],
        json!({"system_id": "drillquiz", "user_id": "server-side"})
    );
    send(
        &mut ws,
        json!({"type": "send_message", "data": {"content": "from a server"}}),
    )
    .await;
    assert_eq!(turn(&mut ws).await.last().unwrap()["type"], "end");
    assert_eq!(gw.conversations("drillquiz", "server-side").await.len(), 1);
}

#[tokio::test]
async fn failed_auth_is_an_error_frame_then_1008() {
    let gw = Gateway::start().await;
    let mut claims = ChatClaims::new("drillquiz", "u1", Duration::from_secs(60));
    claims.exp -= 3600;
    let expired = mint(&claims, &JwtSecret::new(SECRET)).unwrap();
    let cases = [
        (format!("?token={expired}"), None, "token_expired"),
        ("?token=not-a-token".to_owned(), None, "token_malformed"),
        (
            "".to_owned(),
            Some(json!({"type": "ping"})),
            "missing_credentials",
        ),
        (
            "".to_owned(),
            Some(json!({"type": "auth", "data": {"token": "x.y.z"}})),
            "token_malformed",
        ),
    ];
    for (query, first, code) in cases {
        let mut ws = connect(&gw, &query).await;
        if let Some(frame) = first {
            send(&mut ws, frame).await;
        }
        let (frames, close) = until_close(&mut ws).await;
        assert_eq!(close, CloseCode::Policy, "{query} {frames:?}");
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_eq!(frames[0]["type"], "error");
        assert_eq!(frames[0]["data"]["code"], code, "{query}");
        assert_eq!(frames[0]["data"]["status"], 401);
    }

    let mut request = ws_url(&gw, "?system_id=drillquiz&user_id=u1")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("x-api-key", "wrong-key".parse().unwrap());
    let mut ws = tokio_tungstenite::connect_async(request).await.unwrap().0;
    let (frames, close) = until_close(&mut ws).await;
    assert_eq!(close, CloseCode::Policy);
    assert_eq!(frames[0]["data"]["code"], "invalid_api_key");
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_socket_stays() {
    let gw = Gateway::with(
        Upstream::Dify(FakeOptions::default()),
        &[("CHAT_GATEWAY_MAX_BODY_BYTES", "4096")],
    )
    .await;
    let mut ws = ready(&gw, "u1").await;
    let refusals = [
        ("{not json".to_owned(), "invalid_json", 400),
        (r#"{"type":"dance"}"#.to_owned(), "bad_request", 400),
        (r#"["send_message"]"#.to_owned(), "bad_request", 400),
        (r#"{"type":"send_message","data":{}}"#.to_owned(), "validation_failed", 422),
        (r#"{"type":"send_message","data":{"content":"   "}}"#.to_owned(), "validation_failed", 422),
        (
            json!({"type": "send_message", "data": {"content": "hi", "conversation_id": "0190c9b2-0000-7000-8000-000000000000"}}).to_string(),
            "conversation_not_found",
            404,
        ),
        (r#"{"type":"auth","data":{"token":"again"}}"#.to_owned(), "bad_request", 400),
    ];
    for (text, code, status) in refusals {
        ws.send(Message::text(text.clone())).await.unwrap();
        let frame = next(&mut ws).await;
        assert_eq!(frame["type"], "error", "{text}: {frame}");
        assert_eq!(frame["data"]["code"], code, "{text}: {frame}");
        assert_eq!(frame["data"]["status"], status, "{text}");
    }
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(
        next(&mut ws).await["type"],
        "pong",
        "the socket stayed open"
    );

    ws.send(Message::Binary(Bytes::from_static(b"\x00\x01")))
        .await
        .unwrap();
    assert_eq!(until_close(&mut ws).await.1, CloseCode::Unsupported);

    let mut ws = ready(&gw, "u1").await;
    let huge = json!({"type": "send_message", "data": {"content": "x".repeat(5000)}});
    send(&mut ws, huge).await;
    assert_eq!(until_close(&mut ws).await.1, CloseCode::Size);
    assert!(gw.conversations("drillquiz", "u1").await.is_empty());
}

#[tokio::test]
async fn the_sdk_client_speaks_the_same_frames() {
    use sdk::ws::{WsClient, WsError};
    use sdk::{ClientFrame, ErrorCode, ServerFrame};

    let gw = Gateway::start().await;
    let base = gw.url.replacen("http://", "ws://", 1);
    let token = gw.token("drillquiz", "typed");
    let mut ws = WsClient::connect_with_token(&base, &token).await.unwrap();
    let conversation = ws
        .start_conversation(Some("From Rust"), None)
        .await
        .unwrap();
    ws.send_message(Some(&conversation), "typed hello")
        .await
        .unwrap();
    let mut text = String::new();
    loop {
        match ws.next_frame().await.unwrap().unwrap() {
            ServerFrame::Start { .. } => {}
            ServerFrame::Delta { text: piece } => text.push_str(&piece),
            ServerFrame::End {
                conversation_id, ..
            } => {
                assert_eq!(conversation_id, conversation);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(text, "Echo: typed hello");
    ws.close().await.unwrap();

    let mut server = WsClient::connect_with_api_key(&base, API_KEY, "drillquiz", "typed")
        .await
        .unwrap();
    server.send(&ClientFrame::Ping).await.unwrap();
    assert_eq!(server.next_frame().await.unwrap(), Some(ServerFrame::Pong));
    assert_eq!(
        gw.conversations("drillquiz", "typed").await[0].name,
        "From Rust"
    );

    match WsClient::connect_with_token(&base, "not.a.token").await {
        Err(WsError::Refused { status, code, .. }) => {
            assert_eq!((status, code), (401, ErrorCode::TokenMalformed));
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a bad token was accepted"),
    }
}
