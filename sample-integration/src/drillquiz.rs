//! DrillQuiz: the seed-compatible widget flow, for sites migrating from the
//! seed's `ChatWidget.vue`. The widget asks the gateway's `/v1/chat-token`
//! itself, with a gateway API key **in the page**, for the signed-in user
//! (or a per-browser anonymous id, see `static/drillquiz.js`).
//!
//! Invariants: this page is the only one that contains the API key, and it
//! says why that is unsafe; its CSP alone lets page scripts call the
//! gateway (`connect-src`).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;

use crate::error::SiteError;
use crate::pages::{self, Layout, PageQuery, attribute};
use crate::session::Visitor;
use crate::state::SiteState;

/// DrillQuiz's system id at the gateway.
pub(crate) const SYSTEM_ID: &str = "drillquiz";

pub(crate) fn router() -> Router<SiteState> {
    Router::new().route("/drillquiz", get(page))
}

/// The page's widget tag: DrillQuiz's small module reads these attributes
/// and mounts the widget with the `apiKey` token source.
pub(crate) fn widget_tag(gateway_url: &str, api_key: &str, user: Option<&str>) -> String {
    format!(
        "<script type=\"module\" src=\"/static/drillquiz.js\"\n        \
         data-gateway=\"{}\" data-api-key=\"{}\"\n        \
         data-system-id=\"{SYSTEM_ID}\" data-user-id=\"{}\"></script>",
        attribute(gateway_url),
        attribute(api_key),
        attribute(user.unwrap_or_default()),
    )
}

async fn page(
    State(site): State<SiteState>,
    visitor: Visitor,
    Query(q): Query<PageQuery>,
) -> Result<Response, SiteError> {
    let tag = widget_tag(site.gateway_url(), site.api_key(), visitor.user.as_deref());
    let mut response = pages::render(
        "drillquiz.html",
        context! {
            layout => Layout::context(&visitor, q.lang(), "/drillquiz"),
            widget_tag => tag,
            gateway_url => site.gateway_url(),
        },
    )?;
    if let Ok(csp) = HeaderValue::from_str(&site.content_security_policy(true)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_names_the_user_or_leaves_it_to_the_browser() {
        let tag = widget_tag("http://127.0.0.1:8088", "tzc_key", Some("alice"));
        assert_eq!(tag.lines().count(), 3, "{tag}");
        assert!(tag.contains(r#"data-api-key="tzc_key""#), "{tag}");
        assert!(tag.contains(r#"data-user-id="alice""#), "{tag}");
        let anonymous = widget_tag("http://127.0.0.1:8088", "tzc_key", None);
        assert!(anonymous.contains(r#"data-user-id="""#), "{anonymous}");
    }
}
