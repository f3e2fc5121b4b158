//! # tz-chat test kit
//!
//! What the workspace's tests and tools run against, kept out of the server
//! crate so that the shipped binary carries none of it:
//!
//! - [`fake_dify`]: a fake Dify Service API speaking the real wire protocol
//!   (also a binary: `cargo run -p testkit --bin fake-dify`);
//! - [`fake_n8n`] and [`fake_openai`]: a fake n8n webhook (every answer
//!   form real workflows use) and a fake OpenAI-compatible server;
//! - [`postgres`]: a private PostgreSQL server started from the system's
//!   `initdb`/`pg_ctl`, handing out a `DATABASE_URL`;
//! - [`test_gateway`]: one builder for a gateway served in-process on a free
//!   loopback port, in front of a fake Dify, the demo, or no upstream.
//!
//! The throwaway PostgreSQL only hands out URLs, so the gateway's own unit
//! tests can use it too: they see this crate's copy of `gateway` as a
//! different crate, and no gateway type crosses between the two.

pub mod fake_dify;
pub mod fake_n8n;
pub mod fake_openai;
mod fake_wire;
pub mod postgres;
pub mod test_gateway;

pub use test_gateway::{DIFY_URL, Database, TestGateway, TestGatewayBuilder, Upstream};
