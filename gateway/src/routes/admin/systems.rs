//! `/v1/admin/systems[/{id}]`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Admin;
use crate::catalog::{SystemInput, SystemView};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct SystemList {
    systems: Vec<SystemView>,
}

#[utoipa::path(get, path = "/v1/admin/systems", tag = "admin",
    summary = "Systems: stored ones and the environment's (read-only)",
    responses((status = 200, description = "Systems", body = SystemList), (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn list(State(state): State<AppState>, _: Admin) -> ApiResult<Json<SystemList>> {
    Ok(Json(SystemList {
        systems: state.catalog.list_systems().await?,
    }))
}

#[utoipa::path(post, path = "/v1/admin/systems", tag = "admin",
    summary = "Create a system",
    request_body = crate::catalog::SystemInput,
    responses((status = 201, description = "Created", body = crate::catalog::SystemView),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 409, description = "Already exists, or read-only", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(input): ApiJson<SystemInput>,
) -> ApiResult<Response> {
    let created = state.catalog.create_system(input).await?;
    admin.audit(&state, "system.create", &created.id).await;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(get, path = "/v1/admin/systems/{id}", tag = "admin",
    summary = "One system",
    params(("id" = String, Path, description = "The system id")),
    responses((status = 200, description = "The system", body = crate::catalog::SystemView),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn show(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SystemView>> {
    Ok(Json(state.catalog.get_system(&id).await?))
}

#[utoipa::path(patch, path = "/v1/admin/systems/{id}", tag = "admin",
    summary = "Change a stored system (display name, origins, enabled)",
    params(("id" = String, Path, description = "The system id")),
    request_body = crate::catalog::SystemInput,
    responses((status = 200, description = "The system as stored now", body = crate::catalog::SystemView),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody),
        (status = 409, description = "Already exists, or read-only", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn update(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<SystemInput>,
) -> ApiResult<Json<SystemView>> {
    let updated = state.catalog.update_system(&id, input).await?;
    admin.audit(&state, "system.update", &id).await;
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/v1/admin/systems/{id}", tag = "admin",
    summary = "Delete a stored system and its agents",
    params(("id" = String, Path, description = "The system id")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody),
        (status = 409, description = "Already exists, or read-only", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    state.catalog.delete_system(&id).await?;
    admin.audit(&state, "system.delete", &id).await;
    Ok(crate::routes::no_content())
}
