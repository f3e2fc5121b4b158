//! What a test chooses about the fake: its answers, how it writes SSE, and
//! the faults it plays.

use std::time::Duration;

use super::Gate;

/// How the fake writes SSE bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chunking {
    /// One write per record (what Dify does).
    #[default]
    PerEvent,
    /// One byte per write.
    ByteAtATime,
    /// Writes of this many bytes, regardless of record boundaries.
    Pieces(usize),
}

/// What the fake answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FakeAnswer {
    /// `Echo: <message>`, one delta per word.
    #[default]
    Echo,
    /// `count` words, one delta each, `delay` apart (benchmarks).
    Words {
        /// Number of deltas.
        count: usize,
        /// Pause before each delta.
        delay: Duration,
    },
}

/// Behaviour of a fake.
#[derive(Debug, Clone)]
pub struct FakeOptions {
    /// The app key it accepts.
    pub api_key: String,
    /// SSE write pattern.
    pub chunking: Chunking,
    pub answer: FakeAnswer,
    /// Send a ping before the first event and after every `ping_every` deltas.
    pub ping_every: Option<usize>,
    /// Old Dify serialisation: `", "` separators and `\uXXXX` escapes.
    pub legacy_json: bool,
    /// Pause between deltas of an echo answer.
    pub echo_delay: Duration,
    /// Keep conversations and requests (off for benchmarks: then nothing
    /// accumulates, and continuing a conversation is not checked).
    pub record: bool,
    /// Hold streamed answers here until the test opens the gate.
    pub gate: Option<Gate>,
    /// Stream as an Agent app: `agent_thought` before the first delta, and
    /// `agent_message` instead of `message`.
    pub agent: bool,
    /// After the last delta, send `message_replace` with this text (output
    /// moderation); the stored upstream answer becomes this text.
    pub replace_with: Option<String>,
}

impl Default for FakeOptions {
    fn default() -> Self {
        Self {
            api_key: "app-fake".into(),
            chunking: Chunking::PerEvent,
            answer: FakeAnswer::Echo,
            ping_every: Some(3),
            legacy_json: false,
            echo_delay: Duration::ZERO,
            record: true,
            gate: None,
            agent: false,
            replace_with: None,
        }
    }
}

/// A failure for the next chat request, queued with [`FakeDify::push_fault`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and Dify's JSON error envelope.
    Status {
        status: u16,
        /// Dify's error `code`, such as `invalid_param`.
        code: String,
        message: String,
    },
    /// A 502 with an nginx HTML page.
    Html502,
    /// Stream this many deltas, then an `error` event.
    ErrorEventAfter(usize),
    /// Stream this many deltas, then close without `message_end`.
    CutAfter(usize),
    /// Answer a streaming request with a blocking JSON body.
    JsonInsteadOfStream,
    /// Never answer.
    Hang,
}
