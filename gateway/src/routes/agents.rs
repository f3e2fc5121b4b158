//! `GET /v1/agents`: the named agents of a system, for pickers. With a chat
//! token the token's system; with an API key the `system_id` query
//! parameter. A system without named agents answers an empty list.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use sdk::AgentList;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::identity::SystemId;
use crate::scope::Permission;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/agents", get(list))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AgentsQuery {
    system_id: Option<String>,
}

#[utoipa::path(get, path = "/v1/agents", tag = "chat",
    summary = "The agents a system offers",
    params(AgentsQuery),
    responses((status = 200, description = "The agents", body = sdk::AgentList),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AgentsQuery>,
) -> ApiResult<Json<AgentList>> {
    let asked = q.system_id.filter(|s| !s.is_empty());
    let system = match (&caller, asked) {
        (Caller::User(identity, _), None) => identity.system.clone(),
        (Caller::User(identity, _), Some(asked)) => {
            if SystemId::parse(&asked).is_ok_and(|s| s == identity.system) {
                identity.system.clone()
            } else {
                return Err(ApiError::IdentityMismatch);
            }
        }
        (Caller::Server(_), None) => {
            return Err(ApiError::BadRequest(
                "system_id required in the query when using an API key".into(),
            ));
        }
        (Caller::Server(grant), Some(asked)) => {
            let system =
                SystemId::parse(&asked).map_err(|e| ApiError::Validation(e.to_string()))?;
            state.auth.check_allowed(&system)?;
            if !grant.allows_for(Permission::Chat, system.as_str()) {
                return Err(ApiError::Forbidden(
                    "this API key may not chat for this system".into(),
                ));
            }
            system
        }
    };
    Ok(Json(AgentList {
        agents: state.catalog.routes().agents(&system),
    }))
}
