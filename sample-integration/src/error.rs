//! How the site's request failures become HTTP answers.
//!
//! Every failure answers with the gateway's error shape,
//! `{"error": {"code", "message"}, "detail"}`, so the widget shows the
//! message under its "could not load" text. Server-side failures (5xx) say
//! only that something went wrong; the cause goes to the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failed request to the site.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SiteError {
    /// The request needs a signed-in user and has no valid session.
    #[error("Sign in on the site first.")]
    NotSignedIn,
    /// No such page or file.
    #[error("not found")]
    NotFound,
    /// A chat token could not be minted (for example a user name the
    /// gateway would refuse).
    #[error("could not mint a chat token: {0}")]
    Mint(#[from] sdk::LinkError),
    /// A page template failed (a bug: the templates are tested).
    #[error("rendering a page failed: {0}")]
    Render(#[from] minijinja::Error),
    /// A file of the built widget could not be read.
    #[error("reading a widget file failed: {0}")]
    WidgetFile(#[source] std::io::Error),
    /// The operating system's random source failed.
    #[error("no randomness for a session id: {0}")]
    Random(getrandom::Error),
}

impl SiteError {
    fn status(&self) -> StatusCode {
        match self {
            SiteError::NotSignedIn => StatusCode::UNAUTHORIZED,
            SiteError::Mint(sdk::LinkError::InvalidId(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            SiteError::NotFound => StatusCode::NOT_FOUND,
            SiteError::Mint(_)
            | SiteError::Render(_)
            | SiteError::WidgetFile(_)
            | SiteError::Random(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SiteError::NotSignedIn => "not_signed_in",
            SiteError::Mint(sdk::LinkError::InvalidId(_)) => "validation_failed",
            SiteError::NotFound => "not_found",
            _ => "internal",
        }
    }
}

impl IntoResponse for SiteError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "Something went wrong on the site; its log has the details.".to_owned()
        } else {
            self.to_string()
        };
        let body = json!({
            "error": { "code": self.code(), "message": message },
            "detail": message,
        });
        (status, Json(body)).into_response()
    }
}
