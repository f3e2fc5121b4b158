//! An incremental decoder for `text/event-stream` (server-sent events).
//!
//! Bytes go in as they arrive from the network, in pieces of any size; whole
//! events come out. The decoder follows the WHATWG parsing rules and is
//! tolerant of what real servers send: `\n`, `\r\n` or `\r` line ends (also
//! split across reads), `data:` with or without the space, comment lines,
//! multi-line `data`, `id:`/`retry:` lines and a last event without the final
//! blank line (see [`SseDecoder::finish`]). Text is decoded after a line is
//! complete, so a multi-byte UTF-8 character split across reads is fine.
//!
//! Unlike the browser's `EventSource`, an event that has an `event:` name but
//! no `data:` line (Dify's `event: ping`) is still reported, with empty data.

use std::collections::VecDeque;

/// One decoded server-sent event.
///
/// ```
/// let mut d = tz_chat_sdk::sse::SseDecoder::new();
/// d.push(b"event: delta\ndata: {\"text\":\"hi\"}\n\n");
/// let ev = d.next_event().unwrap().unwrap();
/// assert_eq!(ev.event.as_deref(), Some("delta"));
/// assert_eq!(ev.data, r#"{"text":"hi"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined by `\n` (empty when there were none).
    pub data: String,
    /// The `id:` field, if any.
    pub id: Option<String>,
}

/// Why a stream could not be decoded.
///
/// ```
/// let mut d = tz_chat_sdk::sse::SseDecoder::with_max_line(8);
/// d.push(b"data: this line is too long\n\n");
/// assert!(matches!(d.next_event(), Err(tz_chat_sdk::sse::SseError::LineTooLong { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line (or an event's data) grew past the configured limit.
    #[error("event stream line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// A line is not valid UTF-8.
    #[error("event stream line is not valid UTF-8")]
    InvalidUtf8,
}

/// Incremental SSE decoder. See the [module docs](self).
///
/// ```
/// use tz_chat_sdk::sse::SseDecoder;
///
/// let mut d = SseDecoder::new();
/// // An event split in the middle of a line, with CRLF line ends.
/// d.push(b"data: hel");
/// assert_eq!(d.next_event().unwrap(), None);
/// d.push(b"lo\r\n\r\n");
/// assert_eq!(d.next_event().unwrap().unwrap().data, "hello");
/// ```
#[derive(Debug)]
pub struct SseDecoder {
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    start: usize,
    /// Where to resume looking for a line end (avoids rescanning).
    scan: usize,
    /// The previous line ended with `\r` at the end of the input: a `\n`
    /// arriving next belongs to that line end.
    skip_lf: bool,
    max_line: usize,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    ready: VecDeque<SseEvent>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// Default limit for one line and for one event's data: 8 MiB.
    pub const DEFAULT_MAX_LINE: usize = 8 * 1024 * 1024;

    /// A decoder with the default size limit.
    ///
    /// ```
    /// let d = tz_chat_sdk::sse::SseDecoder::new();
    /// # let _ = d;
    /// ```
    pub fn new() -> Self {
        Self::with_max_line(Self::DEFAULT_MAX_LINE)
    }

    /// A decoder that rejects lines, and event data, longer than `max_line` bytes.
    ///
    /// ```
    /// let d = tz_chat_sdk::sse::SseDecoder::with_max_line(64 * 1024);
    /// # let _ = d;
    /// ```
    pub fn with_max_line(max_line: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            scan: 0,
            skip_lf: false,
            max_line,
            event: None,
            data: String::new(),
            has_data: false,
            id: None,
            ready: VecDeque::new(),
        }
    }

    /// Feed bytes as they arrive.
    ///
    /// ```
    /// let mut d = tz_chat_sdk::sse::SseDecoder::new();
    /// d.push(b": keep-alive\n\n");
    /// assert_eq!(d.next_event().unwrap(), None);
    /// ```
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.scan -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete event, or `None` when more bytes are needed.
    ///
    /// ```
    /// let mut d = tz_chat_sdk::sse::SseDecoder::new();
    /// d.push(b"data: a\n\ndata: b\n\n");
    /// assert_eq!(d.next_event().unwrap().unwrap().data, "a");
    /// assert_eq!(d.next_event().unwrap().unwrap().data, "b");
    /// assert_eq!(d.next_event().unwrap(), None);
    /// ```
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, SseError> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Ok(Some(ev));
            }
            if self.skip_lf && self.start < self.buf.len() {
                if self.buf[self.start] == b'\n' {
                    self.start += 1;
                }
                self.skip_lf = false;
                self.scan = self.scan.max(self.start);
            }
            let Some(offset) = self.buf[self.scan..]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
            else {
                self.scan = self.buf.len();
                if self.buf.len() - self.start > self.max_line {
                    return Err(SseError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                return Ok(None);
            };
            let end = self.scan + offset;
            let terminator = self.buf[end];
            let mut next = end + 1;
            if terminator == b'\r' {
                match self.buf.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            let line_start = self.start;
            self.start = next;
            self.scan = next;
            if end - line_start > self.max_line {
                return Err(SseError::LineTooLong {
                    limit: self.max_line,
                });
            }
            let line = std::str::from_utf8(&self.buf[line_start..end])
                .map_err(|_| SseError::InvalidUtf8)?
                .to_owned();
            self.process_line(&line)?;
        }
    }

    /// Signal the end of the stream: a last line without its line end, and an
    /// event without its closing blank line, are still delivered.
    ///
    /// ```
    /// let mut d = tz_chat_sdk::sse::SseDecoder::new();
    /// d.push(b"data: tail");
    /// assert_eq!(d.next_event().unwrap(), None);
    /// assert_eq!(d.finish().unwrap().unwrap().data, "tail");
    /// ```
    pub fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        if let Some(ev) = self.next_event()? {
            return Ok(Some(ev));
        }
        if self.start < self.buf.len() {
            let line = std::str::from_utf8(&self.buf[self.start..])
                .map_err(|_| SseError::InvalidUtf8)?
                .to_owned();
            self.start = self.buf.len();
            self.scan = self.start;
            self.process_line(&line)?;
        }
        self.dispatch();
        Ok(self.ready.pop_front())
    }

    fn process_line(&mut self, line: &str) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
                if self.data.len() > self.max_line {
                    return Err(SseError::LineTooLong {
                        limit: self.max_line,
                    });
                }
            }
            "id" => self.id = Some(value.to_owned()),
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self) {
        if !self.has_data && self.event.is_none() {
            self.id = None;
            return;
        }
        self.ready.push_back(SseEvent {
            event: self.event.take(),
            data: std::mem::take(&mut self.data),
            id: self.id.take(),
        });
        self.has_data = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in input.chunks(piece.max(1)) {
            d.push(chunk);
            while let Some(ev) = d.next_event().unwrap() {
                out.push(ev);
            }
        }
        while let Some(ev) = d.finish().unwrap() {
            out.push(ev);
        }
        out
    }

    const STREAM: &str = "event: ping\n\ndata: {\"event\":\"message\",\"answer\":\"안녕 😀\"}\n\n: comment\n\ndata:{\"a\":1}\r\n\r\ndata: line1\ndata: line2\nid: 7\nretry: 10\n\n";

    #[test]
    fn every_split_gives_the_same_events() {
        let whole = decode_in_pieces(STREAM.as_bytes(), STREAM.len());
        assert_eq!(whole.len(), 4, "{whole:?}");
        assert_eq!(whole[0].event.as_deref(), Some("ping"));
        assert_eq!(whole[0].data, "");
        assert_eq!(
            whole[1].data,
            "{\"event\":\"message\",\"answer\":\"안녕 😀\"}"
        );
        assert_eq!(whole[2].data, "{\"a\":1}");
        assert_eq!(whole[3].data, "line1\nline2");
        assert_eq!(whole[3].id.as_deref(), Some("7"));
        for piece in 1..STREAM.len() {
            assert_eq!(
                decode_in_pieces(STREAM.as_bytes(), piece),
                whole,
                "piece {piece}"
            );
        }
    }

    #[test]
    fn split_at_every_offset_in_two() {
        let bytes = STREAM.as_bytes();
        let whole = decode_in_pieces(bytes, bytes.len());
        for cut in 1..bytes.len() {
            let mut d = SseDecoder::new();
            let mut out = Vec::new();
            for part in [&bytes[..cut], &bytes[cut..]] {
                d.push(part);
                while let Some(ev) = d.next_event().unwrap() {
                    out.push(ev);
                }
            }
            while let Some(ev) = d.finish().unwrap() {
                out.push(ev);
            }
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn lone_cr_line_ends() {
        let got = decode_in_pieces(b"data: a\r\rdata: b\r\r", 1);
        assert_eq!(
            got.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn trailing_event_without_blank_line_is_delivered_at_eof() {
        let got = decode_in_pieces(b"data: one\n\ndata: two\n", 3);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].data, "two");
    }

    #[test]
    fn long_event_is_not_quadratic_and_is_bounded() {
        let big = "x".repeat(2 * 1024 * 1024);
        let input = format!("data: {big}\n\n");
        let got = decode_in_pieces(input.as_bytes(), 1500);
        assert_eq!(got[0].data.len(), big.len());

        let mut d = SseDecoder::with_max_line(1024);
        d.push(input.as_bytes());
        assert_eq!(d.next_event(), Err(SseError::LineTooLong { limit: 1024 }));
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let mut d = SseDecoder::new();
        d.push(b"data: \xff\xfe\n\n");
        assert_eq!(d.next_event(), Err(SseError::InvalidUtf8));
    }
}
