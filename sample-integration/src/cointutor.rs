//! CoinTutor: the recommended integration. Its backend mints short-lived
//! chat tokens for the signed-in user with the SDK ([`sdk::ChatLinks`]),
//! using the secret it shares with the gateway; no secret reaches a page.
//!
//! - `GET /api/chat-token?lang=ko`: the widget's token source, in the shape
//!   of the gateway's own `/v1/chat-token` (token, `expires_at`, `ui`);
//! - `GET /api/chat-url?embed=1&lang=ko`: a ready chat URL (`{"url": …}`),
//!   for the seed's link, redirect and iframe options;
//! - `GET /cointutor/chat`: redirects to a fresh chat URL (the link option);
//! - `GET /cointutor`: the widget (three lines of HTML) and the three
//!   options; `GET /cointutor/iframe`: the chat in a plain iframe.
//!
//! `SAMPLE_TOKEN_DELAY_MS` delays the three token routes (a layer, not part
//! of the handlers), so the widget's loading state can be watched.

use std::sync::LazyLock;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use minijinja::context;
use sdk::{ChatTokenResponse, ChatUrlOptions};
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::SiteError;
use crate::pages::{self, Layout, PageQuery, attribute};
use crate::redirect::see_other;
use crate::session::{SignedIn, Visitor};
use crate::state::SiteState;
use crate::widget_files::MOUNT;

/// CoinTutor's system id at the gateway.
pub(crate) const SYSTEM_ID: &str = "cointutor";

pub(crate) fn router(site: &SiteState) -> Router<SiteState> {
    let tokens = Router::new()
        .route("/api/chat-token", get(chat_token))
        .route("/api/chat-url", get(chat_url))
        .route("/cointutor/chat", get(open_chat))
        .route_layer(middleware::from_fn_with_state(site.clone(), token_delay))
        .route_layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new()
        .route("/cointutor", get(page))
        .route("/cointutor/iframe", get(iframe_page))
        .merge(tokens)
}

// [shown on the CoinTutor page]
/// `GET /api/chat-token?lang=ko`: a chat token for the signed-in user.
async fn chat_token(
    State(site): State<SiteState>,
    user: SignedIn,
    Query(q): Query<TokenQuery>,
) -> Result<Json<ChatTokenResponse>, SiteError> {
    let links = site.links();
    let answer = links.token_response(SYSTEM_ID, &user.name, q.lang())?;
    Ok(Json(answer))
}
// [end of what the page shows]

/// Query of the token routes.
#[derive(Debug, Default, Deserialize)]
struct TokenQuery {
    lang: Option<String>,
    embed: Option<String>,
}

impl TokenQuery {
    fn lang(&self) -> Option<sdk::Lang> {
        self.lang.as_deref().and_then(sdk::Lang::from_tag)
    }

    fn options(&self) -> ChatUrlOptions {
        ChatUrlOptions {
            embed: matches!(self.embed.as_deref(), Some("1" | "true")),
            lang: self.lang(),
            parent: None,
        }
    }
}

/// The answer of `GET /api/chat-url`.
#[derive(Debug, Serialize)]
struct ChatUrl {
    url: String,
}

/// `GET /api/chat-url?embed=1&lang=ko`: a fresh chat URL for the signed-in
/// user.
async fn chat_url(
    State(site): State<SiteState>,
    user: SignedIn,
    Query(q): Query<TokenQuery>,
) -> Result<Json<ChatUrl>, SiteError> {
    let url = site.links().url_with(SYSTEM_ID, &user.name, &q.options())?;
    Ok(Json(ChatUrl { url }))
}

/// `GET /cointutor/chat?lang=ko`: off to the chat page (signed in), or to
/// the login first.
async fn open_chat(
    State(site): State<SiteState>,
    visitor: Visitor,
    Query(q): Query<TokenQuery>,
) -> Result<Response, SiteError> {
    let Some(user) = visitor.user else {
        return Ok(see_other("/?next=/cointutor"));
    };
    let url = site.links().url_with(SYSTEM_ID, &user, &q.options())?;
    Ok(see_other(&url))
}

/// Wait `SAMPLE_TOKEN_DELAY_MS` before a token route answers.
async fn token_delay(State(site): State<SiteState>, request: Request, next: Next) -> Response {
    let delay = site.token_delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    next.run(request).await
}

/// The widget's tag on CoinTutor's pages: the whole HTML a developer adds.
pub(crate) fn widget_tag(gateway_url: &str) -> String {
    format!(
        "<script type=\"module\" src=\"{MOUNT}/loader.js\"\n        \
         data-token-url=\"/api/chat-token\"\n        \
         data-gateway=\"{}\"></script>",
        attribute(gateway_url)
    )
}

/// The token endpoint's code as the page shows it: the source between the
/// markers above, so the page cannot drift from what runs.
fn endpoint_code() -> &'static str {
    static CODE: LazyLock<String> = LazyLock::new(|| {
        let source = include_str!("cointutor.rs");
        let start = "// [shown on the CoinTutor page]\n";
        source
            .split_once(start)
            .and_then(|(_, rest)| rest.split_once("// [end of what the page shows]"))
            .map(|(code, _)| code.trim_end().to_owned())
            .unwrap_or_default()
    });
    &CODE
}

async fn page(
    State(site): State<SiteState>,
    visitor: Visitor,
    Query(q): Query<PageQuery>,
) -> Result<Response, SiteError> {
    let tag = widget_tag(site.gateway_url());
    pages::render(
        "cointutor.html",
        context! {
            layout => Layout::context(&visitor, q.lang(), "/cointutor"),
            widget_tag => tag,
            endpoint_code => endpoint_code(),
            token_ttl_secs => site.token_ttl().as_secs(),
            gateway_url => site.gateway_url(),
        },
    )
}

async fn iframe_page(
    State(site): State<SiteState>,
    visitor: Visitor,
    Query(q): Query<PageQuery>,
) -> Result<Response, SiteError> {
    pages::render(
        "cointutor_iframe.html",
        context! {
            layout => Layout::context(&visitor, q.lang(), "/cointutor/iframe"),
            token_ttl_secs => site.token_ttl().as_secs(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_the_real_endpoint() {
        let code = endpoint_code();
        assert!(code.starts_with("/// `GET /api/chat-token"), "{code}");
        assert!(code.contains("async fn chat_token("), "{code}");
        assert!(code.ends_with('}'), "{code}");
        assert!(
            code.lines().count() <= 15,
            "keep the endpoint small:\n{code}"
        );
    }

    #[test]
    fn the_readme_shows_the_same_endpoint() {
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(endpoint_code()),
            "update the README's endpoint code"
        );
    }

    #[test]
    fn the_widget_tag_is_three_lines() {
        let tag = widget_tag("http://127.0.0.1:8088");
        assert_eq!(tag.lines().count(), 3, "{tag}");
        assert!(tag.contains(r#"data-gateway="http://127.0.0.1:8088""#));
        assert!(!widget_tag(r#"http://x"><script>"#).contains("\"><script>"));
    }
}
