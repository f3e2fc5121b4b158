//! What a host page configures: the gateway, where chat tokens come from, the
//! language and the initial state.
//!
//! Everything here is plain data, validated once ([`RawConfig::validate`]) so
//! the rest of the widget never sees a half-configured widget. Reading the
//! values out of a JavaScript object happens in the `mount` glue (`js_api`).

use std::fmt;

use sdk::Lang;

/// Where the widget gets chat tokens from.
///
/// Prefer [`TokenSource::Endpoint`] (or [`TokenSource::Callback`]): the host
/// site's backend mints the token with the SDK, so no secret reaches the
/// browser. [`TokenSource::ApiKey`] exists for sites built for the seed
/// gateway; see the crate README for why it is unsafe.
///
/// ```
/// use widget::TokenSource;
///
/// let source = TokenSource::Endpoint { url: "/api/chat-token".into() };
/// assert_eq!(format!("{source:?}"), r#"Endpoint { url: "/api/chat-token" }"#);
/// ```
#[derive(Clone, PartialEq)]
pub enum TokenSource {
    /// The host site's own endpoint, called with the page's cookies
    /// (`GET {url}?lang=xx`). It answers either like the gateway's
    /// `/v1/chat-token` (`{"token": "...", "expires_at": ..., "ui"?: {...}}`)
    /// or with a ready chat link (`{"url": "https://gateway/chat?token=..."}`).
    Endpoint {
        /// Absolute or page-relative URL.
        url: String,
    },
    /// A JavaScript function `(lang) => Promise<answer>` provided by the host
    /// page, where `answer` is one of the endpoint answers above or a bare
    /// token string.
    Callback(js_sys::Function),
    /// Seed-compatible: `GET {gateway}/v1/chat-token?system_id&user_id&lang`
    /// with `X-API-Key` sent from the browser. The key is visible to anyone
    /// who opens the page.
    ApiKey {
        /// The gateway API key (never printed by `Debug`).
        api_key: String,
        /// The client system.
        system_id: String,
        /// The signed-in user; `None` when nobody is signed in.
        user_id: Option<String>,
    },
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Endpoint { url } => f.debug_struct("Endpoint").field("url", url).finish(),
            TokenSource::Callback(_) => f.write_str("Callback(<function>)"),
            TokenSource::ApiKey {
                system_id, user_id, ..
            } => f
                .debug_struct("ApiKey")
                .field("api_key", &"<redacted>")
                .field("system_id", system_id)
                .field("user_id", user_id)
                .finish(),
        }
    }
}

/// A validated widget configuration.
///
/// ```
/// use widget::{RawConfig, TokenSource};
///
/// let config = RawConfig {
///     gateway: Some("https://chat.example.com/".into()),
///     token_url: Some("/api/chat-token".into()),
///     ..RawConfig::default()
/// }
/// .validate()
/// .unwrap();
/// assert_eq!(config.gateway.as_deref(), Some("https://chat.example.com"));
/// assert!(matches!(config.source, TokenSource::Endpoint { .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetConfig {
    /// Base URL of the gateway, without a trailing `/`. Needed unless every
    /// token answer is a `{"url": ...}` chat link.
    pub gateway: Option<String>,
    /// Where tokens come from.
    pub source: TokenSource,
    /// Interface language; `None` follows the page, then the browser.
    pub lang: Option<Lang>,
    /// Start with the panel open.
    pub open: bool,
    /// Fetch the token and load the chat page at mount time instead of at
    /// the first open (so replies can be counted before the user opens it).
    pub preload: bool,
}

/// Configuration as given by a host page, before validation. Field names are
/// the JavaScript ones in snake case (`tokenUrl` → `token_url`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawConfig {
    /// `gateway`: the gateway's base URL.
    pub gateway: Option<String>,
    /// `tokenUrl`: the host backend's token (or chat-URL) endpoint.
    pub token_url: Option<String>,
    /// `getToken`: a host-page function returning a token answer.
    pub get_token: Option<js_sys::Function>,
    /// `apiKey`: seed-compatible gateway API key (unsafe in browsers).
    pub api_key: Option<String>,
    /// `systemId`: with `apiKey`.
    pub system_id: Option<String>,
    /// `userId`: with `apiKey`.
    pub user_id: Option<String>,
    /// `lang`: `en`, `es`, `ko`, `zh`, `ja` (region tags accepted).
    pub lang: Option<String>,
    /// `open`: start open.
    pub open: bool,
    /// `preload`: fetch the token at mount time.
    pub preload: bool,
}

/// A configuration the widget cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No token source was given.
    #[error("set one token source: tokenUrl (recommended), getToken, or apiKey with systemId")]
    MissingSource,
    /// More than one token source was given.
    #[error("set only one token source: tokenUrl, getToken or apiKey")]
    ConflictingSources,
    /// `apiKey` without `systemId`.
    #[error("apiKey needs systemId")]
    MissingSystemId,
    /// `apiKey` needs the gateway URL.
    #[error("apiKey needs gateway (the gateway's base URL)")]
    MissingGateway,
    /// The gateway URL is not an absolute http(s) URL.
    #[error("gateway must be an absolute http(s) URL, got \"{0}\"")]
    BadGateway(String),
    /// A language the widget does not ship.
    #[error("unsupported language \"{0}\": use en, es, ko, zh or ja")]
    UnknownLang(String),
    /// The mount target was not found or is not an element.
    #[error("mount target not found: {0}")]
    BadTarget(String),
    /// The configuration object is not an object.
    #[error("the configuration must be an object")]
    NotAnObject,
}

impl RawConfig {
    /// Check the configuration and turn it into a [`WidgetConfig`].
    ///
    /// ```
    /// let err = widget::RawConfig::default().validate().unwrap_err();
    /// assert_eq!(err, widget::ConfigError::MissingSource);
    /// ```
    pub fn validate(self) -> Result<WidgetConfig, ConfigError> {
        let gateway = non_blank(self.gateway)
            .map(|g| normalise_base_url(&g))
            .transpose()?;
        let lang = non_blank(self.lang).map(|l| parse_lang(&l)).transpose()?;
        let token_url = non_blank(self.token_url);
        let api_key = non_blank(self.api_key);
        let sources = [
            token_url.is_some(),
            self.get_token.is_some(),
            api_key.is_some(),
        ];
        let source = match (token_url, self.get_token, api_key) {
            _ if sources.iter().filter(|s| **s).count() > 1 => {
                return Err(ConfigError::ConflictingSources);
            }
            (Some(url), _, _) => TokenSource::Endpoint { url },
            (_, Some(function), _) => TokenSource::Callback(function),
            (_, _, Some(api_key)) => {
                let system_id = non_blank(self.system_id).ok_or(ConfigError::MissingSystemId)?;
                if gateway.is_none() {
                    return Err(ConfigError::MissingGateway);
                }
                TokenSource::ApiKey {
                    api_key,
                    system_id,
                    user_id: non_blank(self.user_id),
                }
            }
            (None, None, None) => return Err(ConfigError::MissingSource),
        };
        Ok(WidgetConfig {
            gateway,
            source,
            lang,
            open: self.open,
            preload: self.preload,
        })
    }
}

/// Parse a language tag the widget ships (`ko`, `ko-KR`, `ZH_hant`).
///
/// ```
/// assert_eq!(widget::config::parse_lang("ja-JP"), Ok(sdk::Lang::Ja));
/// assert!(widget::config::parse_lang("fr").is_err());
/// ```
pub fn parse_lang(tag: &str) -> Result<Lang, ConfigError> {
    Lang::from_tag(tag).ok_or_else(|| ConfigError::UnknownLang(tag.trim().to_owned()))
}

/// The language to show: the configured one, else the page's (`<html
/// lang>`), else the first supported browser preference, else English.
///
/// ```
/// use sdk::Lang;
/// use widget::config::resolve_lang;
///
/// assert_eq!(resolve_lang(None, Some("ko-KR"), &["ja".into()]), Lang::Ko);
/// assert_eq!(resolve_lang(None, Some("fr"), &["fr".into(), "es-MX".into()]), Lang::Es);
/// assert_eq!(resolve_lang(Some(Lang::Zh), Some("ko"), &[]), Lang::Zh);
/// ```
pub fn resolve_lang(configured: Option<Lang>, page: Option<&str>, browser: &[String]) -> Lang {
    configured
        .or_else(|| page.and_then(Lang::from_tag))
        .or_else(|| browser.iter().find_map(|tag| Lang::from_tag(tag)))
        .unwrap_or_default()
}

/// Check an absolute http(s) base URL and drop trailing `/`.
///
/// ```
/// assert_eq!(
///     widget::config::normalise_base_url(" https://chat.example.com/ ").unwrap(),
///     "https://chat.example.com"
/// );
/// assert!(widget::config::normalise_base_url("chat.example.com").is_err());
/// ```
pub fn normalise_base_url(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    match origin_of(trimmed) {
        Some(_) if !trimmed.contains(['?', '#']) => Ok(trimmed.to_owned()),
        _ => Err(ConfigError::BadGateway(url.to_owned())),
    }
}

/// The origin of an absolute http(s) URL as a browser writes it in
/// `event.origin` and `location.origin`: lower-case scheme and host, no
/// default port, no user info, no path.
///
/// ```
/// use widget::config::origin_of;
///
/// assert_eq!(origin_of("HTTPS://Chat.Example.com:443/x?y").as_deref(), Some("https://chat.example.com"));
/// assert_eq!(origin_of("http://127.0.0.1:8088/chat").as_deref(), Some("http://127.0.0.1:8088"));
/// assert_eq!(origin_of("/api/chat-token"), None);
/// ```
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if host_port.is_empty() {
        return None;
    }
    let host_port = host_port.to_ascii_lowercase();
    let host_port = host_port.strip_suffix(default_port).unwrap_or(&host_port);
    Some(format!("{scheme}://{host_port}"))
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawConfig {
        RawConfig {
            gateway: Some("http://127.0.0.1:8088/".into()),
            ..RawConfig::default()
        }
    }

    #[test]
    fn endpoint_source_keeps_the_url() {
        let c = RawConfig {
            token_url: Some(" /api/chat-token ".into()),
            lang: Some("ko-KR".into()),
            open: true,
            ..raw()
        }
        .validate()
        .unwrap();
        assert_eq!(
            c.source,
            TokenSource::Endpoint {
                url: "/api/chat-token".into()
            }
        );
        assert_eq!(c.gateway.as_deref(), Some("http://127.0.0.1:8088"));
        assert_eq!(c.lang, Some(Lang::Ko));
        assert!(c.open);
    }

    #[test]
    fn endpoint_source_does_not_need_a_gateway() {
        // The endpoint may answer with a full chat URL.
        let c = RawConfig {
            token_url: Some("/api/chat-url".into()),
            ..RawConfig::default()
        }
        .validate()
        .unwrap();
        assert_eq!(c.gateway, None);
    }

    #[test]
    fn api_key_source_needs_system_and_gateway() {
        let with_key = RawConfig {
            api_key: Some("k".into()),
            ..raw()
        };
        assert_eq!(
            with_key.clone().validate(),
            Err(ConfigError::MissingSystemId)
        );
        let no_gateway = RawConfig {
            gateway: None,
            system_id: Some("demo".into()),
            ..with_key.clone()
        };
        assert_eq!(no_gateway.validate(), Err(ConfigError::MissingGateway));
        let ok = RawConfig {
            system_id: Some("demo".into()),
            user_id: Some("  ".into()),
            ..with_key
        }
        .validate()
        .unwrap();
        assert_eq!(
            ok.source,
            TokenSource::ApiKey {
                api_key: "k".into(),
                system_id: "demo".into(),
                user_id: None
            }
        );
    }

    #[test]
    fn exactly_one_source() {
        assert_eq!(raw().validate(), Err(ConfigError::MissingSource));
        let two = RawConfig {
            token_url: Some("/t".into()),
            api_key: Some("k".into()),
            system_id: Some("demo".into()),
            ..raw()
        };
        assert_eq!(two.validate(), Err(ConfigError::ConflictingSources));
    }

    #[test]
    fn bad_gateway_and_language_are_reported() {
        let bad = RawConfig {
            gateway: Some("ftp://x".into()),
            token_url: Some("/t".into()),
            ..RawConfig::default()
        };
        assert_eq!(
            bad.validate(),
            Err(ConfigError::BadGateway("ftp://x".into()))
        );
        let lang = RawConfig {
            token_url: Some("/t".into()),
            lang: Some("fr".into()),
            ..RawConfig::default()
        };
        assert_eq!(lang.validate(), Err(ConfigError::UnknownLang("fr".into())));
    }

    #[test]
    fn debug_never_shows_the_api_key() {
        let s = TokenSource::ApiKey {
            api_key: "secret-key-123".into(),
            system_id: "demo".into(),
            user_id: Some("u".into()),
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("secret-key-123"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }

    #[test]
    fn language_falls_back_page_then_browser_then_english() {
        assert_eq!(resolve_lang(None, None, &[]), Lang::En);
        assert_eq!(resolve_lang(None, Some(""), &["de".into()]), Lang::En);
        assert_eq!(
            resolve_lang(None, None, &["de".into(), "zh-TW".into()]),
            Lang::Zh
        );
        assert_eq!(resolve_lang(None, Some("ja"), &["ko".into()]), Lang::Ja);
    }

    #[test]
    fn origins_match_what_browsers_report() {
        assert_eq!(
            origin_of("http://localhost:80/").as_deref(),
            Some("http://localhost")
        );
        assert_eq!(
            origin_of("https://user:pw@Example.COM:8443/chat").as_deref(),
            Some("https://example.com:8443")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("https://"), None);
    }
}
