//! `POST /v1/tokens/revoke` (API key): revoke one chat token by its `jti`
//! (`{"jti": "…"}`), or every token of one user issued up to now
//! (`{"system_id": "…", "user_id": "…"}`).
//!
//! The revocation is stored, honoured by this replica at once and by the
//! others within their refresh interval (see [`crate::revocation`]). It is
//! kept as long as the tokens it revokes could be valid (the maximum token
//! lifetime).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::ServerKey;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::identity::Identity;
use crate::revocation::unix_now;
use crate::state::AppState;

/// Longest `jti` accepted (minted ones have 32 characters).
const MAX_JTI_CHARS: usize = 256;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/tokens/revoke", post(revoke))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RevokeRequest {
    jti: Option<String>,
    system_id: Option<String>,
    user_id: Option<String>,
}

/// What was revoked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Revoked {
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    /// For a user: tokens issued at or before this (Unix seconds) are
    /// refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_before: Option<i64>,
}

#[utoipa::path(post, path = "/v1/tokens/revoke", tag = "tokens",
    summary = "Revoke a chat token by its jti, or every token of a user issued until now",
    request_body = RevokeRequest,
    responses((status = 200, description = "What was revoked", body = Revoked),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("api_key" = [])))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    _key: ServerKey,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> ApiResult<Json<Revoked>> {
    let now = unix_now();
    let lifetime = i64::try_from(state.config.jwt.max_lifetime.as_secs()).unwrap_or(i64::MAX);
    // A token issued up to now expires (beyond the clock-skew allowance) by
    // then at the latest.
    let leeway = i64::try_from(sdk::jwt::Verifier::DEFAULT_LEEWAY_SECS).unwrap_or(0);
    let keep_until = now.saturating_add(lifetime).saturating_add(leeway);
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    match (req.jti, blank(&req.system_id) && blank(&req.user_id)) {
        (Some(jti), true) => {
            let jti = jti.trim().to_owned();
            if jti.is_empty() || jti.chars().count() > MAX_JTI_CHARS {
                return Err(ApiError::Validation(format!(
                    "jti must be 1 to {MAX_JTI_CHARS} characters"
                )));
            }
            state.store.revoke_token_id(&jti, now, keep_until).await?;
            state.auth.revocations().add_token_id(&jti);
            tracing::info!("a chat token was revoked by id");
            Ok(Json(Revoked {
                jti: Some(jti),
                system_id: None,
                user_id: None,
                issued_before: None,
            }))
        }
        (None, false) => {
            let (Some(system_id), Some(user_id)) = (req.system_id, req.user_id) else {
                return Err(ApiError::Validation(
                    "system_id and user_id are both required to revoke a user's tokens".into(),
                ));
            };
            let who = Identity::parse(&system_id, &user_id)
                .map_err(|e| ApiError::Validation(e.to_string()))?;
            state.auth.check_allowed(&who.system)?;
            state
                .store
                .revoke_user_tokens(&who, now, now, keep_until)
                .await?;
            state.auth.revocations().add_user(&who, now);
            tracing::info!(
                system = who.system.as_str(),
                "a user's chat tokens were revoked"
            );
            Ok(Json(Revoked {
                jti: None,
                system_id: Some(who.system.as_str().to_owned()),
                user_id: Some(who.user.as_str().to_owned()),
                issued_before: Some(now),
            }))
        }
        _ => Err(ApiError::Validation(
            "send either jti, or system_id and user_id (not both)".into(),
        )),
    }
}
