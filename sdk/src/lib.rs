//! # tz-chat SDK
//!
//! Everything a Rust program needs to work with the tz-chat gateway: send
//! your users to its chat page, and call its API from your server with typed
//! requests, replies and errors.
//!
//! ## Quick start: an "open chat" link for your users
//!
//! Your backend and the gateway share a secret (the gateway's
//! `CHAT_GATEWAY_JWT_SECRET`). Build [`ChatLinks`] once; for each logged-in
//! user it mints a short-lived token (one hour) and gives you the chat URL,
//! for a link, a redirect or an iframe:
//!
//! ```
//! use tz_chat_sdk::ChatLinks;
//! use tz_chat_sdk::jwt::JwtSecret;
//!
//! # fn secret() -> String { "a-long-random-secret-shared-with-the-gateway".into() }
//! // At start-up:
//! let links = ChatLinks::new("https://chat.example.com", JwtSecret::new(secret()))?;
//!
//! // For each user who clicks "open chat":
//! let url = links.url_for("cointutor", "42")?;
//! assert!(url.starts_with("https://chat.example.com/chat?token="));
//! # Ok::<(), tz_chat_sdk::LinkError>(())
//! ```
//!
//! In an axum app, the `axum` feature does the rest: [`axum::ChatRoutes`]
//! serves the chat widget (built into this crate) and its token endpoint
//! for your signed-in user, as one `Router` to merge.
//!
//! ## Quick start: calling the gateway from your server
//!
//! A [`Client`] built with an API key (`CHAT_GATEWAY_API_KEY`) acts for your
//! users; [`Client::user`] names the one a call is about:
//!
//! ```no_run
//! # #[cfg(feature = "client")]
//! # async fn run() -> Result<(), tz_chat_sdk::Error> {
//! use tz_chat_sdk::{ChatRequest, Client, StreamEvent};
//!
//! let client = Client::with_api_key("http://127.0.0.1:8088", "my-api-key")?;
//! let user = client.user("cointutor", "42");
//!
//! // One message, the whole answer.
//! let reply = user.chat(ChatRequest::new("What is a stop-loss order?")).await?;
//! println!("{}", reply.answer);
//!
//! // The next message in the same conversation, streamed as it is written.
//! let next = ChatRequest::new("Give an example").in_conversation(&reply.conversation_id);
//! let mut stream = user.chat_stream(next).await?;
//! while let Some(event) = stream.next_event().await {
//!     if let StreamEvent::Delta { text } = event? {
//!         print!("{text}");
//!     }
//! }
//!
//! // The user's history.
//! for conversation in user.conversations().await? {
//!     let messages = user.messages(&conversation.id).await?;
//!     println!("{}: {} messages", conversation.name, messages.len());
//! }
//! # Ok(()) }
//! ```
//!
//! Failures are one [`Error`] enum: [`Error::Http`] (the network),
//! [`Error::Api`] (the gateway refused, with its [`ErrorCode`]),
//! [`Error::Decode`] (an answer that is not what the API promises; the raw
//! body is kept), [`Error::Stream`] (a streamed reply broke off) and
//! [`Error::Jwt`] (a chat token could not be minted).
//!
//! ## What is where
//!
//! | you want to… | use |
//! |---|---|
//! | add the chat widget to an axum site | `axum::ChatRoutes` (feature `axum`) |
//! | answer the widget's token request (any framework) | [`ChatLinks::token_response`] |
//! | send a user to the chat page | [`ChatLinks::url_for`] |
//! | check a chat token your backend received | [`ChatLinks::verify`] |
//! | call the API as a server (API key) | [`Client::with_api_key`], [`Client::user`] |
//! | call the API as an end user (chat token) | [`Client::with_bearer_token`], [`Client::me`] |
//! | read every user's history (operators) | [`Client::cache`] |
//! | lower-level token work (custom claims) | [`jwt`] |
//! | decode `text/event-stream` yourself | [`sse`] |
//! | the JSON shapes of the API | [`ChatRequest`], [`StreamEvent`], [`Conversation`], [`ErrorBody`], … |
//!
//! ## Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `jwt` | yes | [`ChatLinks`] and [`jwt`]: minting and verifying chat tokens (no HTTP client) |
//! | `client` | yes | [`Client`], the typed HTTP client (pulls in `reqwest`) |
//! | `axum` | no | `axum::ChatRoutes`: the widget's files and token endpoint as an axum `Router` (implies `jwt`) |
//!
//! A backend that only mints links needs no HTTP client:
//! `tz-chat-sdk = { version = "0.1", default-features = false, features = ["jwt"] }`. With no
//! features at all only the wire types, the language table, the URL builder
//! and the SSE decoder remain: that build is what the widget uses on
//! `wasm32-unknown-unknown`.
#![deny(missing_docs)]

mod chat_url;
mod error_code;
pub mod lang;
pub mod sse;
mod types;

#[cfg(feature = "jwt")]
mod chat_links;
#[cfg(feature = "jwt")]
pub mod identity;
#[cfg(feature = "jwt")]
pub mod jwt;

#[cfg(feature = "axum")]
pub mod axum;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "ws")]
pub mod ws;

pub use chat_url::{ChatUrlOptions, chat_url};
pub use error_code::{ApiError, ErrorBody, ErrorCode};
pub use lang::{Lang, SharedTexts, UiTexts};
pub use types::{
    AgentInfo, AgentList, ChatRequest, ChatResponse, ChatTokenResponse, ClientFrame, Conversation,
    Feedback, FeedbackRequest, FeedbackResponse, HealthResponse, Message, MessageStatus, Rating,
    RenameRequest, Role, ServerFrame, StreamEvent, SyncResponse, Usage,
};

#[cfg(feature = "jwt")]
pub use chat_links::{ChatLinks, ChatLinksBuilder, LinkError};

/// The widget README's Rust snippet (a token endpoint) compiles.
#[cfg(all(doctest, feature = "jwt"))]
#[doc = include_str!("../../widget/README.md")]
struct WidgetReadme;

#[cfg(feature = "client")]
pub use client::{
    ApiKey, BearerToken, CacheClient, CacheQuery, ChatStream, Client, ClientBuilder, DateBound,
    Error, MessagesQuery, Page, StreamError, UserClient,
};
/// The HTTP client library the [`Client`] is built on, for
/// [`ClientBuilder::http_client`] (same version, so the types match).
#[cfg(feature = "client")]
pub use reqwest;
