//! Turning a chat completions `text/event-stream` body into [`ReplyEvent`]s.
//!
//! Records are `data: {chunk}`; text is `choices[0].delta.content`; the last
//! choice chunk has a `finish_reason`; with `include_usage` a chunk with
//! empty `choices` and the `usage` follows; `data: [DONE]` ends the body.
//! Comment lines (`: keep-alive`), `\r\n` and `data:` without a space are
//! the SSE decoder's business. A `data: {"error":…}` record is terminal. A
//! body that ends after a `finish_reason` but without `[DONE]` is complete
//! (some servers leave it out); one that ends before is cut.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use sdk::Usage;
use sdk::sse::SseDecoder;

use super::wire::Chunk;
use crate::upstream::http::body_snippet;
use crate::upstream::{ReplyEvent, ReplyStream, UpstreamError};

/// Wrap a streamed body; `idle` is the longest silence between two reads.
pub(super) fn reply_stream(
    body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    idle: Duration,
) -> ReplyStream {
    let reader = Reader {
        body,
        decoder: SseDecoder::new(),
        pending: VecDeque::new(),
        ids_sent: false,
        finished: false,
        usage: None,
        done: false,
        idle,
    };
    Box::pin(futures::stream::unfold(reader, |mut r| async move {
        let item = r.next_item().await?;
        Some((item, r))
    }))
}

struct Reader {
    body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    decoder: SseDecoder,
    pending: VecDeque<Result<ReplyEvent, UpstreamError>>,
    ids_sent: bool,
    /// A `finish_reason` was seen.
    finished: bool,
    usage: Option<Usage>,
    done: bool,
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
                Ok(Some(event)) => {
                    self.record(&event.data, false);
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
                Ok(Some(Err(_))) => self.fail(UpstreamError::StreamCut),
                Ok(None) => self.end_of_body(),
            }
        }
    }

    fn fail(&mut self, err: UpstreamError) {
        self.pending.push_back(Err(err));
        self.done = true;
    }

    fn end(&mut self) {
        self.pending.push_back(Ok(ReplyEvent::End {
            usage: self.usage.take(),
        }));
        self.done = true;
    }

    fn end_of_body(&mut self) {
        while !self.done {
            match self.decoder.finish() {
                Ok(Some(event)) => self.record(&event.data, true),
                Ok(None) => break,
                Err(e) => self.fail(UpstreamError::Protocol(e.to_string())),
            }
        }
        if self.done {
            return;
        }
        if self.finished {
            self.end();
        } else {
            self.fail(UpstreamError::StreamCut);
        }
    }

    fn record(&mut self, data: &str, at_eof: bool) {
        let data = data.trim();
        if self.done || data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            return self.end();
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(_) if at_eof => return self.fail(UpstreamError::StreamCut),
            Err(e) => {
                return self.fail(UpstreamError::Protocol(format!(
                    "chunk is not JSON ({e}): {}",
                    body_snippet(data.as_bytes())
                )));
            }
        };
        if let Some(error) = chunk.error {
            return self.fail(UpstreamError::StreamError {
                status: 500,
                code: error.code_text().unwrap_or_else(|| "-".to_owned()),
                message: error.message.unwrap_or_default(),
            });
        }
        if !self.ids_sent && chunk.id.is_some() {
            self.ids_sent = true;
            self.pending.push_back(Ok(ReplyEvent::Ids {
                conversation_id: None,
                message_id: chunk.id,
                task_id: None,
            }));
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
        let Some(choice) = chunk.choices.and_then(|c| c.into_iter().next()) else {
            return;
        };
        if let Some(text) = choice
            .delta
            .and_then(|d| d.content)
            .filter(|t| !t.is_empty())
        {
            self.pending.push_back(Ok(ReplyEvent::Delta(text)));
        }
        if choice.finish_reason.is_some() {
            self.finished = true;
        }
    }
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
    async fn openai_stream_with_usage_and_done() {
        let got = collect(vec![
            b": keep-alive\n\n",
            b"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n",
            b"data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\r\n\r\n",
            b"data:{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n",
            b"data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
            b"data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n",
            b"data: [DONE]\n\n",
        ])
        .await;
        let got: Vec<ReplyEvent> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            got,
            vec![
                ReplyEvent::Ids {
                    conversation_id: None,
                    message_id: Some("chatcmpl-1".into()),
                    task_id: None
                },
                ReplyEvent::Delta("Hel".into()),
                ReplyEvent::Delta("lo".into()),
                ReplyEvent::End {
                    usage: Some(Usage {
                        prompt_tokens: 9,
                        completion_tokens: 2,
                        total_tokens: 11
                    })
                },
            ]
        );
    }

    #[tokio::test]
    async fn finish_without_done_is_complete_and_no_finish_is_cut() {
        let got = collect(vec![
            b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"length\"}]}\n\n",
        ])
        .await;
        assert_eq!(got.last(), Some(&Ok(ReplyEvent::End { usage: None })));
        let got = collect(vec![
            b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\n\ndata: {\"choi",
        ])
        .await;
        assert_eq!(got.last(), Some(&Err(UpstreamError::StreamCut)));
    }

    #[tokio::test]
    async fn error_record_mid_stream_is_terminal() {
        let got = collect(vec![
            b"data: {\"choices\":[{\"delta\":{\"content\":\"part\"}}]}\n\n",
            b"data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"code\":null}}\n\n",
        ])
        .await;
        assert_eq!(got[0], Ok(ReplyEvent::Delta("part".into())));
        assert_eq!(
            got[1],
            Err(UpstreamError::StreamError {
                status: 500,
                code: "-".into(),
                message: "overloaded".into()
            })
        );
        assert_eq!(got.len(), 2);
    }
}
