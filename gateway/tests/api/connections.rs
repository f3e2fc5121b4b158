//! Connections are kept within bounds (slow or idle clients are closed,
//! one address cannot open more than its share), and what the HTTP layer
//! refuses still gets the JSON error shape.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Gateway, Upstream, code, eventually, json_of};

/// A generous bound for "the server closes this connection": the test
/// checks that it is closed, not how fast.
const CLOSED_WITHIN: Duration = Duration::from_secs(30);

fn addr(gw: &Gateway) -> String {
    gw.url.trim_start_matches("http://").to_owned()
}

/// Read until the server closes the connection; what it sent.
async fn read_until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(CLOSED_WITHIN, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    got
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n";

/// Send `GET /health` on `tcp` and read the (small) response head.
async fn health_on(tcp: &mut TcpStream) -> String {
    tcp.write_all(HEALTH).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn a_half_sent_header_is_closed_after_the_header_timeout() {
    let gw = Gateway::with(
        Upstream::Demo,
        &[
            ("CHAT_GATEWAY_HEADER_READ_TIMEOUT_SECS", "1"),
            ("CHAT_GATEWAY_IDLE_TIMEOUT_SECS", "600"),
        ],
    )
    .await;
    let mut tcp = TcpStream::connect(addr(&gw)).await.unwrap();
    tcp.write_all(b"GET /health HTTP/1.1\r\nHost: gat")
        .await
        .unwrap();
    let sent = read_until_closed(&mut tcp).await;
    assert!(
        !String::from_utf8_lossy(&sent).contains("200 OK"),
        "a request that never finished was answered"
    );
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let gw = Gateway::with(
        Upstream::Demo,
        &[
            ("CHAT_GATEWAY_IDLE_TIMEOUT_SECS", "1"),
            ("CHAT_GATEWAY_HEADER_READ_TIMEOUT_SECS", "600"),
        ],
    )
    .await;
    let mut tcp = TcpStream::connect(addr(&gw)).await.unwrap();
    // One request, then silence: keep-alive does not keep it forever.
    assert!(health_on(&mut tcp).await.starts_with("HTTP/1.1 200"));
    read_until_closed(&mut tcp).await;
}

#[tokio::test]
async fn a_stream_outlives_the_idle_timeout() {
    let gw = Gateway::with(
        Upstream::Demo,
        &[
            ("CHAT_GATEWAY_IDLE_TIMEOUT_SECS", "1"),
            // The demo streams a word every 300 ms: quiet spells shorter
            // than the idle timeout, a whole answer much longer.
            ("CHAT_GATEWAY_DEMO_DELAY_MS", "300"),
        ],
    )
    .await;
    let events = gw
        .stream(serde_json::json!({"system_id": "s", "user_id": "u", "message": "Hello there"}))
        .await;
    assert!(
        matches!(events.last(), Some(sdk::StreamEvent::End { .. })),
        "{events:?}"
    );
}

#[tokio::test]
async fn connections_beyond_the_per_address_cap_are_refused() {
    let gw = Gateway::with(
        Upstream::Demo,
        &[("CHAT_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS", "2")],
    )
    .await;
    let mut first = TcpStream::connect(addr(&gw)).await.unwrap();
    let mut second = TcpStream::connect(addr(&gw)).await.unwrap();
    assert!(health_on(&mut first).await.starts_with("HTTP/1.1 200"));
    assert!(health_on(&mut second).await.starts_with("HTTP/1.1 200"));

    let mut third = TcpStream::connect(addr(&gw)).await.unwrap();
    let _ = third.write_all(HEALTH).await;
    let answered = read_until_closed(&mut third).await;
    assert!(answered.is_empty(), "a third connection was served");

    // A place freed is a place taken.
    drop(first);
    eventually(|| async {
        let mut again = TcpStream::connect(addr(&gw)).await.ok()?;
        again.write_all(HEALTH).await.ok()?;
        let mut buf = vec![0u8; 4096];
        let n = again.read(&mut buf).await.ok()?;
        String::from_utf8_lossy(&buf[..n])
            .starts_with("HTTP/1.1 200")
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_oversized_request_head_gets_the_json_error_shape() {
    let gw = Gateway::with(Upstream::Demo, &[]).await;
    let long = format!("/health?pad={}", "x".repeat(9 * 1024));
    let (status, body) = json_of(gw.get(&long).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG, "{body}");
    assert_eq!(code(&body), "bad_request");

    let mut req = gw.get("/health");
    for i in 0..120 {
        req = req.header(format!("x-filler-{i}"), "v");
    }
    let (status, body) = json_of(req.send().await.unwrap()).await;
    assert_eq!(
        status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "{body}"
    );
    assert_eq!(code(&body), "bad_request");
}

#[tokio::test]
async fn a_413_survives_the_client_still_sending_its_body() {
    let gw = Gateway::with(Upstream::Demo, &[]).await;
    let mut tcp = TcpStream::connect(addr(&gw)).await.unwrap();
    let size = 5 * 1024 * 1024;
    let head = format!(
        "POST /v1/chat HTTP/1.1\r\nHost: gateway\r\nX-API-Key: {}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n",
        crate::support::API_KEY
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    tcp.write_all(&chunk).await.unwrap();
    // Give the gateway time to answer and close while the body is still
    // coming, then send the rest, as a slow uploader would. A client (like
    // reqwest) that fails on a reset while sending never reads the answer,
    // so the rest must be taken in, not reset.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 1..(size / chunk.len()) {
        tcp.write_all(&chunk)
            .await
            .expect("the rest of the body is taken in, not reset");
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tcp.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => panic!("connection reset before the answer was read: {e}"),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
}

#[tokio::test]
async fn hsts_is_sent_only_when_served_over_https() {
    let plain = Gateway::with(Upstream::Demo, &[]).await;
    let resp = plain.get("/health").send().await.unwrap();
    assert!(resp.headers().get("strict-transport-security").is_none());

    let public = Gateway::with(
        Upstream::Demo,
        &[("CHAT_GATEWAY_URL", "https://chat.example.com")],
    )
    .await;
    let resp = public.get("/health").send().await.unwrap();
    let hsts = resp
        .headers()
        .get("strict-transport-security")
        .expect("HSTS over HTTPS");
    assert!(hsts.to_str().unwrap().starts_with("max-age="), "{hsts:?}");
}
