//! `GET /v1/chat-token?system_id=…&user_id=…&lang=…`: mint a chat token for
//! one end user (server callers, `X-API-Key`).
//!
//! The recommended way is for a site's *backend* to mint tokens with the SDK,
//! so no secret reaches a browser. This endpoint exists for sites built for
//! the seed gateway, whose widget calls it from the browser: such calls must
//! come from an allowed origin (see [`crate::origins`]); calls without
//! `Origin` or `Referer` are server-side and pass. `lang` (en, es, ko, zh,
//! ja, region tags accepted) adds the widget's shell texts as `ui`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sdk::{ChatTokenResponse, Lang, UiTexts};
use serde::Deserialize;

use crate::auth::ServerKey;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::identity::Identity;
use crate::scope::Permission;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/chat-token", get(chat_token))
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    system_id: Option<String>,
    user_id: Option<String>,
    lang: Option<String>,
}

async fn chat_token(
    State(state): State<AppState>,
    key: ServerKey,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Response> {
    if let Some(origin) = browser_origin(&headers)
        && !state.origins.allows(origin)
    {
        return Err(ApiError::OriginNotAllowed);
    }
    let system_id = q.system_id.as_deref().map(str::trim).unwrap_or("");
    let user_id = q.user_id.as_deref().unwrap_or("");
    if system_id.is_empty() || user_id.is_empty() {
        return Err(ApiError::Validation(
            "system_id and user_id are required".into(),
        ));
    }
    let who =
        Identity::parse(system_id, user_id).map_err(|e| ApiError::Validation(e.to_string()))?;
    state.auth.check_allowed(&who.system)?;
    key.require_for(Permission::Tokens, who.system.as_str())?;
    let ui = match q.lang.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => None,
        Some(tag) => Some(UiTexts::for_lang(Lang::from_tag(tag).ok_or_else(|| {
            ApiError::Validation("lang must be one of en, es, ko, zh, ja".into())
        })?)),
    };
    let (token, expires_at) = state.auth.mint(&who, state.config.jwt.token_ttl)?;
    let mut resp = Json(ChatTokenResponse {
        token,
        expires_at: Some(expires_at),
        ui,
    })
    .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The origin a browser sent: `Origin`, else the `Referer` URL.
fn browser_origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|v| v.to_str().unwrap_or("invalid"))
}
