//! `GET /v1/admin/audit` and `GET /v1/admin/operators`: admins only.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::operators::Access;
use crate::state::AppState;
use crate::store::operators::{AuditRecord, OperatorRecord};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditQuery {
    limit: Option<u32>,
    before: Option<i64>,
}

/// One audit line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditView {
    id: i64,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    actor: String,
    action: String,
    target: String,
    address: String,
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        AuditView {
            id: r.id.unwrap_or_default(),
            at: r.at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            address: r.address,
        }
    }
}

/// An operator as listed (never the hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OperatorView {
    email: String,
    role: String,
    systems: Option<Vec<String>>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<OperatorRecord> for OperatorView {
    fn from(o: OperatorRecord) -> Self {
        OperatorView {
            email: o.email,
            role: o.role,
            systems: o.systems,
            created_at: o.created_at,
        }
    }
}

/// The newest audit lines, newest first.
pub(crate) async fn audit_lines(
    state: &AppState,
    access: &Access,
    limit: Option<u32>,
    before: Option<i64>,
) -> ApiResult<Vec<AuditView>> {
    access.require_admin()?;
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::Validation("limit must be 1 to 1000".into()));
    }
    Ok(state
        .store
        .list_audit(limit, before)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Every operator.
pub(crate) async fn all_operators(
    state: &AppState,
    access: &Access,
) -> ApiResult<Vec<OperatorView>> {
    access.require_admin()?;
    Ok(state
        .store
        .list_operators()
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin",
    summary = "The audit log, newest first (admins)",
    params(AuditQuery),
    responses((status = 200, description = "Entries", body = Vec<AuditView>),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    access: Access,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditView>>> {
    Ok(Json(audit_lines(&state, &access, q.limit, q.before).await?))
}

#[utoipa::path(get, path = "/v1/admin/operators", tag = "admin",
    summary = "The operators (admins)",
    responses((status = 200, description = "Operators", body = Vec<OperatorView>),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn operators(
    State(state): State<AppState>,
    access: Access,
) -> ApiResult<Json<Vec<OperatorView>>> {
    Ok(Json(all_operators(&state, &access).await?))
}
