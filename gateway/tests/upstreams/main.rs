//! One contract for every upstream kind: the same cases run against a
//! gateway in front of a fake Dify, a fake n8n webhook (in each answer form)
//! and a fake OpenAI-compatible server, each speaking its real protocol.
//!
//! What every kind must keep: a blocking answer and a streamed one arrive
//! whole and are stored; a failing upstream gives a clear error and keeps
//! the user's message; a stream cut midway is stored as `incomplete` with
//! the part that arrived.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

mod agents;
mod contract;
mod kinds;
mod n8n;
mod openai;
