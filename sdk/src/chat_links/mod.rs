//! Chat links: what a site's backend needs to send its logged-in users to the
//! gateway's chat page.
//!
//! [`ChatLinks`] is built once from the gateway's public base URL and the
//! secret shared with the gateway (`CHAT_GATEWAY_JWT_SECRET`). For each user
//! it mints a short-lived chat token (one hour unless set otherwise) and
//! returns the full chat-page URL, ready for a link, a redirect or an iframe.
//!
//! Invariants:
//! - every token carries `system_id`, `user_id`, `iat` and `exp`, and is
//!   signed with HS256;
//! - ids are checked against the gateway's rules before minting, so a bad id
//!   fails here, in the backend, and not later in a user's browser;
//! - the secret never appears in `Debug` output, and the base URL is checked
//!   once, when the links are built.

mod builder;

use std::sync::Arc;
use std::time::Duration;

pub use self::builder::ChatLinksBuilder;
use crate::jwt::{ChatClaims, JwtError, JwtSecret, Signer, Verifier};
use crate::{ChatTokenResponse, ChatUrlOptions, Lang, UiTexts, chat_url, identity};

/// Mints chat tokens and chat-page URLs for the users of one site.
///
/// Cheap to clone (the keys are shared), so it can sit in an axum `State` or
/// be handed to every request handler.
///
/// ```
/// use tz_chat_sdk::ChatLinks;
/// use tz_chat_sdk::jwt::JwtSecret;
///
/// let links = ChatLinks::new(
///     "https://chat.example.com",
///     JwtSecret::new("a-long-random-secret-shared-with-the-gateway"),
/// )?;
/// let url = links.url_for("cointutor", "42")?;
/// assert!(url.starts_with("https://chat.example.com/chat?token=ey"));
///
/// // A backend that receives such a token can check it:
/// let token = links.token_for("cointutor", "42")?;
/// let claims = links.verify(&token)?;
/// assert_eq!((claims.system_id.as_str(), claims.user_id.as_str()), ("cointutor", "42"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ChatLinks {
    inner: Arc<Inner>,
}

/// What the builder checked and prepared.
struct Inner {
    base_url: String,
    signer: Signer,
    verifier: Verifier,
    ttl: Duration,
    issuer: Option<String>,
    audience: Option<String>,
    options: ChatUrlOptions,
}

impl std::fmt::Debug for ChatLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.inner;
        f.debug_struct("ChatLinks")
            .field("base_url", &inner.base_url)
            .field("secret", &"<redacted>")
            .field("ttl", &inner.ttl)
            .field("issuer", &inner.issuer)
            .field("audience", &inner.audience)
            .field("options", &inner.options)
            .finish()
    }
}

/// Why chat links could not be built, or a token not minted.
///
/// ```
/// use tz_chat_sdk::{ChatLinks, LinkError};
/// use tz_chat_sdk::jwt::JwtSecret;
///
/// let err = ChatLinks::new("chat.example.com", JwtSecret::new("secret")).unwrap_err();
/// assert!(matches!(err, LinkError::InvalidBaseUrl { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The gateway base URL is not an `http(s)://host[:port][/path]` URL.
    #[error("invalid gateway base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The token lifetime is zero.
    #[error("the chat token lifetime must be at least one second")]
    InvalidTtl,
    /// A system or user id breaks the gateway's rules (the text says which
    /// and why), so the gateway would refuse the token.
    #[error("{0}")]
    InvalidId(String),
    /// Signing failed (for example an empty secret).
    #[error(transparent)]
    Jwt(#[from] JwtError),
}

impl ChatLinks {
    /// Lifetime of minted tokens unless [`ChatLinksBuilder::ttl`] says
    /// otherwise: one hour.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

    /// Links to the gateway at `base_url` (its public URL, for example
    /// `https://chat.example.com`), signed with `secret`. Tokens last
    /// [one hour](Self::DEFAULT_TTL); use [`ChatLinks::builder`] for other
    /// settings.
    ///
    /// Fails on a base URL that is not `http(s)://…` and on an empty secret.
    ///
    /// ```
    /// let links = tz_chat_sdk::ChatLinks::new("http://127.0.0.1:8088/", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))?;
    /// assert_eq!(links.base_url(), "http://127.0.0.1:8088");
    /// assert!(tz_chat_sdk::ChatLinks::new("http://h", tz_chat_sdk::jwt::JwtSecret::new("")).is_err());
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn new(base_url: &str, secret: JwtSecret) -> Result<Self, LinkError> {
        Self::builder(base_url, secret).build()
    }

    /// Start building links with non-default settings.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tz_chat_sdk::{ChatLinks, Lang};
    ///
    /// let links = ChatLinks::builder("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))
    ///     .ttl(Duration::from_secs(15 * 60))
    ///     .embed(true)
    ///     .lang(Lang::Ko)
    ///     .build()?;
    /// assert!(links.url_for("cointutor", "42")?.ends_with("&embed=1&lang=ko"));
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn builder(base_url: &str, secret: JwtSecret) -> ChatLinksBuilder {
        ChatLinksBuilder::new(base_url, secret)
    }

    /// The chat-page URL for `user_id` of `system_id`, with a freshly minted
    /// token and the default options (`embed`, `lang`) set on the builder.
    ///
    /// ```
    /// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))?;
    /// let url = links.url_for("cointutor", "42")?;
    /// assert!(url.starts_with("https://chat.example.com/chat?token="));
    /// assert!(links.url_for("coin tutor", "42").is_err(), "spaces are not allowed in a system id");
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn url_for(&self, system_id: &str, user_id: &str) -> Result<String, LinkError> {
        self.url_with(system_id, user_id, &self.inner.options)
    }

    /// Like [`url_for`](Self::url_for), with `options` for this one URL (for
    /// example the user's language).
    ///
    /// ```
    /// use tz_chat_sdk::{ChatUrlOptions, Lang};
    /// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))?;
    /// let url = links.url_with("cointutor", "42", &ChatUrlOptions { embed: true, lang: Some(Lang::Ja), ..Default::default() })?;
    /// assert!(url.ends_with("&embed=1&lang=ja"));
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn url_with(
        &self,
        system_id: &str,
        user_id: &str,
        options: &ChatUrlOptions,
    ) -> Result<String, LinkError> {
        let token = self.token_for(system_id, user_id)?;
        Ok(chat_url(&self.inner.base_url, &token, options))
    }

    /// Just the chat token for `user_id` of `system_id`, for callers that
    /// build the URL themselves or send the token as `Authorization: Bearer`.
    ///
    /// ```
    /// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))?;
    /// let token = links.token_for("cointutor", "42")?;
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn token_for(&self, system_id: &str, user_id: &str) -> Result<String, LinkError> {
        self.mint(system_id, user_id).map(|(token, _)| token)
    }

    /// The answer of a site's token endpoint for the widget: a fresh token,
    /// its expiry, and the widget's shell texts in `lang` when given. The
    /// same JSON as the gateway's own `GET /v1/chat-token`.
    ///
    /// ```
    /// use tz_chat_sdk::Lang;
    /// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))?;
    /// let answer = links.token_response("cointutor", "42", Some(Lang::Ko))?;
    /// assert_eq!(answer.expires_at, Some(links.verify(&answer.token)?.exp));
    /// assert_eq!(answer.ui.unwrap().close, tz_chat_sdk::UiTexts::for_lang(Lang::Ko).close);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn token_response(
        &self,
        system_id: &str,
        user_id: &str,
        lang: Option<Lang>,
    ) -> Result<ChatTokenResponse, LinkError> {
        let (token, claims) = self.mint(system_id, user_id)?;
        Ok(ChatTokenResponse {
            token,
            expires_at: Some(claims.exp),
            ui: lang.map(UiTexts::for_lang),
        })
    }

    /// Check the ids, then sign claims for them.
    fn mint(&self, system_id: &str, user_id: &str) -> Result<(String, ChatClaims), LinkError> {
        identity::check_system_id(system_id).map_err(LinkError::InvalidId)?;
        identity::check_user_id(user_id).map_err(LinkError::InvalidId)?;
        let inner = &self.inner;
        let mut claims = ChatClaims::new(system_id, user_id, inner.ttl);
        if let Some(iss) = &inner.issuer {
            claims = claims.with_issuer(iss.clone());
        }
        if let Some(aud) = &inner.audience {
            claims = claims.with_audience(aud.clone());
        }
        let token = inner.signer.sign(&claims)?;
        Ok((token, claims))
    }

    /// Check a chat token (one minted here, by another backend, or by the
    /// gateway's `GET /v1/chat-token`) and return its claims. The issuer and
    /// audience set on the builder are required; the expiry is checked with
    /// the builder's [leeway](ChatLinksBuilder::leeway) (30 seconds unless
    /// set).
    ///
    /// ```
    /// use tz_chat_sdk::jwt::{JwtError, JwtSecret};
    ///
    /// let ours = tz_chat_sdk::ChatLinks::new("https://chat.example.com", JwtSecret::new("our-secret"))?;
    /// let theirs = tz_chat_sdk::ChatLinks::new("https://chat.example.com", JwtSecret::new("their-secret"))?;
    /// let token = theirs.token_for("cointutor", "42")?;
    /// assert_eq!(ours.verify(&token), Err(JwtError::BadSignature));
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn verify(&self, token: &str) -> Result<ChatClaims, JwtError> {
        self.inner.verifier.verify(token)
    }

    /// The gateway base URL, without a trailing `/`.
    ///
    /// ```
    /// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com/", tz_chat_sdk::jwt::JwtSecret::new("s"))?;
    /// assert_eq!(links.base_url(), "https://chat.example.com");
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// How long minted tokens last.
    ///
    /// ```
    /// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s"))?;
    /// assert_eq!(links.ttl(), tz_chat_sdk::ChatLinks::DEFAULT_TTL);
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn links() -> ChatLinks {
        ChatLinks::new("https://chat.example.com/gw/", JwtSecret::new(SECRET)).unwrap()
    }

    #[test]
    fn url_carries_a_token_that_verifies_with_the_default_ttl() {
        let links = links();
        let url = links.url_for("cointutor", "user@example.com").unwrap();
        let token = url
            .strip_prefix("https://chat.example.com/gw/chat?token=")
            .unwrap();
        let claims = crate::jwt::verify(token, &JwtSecret::new(SECRET)).unwrap();
        assert_eq!(claims.system_id, "cointutor");
        assert_eq!(claims.user_id, "user@example.com");
        assert_eq!(claims.exp - claims.iat.unwrap(), 3600);
    }

    #[test]
    fn bad_ids_are_refused_before_minting() {
        let links = links();
        for (system, user) in [("", "u"), ("a b", "u"), ("s", ""), ("s", "x\ny")] {
            assert!(
                matches!(links.token_for(system, user), Err(LinkError::InvalidId(_))),
                "{system:?} {user:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let links = links();
        let shown = format!("{links:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("https://chat.example.com/gw"), "{shown}");
        let builder = ChatLinks::builder("http://h", JwtSecret::new(SECRET));
        assert!(!format!("{builder:?}").contains(SECRET));
    }
}
