//! `GET /`: the front page. What the gateway is, the path of a message as
//! a picture, how to add chat to a project in three steps (with snippets
//! naming this gateway's public URL), links to the API documentation, the
//! console and, when the demo answers the `demo` system, a demo chat.
//!
//! Language: `lang` in the query, else `Accept-Language`, else English;
//! the page links to itself in the other languages.
//!
//! A signed-in operator (the `/admin` session cookie) also sees the systems
//! within their scope, each with its upstreams' kinds and health
//! ([`Catalog::health`](crate::catalog::Catalog::health), probed at most
//! every 30 s). Signed out, the page names no system and calls no
//! upstream; an API key in the request does not count as signed in.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::i18n::{self, FrontTexts};
use super::templates;
use super::{html, render_failure};
use crate::catalog::{Health, SystemHealth};
use crate::error::ApiError;
use crate::identity::{Identity, SystemId};
use crate::operators::{Access, Actor};
use crate::state::AppState;
use crate::upstream::RouteKey;

/// The system the demo link chats as.
const DEMO_SYSTEM: &str = "demo";

/// How long the demo link's token lasts.
const DEMO_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// One row of the systems table.
#[derive(Debug, Serialize)]
struct RouteRow {
    /// The system; `None` for every other system.
    system: Option<String>,
    enabled: bool,
    /// The agent, `None` for the system's default.
    agent: Option<String>,
    /// `None` when nothing answers the system.
    kind: Option<&'static str>,
    health: Option<Health>,
    /// Rows of one system after the first leave its cell out.
    first: bool,
    /// How many rows its system spans.
    span: usize,
}

/// `GET /`.
pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    access: Result<Access, ApiError>,
) -> Response {
    let lang = super::admin_lang(&headers, query.as_deref());
    let operator = match &access {
        Ok(
            access @ Access {
                actor: Actor::Operator { email, .. },
                ..
            },
        ) => Some((access, email.clone())),
        _ => None,
    };
    let rows = match operator {
        Some((access, _)) => Some(rows_for(&state, access).await),
        None => None,
    };
    let texts = i18n::front(lang);
    let base = state.config.public_url.trim_end_matches('/');
    let page = context! {
        t => Serde(texts),
        steps => Serde(steps(texts.page, base)),
        demo_url => demo_url(&state),
        signed_in => operator.as_ref().map(|(_, email)| email.clone()),
        rows => rows.map(Serde),
    };
    match templates::render("front.html", lang, page) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => render_failure(&e),
    }
}

/// One of the three steps.
#[derive(Debug, Serialize)]
struct Step {
    heading: &'static str,
    text: &'static str,
    /// Code to copy, naming this gateway at `base`.
    snippet: String,
}

/// Register, mint a token, open the chat: each with a snippet that works
/// against this gateway as it is (a test runs the second one).
fn steps(t: &FrontTexts, base: &str) -> [Step; 3] {
    [
        Step {
            heading: t.step1_heading,
            text: t.step1_text,
            snippet: "CHAT_GATEWAY_API_KEY=<a long random key>\n\
                      DIFY_MY_SITE_BASE_URL=https://dify.example.com\n\
                      DIFY_MY_SITE_API_KEY=app-…"
                .to_owned(),
        },
        Step {
            heading: t.step2_heading,
            text: t.step2_text,
            snippet: format!(
                "curl -H \"X-API-Key: $CHAT_GATEWAY_API_KEY\" \\\n  \
                 \"{base}/v1/chat-token?system_id=my-site&user_id=12345\"\n\
                 # {{\"token\": \"eyJ…\", \"expires_at\": 1800000000}}"
            ),
        },
        Step {
            heading: t.step3_heading,
            text: t.step3_text,
            snippet: format!(
                "<a href=\"{base}/chat?token=TOKEN\">Chat</a>\n\
                 <iframe src=\"{base}/chat?token=TOKEN&embed=1\" title=\"Chat\"\n        \
                 width=\"380\" height=\"520\"></iframe>"
            ),
        },
    ]
}

/// The systems `access` may read, one row per upstream.
async fn rows_for(state: &AppState, access: &Access) -> Vec<RouteRow> {
    let systems = match state.catalog.health().await {
        Ok(systems) => systems,
        Err(e) => {
            tracing::warn!(error = %e, "listing systems for the front page failed");
            return Vec::new();
        }
    };
    systems
        .iter()
        .filter(|s| s.system.as_deref().is_none_or(|id| access.can_read(id)))
        .flat_map(rows_of)
        .collect()
}

fn rows_of(system: &SystemHealth) -> Vec<RouteRow> {
    if system.routes.is_empty() {
        return vec![RouteRow {
            system: system.system.clone(),
            enabled: system.enabled,
            agent: None,
            kind: None,
            health: None,
            first: true,
            span: 1,
        }];
    }
    let span = system.routes.len();
    system
        .routes
        .iter()
        .enumerate()
        .map(|(i, route)| RouteRow {
            system: system.system.clone(),
            enabled: system.enabled,
            agent: route.agent.clone(),
            kind: Some(route.kind),
            health: Some(route.health),
            first: i == 0,
            span,
        })
        .collect()
}

/// A chat page link for a fresh visitor of the `demo` system, when the
/// built-in demo is what answers it (so the link costs no upstream call).
fn demo_url(state: &AppState) -> Option<String> {
    let system = SystemId::parse(DEMO_SYSTEM).ok()?;
    let routes = state.catalog.routes();
    let upstream = routes.resolve(&RouteKey::system(&system))?;
    if upstream.target().is_some() || state.auth.check_allowed(&system).is_err() {
        return None;
    }
    let visitor = format!("visitor-{}", uuid::Uuid::now_v7().simple());
    let who = Identity::parse(DEMO_SYSTEM, &visitor).ok()?;
    let (token, _) = state.auth.mint(&who, DEMO_TOKEN_TTL).ok()?;
    Some(format!("/chat?token={token}"))
}
