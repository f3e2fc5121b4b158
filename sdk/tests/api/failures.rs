//! Each class of failure, as a caller sees it: the network, the gateway's
//! refusals, answers that are not the API's, and broken streams.

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use sdk::{ChatRequest, Client, ClientBuilder, Error, ErrorCode, StreamError, StreamEvent};
use testkit::fake_dify::Fault;

use crate::harness::{API_KEY, DIFY_URL, TestGateway, stand_in};

#[tokio::test]
async fn an_unreachable_gateway_is_a_transport_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = Client::with_api_key(&url, API_KEY)
        .unwrap()
        .health()
        .await
        .unwrap_err();
    match &err {
        Error::Http(e) => assert!(e.is_connect(), "{e:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!((err.status(), err.code()), (None, None));
    assert!(!err.to_string().contains(API_KEY));
    assert!(!format!("{err:?}").contains(API_KEY));
}

#[tokio::test]
async fn a_call_over_the_time_limit_is_a_timeout() {
    let gw = TestGateway::start().await;
    gw.fake.push_fault(Fault::Hang);
    let client = ClientBuilder::new(&gw.url)
        .timeout(Duration::from_millis(300))
        .api_key(API_KEY)
        .unwrap();
    let err = client
        .user("drillquiz", "42")
        .chat(ChatRequest::new("anyone there?"))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn a_wrong_or_missing_credential_is_refused() {
    let gw = TestGateway::start().await;
    let wrong = Client::with_api_key(&gw.url, "not-the-key").unwrap();
    let err = wrong
        .user("drillquiz", "42")
        .conversations()
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(401), Some(ErrorCode::InvalidApiKey))
    );
    // Server-only calls refuse it the same way.
    let err = wrong.sync().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidApiKey));

    let gw_without_keys = TestGateway::start_with(&[("CHAT_GATEWAY_API_KEY", "")]).await;
    let err = Client::with_api_key(&gw_without_keys.url, API_KEY)
        .unwrap()
        .chat_token("drillquiz", "42", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidApiKey));
}

#[tokio::test]
async fn upstream_trouble_comes_back_with_its_own_code() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");

    gw.fake.push_fault(Fault::Status {
        status: 429,
        code: "rate_limit_exceeded".into(),
        message: "slow down".into(),
    });
    let err = user.chat(ChatRequest::new("hi")).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(429), Some(ErrorCode::RateLimited))
    );

    gw.fake.push_fault(Fault::Html502);
    let err = user.chat(ChatRequest::new("hi")).await.unwrap_err();
    match err {
        Error::Api {
            status: 502,
            code: ErrorCode::UpstreamError,
            message,
            ..
        } => assert!(!message.contains("nginx"), "{message}"),
        other => panic!("{other:?}"),
    }
    // The same failure before a stream starts is an error, not a stream.
    gw.fake.push_fault(Fault::Html502);
    let err = user.chat_stream(ChatRequest::new("hi")).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::UpstreamError));
}

#[tokio::test]
async fn a_system_without_an_upstream_is_not_configured() {
    let gw = TestGateway::start_with(&[
        ("DIFY_BASE_URL", ""),
        ("DIFY_DRILLQUIZ_BASE_URL", DIFY_URL),
        ("DIFY_DRILLQUIZ_API_KEY", "app-fake"),
    ])
    .await;
    let client = gw.client();
    assert!(
        client
            .user("drillquiz", "1")
            .chat(ChatRequest::new("hi"))
            .await
            .is_ok()
    );
    let err = client
        .user("cointutor", "1")
        .chat(ChatRequest::new("hi"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(503), Some(ErrorCode::NotConfigured))
    );
}

/// An nginx page, as a proxy in front of a stopped gateway answers.
async fn proxy_page() -> impl IntoResponse {
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/html")],
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
    )
}

#[tokio::test]
async fn an_answer_that_is_not_the_apis_is_a_decode_error_with_the_body() {
    let url = stand_in(
        axum::Router::new()
            .route("/v1/conversations", get(proxy_page))
            .route(
                "/health",
                get(|| async { axum::Json(serde_json::json!({"up": true})) }),
            ),
    )
    .await;
    let client = Client::with_api_key(&url, API_KEY).unwrap();

    match client
        .user("drillquiz", "42")
        .conversations()
        .await
        .unwrap_err()
    {
        Error::Decode { status, body, .. } => {
            assert_eq!(status, 502);
            assert!(body.contains("502 Bad Gateway"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    match client.health().await.unwrap_err() {
        Error::Decode { status, body, .. } => {
            assert_eq!(status, 200);
            assert_eq!(body, r#"{"up":true}"#);
        }
        other => panic!("{other:?}"),
    }
}

/// A stand-in whose `/v1/chat` answers with `body` as an event stream.
async fn streaming_stand_in(body: &'static str, content_type: &'static str) -> Client {
    let router = axum::Router::new().route(
        "/v1/chat",
        post(move || async move { ([(header::CONTENT_TYPE, content_type)], body) }),
    );
    Client::with_api_key(&stand_in(router).await, API_KEY).unwrap()
}

const START: &str = "event: start\ndata: {\"type\":\"start\",\"conversation_id\":\"c\",\"user_message_id\":\"u\",\"message_id\":\"m\"}\n\n";

#[tokio::test]
async fn keep_alives_and_unknown_events_are_skipped() {
    const BODY: &str = concat!(
        ": keep-alive\n\n",
        "event: start\ndata: {\"type\":\"start\",\"conversation_id\":\"c\",\"user_message_id\":\"u\",\"message_id\":\"m\"}\n\n",
        ": keep-alive\n\n",
        "event: citation\ndata: {\"type\":\"citation\",\"source\":\"added by a newer gateway\"}\n\n",
        "event: delta\r\ndata: {\"type\":\"delta\",\"text\":\"Hel\"}\r\n\r\n",
        "event: delta\ndata: {\"type\":\"delta\",\"text\":\"lo\"}\n\n",
        "event: end\ndata: {\"type\":\"end\",\"conversation_id\":\"c\",\"message_id\":\"m\",\"user_message_id\":\"u\"}\n\n",
        "event: delta\ndata: {\"type\":\"delta\",\"text\":\"after the end\"}\n\n",
    );
    let client = streaming_stand_in(BODY, "text/event-stream").await;
    let mut stream = client
        .user("drillquiz", "42")
        .chat_stream(ChatRequest::new("hi"))
        .await
        .unwrap();
    let mut names = Vec::new();
    while let Some(event) = stream.next_event().await {
        names.push(event.unwrap().name());
    }
    assert_eq!(names, ["start", "delta", "delta", "end"]);
}

#[tokio::test]
async fn a_stream_that_stops_before_its_end_is_a_stream_error() {
    const BODY: &str = concat!(
        "event: start\ndata: {\"type\":\"start\",\"conversation_id\":\"c\",\"user_message_id\":\"u\",\"message_id\":\"m\"}\n\n",
        "event: delta\ndata: {\"type\":\"delta\",\"text\":\"Hel\"}\n\n",
    );
    let client = streaming_stand_in(BODY, "text/event-stream; charset=utf-8").await;
    let user = client.user("drillquiz", "42");
    let mut stream = user.chat_stream(ChatRequest::new("hi")).await.unwrap();
    assert!(matches!(
        stream.next_event().await,
        Some(Ok(StreamEvent::Start { .. }))
    ));
    assert!(matches!(
        stream.next_event().await,
        Some(Ok(StreamEvent::Delta { .. }))
    ));
    assert!(matches!(
        stream.next_event().await,
        Some(Err(Error::Stream(StreamError::EndedEarly)))
    ));
    assert!(stream.next_event().await.is_none());

    let err = user
        .chat_stream(ChatRequest::new("hi"))
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Stream(StreamError::EndedEarly)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_malformed_event_is_a_decode_error_and_ends_the_stream() {
    const BODY: &str = concat!(
        "event: start\ndata: {\"type\":\"start\",\"conversation_id\":\"c\",\"user_message_id\":\"u\",\"message_id\":\"m\"}\n\n",
        "event: delta\ndata: {\"type\":\"delta\",\"text\":42}\n\n",
        "event: delta\ndata: {\"type\":\"delta\",\"text\":\"never read\"}\n\n",
    );
    let client = streaming_stand_in(BODY, "text/event-stream").await;
    let mut stream = client
        .user("drillquiz", "42")
        .chat_stream(ChatRequest::new("hi"))
        .await
        .unwrap();
    assert!(matches!(
        stream.next_event().await,
        Some(Ok(StreamEvent::Start { .. }))
    ));
    match stream.next_event().await {
        Some(Err(Error::Decode { status, body, .. })) => {
            assert_eq!(status, 200);
            assert_eq!(body, r#"{"type":"delta","text":42}"#);
        }
        other => panic!("{other:?}"),
    }
    assert!(stream.next_event().await.is_none());
}

#[tokio::test]
async fn an_answer_that_is_not_an_event_stream_is_refused() {
    let client = streaming_stand_in(START, "application/json").await;
    let err = client
        .user("drillquiz", "42")
        .chat_stream(ChatRequest::new("hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Stream(StreamError::NotEventStream(ct)) if ct == "application/json"),
        "{err:?}"
    );
}
