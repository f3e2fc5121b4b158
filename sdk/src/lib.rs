//! # tz-chat SDK
//!
//! Everything a Rust program needs to work with the tz-chat gateway:
//!
//! - **wire types** ([`ChatRequest`], [`StreamEvent`], [`Conversation`],
//!   [`ErrorBody`], …) shared with the gateway and the WASM widget;
//! - **chat tokens** ([`jwt`], feature `jwt`): mint and verify the short-lived
//!   JWTs that send an end user to the chat page;
//! - **chat URLs** ([`chat_url`]) for links, redirects and iframes;
//! - an **SSE decoder** ([`sse`]) for `text/event-stream` bodies.
//!
//! ## Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `jwt` | yes | [`jwt`]: minting and verifying chat tokens |
//! | `client` | yes | the typed HTTP client (reqwest) |
//!
//! With `default-features = false` only the wire types, the language table,
//! the URL builder and the SSE decoder remain: that build is what the widget
//! uses on `wasm32-unknown-unknown`.
#![deny(missing_docs)]

mod chat_url;
mod error_code;
mod lang;
pub mod sse;
mod types;

#[cfg(feature = "jwt")]
pub mod jwt;

pub use chat_url::{ChatUrlOptions, chat_url};
pub use error_code::{ApiError, ErrorBody, ErrorCode};
pub use lang::{Lang, UiTexts};
pub use types::{
    ChatRequest, ChatResponse, ChatTokenResponse, Conversation, HealthResponse, Message,
    MessageStatus, RenameRequest, Role, StreamEvent, SyncResponse, Usage,
};
