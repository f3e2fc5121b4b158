//! The typed HTTP client for the gateway's `/v1` API (feature `client`).
//!
//! Owns the [`Client`] and its views ([`UserClient`], [`CacheClient`]), the
//! streamed reply ([`ChatStream`]) and the client [`Error`]. Invariants: the
//! credential decides the client's type, so calls the gateway would refuse
//! for that credential cannot be written; a user view always knows whose data
//! it touches; credentials never reach `Debug` output or error messages.

mod builder;
mod cache;
mod error;
mod query;
mod stream;
mod transport;
mod user;

use std::marker::PhantomData;
use std::sync::Arc;

use reqwest::Method;

pub use self::builder::ClientBuilder;
pub use self::cache::CacheClient;
pub use self::error::{Error, StreamError};
pub use self::query::{CacheQuery, DateBound, MessagesQuery, Page};
pub use self::stream::ChatStream;
pub use self::user::UserClient;

use self::transport::Core;
use crate::{ChatTokenResponse, HealthResponse, Lang, SyncResponse};

/// A client of one gateway, built with one credential; its type says which.
///
/// - `Client<ApiKey>` (plain `Client`) is a **server** calling with
///   `X-API-Key`. Every call about a user names that user:
///   [`client.user("cointutor", "42")`](Client::user) returns a
///   [`UserClient`]. Only this kind can mint chat tokens
///   ([`chat_token`](Client::chat_token)), [`sync`](Client::sync) everyone,
///   or read the [`cache`](Client::cache).
/// - `Client<BearerToken>` is an **end user** calling with their chat token;
///   [`client.me()`](Client::me) is their [`UserClient`].
///
/// So calls the gateway would refuse for a credential (a server that forgets
/// to name the user, a user asking for everyone's history) do not compile.
/// Everything else the gateway refuses comes back as [`Error::Api`] with its
/// [`ErrorCode`](crate::ErrorCode).
///
/// Cheap to clone (one shared connection pool) and `Send + Sync`; the
/// credential never appears in `Debug` output.
///
/// ```no_run
/// # async fn run() -> Result<(), tz_chat_sdk::Error> {
/// let client = tz_chat_sdk::Client::with_api_key("http://127.0.0.1:8088", "my-api-key")?;
/// let reply = client.user("cointutor", "42").chat(tz_chat_sdk::ChatRequest::new("Hello")).await?;
/// println!("{}", reply.answer);
/// # Ok(()) }
/// ```
pub struct Client<A = ApiKey> {
    core: Arc<Core>,
    auth: PhantomData<fn() -> A>,
}

/// Marks a [`Client`] that authenticates with an API key (`X-API-Key`): a
/// server acting for its users.
#[derive(Debug)]
pub enum ApiKey {}

/// Marks a [`Client`] that authenticates with an end user's chat token
/// (`Authorization: Bearer`).
#[derive(Debug)]
pub enum BearerToken {}

impl<A> Clone for Client<A> {
    fn clone(&self) -> Self {
        Self {
            core: self.core.clone(),
            auth: PhantomData,
        }
    }
}

impl<A> std::fmt::Debug for Client<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.core.base_url())
            .field("auth", &self.core.credential_kind())
            .finish()
    }
}

impl Client {
    /// A server-to-server client with default settings (see
    /// [`Client::builder`] for time limits).
    ///
    /// ```
    /// let client = tz_chat_sdk::Client::with_api_key("http://127.0.0.1:8088", "my-api-key")?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8088");
    /// // The key never shows in debug output.
    /// assert!(!format!("{client:?}").contains("my-api-key"));
    /// # Ok::<(), tz_chat_sdk::Error>(())
    /// ```
    pub fn with_api_key(base_url: &str, api_key: impl AsRef<str>) -> Result<Self, Error> {
        ClientBuilder::new(base_url).api_key(api_key)
    }

    /// Start configuring a client; finish with
    /// [`api_key`](ClientBuilder::api_key) or
    /// [`bearer_token`](ClientBuilder::bearer_token).
    ///
    /// ```
    /// let client = tz_chat_sdk::Client::builder("http://127.0.0.1:8088")
    ///     .timeout(std::time::Duration::from_secs(30))
    ///     .bearer_token("eyJhbGciOi…")?;
    /// # let _ = client;
    /// # Ok::<(), tz_chat_sdk::Error>(())
    /// ```
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// The API of one end user of one system. Nothing is sent yet.
    ///
    /// ```no_run
    /// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
    /// let conversations = client.user("cointutor", "42").conversations().await?;
    /// # let _ = conversations;
    /// # Ok(()) }
    /// ```
    pub fn user(&self, system_id: impl Into<String>, user_id: impl Into<String>) -> UserClient {
        UserClient::named(self.core.clone(), system_id.into(), user_id.into())
    }

    /// Mint a chat token for one end user (`GET /v1/chat-token`), valid for
    /// the gateway's `CHAT_GATEWAY_TOKEN_TTL_SECS`. With `lang`, the answer
    /// also carries the widget's texts in that language.
    ///
    /// A backend that holds the shared secret can mint tokens itself, without
    /// a round trip: see [`ChatLinks`](crate::ChatLinks).
    ///
    /// ```no_run
    /// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
    /// let minted = client.chat_token("cointutor", "42", Some(tz_chat_sdk::Lang::Ko)).await?;
    /// let url = tz_chat_sdk::chat_url(client.base_url(), &minted.token, &Default::default());
    /// # let _ = url;
    /// # Ok(()) }
    /// ```
    pub async fn chat_token(
        &self,
        system_id: &str,
        user_id: &str,
        lang: Option<Lang>,
    ) -> Result<ChatTokenResponse, Error> {
        let mut query = vec![("system_id", system_id), ("user_id", user_id)];
        if let Some(lang) = lang {
            query.push(("lang", lang.as_str()));
        }
        let req = self
            .core
            .request(Method::GET, &["v1", "chat-token"])?
            .query(&query);
        transport::json(req).await
    }

    /// Pull history that exists only upstream into the gateway's store, for
    /// every known user (`POST /v1/sync`). One user's failure is listed in
    /// [`SyncResponse::errors`] and does not stop the others.
    ///
    /// ```no_run
    /// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
    /// let report = client.sync().await?;
    /// println!("{} conversations, {} messages", report.conversations_synced, report.messages_synced);
    /// # Ok(()) }
    /// ```
    pub async fn sync(&self) -> Result<SyncResponse, Error> {
        let req = self.core.request(Method::POST, &["v1", "sync"])?;
        transport::json(req).await
    }

    /// Read the history of every user (`/v1/cache/…`).
    ///
    /// ```no_run
    /// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
    /// let recent = client.cache().conversations(&tz_chat_sdk::CacheQuery::new().limit(10)).await?;
    /// # let _ = recent;
    /// # Ok(()) }
    /// ```
    pub fn cache(&self) -> CacheClient {
        CacheClient::new(self.core.clone())
    }
}

impl Client<BearerToken> {
    /// An end user's client, authenticated by their chat token.
    ///
    /// ```
    /// let client = tz_chat_sdk::Client::with_bearer_token("http://127.0.0.1:8088", "eyJhbGciOi…")?;
    /// assert!(!format!("{client:?}").contains("eyJ"));
    /// # Ok::<(), tz_chat_sdk::Error>(())
    /// ```
    pub fn with_bearer_token(base_url: &str, token: impl AsRef<str>) -> Result<Self, Error> {
        ClientBuilder::new(base_url).bearer_token(token)
    }

    /// The API of the user the token names.
    ///
    /// ```no_run
    /// # async fn run(client: tz_chat_sdk::Client<tz_chat_sdk::BearerToken>) -> Result<(), tz_chat_sdk::Error> {
    /// let reply = client.me().chat(tz_chat_sdk::ChatRequest::new("Hello")).await?;
    /// # let _ = reply;
    /// # Ok(()) }
    /// ```
    pub fn me(&self) -> UserClient {
        UserClient::by_token(self.core.clone())
    }

    /// Pull this user's upstream-only history into the gateway's store
    /// (`POST /v1/sync/me`).
    ///
    /// ```no_run
    /// # async fn run(client: tz_chat_sdk::Client<tz_chat_sdk::BearerToken>) -> Result<(), tz_chat_sdk::Error> {
    /// let report = client.sync_me().await?;
    /// # let _ = report;
    /// # Ok(()) }
    /// ```
    pub async fn sync_me(&self) -> Result<SyncResponse, Error> {
        let req = self.core.request(Method::POST, &["v1", "sync", "me"])?;
        transport::json(req).await
    }
}

impl<A> Client<A> {
    /// The gateway base URL, without a trailing `/`.
    ///
    /// ```
    /// let client = tz_chat_sdk::Client::with_api_key("https://example.com/gateway/", "k")?;
    /// assert_eq!(client.base_url(), "https://example.com/gateway");
    /// # Ok::<(), tz_chat_sdk::Error>(())
    /// ```
    pub fn base_url(&self) -> &str {
        self.core.base_url()
    }

    /// Whether the gateway process is up (`GET /health`).
    ///
    /// ```no_run
    /// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
    /// assert_eq!(client.health().await?.status, "ok");
    /// # Ok(()) }
    /// ```
    pub async fn health(&self) -> Result<HealthResponse, Error> {
        let req = self.core.request(Method::GET, &["health"])?;
        transport::json(req).await
    }

    /// Whether the gateway can serve: its database answers (`GET /ready`;
    /// [`ErrorCode::DatabaseUnavailable`](crate::ErrorCode::DatabaseUnavailable)
    /// when not).
    ///
    /// ```no_run
    /// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
    /// client.ready().await?;
    /// # Ok(()) }
    /// ```
    pub async fn ready(&self) -> Result<HealthResponse, Error> {
        let req = self.core.request(Method::GET, &["ready"])?;
        transport::json(req).await
    }
}
