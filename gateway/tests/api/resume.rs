//! Resumable streams: the ids of `POST /v1/chat`'s events, and reattaching
//! to an answer with `GET /v1/conversations/{c}/messages/{m}/stream` — on
//! the replica generating it (SQLite), on another replica (two gateways on
//! one PostgreSQL), after its end, and what is refused.

use futures::StreamExt;
use reqwest::StatusCode;
use sdk::sse::SseDecoder;
use sdk::{MessageStatus, Role, StreamEvent};
use serde_json::json;
use testkit::fake_dify::{FakeAnswer, FakeOptions, Gate};
use testkit::postgres::ThrowawayPostgres;
use testkit::{Database, TestGateway, Upstream as TestUpstream};

use crate::support::{API_KEY, Gateway, Upstream, code, eventually, json_of};

const OWNER: &str = "system_id=drillquiz&user_id=u1";

/// What a slow upstream streams: `w0 w1 … w{count-1} `.
fn words(count: usize) -> String {
    (0..count).map(|i| format!("w{i} ")).collect()
}

/// An answer of 40 words held after the 4th until the gate opens.
fn held() -> (FakeOptions, Gate) {
    let gate = Gate::after(4);
    let options = FakeOptions {
        answer: FakeAnswer::Words {
            count: 40,
            delay: std::time::Duration::ZERO,
        },
        gate: Some(gate.clone()),
        ..Default::default()
    };
    (options, gate)
}

/// A streamed response read event by event: each with its SSE `id`.
struct Events {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    decoder: SseDecoder,
}

impl Events {
    fn of(resp: reqwest::Response) -> Self {
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Self {
            body: resp.bytes_stream().boxed(),
            decoder: SseDecoder::new(),
        }
    }

    /// The next event and its id; `None` at the end of the body.
    async fn next(&mut self) -> Option<(String, StreamEvent)> {
        loop {
            if let Some(record) = self.decoder.next_event().unwrap() {
                let event: StreamEvent = serde_json::from_str(&record.data).unwrap();
                assert_eq!(record.event.as_deref(), Some(event.name()));
                let id = record
                    .id
                    .unwrap_or_else(|| panic!("no id: {}", record.data));
                return Some((id, event));
            }
            match self.body.next().await {
                Some(chunk) => self.decoder.push(&chunk.unwrap()),
                None => return None,
            }
        }
    }

    /// Every event until the end of the body.
    async fn rest(mut self) -> Vec<(String, StreamEvent)> {
        let mut all = Vec::new();
        while let Some(e) = self.next().await {
            all.push(e);
        }
        all
    }
}

/// The text of a list of events, as a client puts it together.
fn text_of<'a>(mut text: String, events: impl IntoIterator<Item = &'a StreamEvent>) -> String {
    for ev in events {
        match ev {
            StreamEvent::Delta { text: t } => text.push_str(t),
            StreamEvent::Replace { text: t } => text.clone_from(t),
            _ => {}
        }
    }
    text
}

/// `(message id, n, offset)` of an event id.
fn parts(id: &str) -> (String, u64, usize) {
    let mut it = id.rsplitn(3, ':');
    let offset = it.next().unwrap().parse().unwrap();
    let n = it.next().unwrap().parse().unwrap();
    (it.next().unwrap().to_owned(), n, offset)
}

async fn open(base: &str, message: &str) -> Events {
    let resp = reqwest::Client::new()
        .post(format!("{base}/v1/chat"))
        .header("X-API-Key", API_KEY)
        .json(
            &json!({"system_id": "drillquiz", "user_id": "u1", "message": message, "stream": true}),
        )
        .send()
        .await
        .unwrap();
    Events::of(resp)
}

/// `GET …/stream` with `Last-Event-ID: last` (unless `None`).
async fn reattach(
    base: &str,
    conversation: &str,
    message: &str,
    last: Option<&str>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .get(format!(
            "{base}/v1/conversations/{conversation}/messages/{message}/stream?{OWNER}"
        ))
        .header("X-API-Key", API_KEY);
    if let Some(last) = last {
        req = req.header("Last-Event-ID", last);
    }
    req.send().await.unwrap()
}

/// Read the start and the first four words of a held answer; the start's
/// ids and the last event id.
async fn first_words(events: &mut Events) -> (String, String, String) {
    let (_, start) = events.next().await.unwrap();
    let StreamEvent::Start {
        conversation_id,
        message_id,
        ..
    } = start
    else {
        panic!("not a start: {start:?}");
    };
    let mut text = String::new();
    let mut last = String::new();
    while text != words(4) {
        let (id, ev) = events.next().await.unwrap();
        text = text_of(text, [&ev]);
        last = id;
    }
    (conversation_id, message_id, last)
}

#[tokio::test]
async fn the_ids_of_a_stream_grow_and_count_the_answer_bytes() {
    let gw = Gateway::start().await;
    let events = open(&gw.url, "안녕 하세요 😀 again").await.rest().await;
    let StreamEvent::Start { message_id, .. } = &events[0].1 else {
        panic!("{events:?}");
    };
    let mut text = String::new();
    let mut previous: Option<u64> = None;
    for (id, ev) in &events {
        text = text_of(text, [ev]);
        let (message, n, offset) = parts(id);
        assert_eq!(&message, message_id, "{id}");
        assert!(
            previous.is_none_or(|p| n > p),
            "ids grow: {id} after {previous:?}"
        );
        previous = Some(n);
        assert_eq!(offset, text.len(), "{id} after {ev:?}");
    }
    assert_eq!(text, "Echo: 안녕 하세요 😀 again");
    assert!(matches!(events.last(), Some((_, StreamEvent::End { .. }))));
}

#[tokio::test]
async fn a_client_that_left_reattaches_to_the_answer_in_progress() {
    let (options, gate) = held();
    let gw = Gateway::with(
        Upstream::Dify(options),
        &[("CHAT_GATEWAY_RESUME_GRACE_SECS", "60")],
    )
    .await;
    let mut first = open(&gw.url, "tell me a story").await;
    let (conversation, message, last) = first_words(&mut first).await;
    drop(first); // the connection is lost

    let mut again = Events::of(reattach(&gw.url, &conversation, &message, Some(&last)).await);
    gate.open();
    let mut rest = Vec::new();
    while let Some(e) = again.next().await {
        rest.push(e);
    }
    let whole = text_of(words(4), rest.iter().map(|(_, e)| e));
    assert_eq!(whole, words(40), "the rest, once");
    let (_, n_last, _) = parts(&last);
    let mut previous = n_last;
    for (id, _) in &rest {
        let (_, n, _) = parts(id);
        assert!(n > previous, "ids go on growing: {id}");
        previous = n;
    }
    let Some((_, StreamEvent::End { message_id, .. })) = rest.last() else {
        panic!("no end: {rest:?}");
    };
    assert_eq!(message_id, &message);

    // The answer was not cut when its client left: it is stored whole.
    let stored = gw.messages("drillquiz", "u1", &conversation).await;
    assert_eq!(
        (stored[1].role, stored[1].status, stored[1].content.as_str()),
        (Role::Assistant, MessageStatus::Complete, words(40).as_str())
    );
}

#[tokio::test]
async fn a_finished_answer_gives_the_rest_and_its_end_at_once() {
    let gw = Gateway::start().await;
    let events = open(&gw.url, "one two three four").await.rest().await;
    let StreamEvent::Start {
        conversation_id,
        message_id,
        ..
    } = &events[0].1
    else {
        panic!("{events:?}");
    };
    // Reattach from the second delta: the text after it, then the end.
    let (id, _) = &events[2];
    let seen = text_of(String::new(), events[..3].iter().map(|(_, e)| e));
    let rest = Events::of(reattach(&gw.url, conversation_id, message_id, Some(id)).await)
        .rest()
        .await;
    assert_eq!(rest.len(), 2, "{rest:?}");
    assert_eq!(
        text_of(seen, rest.iter().map(|(_, e)| e)),
        "Echo: one two three four"
    );
    assert!(matches!(rest[1].1, StreamEvent::End { .. }));

    // Without an id, from the start; the id may come in the query instead.
    let all = Events::of(reattach(&gw.url, conversation_id, message_id, None).await)
        .rest()
        .await;
    assert_eq!(
        text_of(String::new(), all.iter().map(|(_, e)| e)),
        "Echo: one two three four"
    );
    let (_, _, end_offset) = parts(&events.last().unwrap().0);
    let last = format!("{message_id}:9:{end_offset}");
    let resp = gw
        .get(&format!(
            "/v1/conversations/{conversation_id}/messages/{message_id}/stream?{OWNER}&last_event_id={last}"
        ))
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let tail = Events::of(resp).rest().await;
    assert_eq!(tail.len(), 1, "nothing left but the end: {tail:?}");
    assert_eq!(parts(&tail[0].0).1, 10, "ids go on from the client's");
}

#[tokio::test]
async fn someone_elses_answer_is_not_found_and_bad_ids_are_refused() {
    let gw = Gateway::start().await;
    let events = open(&gw.url, "hello there").await.rest().await;
    let StreamEvent::Start {
        conversation_id,
        message_id,
        user_message_id,
    } = &events[0].1
    else {
        panic!("{events:?}");
    };

    // Another user of the same system, with their own chat token.
    let token = gw.token("drillquiz", "u2");
    let resp = gw
        .get(&format!(
            "/v1/conversations/{conversation_id}/messages/{message_id}/stream"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "not_found");
    let resp = reattach(
        &gw.url,
        conversation_id,
        &uuid::Uuid::now_v7().to_string(),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let end_offset = parts(&events.last().unwrap().0).2;
    for (message, last) in [
        // A question is not an answer.
        (user_message_id.as_str(), None),
        // Past the end of the answer.
        (
            message_id.as_str(),
            Some(format!("{message_id}:3:{}", end_offset + 1)),
        ),
        // Inside a character? The answer is ASCII here: not a number at all.
        (message_id.as_str(), Some(format!("{message_id}:x:1"))),
        (message_id.as_str(), Some("garbage".to_owned())),
        // The id of another message.
        (message_id.as_str(), Some(format!("{user_message_id}:1:0"))),
    ] {
        let resp = reattach(&gw.url, conversation_id, message, last.as_deref()).await;
        let (status, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{last:?}: {body}");
        assert_eq!(code(&body), "validation_failed", "{last:?}");
    }
}

#[tokio::test]
async fn an_offset_inside_a_character_is_refused() {
    let gw = Gateway::start().await;
    let events = open(&gw.url, "안녕").await.rest().await;
    let StreamEvent::Start {
        conversation_id,
        message_id,
        ..
    } = &events[0].1
    else {
        panic!("{events:?}");
    };
    // "Echo: " is 6 bytes; the 7th is inside "안".
    let last = format!("{message_id}:1:7");
    let resp = reattach(&gw.url, conversation_id, message_id, Some(&last)).await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reattaches_on_another_replica() {
    let postgres = ThrowawayPostgres::start().await.unwrap();
    let (options, gate) = held();
    let replica = |upstream: TestUpstream| {
        TestGateway::builder()
            .upstream(upstream)
            .api_key(API_KEY)
            .database(Database::Url(postgres.url()))
            .env("CHAT_GATEWAY_RESUME_GRACE_SECS", "60")
            .start()
    };
    let a = replica(TestUpstream::Dify(options)).await.unwrap();
    let b = replica(TestUpstream::Demo).await.unwrap();

    let mut first = open(a.url(), "tell me a story").await;
    let (conversation, message, last) = first_words(&mut first).await;
    drop(first);

    // B has never seen this turn: it follows A's partials in the database.
    let mut again = Events::of(reattach(b.url(), &conversation, &message, Some(&last)).await);
    gate.open();
    let mut rest = Vec::new();
    while let Some(e) = again.next().await {
        rest.push(e);
    }
    let whole = text_of(words(4), rest.iter().map(|(_, e)| e));
    assert_eq!(whole, words(40), "the rest, once: {rest:?}");
    let Some((_, StreamEvent::End { message_id, .. })) = rest.last() else {
        panic!("no end: {rest:?}");
    };
    assert_eq!(message_id, &message);

    // Another user of the system is refused there too.
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/v1/conversations/{conversation}/messages/{message}/stream",
            b.url()
        ))
        .bearer_auth(b.token("drillquiz", "u2"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stop_cuts_an_answer_at_once_even_with_a_grace() {
    let (options, gate) = held();
    let gw = Gateway::with(
        Upstream::Dify(options),
        &[("CHAT_GATEWAY_RESUME_GRACE_SECS", "60")],
    )
    .await;
    let mut first = open(&gw.url, "tell me a story").await;
    let (conversation, message, _) = first_words(&mut first).await;
    let path = format!("/v1/conversations/{conversation}/messages/{message}/stream");

    // Someone else cannot stop it.
    let resp = gw
        .http
        .delete(format!("{}{path}", gw.url))
        .bearer_auth(gw.token("drillquiz", "u2"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let stop = || {
        gw.http
            .delete(format!("{}{path}?{OWNER}", gw.url))
            .header("X-API-Key", API_KEY)
            .send()
    };
    assert_eq!(stop().await.unwrap().status(), StatusCode::NO_CONTENT);
    // The client still reading is told, and what arrived is stored.
    let rest = first.rest().await;
    assert!(
        matches!(
            rest.last(),
            Some((
                _,
                StreamEvent::Error {
                    code: sdk::ErrorCode::Stopped,
                    ..
                }
            ))
        ),
        "{rest:?}"
    );
    let stored = gw.messages("drillquiz", "u1", &conversation).await;
    assert_eq!(
        (stored[1].status, stored[1].content.as_str()),
        (MessageStatus::Incomplete, words(4).as_str())
    );
    // The upstream is asked to stop.
    eventually(|| async { (!gw.fake.stopped_tasks().is_empty()).then_some(()) }).await;
    gate.open();
    // A stored answer has nothing left to stop.
    assert_eq!(stop().await.unwrap().status(), StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_that_stops_moving_ends_as_interrupted() {
    use gateway::store::LiveStore;
    use gateway::store::live::PartialAnswer;

    let postgres = ThrowawayPostgres::start().await.unwrap();
    let gw = TestGateway::builder()
        .upstream(TestUpstream::Demo)
        .api_key(API_KEY)
        .database(Database::Url(postgres.url()))
        .start()
        .await
        .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat", gw.url()))
        .header("X-API-Key", API_KEY)
        .json(&json!({"system_id": "drillquiz", "user_id": "u1", "message": "hello"}))
        .send()
        .await
        .unwrap();
    let (status, turn) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    let conversation = turn["conversation_id"].as_str().unwrap();

    // What a replica killed mid-answer leaves: a partial nobody writes to.
    let other = gateway::store::postgres::PgStore::open(&postgres.url())
        .await
        .unwrap();
    let message = uuid::Uuid::now_v7().to_string();
    other
        .save_partial(&PartialAnswer {
            conversation_id: conversation,
            message_id: &message,
            user_message_id: turn["user_message_id"].as_str().unwrap(),
            content: "half an ans",
            at: time::OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();

    let events = Events::of(reattach(gw.url(), conversation, &message, None).await)
        .rest()
        .await;
    let kinds: Vec<&StreamEvent> = events.iter().map(|(_, e)| e).collect();
    assert_eq!(
        kinds[0],
        &StreamEvent::Delta {
            text: "half an ans".into()
        }
    );
    assert!(
        matches!(
            kinds[1..],
            [StreamEvent::Error {
                code: sdk::ErrorCode::ShuttingDown,
                status: 503,
                ..
            }]
        ),
        "the follower gives up with an interruption: {kinds:?}"
    );
}
