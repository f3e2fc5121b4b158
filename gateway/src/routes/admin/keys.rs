//! `POST/GET /v1/admin/keys`, `DELETE /v1/admin/keys/{id}`: scoped API keys.
//! Admins only. A key is shown once, when created; the gateway keeps only
//! its SHA-256.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::identity::SystemId;
use crate::operators::keys::digest;
use crate::operators::{Access, audit};
use crate::routes::no_content;
use crate::scope::Permission;
use crate::state::AppState;
use crate::store::operators::ApiKeyRecord;

/// Longest key name.
const MAX_NAME: usize = 100;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewKey {
    pub(crate) name: String,
    /// Omitted or `null`: every system.
    #[serde(default)]
    pub(crate) systems: Option<Vec<String>>,
    pub(crate) permissions: Vec<String>,
    /// RFC 3339.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) expires_at: Option<OffsetDateTime>,
}

/// A key as listed (never the key itself).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KeyView {
    id: String,
    name: String,
    systems: Option<Vec<String>>,
    permissions: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
}

impl From<ApiKeyRecord> for KeyView {
    fn from(k: ApiKeyRecord) -> Self {
        KeyView {
            id: k.id,
            name: k.name,
            systems: k.systems,
            permissions: k.permissions,
            expires_at: k.expires_at,
            created_by: k.created_by,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key: the listing, plus the key, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedKey {
    pub(crate) key: String,
    #[serde(flatten)]
    view: KeyView,
}

/// Check `new` and store it as a key created by `access`.
pub(crate) async fn create_key(
    state: &AppState,
    access: &Access,
    new: NewKey,
) -> ApiResult<CreatedKey> {
    access.require_admin()?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::Validation(format!(
            "name must be 1 to {MAX_NAME} characters"
        )));
    }
    let mut permissions = Vec::new();
    for p in &new.permissions {
        let permission = Permission::parse(p.trim()).ok_or_else(|| {
            ApiError::Validation(format!(
                "unknown permission {p:?} (use chat, tokens, read, sync, admin)"
            ))
        })?;
        if !permissions.contains(&permission) {
            permissions.push(permission);
        }
    }
    if permissions.is_empty() {
        return Err(ApiError::Validation(
            "permissions must name at least one".into(),
        ));
    }
    let systems = match new.systems {
        None => None,
        Some(list) => {
            let mut systems = Vec::new();
            for s in list {
                let id =
                    SystemId::parse(s.trim()).map_err(|e| ApiError::Validation(e.to_string()))?;
                systems.push(id.as_str().to_owned());
            }
            if systems.is_empty() {
                return Err(ApiError::Validation(
                    "systems must name at least one, or be left out for every system".into(),
                ));
            }
            Some(systems)
        }
    };
    // An admin key manages every key and operator: limiting it to some
    // systems would promise what it cannot keep.
    if permissions.contains(&Permission::Admin) && systems.is_some() {
        return Err(ApiError::Validation(
            "a key with the admin permission covers every system; leave systems out".into(),
        ));
    }
    let now = OffsetDateTime::now_utc();
    if new.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::Validation(
            "expires_at must be in the future".into(),
        ));
    }
    let key = crate::secrets::scoped_key();
    let record = ApiKeyRecord {
        id: uuid::Uuid::now_v7().to_string(),
        digest: digest(&key),
        name: name.to_owned(),
        systems,
        permissions: permissions.iter().map(|p| p.as_str().to_owned()).collect(),
        expires_at: new.expires_at,
        created_by: access.actor_name(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    state.store.add_api_key(&record).await?;
    state.keys.invalidate();
    audit::record(
        &*state.store,
        &access.actor_name(),
        "key.create",
        &record.id,
        &access.address(),
    )
    .await;
    Ok(CreatedKey {
        key,
        view: record.into(),
    })
}

/// Revoke key `id`; `false` when there is no such live key.
pub(crate) async fn revoke_key(state: &AppState, access: &Access, id: &str) -> ApiResult<bool> {
    access.require_admin()?;
    let revoked = state
        .store
        .revoke_api_key(id, OffsetDateTime::now_utc())
        .await?;
    if revoked {
        state.keys.forget(id);
        audit::record(
            &*state.store,
            &access.actor_name(),
            "key.revoke",
            id,
            &access.address(),
        )
        .await;
    }
    Ok(revoked)
}

/// Every key, revoked ones included.
pub(crate) async fn all_keys(state: &AppState, access: &Access) -> ApiResult<Vec<KeyView>> {
    access.require_admin()?;
    Ok(state
        .store
        .list_api_keys()
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

#[utoipa::path(post, path = "/v1/admin/keys", tag = "admin",
    summary = "Create a scoped API key; the key is shown in this answer only",
    request_body = NewKey,
    responses((status = 201, description = "The key, once", body = CreatedKey),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn create(
    State(state): State<AppState>,
    access: Access,
    ApiJson(new): ApiJson<NewKey>,
) -> ApiResult<Response> {
    let created = create_key(&state, &access, new).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(get, path = "/v1/admin/keys", tag = "admin",
    summary = "The scoped API keys (never the keys themselves)",
    responses((status = 200, description = "Keys", body = Vec<KeyView>),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    access: Access,
) -> ApiResult<Json<Vec<KeyView>>> {
    Ok(Json(all_keys(&state, &access).await?))
}

#[utoipa::path(delete, path = "/v1/admin/keys/{id}", tag = "admin",
    summary = "Revoke a scoped API key (every replica within seconds)",
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    access: Access,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    if revoke_key(&state, &access, &id).await? {
        Ok(no_content())
    } else {
        Err(ApiError::RouteNotFound)
    }
}
