//! Black-box tests of the gateway's HTTP API: a real gateway on a free port,
//! a real SQLite file, and a fake Dify speaking Dify's wire protocol.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod auth;
mod budgets;
mod chat;
mod chat_token;
mod connections;
mod console;
mod errors;
mod faults;
mod feedback;
mod front;
mod history;
mod idempotency;
mod limits;
mod openai;
mod openapi;
mod resume;
mod scheduled_sync;
mod shared_upstream;
mod stored_text;
mod streaming;
mod support;
mod tokens;
mod ws;
mod ws_lifecycle;
mod ws_revocation;
