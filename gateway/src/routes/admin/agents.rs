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

#[derive(Serialize)]
pub(super) struct AgentList {
    agents: Vec<AgentView>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(system): ApiPath<String>,
) -> ApiResult<Json<AgentList>> {
    Ok(Json(AgentList {
        agents: state.catalog.list_agents(&system).await?,
    }))
}

pub(super) async fn create(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(system): ApiPath<String>,
    ApiJson(input): ApiJson<AgentInput>,
) -> ApiResult<Response> {
    let created = state.catalog.create_agent(&system, input).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub(super) async fn show(
    State(state): State<AppState>,
    _: Admin,
    ApiPath((system, agent)): ApiPath<(String, String)>,
) -> ApiResult<Json<AgentView>> {
    Ok(Json(state.catalog.get_agent(&system, &agent).await?))
}

pub(super) async fn update(
    State(state): State<AppState>,
    _: Admin,
    ApiPath((system, agent)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<AgentInput>,
) -> ApiResult<Json<AgentView>> {
    Ok(Json(
        state.catalog.update_agent(&system, &agent, input).await?,
    ))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    _: Admin,
    ApiPath((system, agent)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    state.catalog.delete_agent(&system, &agent).await?;
    Ok(crate::routes::no_content())
}
