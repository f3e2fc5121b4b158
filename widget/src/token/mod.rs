//! Chat tokens: what a token source answers, how it becomes a [`Grant`], when
//! to refresh it, and the chat-page URL built from it.
//!
//! Everything in this module is pure and tested natively; the browser calls
//! (`fetch`, the host callback) live in [`fetch`].
//!
//! Invariants: a [`Grant`] always has a non-empty token and the base URL of the
//! gateway that will serve the chat page; its `Debug` output never shows the
//! token.

pub mod fetch;
mod wire;

use std::fmt;

use base64::Engine as _;
use sdk::{ChatUrlOptions, Lang, UiTexts};

use crate::config::{normalise_base_url, origin_of};
use crate::json::Json;

/// A usable chat token and where to use it.
#[derive(Clone, PartialEq)]
pub struct Grant {
    /// The chat JWT.
    pub token: String,
    /// When it expires (Unix seconds); `0` when unknown.
    pub expires_at: i64,
    /// Base URL of the gateway serving `/chat`, without a trailing `/`.
    pub base: String,
    /// Shell texts sent with the token, if any.
    pub ui: Option<UiTexts>,
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("base", &self.base)
            .field("ui", &self.ui)
            .finish()
    }
}

impl Grant {
    /// The gateway's origin: the only origin the chat page may post from.
    pub fn origin(&self) -> String {
        origin_of(&self.base).unwrap_or_default()
    }
}

/// Why no token could be obtained. The `Display` text is shown to the user
/// under the localized "could not load" line, so it names the cause plainly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The request never got an answer (offline, DNS, CORS, blocked).
    #[error("network error ({0}); check the URL and that the server allows this site's origin")]
    Network(String),
    /// The server answered with an error status.
    #[error("HTTP {status}: {message}")]
    Http {
        /// The status code.
        status: u16,
        /// The server's message, or the status text.
        message: String,
    },
    /// The answer is not one of the documented shapes.
    #[error("unexpected answer: {0}")]
    Decode(String),
    /// The answer has no token (or an empty one).
    #[error("no token in the answer")]
    NoToken,
    /// A bare token was returned but no gateway URL is configured.
    #[error("no gateway URL configured for this token (set gateway, or answer with a chat url)")]
    NoGateway,
    /// A `{"url": ...}` answer that is not a gateway chat link.
    #[error("not a chat link: {0}")]
    BadChatUrl(String),
    /// The seed-style API-key source has no signed-in user.
    #[error("no user is signed in (call setUser)")]
    NoUser,
    /// The host page's `getToken` function threw or rejected.
    #[error("getToken failed: {0}")]
    Callback(String),
}

/// Turn a token source's answer into a [`Grant`].
///
/// Accepted answers: the gateway's `/v1/chat-token` body (`token`,
/// `expires_at`, optional `ui`), `{"url": "<gateway>/chat?token=..."}`, or a
/// bare JSON string holding the token. Without `expires_at` the token's own
/// `exp` claim is used.
///
/// ```
/// let v = widget::json::Json::parse(r#"{"token": "a.b.c", "expires_at": 1800000000}"#).unwrap();
/// let g = widget::token::grant_from_answer(v, Some("https://chat.example.com")).unwrap();
/// assert_eq!(g.base, "https://chat.example.com");
/// assert_eq!(g.expires_at, 1800000000);
/// ```
pub fn grant_from_answer(answer: Json, gateway: Option<&str>) -> Result<Grant, TokenError> {
    let needs_gateway = || gateway.map(str::to_owned).ok_or(TokenError::NoGateway);
    let (token, expires_at, base, ui) = match answer {
        Json::String(token) => (token, 0, needs_gateway()?, None),
        Json::Object(_) if answer.has("url") && !answer.has("token") => {
            let url = answer
                .get("url")
                .and_then(Json::as_str)
                .ok_or_else(|| TokenError::Decode("url is not a string".into()))?;
            let (base, token) = split_chat_url(url)?;
            let expires_at = answer.get("expires_at").and_then(Json::as_i64).unwrap_or(0);
            (token, expires_at, base, None)
        }
        Json::Object(_) => {
            let body = wire::chat_token_response(&answer)?;
            (
                body.token,
                body.expires_at.unwrap_or(0),
                needs_gateway()?,
                body.ui,
            )
        }
        other => {
            return Err(TokenError::Decode(format!(
                "expected an object or a string, got {}",
                other.kind()
            )));
        }
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(TokenError::NoToken);
    }
    let expires_at = match expires_at {
        0 => jwt_expiry(&token).unwrap_or(0),
        known => known,
    };
    Ok(Grant {
        token,
        expires_at,
        base,
        ui,
    })
}

/// Parse a response body (text) and turn it into a [`Grant`].
///
/// ```
/// let g = widget::token::grant_from_body(r#"{"url":"http://gw:8088/chat?token=t1&embed=1"}"#, None).unwrap();
/// assert_eq!((g.base.as_str(), g.token.as_str()), ("http://gw:8088", "t1"));
/// ```
pub fn grant_from_body(body: &str, gateway: Option<&str>) -> Result<Grant, TokenError> {
    let answer = Json::parse(body).ok_or_else(|| TokenError::Decode("not JSON".into()))?;
    grant_from_answer(answer, gateway)
}

/// The error for a non-2xx answer: the gateway's `error.message`, a seed
/// gateway's `detail`, a short plain-text body, or the status alone.
///
/// ```
/// let body = r#"{"error":{"code":"origin_not_allowed","message":"Origin not allowed"},"detail":"Origin not allowed"}"#;
/// let e = widget::token::error_from_response(403, body);
/// assert_eq!(e.to_string(), "HTTP 403: Origin not allowed");
/// ```
pub fn error_from_response(status: u16, body: &str) -> TokenError {
    let json = Json::parse(body);
    let message = json
        .as_ref()
        .and_then(|v| wire::error_message(v).or_else(|| wire::error_detail(v)))
        .map(str::to_owned)
        .or_else(|| {
            let text = body.trim();
            (!text.is_empty() && !text.starts_with('<') && text.chars().count() <= 200)
                .then(|| text.to_owned())
        })
        .unwrap_or_else(|| "request failed".to_owned());
    TokenError::Http { status, message }
}

/// Split a gateway chat link `https://gw/prefix/chat?token=…` into the base
/// URL (`https://gw/prefix`) and the token.
///
/// ```
/// let (base, token) = widget::token::split_chat_url("https://gw.example.com/chat?token=a%2Bb&lang=ko").unwrap();
/// assert_eq!((base.as_str(), token.as_str()), ("https://gw.example.com", "a+b"));
/// ```
pub fn split_chat_url(url: &str) -> Result<(String, String), TokenError> {
    let bad = || TokenError::BadChatUrl(redact_query(url));
    let without_fragment = url.trim().split('#').next().unwrap_or_default();
    let (path, query) = without_fragment.split_once('?').ok_or_else(bad)?;
    let base = path
        .trim_end_matches('/')
        .strip_suffix("/chat")
        .ok_or_else(bad)?;
    let base = normalise_base_url(base).map_err(|_| bad())?;
    let token = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::NoToken)?;
    Ok((base, token))
}

/// The `exp` claim of a JWT (no signature check: it only schedules a refresh).
///
/// ```
/// // {"alg":"HS256"}.{"exp":1800000000}.sig
/// let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4MDAwMDAwMDB9.c2ln";
/// assert_eq!(widget::token::jwt_expiry(jwt), Some(1800000000));
/// assert_eq!(widget::token::jwt_expiry("opaque"), None);
/// ```
pub fn jwt_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims = Json::parse(std::str::from_utf8(&bytes).ok()?)?;
    claims.get("exp")?.as_i64()
}

/// Refresh at least this long before expiry…
const MIN_MARGIN_MS: f64 = 10_000.0;
/// …and at most this long before it (a tenth of the lifetime in between).
const MAX_MARGIN_MS: f64 = 300_000.0;
/// Never schedule a refresh sooner than this, so a wrong client clock cannot
/// turn the schedule into a request loop.
const MIN_DELAY_MS: f64 = 15_000.0;

/// When (epoch milliseconds) to fetch a new token for one that expires at
/// `expires_at` (Unix seconds), seen at `now_ms`. `None` when the expiry is
/// unknown: then only the chat page's `token-expired` message refreshes.
///
/// ```
/// let now = 1_000_000_000_000.0;
/// // a 24 h token is refreshed 5 minutes before it expires
/// let at = widget::token::refresh_at(now, 1_000_000_000 + 86_400).unwrap();
/// assert_eq!(at, now + 86_400_000.0 - 300_000.0);
/// ```
pub fn refresh_at(now_ms: f64, expires_at: i64) -> Option<f64> {
    if expires_at <= 0 {
        return None;
    }
    let expires_ms = expires_at as f64 * 1000.0;
    let margin = ((expires_ms - now_ms) / 10.0).clamp(MIN_MARGIN_MS, MAX_MARGIN_MS);
    Some((expires_ms - margin).max(now_ms + MIN_DELAY_MS))
}

/// The request a token source makes for `lang`: the URL, and whether it
/// carries the gateway API key (seed-compatible source).
///
/// ```
/// assert_eq!(widget::token::endpoint_url("/api/chat-token", sdk::Lang::Ko), "/api/chat-token?lang=ko");
/// assert_eq!(widget::token::endpoint_url("/t?site=1", sdk::Lang::En), "/t?site=1&lang=en");
/// ```
pub fn endpoint_url(url: &str, lang: Lang) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}lang={lang}")
}

/// The seed gateway's token URL: `{gateway}/v1/chat-token?system_id&user_id&lang`.
///
/// ```
/// let url = widget::token::seed_token_url("http://127.0.0.1:8088", "demo", "kim@x.io", sdk::Lang::Ko);
/// assert_eq!(url, "http://127.0.0.1:8088/v1/chat-token?system_id=demo&user_id=kim%40x.io&lang=ko");
/// ```
pub fn seed_token_url(gateway: &str, system_id: &str, user_id: &str, lang: Lang) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("system_id", system_id)
        .append_pair("user_id", user_id)
        .append_pair("lang", lang.as_str())
        .finish();
    format!("{}/v1/chat-token?{query}", gateway.trim_end_matches('/'))
}

/// The iframe URL: `{base}/chat?token=…&embed=1&lang=xx&parent=<host origin>`
/// (postMessage protocol v1).
///
/// ```
/// let g = widget::token::Grant { token: "t".into(), expires_at: 0, base: "https://gw".into(), ui: None };
/// assert_eq!(
///     widget::token::frame_src(&g, sdk::Lang::Ja, "http://localhost:8080"),
///     "https://gw/chat?token=t&embed=1&lang=ja&parent=http%3A%2F%2Flocalhost%3A8080"
/// );
/// ```
pub fn frame_src(grant: &Grant, lang: Lang, parent_origin: &str) -> String {
    let options = ChatUrlOptions {
        embed: true,
        lang: Some(lang),
        parent: Some(parent_origin.to_owned()),
    };
    sdk::chat_url(&grant.base, &grant.token, &options)
}

/// A URL with its query (which may hold a token) cut off, for messages.
fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((path, _)) => format!("{path}?…"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
