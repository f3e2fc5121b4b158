//! Building a [`Client`]: base URL, time limits, and the credential, which
//! decides what kind of client comes out.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderName};

use super::error::Error;
use super::transport::{Core, credential_value, parse_base_url};
use super::{ApiKey, BearerToken, Client};

/// Header carrying a server's API key.
const API_KEY_HEADER: &str = "x-api-key";

/// Settings of a [`Client`], finished by choosing the credential:
/// [`api_key`](Self::api_key) or [`bearer_token`](Self::bearer_token).
///
/// ```
/// use std::time::Duration;
///
/// let client = tz_chat_sdk::Client::builder("http://127.0.0.1:8088")
///     .timeout(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(3))
///     .api_key("my-api-key")?;
/// # let _ = client;
/// # Ok::<(), tz_chat_sdk::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "finish with .api_key(…) or .bearer_token(…)"]
pub struct ClientBuilder {
    base_url: String,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    stream_idle_timeout: Duration,
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// Longest wait for a whole non-streamed call, unless set: 150 s, longer
    /// than the gateway's own upstream limit (120 s by default), so that a
    /// slow upstream shows up as the gateway's `upstream_timeout` error.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(150);
    /// Longest wait for a connection, unless set: 10 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Longest silence on a connection, unless set: 60 s (the gateway sends
    /// a keep-alive every 15 s while a reply streams).
    pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

    /// A builder for the gateway at `base_url` (for example
    /// `http://127.0.0.1:8088`, or `https://example.com/chat-gateway` behind
    /// a proxy). The URL is checked when the client is built.
    ///
    /// ```
    /// let builder = tz_chat_sdk::ClientBuilder::new("https://chat.example.com");
    /// # let _ = builder;
    /// ```
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            timeout: Some(Self::DEFAULT_TIMEOUT),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            stream_idle_timeout: Self::DEFAULT_STREAM_IDLE_TIMEOUT,
            http: None,
        }
    }

    /// Time limit of a whole non-streamed call (connect, send, read the
    /// answer). Streamed replies have no total limit, only the idle limit.
    ///
    /// ```
    /// let b = tz_chat_sdk::ClientBuilder::new("http://h").timeout(std::time::Duration::from_secs(20));
    /// # let _ = b;
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time limit for establishing a connection.
    ///
    /// ```
    /// let b = tz_chat_sdk::ClientBuilder::new("http://h").connect_timeout(std::time::Duration::from_secs(2));
    /// # let _ = b;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Longest silence on an open connection, streamed replies included.
    ///
    /// ```
    /// let b = tz_chat_sdk::ClientBuilder::new("http://h").stream_idle_timeout(std::time::Duration::from_secs(30));
    /// # let _ = b;
    /// ```
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = timeout;
        self
    }

    /// Use this `reqwest` client (proxies, custom TLS roots, a shared
    /// connection pool). Its own connect and idle limits then apply instead
    /// of [`connect_timeout`](Self::connect_timeout) and
    /// [`stream_idle_timeout`](Self::stream_idle_timeout);
    /// [`timeout`](Self::timeout) still applies to each call.
    ///
    /// ```
    /// let b = tz_chat_sdk::ClientBuilder::new("http://h").http_client(tz_chat_sdk::reqwest::Client::new());
    /// # let _ = b;
    /// ```
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Finish as a server-to-server client that sends `X-API-Key`. Such a
    /// client must name the end user of each call
    /// ([`Client::user`]).
    ///
    /// ```
    /// let client = tz_chat_sdk::ClientBuilder::new("http://127.0.0.1:8088").api_key("my-api-key")?;
    /// assert!(tz_chat_sdk::ClientBuilder::new("http://h").api_key("").is_err());
    /// # let _ = client;
    /// # Ok::<(), tz_chat_sdk::Error>(())
    /// ```
    pub fn api_key(self, key: impl AsRef<str>) -> Result<Client<ApiKey>, Error> {
        let value = credential_value("API key", key.as_ref())?;
        let core = self.core((HeaderName::from_static(API_KEY_HEADER), value))?;
        Ok(Client {
            core,
            auth: PhantomData,
        })
    }

    /// Finish as an end user's client that sends `Authorization: Bearer`
    /// with their chat token. The token names the user ([`Client::me`]).
    ///
    /// ```
    /// let client = tz_chat_sdk::ClientBuilder::new("http://127.0.0.1:8088").bearer_token("eyJhbGciOi…")?;
    /// # let _ = client;
    /// # Ok::<(), tz_chat_sdk::Error>(())
    /// ```
    pub fn bearer_token(self, token: impl AsRef<str>) -> Result<Client<BearerToken>, Error> {
        let token = token.as_ref().trim();
        if token.is_empty() {
            return Err(Error::InvalidInput("the bearer token is empty".into()));
        }
        let value = credential_value("bearer token", &format!("Bearer {token}"))?;
        let core = self.core((AUTHORIZATION, value))?;
        Ok(Client {
            core,
            auth: PhantomData,
        })
    }

    fn core(
        self,
        credential: (HeaderName, reqwest::header::HeaderValue),
    ) -> Result<Arc<Core>, Error> {
        let base = parse_base_url(&self.base_url)?;
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .read_timeout(self.stream_idle_timeout)
                .user_agent(concat!("tz-chat-sdk/", env!("CARGO_PKG_VERSION")))
                .build()?,
        };
        Ok(Arc::new(Core::new(http, base, credential, self.timeout)))
    }
}
