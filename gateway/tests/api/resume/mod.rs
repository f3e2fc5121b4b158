//! Resumable streams: the ids of `POST /v1/chat`'s events, and reattaching
//! to an answer with `GET /v1/conversations/{c}/messages/{m}/stream` — on
//! the replica generating it (`one_replica`, SQLite), on another replica
//! (`replicas`, two gateways on one PostgreSQL), after its end, and what is
//! refused. This file holds what they share: reading a stream's events and
//! the requests that open and reattach to one.

mod one_replica;
mod replicas;

use futures::StreamExt;
use reqwest::StatusCode;
use sdk::StreamEvent;
use sdk::sse::SseDecoder;
use serde_json::json;
use testkit::fake_dify::{FakeAnswer, FakeOptions, Gate};

use crate::support::API_KEY;
pub(super) use crate::support::text_of;

pub(super) const OWNER: &str = "system_id=drillquiz&user_id=u1";

/// What a slow upstream streams: `w0 w1 … w{count-1} `.
pub(super) fn words(count: usize) -> String {
    (0..count).map(|i| format!("w{i} ")).collect()
}

/// An answer of 40 words held after the 4th until the gate opens.
pub(super) fn held() -> (FakeOptions, Gate) {
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
pub(super) struct Events {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    decoder: SseDecoder,
}

impl Events {
    pub(super) fn of(resp: reqwest::Response) -> Self {
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
    pub(super) async fn next(&mut self) -> Option<(String, StreamEvent)> {
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
    pub(super) async fn rest(mut self) -> Vec<(String, StreamEvent)> {
        let mut all = Vec::new();
        while let Some(e) = self.next().await {
            all.push(e);
        }
        all
    }
}

/// The ids the `start` of a stream names: (conversation, answer, question).
pub(super) fn start_of(events: &[(String, StreamEvent)]) -> (String, String, String) {
    match events.first() {
        Some((
            _,
            StreamEvent::Start {
                conversation_id,
                message_id,
                user_message_id,
            },
        )) => (
            conversation_id.clone(),
            message_id.clone(),
            user_message_id.clone(),
        ),
        other => panic!("not a start: {other:?}"),
    }
}

/// `(message id, n, offset)` of an event id.
pub(super) fn parts(id: &str) -> (String, u64, usize) {
    let mut it = id.rsplitn(3, ':');
    let offset = it.next().unwrap().parse().unwrap();
    let n = it.next().unwrap().parse().unwrap();
    (it.next().unwrap().to_owned(), n, offset)
}

pub(super) async fn open(base: &str, message: &str) -> Events {
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
pub(super) async fn reattach(
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
pub(super) async fn first_words(events: &mut Events) -> (String, String, String) {
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
