//! `POST /v1/messages/{id}/feedback` — `{"rating": "like" | "dislike" |
//! null, "comment": "…"}`: rate one of the caller's assistant messages, or
//! clear the rating with `null`. Answers what is stored now
//! ([`sdk::FeedbackResponse`]). With an API key, `system_id` and `user_id`
//! in the body name the owner. The rules are in [`crate::feedback`].

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use sdk::{FeedbackRequest, FeedbackResponse};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/messages/{id}/feedback", post(give))
}

#[utoipa::path(post, path = "/v1/messages/{id}/feedback", tag = "history",
    summary = "Rate one of the user's answers (like, dislike, or clear with null)",
    params(("id" = String, Path, description = "The assistant message's id")),
    request_body = sdk::FeedbackRequest,
    responses((status = 200, description = "The feedback as stored now", body = sdk::FeedbackResponse),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn give(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<FeedbackRequest>,
) -> ApiResult<Json<FeedbackResponse>> {
    let who = caller.identity(
        &state.auth,
        body.system_id.as_deref(),
        body.user_id.as_deref(),
    )?;
    let stored =
        crate::feedback::give(&state, &who, &id, body.rating, body.comment.as_deref()).await?;
    Ok(Json(FeedbackResponse {
        message_id: id,
        feedback: stored.map(Into::into),
    }))
}
