//! Reading whatever a webhook answers as [`ReplyEvent`]s.
//!
//! The form is decided once, from the content type and the first line:
//! - `text/event-stream`, or a first line starting `data:`/`event:`: the
//!   replaced chat service's SSE, `data: {"type":…,"data":{…}}` — `message`
//!   appends `data.content`, `done` ends, `error` fails, `status` is progress
//!   and never part of the answer;
//! - a first line that is a JSON object whose `type` is `begin`, `item`,
//!   `end` or `error`: n8n streaming (JSON lines). Several `begin … end` runs
//!   may come; only the end of the body ends the answer, and a body ending
//!   inside a run was cut. `content` is text, or an object with
//!   `text_chunk`; a line that is not JSON is text (as n8n's client reads it);
//! - anything else: a whole answer, read to the end — a JSON object
//!   (`output`, `text`, `answer`, `message` or `response`), an array of them
//!   (the first with an answer), a JSON string, or plain text. An HTML page
//!   or an empty body is not an answer.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;
use sdk::sse::{SseDecoder, SseEvent};
use serde_json::Value;

use crate::upstream::http::{body_snippet, looks_like_html};
use crate::upstream::{ReplyEvent, ReplyStream, UpstreamError};

/// The keys an answer may be under, in the order they are tried.
const ANSWER_KEYS: [&str; 5] = ["output", "text", "answer", "message", "response"];

/// Wrap a response body; `sse` when its content type says so. `idle` is
/// the longest silence between two reads.
pub(super) fn reply_stream(
    body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    sse: bool,
    idle: Duration,
) -> ReplyStream {
    let reader = Reader {
        body,
        form: sse.then(|| Form::Sse(SseDecoder::new())),
        buf: BytesMut::new(),
        pending: VecDeque::new(),
        open_runs: 0,
        done: false,
        idle,
    };
    Box::pin(futures::stream::unfold(reader, |mut r| async move {
        let item = r.next_item().await?;
        Some((item, r))
    }))
}

enum Form {
    Sse(SseDecoder),
    Lines,
    Whole,
}

struct Reader {
    body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    /// `None` until the first line has been seen.
    form: Option<Form>,
    /// Bytes not yet parsed (lines and whole bodies).
    buf: BytesMut,
    pending: VecDeque<Result<ReplyEvent, UpstreamError>>,
    /// n8n runs begun and not yet ended.
    open_runs: usize,
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
            match tokio::time::timeout(self.idle, self.body.next()).await {
                Err(_) => self.fail(UpstreamError::Timeout(self.idle)),
                Ok(Some(Ok(bytes))) => self.push(&bytes),
                // A reset or a close without the chunked terminator.
                Ok(Some(Err(_))) => self.fail(UpstreamError::StreamCut),
                Ok(None) => self.end_of_body(),
            }
        }
    }

    fn fail(&mut self, err: UpstreamError) {
        self.pending.push_back(Err(err));
        self.done = true;
    }

    fn push(&mut self, bytes: &[u8]) {
        if let Some(Form::Sse(decoder)) = &mut self.form {
            decoder.push(bytes);
            self.drain_sse(false);
            return;
        }
        self.buf.extend_from_slice(bytes);
        if self.form.is_none() {
            self.decide(false);
        }
        if matches!(self.form, Some(Form::Lines)) {
            self.drain_lines();
        }
    }

    /// Choose the form from the first non-blank line, once it is complete
    /// (or the body has ended).
    fn decide(&mut self, at_eof: bool) {
        let start = self
            .buf
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(self.buf.len());
        let decision = {
            let rest = &self.buf[start..];
            let is_sse = |line: &[u8]| line.starts_with(b"data:") || line.starts_with(b"event:");
            match rest.iter().position(|&b| b == b'\n') {
                Some(end) if is_sse(&rest[..end]) => Some(Form::Sse(SseDecoder::new())),
                Some(end) if chunk_type(&rest[..end]).is_some() => Some(Form::Lines),
                Some(_) => Some(Form::Whole),
                // SSE is recognised by its first bytes; the rest needs a
                // whole line, and a whole answer the whole body anyway.
                None if is_sse(rest) => Some(Form::Sse(SseDecoder::new())),
                None if at_eof && chunk_type(rest).is_some() => Some(Form::Lines),
                None if at_eof => Some(Form::Whole),
                None => None,
            }
        };
        if matches!(decision, Some(Form::Sse(_))) {
            self.become_sse();
        } else {
            self.form = decision;
        }
    }

    fn become_sse(&mut self) {
        let mut decoder = SseDecoder::new();
        decoder.push(&self.buf);
        self.buf.clear();
        self.form = Some(Form::Sse(decoder));
        self.drain_sse(false);
    }

    fn end_of_body(&mut self) {
        if self.form.is_none() {
            self.decide(true);
        }
        match &self.form {
            None | Some(Form::Whole) => {
                let event = whole_answer(&self.buf);
                self.buf.clear();
                match event {
                    Ok(text) => {
                        if !text.is_empty() {
                            self.pending.push_back(Ok(ReplyEvent::Delta(text)));
                        }
                        self.pending.push_back(Ok(ReplyEvent::End { usage: None }));
                        self.done = true;
                    }
                    Err(e) => self.fail(e),
                }
            }
            Some(Form::Lines) => {
                self.drain_lines();
                if self.done {
                    return;
                }
                let last = self.buf.split().freeze();
                let last = last.trim_ascii();
                if !last.is_empty() {
                    if last.starts_with(b"{") && serde_json::from_slice::<Value>(last).is_err() {
                        // A chunk cut in the middle.
                        self.fail(UpstreamError::StreamCut);
                        return;
                    }
                    self.line(last);
                    if self.done {
                        return;
                    }
                }
                if self.open_runs > 0 {
                    self.fail(UpstreamError::StreamCut);
                } else {
                    self.pending.push_back(Ok(ReplyEvent::End { usage: None }));
                    self.done = true;
                }
            }
            Some(Form::Sse(_)) => {
                self.drain_sse(true);
                if !self.done {
                    self.fail(UpstreamError::StreamCut);
                }
            }
        }
    }

    fn drain_lines(&mut self) {
        while !self.done {
            let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
                return;
            };
            let line = self.buf.split_to(end + 1).freeze();
            let line = line.trim_ascii();
            if !line.is_empty() {
                self.line(line);
            }
        }
    }

    /// One line of n8n streaming.
    fn line(&mut self, line: &[u8]) {
        let Ok(Value::Object(chunk)) = serde_json::from_slice::<Value>(line) else {
            let text = String::from_utf8_lossy(line).into_owned();
            self.pending.push_back(Ok(ReplyEvent::Delta(text)));
            return;
        };
        let content = chunk.get("content");
        match chunk.get("type").and_then(Value::as_str) {
            Some("begin") => self.open_runs += 1,
            Some("end") => self.open_runs = self.open_runs.saturating_sub(1),
            Some("item") => {
                let text = match content {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Object(o)) => o
                        .get("text_chunk")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    _ => String::new(),
                };
                if !text.is_empty() {
                    self.pending.push_back(Ok(ReplyEvent::Delta(text)));
                }
            }
            Some("error") => {
                let message = match content {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "the workflow failed".to_owned(),
                };
                self.fail(UpstreamError::StreamError {
                    status: 500,
                    code: "workflow_error".to_owned(),
                    message,
                });
            }
            // Other chunk types of later n8n versions: not part of the answer.
            _ => {}
        }
    }

    fn drain_sse(&mut self, at_eof: bool) {
        loop {
            if self.done {
                return;
            }
            let Some(Form::Sse(decoder)) = &mut self.form else {
                return;
            };
            let next = if at_eof {
                decoder.finish()
            } else {
                decoder.next_event()
            };
            match next {
                Ok(Some(event)) => self.sse_event(&event, at_eof),
                Ok(None) => return,
                Err(e) => self.fail(UpstreamError::Protocol(e.to_string())),
            }
        }
    }

    /// One event of the replaced chat service's SSE.
    fn sse_event(&mut self, event: &SseEvent, at_eof: bool) {
        let data = event.data.trim();
        if data.is_empty() || event.event.as_deref() == Some("ping") {
            return;
        }
        if data == "[DONE]" {
            self.pending.push_back(Ok(ReplyEvent::End { usage: None }));
            self.done = true;
            return;
        }
        let record: Value = match serde_json::from_str(data) {
            Ok(record) => record,
            Err(_) if at_eof => return self.fail(UpstreamError::StreamCut),
            Err(e) => {
                return self.fail(UpstreamError::Protocol(format!(
                    "event data is not JSON ({e}): {}",
                    body_snippet(data.as_bytes())
                )));
            }
        };
        let payload = record.get("data");
        let field = |name: &str| {
            payload
                .and_then(|d| d.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match record.get("type").and_then(Value::as_str) {
            Some("message") => {
                if let Some(text) = field("content").filter(|t| !t.is_empty()) {
                    self.pending.push_back(Ok(ReplyEvent::Delta(text)));
                }
            }
            Some("done") => {
                self.pending.push_back(Ok(ReplyEvent::End { usage: None }));
                self.done = true;
            }
            Some("error") => self.fail(UpstreamError::StreamError {
                status: 500,
                code: "workflow_error".to_owned(),
                message: field("message")
                    .or_else(|| field("description"))
                    .unwrap_or_else(|| "the workflow failed".to_owned()),
            }),
            Some("status") => {
                if let Some(description) = field("description") {
                    tracing::debug!(%description, "n8n status");
                }
            }
            _ => {}
        }
    }
}

/// The `type` of an n8n streaming chunk, when `line` is one.
fn chunk_type(line: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(line.trim_ascii()).ok()?;
    let kind = value.get("type")?.as_str()?;
    matches!(kind, "begin" | "item" | "end" | "error").then(|| kind.to_owned())
}

/// The answer in a whole (not streamed) body.
fn whole_answer(body: &[u8]) -> Result<String, UpstreamError> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Err(UpstreamError::Protocol(
            "the webhook answered with an empty body (does the workflow respond with data?)"
                .to_owned(),
        ));
    }
    if looks_like_html(trimmed) {
        return Err(UpstreamError::Protocol(format!(
            "the webhook answered with an HTML page: {}",
            body_snippet(trimmed)
        )));
    }
    let Ok(value) = serde_json::from_slice::<Value>(trimmed) else {
        return Ok(String::from_utf8_lossy(trimmed).into_owned());
    };
    let found = match &value {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => answer_in(&value),
        Value::Array(items) => items.iter().find_map(answer_in),
        _ => None,
    };
    found.ok_or_else(|| {
        UpstreamError::Protocol(format!(
            "no answer in the webhook's JSON (looked for {}): {}",
            ANSWER_KEYS.join(", "),
            body_snippet(trimmed)
        ))
    })
}

fn answer_in(item: &Value) -> Option<String> {
    // `allEntries` answers wrap each item's fields in `json` on some versions.
    let item = item.get("json").unwrap_or(item);
    ANSWER_KEYS
        .iter()
        .find_map(|key| item.get(*key).and_then(Value::as_str))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests;
