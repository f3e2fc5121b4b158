//! The token endpoint's answer: `GET /tz-chat/token?lang=ko` →
//! [`ChatTokenResponse`](crate::ChatTokenResponse), or the gateway's JSON
//! error shape.

use ::axum::http::{HeaderValue, StatusCode, header};
use ::axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::{ChatLinks, ErrorBody, ErrorCode, Lang, LinkError};

/// The answer for `user` (`None`: nobody is signed in) and the request's
/// query string. An unknown `lang` is ignored: the widget keeps its own
/// texts.
pub(super) fn answer(
    links: &ChatLinks,
    system_id: &str,
    user: Option<&str>,
    query: Option<&str>,
) -> Response {
    let Some(user) = user else {
        return error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::MissingCredentials,
            "Sign in to chat.",
        );
    };
    match links.token_response(system_id, user, lang(query)) {
        Ok(answer) => json(StatusCode::OK, &answer),
        Err(LinkError::InvalidId(reason)) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            &reason,
        ),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "Could not mint a chat token.",
        ),
    }
}

/// The `lang` parameter the widget adds (`?lang=ko`).
fn lang(query: Option<&str>) -> Option<Lang> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "lang")
        .and_then(|(_, tag)| Lang::from_tag(&tag))
}

fn error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    json(status, &ErrorBody::new(code, message))
}

/// `body` as JSON, never cached (a token is a credential).
fn json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
