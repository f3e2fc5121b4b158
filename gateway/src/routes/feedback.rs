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

async fn give(
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
