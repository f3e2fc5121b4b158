//! Upstream failures on blocking chat: mapped statuses, and the user's
//! message is never lost.

use sdk::MessageStatus;
use serde_json::json;
use testkit::fake_dify::{FakeOptions, Fault};

use crate::support::{FAKE_KEY, Gateway, Upstream, code};

fn msg() -> serde_json::Value {
    json!({"system_id": "drillquiz", "user_id": "f1", "message": "Will this work?"})
}

fn status(code: u16, dify_code: &str) -> Fault {
    Fault::Status {
        status: code,
        code: dify_code.into(),
        message: format!("{dify_code} from fake"),
    }
}

/// The question is stored, marked failed, and nothing else.
async fn assert_kept_as_failed(gw: &Gateway) {
    let conversations = gw.conversations("drillquiz", "f1").await;
    let last = &conversations[0];
    let stored = gw.messages("drillquiz", "f1", &last.id).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].content, "Will this work?");
    assert_eq!(stored[0].status, MessageStatus::Failed);
}

#[tokio::test]
async fn upstream_errors_map_to_clear_statuses_and_keep_the_question() {
    let cases = [
        (status(500, "internal_server_error"), 502, "upstream_error"),
        (Fault::Html502, 502, "upstream_error"),
        (
            status(400, "completion_request_error"),
            502,
            "upstream_error",
        ),
        (status(429, "rate_limit_error"), 429, "rate_limited"),
    ];
    for (fault, want_status, want_code) in cases {
        let gw = Gateway::start().await;
        gw.fake.push_fault(fault.clone());
        let (got, body) = gw.chat(msg()).await;
        assert_eq!(
            (got.as_u16(), code(&body)),
            (want_status, want_code),
            "{fault:?}: {body}"
        );
        assert!(
            !body["detail"].as_str().unwrap().contains("from fake"),
            "no upstream text leaks"
        );
        assert_kept_as_failed(&gw).await;
    }
}

#[tokio::test]
async fn a_busy_upstream_is_retried_before_giving_up() {
    let gw = Gateway::start().await;
    gw.fake.push_fault(status(429, "too_many_requests"));
    let (got, body) = gw.chat(msg()).await;
    assert_eq!(got, 200, "one refusal is retried: {body}");
    assert_eq!(gw.fake.chats().len(), 2);

    for _ in 0..3 {
        gw.fake.push_fault(status(429, "too_many_requests"));
    }
    let resp = gw
        .post("/v1/chat")
        .header("X-API-Key", crate::support::API_KEY)
        .json(&msg())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(gw.fake.chats().len(), 5, "first try and two retries");
}

#[tokio::test]
async fn a_wrong_upstream_key_is_a_502_not_a_401() {
    let gw = Gateway::with(
        Upstream::Dify(FakeOptions::default()),
        &[("DIFY_API_KEY", "app-wrong")],
    )
    .await;
    let (got, body) = gw.chat(msg()).await;
    assert_eq!((got.as_u16(), code(&body)), (502, "upstream_error"));
    assert_kept_as_failed(&gw).await;
}

#[tokio::test]
async fn a_conversation_gone_upstream_is_a_404() {
    let gw = Gateway::start().await;
    let (_, first) = gw.chat(msg()).await;
    let conversation = first["conversation_id"].as_str().unwrap();
    // Someone deletes it in Dify directly.
    let upstream_id = gw.fake.chats().remove(0);
    let listed: serde_json::Value = gw
        .http
        .get(format!(
            "{}/v1/conversations?user={}",
            gw.fake_url, upstream_id.user
        ))
        .bearer_auth(FAKE_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dify_id = listed["data"][0]["id"].as_str().unwrap();
    let deleted = gw
        .http
        .delete(format!("{}/v1/conversations/{dify_id}", gw.fake_url))
        .bearer_auth(FAKE_KEY)
        .json(&json!({"user": upstream_id.user}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let mut again = msg();
    again["conversation_id"] = json!(conversation);
    let (got, body) = gw.chat(again).await;
    assert_eq!(
        (got.as_u16(), code(&body)),
        (404, "conversation_not_found"),
        "{body}"
    );
    let stored = gw.messages("drillquiz", "f1", conversation).await;
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[2].status, MessageStatus::Failed);
}

#[tokio::test]
async fn an_upstream_that_never_answers_times_out() {
    let gw = Gateway::with(
        Upstream::Dify(FakeOptions::default()),
        &[("CHAT_GATEWAY_UPSTREAM_TIMEOUT_SECS", "1")],
    )
    .await;
    gw.fake.push_fault(Fault::Hang);
    let (got, body) = gw.chat(msg()).await;
    assert_eq!(
        (got.as_u16(), code(&body)),
        (502, "upstream_timeout"),
        "{body}"
    );
    assert_kept_as_failed(&gw).await;
}

#[tokio::test]
async fn a_failed_message_says_where_it_is_stored_and_is_retried_in_place() {
    let gw = Gateway::start().await;
    gw.fake.push_fault(status(500, "internal_server_error"));
    let (got, err) = gw.chat(msg()).await;
    assert_eq!(got, 502);
    let conversation = err["error"]["conversation_id"].as_str().unwrap().to_owned();
    let message = err["error"]["message_id"].as_str().unwrap().to_owned();
    assert_kept_as_failed(&gw).await;

    let mut retry = msg();
    retry["conversation_id"] = json!(conversation);
    retry["retry_message_id"] = json!(message);
    let (got, reply) = gw.chat(retry.clone()).await;
    assert_eq!(got, 200, "{reply}");
    assert_eq!(
        reply["user_message_id"],
        message.as_str(),
        "the same message, not a copy"
    );
    let conversations = gw.conversations("drillquiz", "f1").await;
    assert_eq!(conversations.len(), 1, "no second conversation");
    let stored = gw.messages("drillquiz", "f1", &conversation).await;
    let summary: Vec<_> = stored
        .iter()
        .map(|m| (m.content.as_str(), m.status))
        .collect();
    assert_eq!(
        summary,
        [
            ("Will this work?", MessageStatus::Complete),
            ("Echo: Will this work?", MessageStatus::Complete),
        ]
    );

    // Retrying needs the conversation, and a message of it.
    let mut no_conversation = msg();
    no_conversation["retry_message_id"] = json!(message);
    let (got, err) = gw.chat(no_conversation).await;
    assert_eq!((got.as_u16(), code(&err)), (422, "validation_failed"));
    retry["retry_message_id"] = json!("01a1fdaf-0000-7000-8000-000000000000");
    let (got, err) = gw.chat(retry).await;
    assert_eq!((got.as_u16(), code(&err)), (422, "validation_failed"));
}

/// A loopback listener that completes no more connections: its accept queue
/// (backlog 0) holds one connection that is never accepted, and the kernel
/// drops every later SYN, so connecting hangs until the client gives up.
/// Linux only: the queue is read from `/proc/net/tcp`.
async fn black_hole() -> (String, tokio::net::TcpListener, tokio::net::TcpStream) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let filler = tokio::net::TcpStream::connect(addr).await.unwrap();
    // Wait until the kernel has queued that connection: from then on the
    // queue is full (a condition, not a timer).
    let local = format!("0100007F:{:04X}", addr.port());
    crate::support::eventually(|| {
        let local = local.clone();
        async move {
            let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
            table.lines().find_map(|line| {
                let f: Vec<_> = line.split_whitespace().collect();
                let queued = f.get(4)?.split(':').nth(1)?;
                (f.get(1) == Some(&local.as_str())
                    && f.get(3) == Some(&"0A")
                    && u32::from_str_radix(queued, 16).ok()? >= 1)
                    .then_some(())
            })
        }
    })
    .await;
    (format!("http://{addr}"), listener, filler)
}

#[tokio::test]
async fn an_upstream_that_accepts_no_connection_fails_at_the_connect_timeout() {
    let (url, _listener, _filler) = black_hole().await;
    // Only the connect timeout (1 s) can end this call within the test's
    // bound: the whole-call limit is an hour, and without a connect timeout
    // the kernel keeps retrying the dropped SYN for 30 s or more (seen: a
    // gateway built without it answered after 30 s and this test failed).
    // The bound is a wait for something that must happen, 15 times the
    // configured timeout, not a measure of speed.
    let gw = Gateway::with(
        Upstream::Dify(FakeOptions::default()),
        &[
            ("DIFY_BASE_URL", url.as_str()),
            ("CHAT_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_SECS", "1"),
            ("CHAT_GATEWAY_UPSTREAM_TIMEOUT_SECS", "3600"),
        ],
    )
    .await;
    let answer = tokio::time::timeout(std::time::Duration::from_secs(15), gw.chat(msg()))
        .await
        .expect("CHAT_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_SECS did not end the call");
    let (status, body) = answer;
    assert_eq!(
        (status.as_u16(), code(&body)),
        (502, "upstream_timeout"),
        "{body}"
    );
    assert_kept_as_failed(&gw).await;
}

#[tokio::test]
async fn a_question_the_store_refuses_gets_an_error_and_no_answer() {
    let gw = Gateway::start().await;
    // The database refuses this one message, as a full disk or a broken
    // file would: a blocking turn that starts a conversation asks its
    // upstream while the question is stored, and must not answer then.
    let path = gw.database_url.trim_start_matches("sqlite://");
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_question BEFORE INSERT ON messages
             WHEN NEW.content = 'Keep this off the record'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let refused =
        json!({"system_id": "drillquiz", "user_id": "f1", "message": "Keep this off the record"});
    let (got, body) = gw.chat(refused).await;
    assert_eq!((got.as_u16(), code(&body)), (500, "internal"), "{body}");
    assert!(body.get("answer").is_none(), "{body}");
    assert!(
        gw.conversations("drillquiz", "f1").await.is_empty(),
        "nothing of the refused turn is stored"
    );

    // The next question is stored and answered as usual.
    let (got, body) = gw.chat(msg()).await;
    assert_eq!(got.as_u16(), 200, "{body}");
    let conversation = body["conversation_id"].as_str().unwrap();
    let stored = gw.messages("drillquiz", "f1", conversation).await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[1].content, body["answer"].as_str().unwrap());

    // Continuing it, the refused question gets the same error and leaves
    // the conversation as it was.
    let refused = json!({
        "system_id": "drillquiz", "user_id": "f1",
        "message": "Keep this off the record", "conversation_id": conversation,
    });
    let (got, body) = gw.chat(refused).await;
    assert_eq!((got.as_u16(), code(&body)), (500, "internal"), "{body}");
    assert!(body.get("answer").is_none(), "{body}");
    assert_eq!(gw.messages("drillquiz", "f1", conversation).await, stored);
}
