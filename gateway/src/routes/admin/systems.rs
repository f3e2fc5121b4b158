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

#[derive(Serialize)]
pub(super) struct SystemList {
    systems: Vec<SystemView>,
}

pub(super) async fn list(State(state): State<AppState>, _: Admin) -> ApiResult<Json<SystemList>> {
    Ok(Json(SystemList {
        systems: state.catalog.list_systems().await?,
    }))
}

pub(super) async fn create(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(input): ApiJson<SystemInput>,
) -> ApiResult<Response> {
    let created = state.catalog.create_system(input).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub(super) async fn show(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SystemView>> {
    Ok(Json(state.catalog.get_system(&id).await?))
}

pub(super) async fn update(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<SystemInput>,
) -> ApiResult<Json<SystemView>> {
    Ok(Json(state.catalog.update_system(&id, input).await?))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    state.catalog.delete_system(&id).await?;
    Ok(crate::routes::no_content())
}
