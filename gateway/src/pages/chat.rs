//! `GET /chat?token=…` (alias `/chat-api`): the chat page end users see.
//!
//! Query: `token` (the chat JWT), `embed=1` (compact layout for an iframe),
//! `lang` (a language tag; region tags such as `ko-KR` work) and `parent`
//! (the widget's host-page origin, used for `postMessage` only when it is an
//! allowed origin).
//!
//! Language: `lang` when it names a supported language, else the first
//! supported language of `Accept-Language`, else English (the page may still
//! pick one from `navigator.languages` when the header named none).
//!
//! A valid token gets the page (and the visit is recorded, so the user is a
//! sync target); a missing token is a 400 page, a refused token a 401 page
//! (expired tokens say so) and a system outside the allowlist a 403 page —
//! all localized. Error pages load their own entry module (`chat-error.js`):
//! it removes the token from the address bar, inside the widget asks the
//! parent window for a fresh token, and after a reload (the address no
//! longer has the token) resumes with the token kept for this tab.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use sdk::Lang;
use sdk::jwt::JwtError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::i18n::{self, ChatTexts, PageTexts};
use super::templates;
use super::{html, render_failure};
use crate::config::normalise_origin;
use crate::error::ApiError;
use crate::identity::Identity;
use crate::origins::OriginPolicy;
use crate::state::AppState;

/// The query string of the chat page. Unknown parameters are ignored.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ChatQuery {
    token: Option<String>,
    embed: Option<String>,
    lang: Option<String>,
    parent: Option<String>,
}

/// Where the page language came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum LangSource {
    /// The `lang` parameter.
    Param,
    /// The `Accept-Language` header.
    Header,
    /// Neither named a supported language.
    Default,
}

/// Why the page cannot be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum PageError {
    MissingToken,
    TokenExpired,
    TokenInvalid,
    NotAllowed,
}

impl PageError {
    fn from_api(e: &ApiError) -> Self {
        match e {
            ApiError::Token(JwtError::Expired) => PageError::TokenExpired,
            ApiError::SystemNotAllowed | ApiError::SystemDisabled => PageError::NotAllowed,
            _ => PageError::TokenInvalid,
        }
    }

    fn status(self) -> StatusCode {
        match self {
            PageError::MissingToken => StatusCode::BAD_REQUEST,
            PageError::TokenExpired | PageError::TokenInvalid => StatusCode::UNAUTHORIZED,
            PageError::NotAllowed => StatusCode::FORBIDDEN,
        }
    }
}

/// Data the page script reads from `<script type="application/json" id="boot">`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ChatBoot<'a> {
    mode: &'static str,
    token: &'a str,
    system_id: &'a str,
    user_id: &'a str,
    embed: bool,
    lang: Lang,
    lang_source: LangSource,
    parent_origin: Option<&'a str>,
    max_chars: usize,
    texts: BTreeMap<&'static str, PageTexts<ChatTexts>>,
}

/// Boot data of a token error page.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBoot<'a> {
    mode: &'static str,
    error: PageError,
    parent_origin: Option<&'a str>,
}

/// `GET /chat` and `GET /chat-api`.
pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ChatQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let (lang, lang_source) = pick_lang(query.lang.as_deref(), &headers);
    let embed = matches!(query.embed.as_deref(), Some("1" | "true"));
    let parent = query
        .parent
        .as_deref()
        .and_then(|p| parent_origin(&state.origins, p));
    let token = query.token.as_deref().map(str::trim).unwrap_or_default();
    if token.is_empty() {
        return error_page(PageError::MissingToken, lang, embed, parent.as_deref());
    }
    let identity = match state.auth.verify_token(token) {
        Ok(identity) => identity,
        Err(e) => return error_page(PageError::from_api(&e), lang, embed, parent.as_deref()),
    };
    if let Err(e) = state
        .store
        .record_visit(&identity, OffsetDateTime::now_utc())
        .await
    {
        // The page still works; only the sync target list misses this user.
        tracing::warn!(error = %e, "recording a chat-page visit failed");
    }
    let boot = ChatBoot {
        mode: "chat",
        token,
        system_id: identity.system.as_str(),
        user_id: identity.user.as_str(),
        embed,
        lang,
        lang_source,
        parent_origin: parent.as_deref(),
        max_chars: state.config.limits.max_message_chars,
        texts: Lang::ALL
            .into_iter()
            .map(|l| (l.as_str(), i18n::chat(l)))
            .collect(),
    };
    let ctx = context! {
        t => Serde(i18n::chat(lang)),
        embed => embed,
        parent => parent.is_some(),
        identity => context! { system => identity.system.as_str(), user => identity.user.as_str() },
        initial => initial(&identity),
        max_chars => state.config.limits.max_message_chars,
        boot => Serde(&boot),
    };
    let mut response = match templates::render("chat.html", lang, ctx) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => return render_failure(&e),
    };
    // A system created at runtime may be framed by its own origins too.
    let own = state.origins.own_origins(&identity.system);
    if !own.is_empty()
        && let Ok(csp) =
            HeaderValue::from_str(&super::content_security_policy_with(&state.origins, &own))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// The localized page for a token problem.
fn error_page(error: PageError, lang: Lang, embed: bool, parent: Option<&str>) -> Response {
    let t = i18n::chat(lang).page;
    let (heading, message, help) = match error {
        PageError::TokenExpired => (
            t.expired,
            "",
            if parent.is_some() {
                t.expired_reconnecting
            } else {
                t.expired_reopen
            },
        ),
        PageError::MissingToken => (t.error_heading, t.missing_token, t.error_help),
        PageError::TokenInvalid => (t.error_heading, t.invalid_token, t.error_help),
        PageError::NotAllowed => (t.error_heading, t.not_allowed, t.error_help),
    };
    let boot = ErrorBoot {
        mode: "error",
        error,
        parent_origin: parent,
    };
    let ctx = context! {
        heading => heading,
        message => message,
        help => help,
        embed => embed,
        boot => Serde(&boot),
    };
    match templates::render("error.html", lang, ctx) {
        Ok(body) => html(error.status(), body),
        Err(e) => render_failure(&e),
    }
}

/// The page language and where it came from.
fn pick_lang(param: Option<&str>, headers: &HeaderMap) -> (Lang, LangSource) {
    if let Some(lang) = param.and_then(Lang::from_tag) {
        return (lang, LangSource::Param);
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_preferences);
    match accept {
        Some(lang) => (lang, LangSource::Header),
        None => (Lang::En, LangSource::Default),
    }
}

/// The widget's host-page origin, if it is allowed, in the form browsers
/// report as `MessageEvent.origin` (no default port).
fn parent_origin(policy: &OriginPolicy, raw: &str) -> Option<String> {
    let origin = normalise_origin(raw)?;
    if !policy.allows(&origin) {
        return None;
    }
    let origin = match (origin.strip_suffix(":443"), origin.strip_suffix(":80")) {
        (Some(bare), _) if origin.starts_with("https://") => bare.to_owned(),
        (_, Some(bare)) if origin.starts_with("http://") => bare.to_owned(),
        _ => origin,
    };
    Some(origin)
}

/// The first letter of the user id, for the header avatar.
fn initial(identity: &Identity) -> String {
    identity
        .user
        .as_str()
        .chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, EnvVars};

    fn policy() -> OriginPolicy {
        let vars = EnvVars::from_pairs([
            ("CHAT_GATEWAY_ENV", "production"),
            (
                "CHAT_GATEWAY_JWT_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            ("CHAT_GATEWAY_API_KEY", "key-0123456789abcdef"),
            (
                "ALLOWED_CHAT_TOKEN_ORIGINS",
                "https://quiz.example.com:443,http://shop.example.com:8080",
            ),
        ]);
        OriginPolicy::from_config(&Config::from_env(&vars).unwrap(), Default::default())
    }

    #[test]
    fn parents_must_be_allowed_and_match_browser_origins() {
        let p = policy();
        assert_eq!(
            parent_origin(&p, "https://quiz.example.com:443").as_deref(),
            Some("https://quiz.example.com")
        );
        assert_eq!(
            parent_origin(&p, "http://shop.example.com:8080/page").as_deref(),
            Some("http://shop.example.com:8080")
        );
        assert_eq!(parent_origin(&p, "https://evil.example.com"), None);
        assert_eq!(parent_origin(&p, "http://localhost:3000"), None);
        assert_eq!(parent_origin(&p, "*"), None);
    }

    #[test]
    fn language_from_param_then_header() {
        let mut h = HeaderMap::new();
        assert_eq!(pick_lang(None, &h), (Lang::En, LangSource::Default));
        h.insert(header::ACCEPT_LANGUAGE, "fr-FR,ja;q=0.8".parse().unwrap());
        assert_eq!(pick_lang(None, &h), (Lang::Ja, LangSource::Header));
        assert_eq!(pick_lang(Some("ko-KR"), &h), (Lang::Ko, LangSource::Param));
        assert_eq!(pick_lang(Some("xx"), &h), (Lang::Ja, LangSource::Header));
    }
}
