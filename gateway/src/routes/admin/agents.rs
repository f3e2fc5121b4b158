//! `/v1/admin/systems/{id}/agents[/{agent}]`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Admin;
use crate::catalog::{AgentInput, AgentView};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = admin::AgentList)]
pub(super) struct AgentList {
    agents: Vec<AgentView>,
}

#[utoipa::path(get, path = "/v1/admin/systems/{id}/agents", tag = "admin",
    summary = "A system's agents: stored ones and the environment's (read-only)",
    params(("id" = String, Path, description = "The system id")),
    responses((status = 200, description = "Agents", body = AgentList), (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(system): ApiPath<String>,
) -> ApiResult<Json<AgentList>> {
    Ok(Json(AgentList {
        agents: state.catalog.list_agents(&system).await?,
    }))
}

#[utoipa::path(post, path = "/v1/admin/systems/{id}/agents", tag = "admin",
    summary = "Create an agent (its credential is sealed at rest and never returned)",
    params(("id" = String, Path, description = "The system id")),
    request_body = crate::catalog::AgentInput,
    responses((status = 201, description = "Created", body = crate::catalog::AgentView),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody),
        (status = 409, description = "Already exists, or read-only", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(system): ApiPath<String>,
    ApiJson(input): ApiJson<AgentInput>,
) -> ApiResult<Response> {
    let created = state.catalog.create_agent(&system, input).await?;
    admin
        .audit(&state, "agent.create", &format!("{system}/{}", created.id))
        .await;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(get, path = "/v1/admin/systems/{id}/agents/{agent}", tag = "admin",
    summary = "One agent",
    params(("id" = String, Path, description = "The system id"), ("agent" = String, Path, description = "The agent id")),
    responses((status = 200, description = "The agent", body = crate::catalog::AgentView), (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn show(
    State(state): State<AppState>,
    _: Admin,
    ApiPath((system, agent)): ApiPath<(String, String)>,
) -> ApiResult<Json<AgentView>> {
    Ok(Json(state.catalog.get_agent(&system, &agent).await?))
}

#[utoipa::path(patch, path = "/v1/admin/systems/{id}/agents/{agent}", tag = "admin",
    summary = "Change a stored agent",
    params(("id" = String, Path, description = "The system id"), ("agent" = String, Path, description = "The agent id")),
    request_body = crate::catalog::AgentInput,
    responses((status = 200, description = "The agent as stored now", body = crate::catalog::AgentView),
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
    ApiPath((system, agent)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<AgentInput>,
) -> ApiResult<Json<AgentView>> {
    let updated = state.catalog.update_agent(&system, &agent, input).await?;
    admin
        .audit(&state, "agent.update", &format!("{system}/{agent}"))
        .await;
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/v1/admin/systems/{id}/agents/{agent}", tag = "admin",
    summary = "Delete a stored agent",
    params(("id" = String, Path, description = "The system id"), ("agent" = String, Path, description = "The agent id")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody),
        (status = 409, description = "Already exists, or read-only", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath((system, agent)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    state.catalog.delete_agent(&system, &agent).await?;
    admin
        .audit(&state, "agent.delete", &format!("{system}/{agent}"))
        .await;
    Ok(crate::routes::no_content())
}
