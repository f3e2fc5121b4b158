//! Black-box tests of the gateway's HTTP API: a real gateway on a free port,
//! a real SQLite file, and a fake Dify speaking Dify's wire protocol.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly at the first surprise"
)]

mod auth;
mod chat;
mod chat_token;
mod errors;
mod faults;
mod history;
mod openai;
mod streaming;
mod support;
mod ws;
mod ws_lifecycle;
