//! The site's router: every module's routes on one state, and the security
//! headers every response carries.
//!
//! Invariant: every response carries a `Content-Security-Policy` that allows
//! scripts and styles from the site only (plus `'wasm-unsafe-eval'` for the
//! widget), frames from the gateway only, and API calls to the site only;
//! the DrillQuiz page alone widens `connect-src` to the gateway (its widget
//! calls `/v1/chat-token` from the browser).

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::SiteState;
pub use crate::state::{SiteSettings, SiteSetupError};
use crate::{cointutor, drillquiz, pages, session, widget_files};

/// The whole site: pages, the demo login, CoinTutor's endpoints, the
/// DrillQuiz page and the widget's files.
pub fn router(settings: SiteSettings) -> Result<Router, SiteSetupError> {
    let state = SiteState::new(settings)?;
    let csp = HeaderValue::from_str(&state.content_security_policy(false))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let headers = [
        (header::CONTENT_SECURITY_POLICY, csp),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    let mut router = Router::new()
        .merge(pages::router())
        .merge(session::router())
        .merge(cointutor::router(&state))
        .merge(drillquiz::router())
        .merge(widget_files::router());
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    Ok(router.with_state(state))
}
