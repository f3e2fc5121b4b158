//! The HTML pages the gateway serves itself: the chat page end users see
//! (`/chat?token=…`, alias `/chat-api`), the front page at `/` (module
//! `front`), the API documentation at `/docs`, and the pages' static assets
//! under `/assets/`.
//!
//! A page is a handler module here, a template (module `templates`), its
//! text table (module `i18n`) and, if it runs script, one entry module
//! (module `assets`).
//!
//! Invariants:
//! - every response of this router carries the page security headers
//!   (`security_headers`): a `Content-Security-Policy` without inline
//!   scripts or styles and with `frame-ancestors` limited to the allowed
//!   origins, `Referrer-Policy: no-referrer`, `X-Content-Type-Options:
//!   nosniff`;
//! - HTML is `Cache-Control: no-store` (it carries a chat token); assets are
//!   served under a content hash and cached for a year;
//! - nothing is loaded from another host; everything put into HTML goes
//!   through the template engine's escaping (module `templates`);
//! - the chat token arrives in the query string, which the request log never
//!   records (see [`crate::routes`]), and the page removes it from the
//!   address bar after load.

mod admin;
mod assets;
mod chat;
mod console;
mod docs;
mod front;
mod i18n;
mod templates;

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::origins::OriginPolicy;
use crate::state::AppState;

pub use self::admin::{
    AgentFlash, AgentForm, KeysFlash, ProbeView, Problem, Problems, SystemFlash, SystemForm,
    agent_page, agents_page, keys_page, lang_of as admin_lang_of, login_page, system_page,
    systems_page,
};
pub use self::i18n::{
    AdminTexts, ChatTexts, CommonTexts, ConsoleTexts, FrontTexts, PageTexts, SystemsTexts,
};

/// The page routes, with their security headers.
pub fn router(state: &AppState) -> Router<AppState> {
    let csp = content_security_policy(&state.origins);
    let mut router = Router::new()
        .route("/", get(front::page))
        .route("/docs", get(docs::docs))
        .route("/chat", get(chat::page))
        .route("/chat-api", get(chat::page))
        .route("/assets/{file}", get(assets::serve));
    for (name, value) in security_headers(&csp) {
        // A page may set its own CSP (the chat page of a system with
        // origins of its own); the others get the common one.
        router = if name == header::CONTENT_SECURITY_POLICY {
            router.layer(SetResponseHeaderLayer::if_not_present(name, value))
        } else {
            router.layer(SetResponseHeaderLayer::overriding(name, value))
        };
    }
    router.merge(admin_router())
}

/// The `/admin` pages: the same headers, with a policy that allows their
/// forms to post here and no framing at all.
fn admin_router() -> Router<AppState> {
    let mut router = Router::new()
        .route("/admin", get(admin::home))
        .route("/admin/login", get(admin::login))
        .route("/admin/operators", get(admin::operators))
        .route("/admin/keys", get(admin::keys))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/systems", get(admin::systems::list))
        .route("/admin/systems/{id}", get(admin::systems::edit))
        .route("/admin/systems/{id}/agents", get(admin::agents::list))
        .route(
            "/admin/systems/{id}/agents/{agent}",
            get(admin::agents::edit),
        )
        .merge(console::router());
    for (name, value) in security_headers(ADMIN_CSP) {
        router = router.layer(SetResponseHeaderLayer::overriding(name, value));
    }
    router
}

/// The `/admin` pages' `Content-Security-Policy`.
pub const ADMIN_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The admin pages' language for a request: `lang` in the query, else
/// `Accept-Language`, else English.
pub fn admin_lang(headers: &HeaderMap, query: Option<&str>) -> sdk::Lang {
    let lang = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.into_owned())
    });
    admin::lang_of(lang.as_deref(), headers)
}

/// The headers every page response carries.
fn security_headers(csp: &str) -> Vec<(HeaderName, HeaderValue)> {
    let csp = HeaderValue::from_str(csp).unwrap_or_else(|_| HeaderValue::from_static(FALLBACK_CSP));
    vec![
        (header::CONTENT_SECURITY_POLICY, csp),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ),
    ]
}

/// Used only if the configured origins cannot form a header value.
const FALLBACK_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'self'";

/// The `Content-Security-Policy` of the pages: scripts, styles, images and
/// API calls from this origin only; no inline code; framing only by the
/// allowed origins (and, in development mode, any loopback origin).
pub fn content_security_policy(origins: &OriginPolicy) -> String {
    content_security_policy_with(origins, &[])
}

/// [`content_security_policy`], also letting `extra` origins (a runtime
/// system's own) frame the page.
pub fn content_security_policy_with(origins: &OriginPolicy, extra: &[String]) -> String {
    let mut ancestors: Vec<String> = vec!["'self'".into()];
    let mut listed: Vec<&str> = origins
        .listed()
        .chain(extra.iter().map(String::as_str))
        .filter(|o| is_plain_origin(o))
        .collect();
    listed.sort_unstable();
    listed.dedup();
    ancestors.extend(listed.into_iter().map(str::to_owned));
    if origins.allows_loopback() {
        ancestors.push("http://localhost:*".into());
        ancestors.push("http://127.0.0.1:*".into());
    }
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {}",
        ancestors.join(" ")
    )
}

/// Whether an origin can go into a CSP source list as is (a configured
/// origin with `;` or a blank in it would otherwise add directives).
fn is_plain_origin(origin: &str) -> bool {
    !origin.is_empty()
        && origin.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'.' | b'-' | b'[' | b']')
        })
}

/// An HTML response that must not be stored (it may carry a chat token).
fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The page shown when a template fails to render (a bug: the templates are
/// compiled in and covered by tests).
fn render_failure(error: &minijinja::Error) -> Response {
    tracing::error!(error = %error, "rendering a page failed");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        "<!doctype html><title>Error</title><p>Internal error. The gateway's log has the details.</p>"
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, EnvVars};

    fn policy(extra: &[(&str, &str)]) -> OriginPolicy {
        let mut vars = EnvVars::from_pairs([
            (
                "CHAT_GATEWAY_JWT_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            ("CHAT_GATEWAY_API_KEY", "key-0123456789abcdef"),
            ("CHAT_GATEWAY_URL", "https://chat.example.com"),
        ]);
        for (k, v) in extra {
            vars.set(*k, *v);
        }
        OriginPolicy::from_config(&Config::from_env(&vars).unwrap(), Default::default())
    }

    #[test]
    fn csp_frames_only_allowed_origins() {
        let csp = content_security_policy(&policy(&[
            ("CHAT_GATEWAY_ENV", "production"),
            (
                "ALLOWED_CHAT_TOKEN_ORIGINS",
                "https://b.example, https://a.example:8443",
            ),
        ]));
        assert!(
            csp.ends_with(
                "frame-ancestors 'self' https://a.example:8443 https://b.example https://chat.example.com"
            ),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(!csp.contains("localhost"), "{csp}");
        assert!(csp.contains("script-src 'self';"), "{csp}");
    }

    #[test]
    fn csp_allows_loopback_frames_in_development() {
        let csp = content_security_policy(&policy(&[]));
        assert!(
            csp.ends_with("'self' https://chat.example.com http://localhost:* http://127.0.0.1:*"),
            "{csp}"
        );
    }

    #[test]
    fn odd_origins_stay_out_of_the_policy() {
        assert!(is_plain_origin("https://a.example:443"));
        assert!(!is_plain_origin("https://a.example; script-src *"));
        assert!(!is_plain_origin(""));
    }
}
