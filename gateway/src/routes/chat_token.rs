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
use crate::extract::{ApiQuery, ClientAddr};
use crate::identity::Identity;
use crate::scope::Permission;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/chat-token", get(chat_token))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct TokenQuery {
    system_id: Option<String>,
    user_id: Option<String>,
    lang: Option<String>,
}

#[utoipa::path(get, path = "/v1/chat-token", tag = "tokens",
    summary = "Mint a chat token for one end user",
    params(TokenQuery),
    responses((status = 200, description = "A token, its expiry and the widget's texts", body = sdk::ChatTokenResponse),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("api_key" = [])))]
pub(super) async fn chat_token(
    State(state): State<AppState>,
    key: ServerKey,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Response> {
    state
        .limits
        .admit_mint(client)
        .map_err(ApiError::RateLimited)?;
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
    if let Some(origin) = browser_origin(&headers)
        && !state.origins.allows_for(&who.system, origin)
    {
        return Err(ApiError::OriginNotAllowed);
    }
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
