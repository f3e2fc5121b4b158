//! The OpenAI-compatible door: `POST /v1/chat/completions` and
//! `GET /v1/models`, so code written against an OpenAI SDK chats through the
//! gateway by changing its `base_url`.
//!
//! - Auth: `Authorization: Bearer` with an API key (what OpenAI SDKs send)
//!   or a chat token; `X-API-Key` works too.
//! - `model` is `<system_id>` or `<system_id>/<agent>`; `user` is the end
//!   user (required with an API key; with a chat token it must match or be
//!   left out).
//! - The turn is the last `user` message; earlier messages are ignored in
//!   favour of the stored conversation, continued when the request carries
//!   `x-conversation-id` (header) or `metadata.conversation_id`. The
//!   response's `x-conversation-id` says which conversation it went to.
//! - Errors use OpenAI's body, `{"error":{"message","type","code","param"}}`,
//!   with the gateway's status ([`OpenAiError`] is the one mapping).
//!
//! Content moderation may replace an answer mid-stream; chunks can only
//! append, so a replacement that does not extend what was sent is dropped
//! from the stream (the stored answer is the replaced one).

mod keyed;
mod stream;
mod wire;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sdk::{ChatRequest, ErrorCode};
use serde_json::json;
use time::OffsetDateTime;

use self::wire::{CompletionRequest, ErrorBody, ErrorDetail, Model, ModelList, Usage};
use super::idempotent;
use crate::auth::{Auth, Caller, KeyId, bearer_token};
use crate::chat::{self, TurnInput};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::extract::key_grant;
use crate::idempotency::{self, Begun};
use crate::identity::SystemId;
use crate::scope::Permission;
use crate::state::AppState;

/// Names the stored conversation, in requests and responses.
const CONVERSATION_HEADER: HeaderName = HeaderName::from_static("x-conversation-id");

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/v1/models", get(models))
}

/// A failure in OpenAI's shape.
#[derive(Debug)]
pub(super) struct OpenAiError {
    error: ApiError,
    /// The request field at fault, when one is.
    param: Option<&'static str>,
}

impl OpenAiError {
    fn at(param: &'static str, error: ApiError) -> Self {
        Self {
            error,
            param: Some(param),
        }
    }
}

impl From<ApiError> for OpenAiError {
    fn from(error: ApiError) -> Self {
        Self { error, param: None }
    }
}

/// OpenAI's error `type` for a status (what its SDKs raise on is the status;
/// the type is for people reading the body).
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        500.. => "server_error",
        _ => "invalid_request_error",
    }
}

fn detail(
    status: u16,
    code: ErrorCode,
    message: String,
    param: Option<&'static str>,
) -> ErrorDetail {
    ErrorDetail {
        message,
        kind: error_type(status),
        code: code.as_str(),
        param,
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: detail(
                self.error.status().as_u16(),
                self.error.code(),
                self.error.public_message().into_owned(),
                self.param,
            ),
        };
        let conversation = match &self.error {
            ApiError::Turn {
                conversation_id, ..
            } => HeaderValue::from_str(conversation_id).ok(),
            _ => None,
        };
        // The gateway's own response for its status and headers (and its
        // log line); OpenAI's body in it.
        let mut resp = self.error.into_response();
        *resp.body_mut() = Body::from(serde_json::to_vec(&body).unwrap_or_default());
        if let Some(value) = conversation {
            resp.headers_mut().insert(CONVERSATION_HEADER, value);
        }
        resp
    }
}

/// The caller: a bearer API key or chat token, or `X-API-Key`.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = if let Some(bearer) = bearer_token(headers) {
        // A JWT has three dot-separated parts; anything else was meant as a key.
        if bearer.split('.').count() == 3 && !state.auth.is_api_key(bearer) {
            return state
                .auth
                .verify_caller(bearer)
                .map(|(identity, pinned)| Caller::User(identity, pinned));
        }
        Caller::Server(key_grant(state, bearer).await?)
    } else {
        match Auth::presented_key(headers) {
            Some(key) => Caller::Server(key_grant(state, key?).await?),
            None => return Err(ApiError::MissingCredentials),
        }
    };
    caller.require(Permission::Chat)?;
    Ok(caller)
}

#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai",
    summary = "OpenAI-compatible chat completions",
    description = "`model` is a system id, or `system/agent`. Streams as OpenAI chunks with `\"stream\": true`, ending with `data: [DONE]`. Errors use OpenAI's error shape.",
    request_body = wire::CompletionRequest,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "As on `POST /v1/chat`: a retry with the same key and the same request (model, user, last user message, conversation, stream options) within 24 hours replays the first result without a second upstream call, marked `Idempotent-Replayed: true`; 422 `idempotency_key_reused` for another request, 409 `idempotency_key_in_flight` with `Retry-After` while the first runs.")),
    responses(
        (status = 200, description = "The completion", content(
            (wire::Completion = "application/json"),
            (wire::Chunk = "text/event-stream"))),
        (status = 400, description = "Invalid request", body = wire::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = wire::ErrorBody),
        (status = 403, description = "Not allowed for this caller", body = wire::ErrorBody),
        (status = 404, description = "No such model", body = wire::ErrorBody),
        (status = 409, description = "The request first sent with this Idempotency-Key is still running (Retry-After)", body = wire::ErrorBody),
        (status = 422, description = "Context too long, or a malformed or reused Idempotency-Key", body = wire::ErrorBody),
        (status = 429, description = "Too many requests", body = wire::ErrorBody),
        (status = 502, description = "The upstream failed", body = wire::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn completions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<CompletionRequest>, ApiError>,
) -> Result<Response, OpenAiError> {
    let caller = caller(&state, &headers).await?;
    let ApiJson(req) = body?;
    let (system, agent) = match req.model.trim().split_once('/') {
        Some((system, agent)) => (system, Some(agent.trim())),
        None => (req.model.trim(), None),
    };
    if system.is_empty() || agent.is_some_and(str::is_empty) {
        return Err(OpenAiError::at(
            "model",
            ApiError::Validation("model is <system_id> or <system_id>/<agent>".into()),
        ));
    }
    let user = req.user.as_deref().filter(|u| !u.is_empty());
    if matches!(caller, Caller::Server(_)) && user.is_none() {
        return Err(OpenAiError::at(
            "user",
            ApiError::Validation("user (the end user's id) is required with an API key".into()),
        ));
    }
    let identity = caller
        .identity(&state.auth, Some(system), user)
        .map_err(|e| {
            let param = match &caller {
                Caller::User(id, _) if id.system.as_str() == system => "user",
                _ => "model",
            };
            OpenAiError::at(param, e)
        })?;
    let key = match caller {
        Caller::Server(_) => KeyId::presented(&headers),
        Caller::User(..) => None,
    };
    state
        .limits
        .admit_turn(&identity, key.as_ref())
        .map_err(ApiError::RateLimited)?;
    let message = last_user_message(&req)?;
    let conversation_id = headers
        .get(&CONVERSATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            req.metadata
                .as_ref()
                .and_then(|m| m.get("conversation_id"))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        });
    let idempotency_key = idempotent::key_of(&headers)?;
    // What the key is checked against: the caller, and the fields of the
    // request this door reads.
    let keyed = idempotency_key.map(|k| {
        let scope = idempotency::scope(&identity, key.as_ref());
        let request = json!({
            "model": req.model.trim(),
            "user": user,
            "message": message,
            "conversation_id": conversation_id,
            "stream": req.stream,
            "include_usage": req.stream_options.as_ref().is_some_and(|o| o.include_usage),
        });
        (k, scope, idempotency::fingerprint("openai", &request))
    });
    let request = ChatRequest {
        message,
        conversation_id,
        ..ChatRequest::default()
    };
    let mut input = TurnInput::from_request(&state.config.limits, identity, request)
        .map_err(|e| OpenAiError::at("messages", e))?;
    input.agent = caller
        .agent(agent.map(str::to_owned))
        .map_err(|e| OpenAiError::at("model", e))?;
    let held = match keyed {
        Some((k, scope, body_hash)) => {
            match idempotency::begin(&state, scope, &k, &body_hash).await? {
                Begun::Fresh(held) => Some(held),
                Begun::Replay(result) => return Ok(keyed::replay(result, &req)),
            }
        }
        None => None,
    };
    let (conversation, mut resp) = if req.stream {
        let turn = chat::begin(&state, input).await?;
        let conversation = turn.conversation_id().to_owned();
        let include_usage = req.stream_options.is_some_and(|o| o.include_usage);
        let events = match chat::stream(&state, turn).await {
            Ok(events) => events,
            Err(e) => return keyed::refuse(e, held).await,
        };
        let resp = match held {
            Some(held) => stream::sse(idempotent::recorded(events, held), req.model, include_usage),
            None => stream::sse(events, req.model, include_usage),
        };
        (conversation, resp)
    } else {
        let at = OffsetDateTime::now_utc();
        let reply = match chat::ask(&state, input).await {
            Ok((reply, _)) => reply,
            Err(e) => return keyed::refuse(e, held).await,
        };
        if let Some(held) = held {
            let (conversation, question) = (&reply.conversation_id, &reply.user_message_id);
            held.answered(conversation, question, &reply.message_id, at)
                .await;
        }
        let usage = reply.usage.map(Usage::from).unwrap_or_default();
        let completion = keyed::completion(reply.message_id, reply.answer, usage, req.model, at);
        (reply.conversation_id, completion.into_response())
    };
    if let Ok(value) = HeaderValue::from_str(&conversation) {
        resp.headers_mut().insert(CONVERSATION_HEADER, value);
    }
    Ok(resp)
}

/// The text of the last `user` message.
fn last_user_message(req: &CompletionRequest) -> Result<String, OpenAiError> {
    let refuse = |why: String| OpenAiError::at("messages", ApiError::Validation(why));
    let last = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .ok_or_else(|| refuse("messages must contain a user message".into()))?;
    let content = last
        .content
        .as_ref()
        .ok_or_else(|| refuse("the last user message has no content".into()))?;
    content
        .text()
        .map_err(|kind| refuse(format!("only text content is accepted, not {kind:?}")))
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[utoipa::path(get, path = "/v1/models", tag = "openai",
    summary = "OpenAI-compatible model list: the systems and agents the caller may use",
    responses((status = 200, description = "Models", body = wire::ModelList),
        (status = 401, description = "Missing or invalid credentials", body = wire::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn models(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ModelList>, OpenAiError> {
    let caller = caller(&state, &headers).await?;
    let data = model_ids(&state, &caller)
        .into_iter()
        .map(|id| Model {
            id,
            object: "model",
            created: 0,
            owned_by: "tz-chat",
        })
        .collect();
    Ok(Json(ModelList {
        object: "list",
        data,
    }))
}

/// What `caller` may put in `model`: each system (the environment's and
/// the enabled runtime ones), then its agents.
fn model_ids(state: &AppState, caller: &Caller) -> Vec<String> {
    let mut systems: Vec<String> = match caller {
        Caller::User(identity, _) => vec![identity.system.as_str().to_owned()],
        Caller::Server(_) => match &state.config.allowed_system_ids {
            Some(allowed) => {
                let mut systems: Vec<String> = allowed.iter().cloned().collect();
                systems.sort();
                systems
            }
            // Systems with a route of their own, as the configuration
            // spells them (`DIFY_MY_APP_*` → `my_app`).
            None => {
                let upstreams = &state.config.upstreams;
                let mut systems: Vec<String> = upstreams
                    .per_system
                    .keys()
                    .chain(upstreams.agents.keys())
                    .map(|key| key.to_ascii_lowercase())
                    .collect();
                systems.sort();
                systems.dedup();
                systems
            }
        },
    };
    if let Caller::Server(_) = caller {
        systems.extend(state.auth.directory().enabled_systems());
        systems.sort();
        systems.dedup();
    }
    let covered = |system: &String| match caller {
        Caller::Server(grant) => grant.systems.covers(system),
        Caller::User(..) => true,
    };
    let mut ids = Vec::new();
    for system in systems.into_iter().filter(covered) {
        let agents = agents_of(state, &system);
        ids.push(system.clone());
        ids.extend(agents.into_iter().map(|agent| format!("{system}/{agent}")));
    }
    ids
}

/// The named agents of `system`, from the upstream routing table.
fn agents_of(state: &AppState, system: &str) -> Vec<String> {
    SystemId::parse(system)
        .map(|id| {
            state
                .catalog
                .routes()
                .agents(&id)
                .into_iter()
                .map(|agent| agent.name)
                .collect()
        })
        .unwrap_or_default()
}
