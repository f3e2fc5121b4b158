//! Building [`ChatLinks`]: the settings, and the checks that run once, when
//! the links are built (base URL, token lifetime, secret).

use std::sync::Arc;
use std::time::Duration;

use super::{ChatLinks, Inner, LinkError};
use crate::jwt::{JwtSecret, Signer, Verifier};
use crate::{ChatUrlOptions, Lang};

/// Settings of [`ChatLinks`]; see [`ChatLinks::builder`].
///
/// ```
/// let links = tz_chat_sdk::ChatLinks::builder("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))
///     .issuer("cointutor-backend")
///     .audience("tz-chat")
///     .build()?;
/// let claims = links.verify(&links.token_for("cointutor", "42")?)?;
/// assert_eq!(claims.aud.as_deref(), Some("tz-chat"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "call .build() to get the ChatLinks"]
pub struct ChatLinksBuilder {
    base_url: String,
    secret: JwtSecret,
    ttl: Duration,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: Option<Duration>,
    options: ChatUrlOptions,
}

impl ChatLinksBuilder {
    pub(super) fn new(base_url: &str, secret: JwtSecret) -> Self {
        Self {
            base_url: base_url.to_owned(),
            secret,
            ttl: ChatLinks::DEFAULT_TTL,
            issuer: None,
            audience: None,
            leeway: None,
            options: ChatUrlOptions::default(),
        }
    }

    /// Token lifetime (default one hour). Keep it short: the URL is a
    /// credential until it expires. Whole seconds; zero is refused by
    /// [`build`](Self::build).
    ///
    /// ```
    /// # let b = tz_chat_sdk::ChatLinks::builder("https://h", tz_chat_sdk::jwt::JwtSecret::new("s"));
    /// let links = b.ttl(std::time::Duration::from_secs(600)).build()?;
    /// assert_eq!(links.ttl().as_secs(), 600);
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Put `iss` in every token and require it in [`ChatLinks::verify`]. Use
    /// the gateway's `CHAT_GATEWAY_JWT_ISSUER` when it sets one.
    ///
    /// ```
    /// # let b = tz_chat_sdk::ChatLinks::builder("https://h", tz_chat_sdk::jwt::JwtSecret::new("s"));
    /// let links = b.issuer("cointutor-backend").build()?;
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Put `aud` in every token and require it in [`ChatLinks::verify`]. Use
    /// the gateway's `CHAT_GATEWAY_JWT_AUDIENCE` when it sets one.
    ///
    /// ```
    /// # let b = tz_chat_sdk::ChatLinks::builder("https://h", tz_chat_sdk::jwt::JwtSecret::new("s"));
    /// let links = b.audience("tz-chat").build()?;
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Clock-skew allowance of [`ChatLinks::verify`] for `exp` and `nbf`
    /// (default [30 s](crate::jwt::Verifier::DEFAULT_LEEWAY_SECS), as the
    /// gateway's).
    ///
    /// ```
    /// # let b = tz_chat_sdk::ChatLinks::builder("https://h", tz_chat_sdk::jwt::JwtSecret::new("s"));
    /// let links = b.leeway(std::time::Duration::from_secs(5)).build()?;
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Ask for the compact layout meant for an iframe (`embed=1`) in URLs
    /// from [`ChatLinks::url_for`].
    ///
    /// ```
    /// # let b = tz_chat_sdk::ChatLinks::builder("https://h", tz_chat_sdk::jwt::JwtSecret::new("s"));
    /// let links = b.embed(true).build()?;
    /// assert!(links.url_for("s", "u")?.ends_with("&embed=1"));
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn embed(mut self, embed: bool) -> Self {
        self.options.embed = embed;
        self
    }

    /// Interface language of the chat page in URLs from
    /// [`ChatLinks::url_for`] (by default the page follows the browser).
    ///
    /// ```
    /// # let b = tz_chat_sdk::ChatLinks::builder("https://h", tz_chat_sdk::jwt::JwtSecret::new("s"));
    /// let links = b.lang(tz_chat_sdk::Lang::Es).build()?;
    /// assert!(links.url_for("s", "u")?.ends_with("&lang=es"));
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn lang(mut self, lang: Lang) -> Self {
        self.options.lang = Some(lang);
        self
    }

    /// Check the settings and build the links.
    ///
    /// ```
    /// # let b = tz_chat_sdk::ChatLinks::builder("https://h", tz_chat_sdk::jwt::JwtSecret::new("s"));
    /// let err = b.ttl(std::time::Duration::ZERO).build().unwrap_err();
    /// assert_eq!(err, tz_chat_sdk::LinkError::InvalidTtl);
    /// ```
    pub fn build(self) -> Result<ChatLinks, LinkError> {
        let base_url = check_base_url(&self.base_url)?;
        if self.ttl.as_secs() == 0 {
            return Err(LinkError::InvalidTtl);
        }
        let signer = Signer::new(&self.secret)?;
        let mut verifier = Verifier::new(&self.secret);
        if let Some(iss) = &self.issuer {
            verifier = verifier.with_issuer(iss);
        }
        if let Some(aud) = &self.audience {
            verifier = verifier.with_audience(aud);
        }
        if let Some(leeway) = self.leeway {
            verifier = verifier.with_leeway(leeway);
        }
        Ok(ChatLinks {
            inner: Arc::new(Inner {
                base_url,
                signer,
                verifier,
                ttl: self.ttl,
                issuer: self.issuer,
                audience: self.audience,
                options: self.options,
            }),
        })
    }
}

/// `http(s)://host[:port][/path]`, without a trailing `/`.
fn check_base_url(raw: &str) -> Result<String, LinkError> {
    let invalid = |reason| LinkError::InvalidBaseUrl {
        url: raw.to_owned(),
        reason,
    };
    let url = raw.trim().trim_end_matches('/');
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url["https://".len()..]
    } else if lower.starts_with("http://") {
        &url["http://".len()..]
    } else {
        return Err(invalid("it must start with http:// or https://"));
    };
    if rest.split('/').next().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if url.contains(['?', '#']) || url.chars().any(char::is_whitespace) {
        return Err(invalid(
            "it must not contain a query, a fragment or white space",
        ));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::JwtError;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn ttl_issuer_and_audience_reach_the_token() {
        let links = ChatLinks::builder("http://h", JwtSecret::new(SECRET))
            .ttl(Duration::from_secs(90))
            .issuer("backend")
            .audience("tz-chat")
            .build()
            .unwrap();
        let claims = links.verify(&links.token_for("s", "u").unwrap()).unwrap();
        assert_eq!(claims.exp - claims.iat.unwrap(), 90);
        assert_eq!(claims.iss.as_deref(), Some("backend"));
        assert_eq!(claims.aud.as_deref(), Some("tz-chat"));

        // Links that require an audience refuse a token without one.
        let no_audience = ChatLinks::builder("http://h", JwtSecret::new(SECRET))
            .issuer("backend")
            .build()
            .unwrap();
        let token = no_audience.token_for("s", "u").unwrap();
        assert_eq!(links.verify(&token), Err(JwtError::WrongAudience));
    }

    #[test]
    fn the_leeway_reaches_verify() {
        let links = |leeway: Option<u64>| {
            let b = ChatLinks::builder("http://h", JwtSecret::new(SECRET));
            match leeway {
                Some(secs) => b.leeway(Duration::from_secs(secs)),
                None => b,
            }
            .build()
            .unwrap()
        };
        let mut claims = crate::jwt::ChatClaims::new("s", "u", Duration::ZERO);
        claims.exp -= 60;
        let token = crate::jwt::mint(&claims, &JwtSecret::new(SECRET)).unwrap();
        assert_eq!(links(None).verify(&token), Err(JwtError::Expired));
        assert!(links(Some(120)).verify(&token).is_ok());
        let mut recent = claims;
        recent.exp += 55;
        let token = crate::jwt::mint(&recent, &JwtSecret::new(SECRET)).unwrap();
        assert_eq!(links(Some(0)).verify(&token), Err(JwtError::Expired));
    }

    #[test]
    fn base_urls() {
        for ok in [
            "http://127.0.0.1:8088",
            "https://chat.example.com/",
            "HTTPS://Chat.Example.com/prefix",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "chat.example.com",
            "ftp://h",
            "http://",
            "http:///path",
            "http://h/?x=1",
            "http://h/#top",
            "http://h /",
        ] {
            assert!(
                matches!(check_base_url(bad), Err(LinkError::InvalidBaseUrl { .. })),
                "{bad:?}"
            );
        }
    }
}
