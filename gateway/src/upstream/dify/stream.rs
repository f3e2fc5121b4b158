//! Turning a Dify `text/event-stream` body into [`ReplyEvent`]s.
//!
//! Dify sends `data: {json}` records whose `event` field names the type, plus
//! bare `event: ping` keep-alives. What matters for a chat answer:
//! `message`/`agent_message` (append), `message_replace` (replace),
//! `message_end` (done, with usage) and `error` (failed). Everything else —
//! workflow and node progress, agent thoughts, TTS audio, events added in
//! later Dify versions — is skipped. A body that ends before `message_end` or
//! `error` is a cut stream; a silence longer than the idle limit is a timeout.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use sdk::sse::{SseDecoder, SseEvent};

use super::wire::StreamRecord;
use crate::upstream::{ReplyEvent, ReplyStream, UpstreamError};

/// Wrap a streamed response body. `idle` is the longest silence tolerated
/// between two reads (Dify pings every 10 s).
pub(crate) fn reply_stream(
    body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    idle: Duration,
) -> ReplyStream {
    let state = Reader {
        body,
        decoder: SseDecoder::new(),
        pending: VecDeque::new(),
        ids_sent: false,
        done: false,
        at_eof: false,
        idle,
    };
    Box::pin(futures::stream::unfold(state, |mut r| async move {
        let item = r.next_item().await?;
        Some((item, r))
    }))
}

struct Reader {
    body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    decoder: SseDecoder,
    pending: VecDeque<Result<ReplyEvent, UpstreamError>>,
    ids_sent: bool,
    /// A terminal event (or error) was queued: stop reading.
    done: bool,
    /// The body has ended; what remains in the decoder may be a cut record.
    at_eof: bool,
    idle: Duration,
}

impl Reader {
    async fn next_item(&mut self) -> Option<Result<ReplyEvent, UpstreamError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.decoder.next_event() {
                Ok(Some(ev)) => {
                    self.handle(&ev);
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    self.fail(UpstreamError::Protocol(e.to_string()));
                    continue;
                }
            }
            match tokio::time::timeout(self.idle, self.body.next()).await {
                Err(_) => self.fail(UpstreamError::Timeout(self.idle)),
                Ok(Some(Ok(bytes))) => self.decoder.push(&bytes),
                // A reset or a close without the chunked terminator: the
                // answer was cut, whatever the transport says.
                Ok(Some(Err(_))) => self.fail(UpstreamError::StreamCut),
                Ok(None) => self.end_of_body(),
            }
        }
    }

    fn end_of_body(&mut self) {
        self.at_eof = true;
        loop {
            match self.decoder.finish() {
                Ok(Some(ev)) => self.handle(&ev),
                Ok(None) => break,
                Err(e) => {
                    self.fail(UpstreamError::Protocol(e.to_string()));
                    return;
                }
            }
            if self.done {
                return;
            }
        }
        if !self.done {
            self.fail(UpstreamError::StreamCut);
        }
    }

    fn fail(&mut self, err: UpstreamError) {
        self.pending.push_back(Err(err));
        self.done = true;
    }

    fn handle(&mut self, ev: &SseEvent) {
        if self.done || ev.data.is_empty() || ev.event.as_deref() == Some("ping") {
            return;
        }
        let rec: StreamRecord = match serde_json::from_str(&ev.data) {
            Ok(rec) => rec,
            // A record cut in the middle by the end of the body.
            Err(_) if self.at_eof => {
                self.fail(UpstreamError::StreamCut);
                return;
            }
            Err(e) => {
                self.fail(UpstreamError::Protocol(format!(
                    "event data is not JSON ({e}): {}",
                    snippet(&ev.data)
                )));
                return;
            }
        };
        match rec.event.as_str() {
            "message" | "agent_message" => {
                self.send_ids(&rec);
                if let Some(text) = rec.answer.filter(|a| !a.is_empty()) {
                    self.pending.push_back(Ok(ReplyEvent::Delta(text)));
                }
            }
            "message_replace" => {
                self.send_ids(&rec);
                let text = rec.answer.unwrap_or_default();
                self.pending.push_back(Ok(ReplyEvent::Replace(text)));
            }
            "message_end" => {
                self.send_ids(&rec);
                let usage = rec.metadata.and_then(|m| m.usage).map(Into::into);
                self.pending.push_back(Ok(ReplyEvent::End { usage }));
                self.done = true;
            }
            "error" => {
                let status = rec
                    .status
                    .as_ref()
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(500);
                self.fail(UpstreamError::StreamError {
                    status,
                    code: rec.code.unwrap_or_else(|| "unknown".into()),
                    message: rec.message.unwrap_or_default(),
                });
            }
            _ => {}
        }
    }

    fn send_ids(&mut self, rec: &StreamRecord) {
        if self.ids_sent {
            return;
        }
        self.ids_sent = true;
        self.pending.push_back(Ok(ReplyEvent::Ids {
            conversation_id: rec.conversation_id.clone().filter(|s| !s.is_empty()),
            message_id: rec.message_id.clone().or_else(|| rec.id.clone()),
            task_id: rec.task_id.clone(),
        }));
    }
}

fn snippet(s: &str) -> String {
    s.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(chunks: Vec<&'static [u8]>) -> BoxStream<'static, Result<Bytes, reqwest::Error>> {
        futures::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c)))).boxed()
    }

    async fn collect(chunks: Vec<&'static [u8]>) -> Vec<Result<ReplyEvent, UpstreamError>> {
        reply_stream(body_of(chunks), Duration::from_secs(5))
            .collect()
            .await
    }

    #[tokio::test]
    async fn chat_stream_with_pings_and_unknown_events() {
        let got = collect(vec![
            b"event: ping\n\n",
            b"data: {\"event\":\"message\",\"conversation_id\":\"c1\",\"message_id\":\"m1\",\"task_id\":\"t1\",\"answer\":\"Hel\"}\n\n",
            b"data: {\"event\":\"node_retry\",\"data\":{}}\n\nevent: ping\n\n",
            b"data: {\"event\":\"message\",\"answer\":\"lo\"}\n\n",
            b"data: {\"event\":\"message_end\",\"metadata\":{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5,\"total_price\":\"0.001\"}}}\n\n",
            b"data: {\"event\":\"tts_message_end\",\"audio\":\"\"}\n\n",
        ])
        .await;
        let got: Vec<ReplyEvent> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            got,
            vec![
                ReplyEvent::Ids {
                    conversation_id: Some("c1".into()),
                    message_id: Some("m1".into()),
                    task_id: Some("t1".into())
                },
                ReplyEvent::Delta("Hel".into()),
                ReplyEvent::Delta("lo".into()),
                ReplyEvent::End {
                    usage: Some(sdk::Usage {
                        prompt_tokens: 3,
                        completion_tokens: 2,
                        total_tokens: 5
                    })
                },
            ]
        );
    }

    #[tokio::test]
    async fn mid_stream_error_event_is_terminal() {
        let got = collect(vec![
            b"data: {\"event\":\"message\",\"answer\":\"part\"}\n\n",
            b"data: {\"event\":\"error\",\"status\":400,\"code\":\"completion_request_error\",\"message\":\"Rate Limit Error\"}\n\n",
            b"data: {\"event\":\"message\",\"answer\":\"ignored\"}\n\n",
        ])
        .await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1], Ok(ReplyEvent::Delta("part".into())));
        assert_eq!(
            got[2],
            Err(UpstreamError::StreamError {
                status: 400,
                code: "completion_request_error".into(),
                message: "Rate Limit Error".into()
            })
        );
    }

    #[tokio::test]
    async fn end_of_body_without_message_end_is_a_cut() {
        let got = collect(vec![b"data: {\"event\":\"message\",\"answer\":\"par"]).await;
        assert_eq!(got.last(), Some(&Err(UpstreamError::StreamCut)));
        let got = collect(vec![b"data: {\"event\":\"message\",\"answer\":\"x\"}\n\n"]).await;
        assert_eq!(got.last(), Some(&Err(UpstreamError::StreamCut)));
    }

    #[tokio::test]
    async fn message_replace_and_bad_json() {
        let got = collect(vec![
            b"data: {\"event\":\"message\",\"answer\":\"bad words\"}\n\n",
            b"data: {\"event\":\"message_replace\",\"answer\":\"[removed]\"}\n\n",
            b"data: {not json}\n\n",
        ])
        .await;
        assert_eq!(got[2], Ok(ReplyEvent::Replace("[removed]".into())));
        assert!(matches!(got[3], Err(UpstreamError::Protocol(_))));
    }

    #[tokio::test]
    async fn silence_longer_than_idle_is_a_timeout() {
        let body = futures::stream::pending::<Result<Bytes, reqwest::Error>>().boxed();
        let got: Vec<_> = reply_stream(body, Duration::from_millis(20))
            .collect()
            .await;
        assert_eq!(
            got,
            vec![Err(UpstreamError::Timeout(Duration::from_millis(20)))]
        );
    }
}
