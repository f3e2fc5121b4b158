//! `POST …/test`: one probe message through the upstream that would answer
//! the system (or agent), answered as JSON with a chat link for a test
//! user. Nothing is stored. The probe itself succeeding is 200 with
//! `"ok": true`; an upstream failure is 200 with `"ok": false` and the
//! upstream's error, because that is what the operator asked to see.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::Admin;
use crate::catalog::PROBE_USER;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, parse_json};
use crate::identity::Identity;
use crate::state::AppState;

/// What a probe sends when the body names nothing.
const DEFAULT_PROBE: &str = "Hello! This is a connection test from the chat gateway.";

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProbeInput {
    message: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ProbeResult {
    pub(super) ok: bool,
    /// The upstream's kind.
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
    /// The chat page for the test user (pinned to the agent tested).
    pub(super) chat_url: String,
}

/// Who is probing, and for how long the test chat link may be used.
pub(super) struct Prober<'a> {
    /// The test user's id.
    pub(super) user: &'a str,
    pub(super) token_ttl: std::time::Duration,
    /// Where the chat link points: the public URL, or `""` for a link
    /// relative to this gateway.
    pub(super) base: &'a str,
    pub(super) lang: Option<sdk::Lang>,
}

#[utoipa::path(post, path = "/v1/admin/systems/{id}/test", tag = "admin",
    summary = "Send one probe message through the system's upstream; stores nothing",
    params(("id" = String, Path, description = "The system id")),
    request_body(content = Option<ProbeInput>, content_type = "application/json"),
    responses((status = 200, description = "The answer or the upstream's error, and a test chat link", body = ProbeResult),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn system(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(system): ApiPath<String>,
    body: Bytes,
) -> ApiResult<Json<ProbeResult>> {
    run(&state, &system, None, &body).await
}

#[utoipa::path(post, path = "/v1/admin/systems/{id}/agents/{agent}/test", tag = "admin",
    summary = "Send one probe message through one agent; stores nothing",
    params(("id" = String, Path, description = "The system id"), ("agent" = String, Path, description = "The agent id")),
    request_body(content = Option<ProbeInput>, content_type = "application/json"),
    responses((status = 200, description = "The answer or the upstream's error, and a test chat link", body = ProbeResult),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn agent(
    State(state): State<AppState>,
    _: Admin,
    ApiPath((system, agent)): ApiPath<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<ProbeResult>> {
    run(&state, &system, Some(&agent), &body).await
}

async fn run(
    state: &AppState,
    system: &str,
    agent: Option<&str>,
    body: &[u8],
) -> ApiResult<Json<ProbeResult>> {
    let input: ProbeInput = if body.iter().all(u8::is_ascii_whitespace) {
        ProbeInput::default()
    } else {
        parse_json(body)?
    };
    let prober = Prober {
        user: PROBE_USER,
        token_ttl: state.config.jwt.token_ttl,
        base: &state.config.public_url,
        lang: None,
    };
    Ok(Json(
        probe(state, &prober, system, agent, input.message).await?,
    ))
}

/// Send one probe `message` (or the default one) to `system` (`agent`)
/// as `prober`'s test user, and mint that user a chat link.
pub(super) async fn probe(
    state: &AppState,
    prober: &Prober<'_>,
    system: &str,
    agent: Option<&str>,
    message: Option<String>,
) -> ApiResult<ProbeResult> {
    // The system (and agent) must be one the admin API knows.
    match agent {
        Some(agent) => drop(state.catalog.get_agent(system, agent).await?),
        None => drop(state.catalog.get_system(system).await?),
    }
    let message = message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PROBE.to_owned());
    if message.chars().count() > state.config.limits.max_message_chars {
        return Err(ApiError::Validation(format!(
            "message is longer than {} characters",
            state.config.limits.max_message_chars
        )));
    }
    let who =
        Identity::parse(system, prober.user).map_err(|e| ApiError::Validation(e.to_string()))?;
    let outcome = state
        .catalog
        .probe(&who, agent, &message)
        .await
        .ok_or(ApiError::NotConfigured)?;
    let (token, _) = state.auth.mint_pinned(&who, prober.token_ttl, agent)?;
    let chat_url = sdk::chat_url(
        prober.base,
        &token,
        &sdk::ChatUrlOptions {
            lang: prober.lang,
            ..sdk::ChatUrlOptions::default()
        },
    );
    let (ok, answer, error) = match outcome.answer {
        Ok(answer) => (true, Some(answer), None),
        Err(e) => {
            tracing::info!(system, agent, error = %e, "an admin probe failed upstream");
            (false, None, Some(e.to_string()))
        }
    };
    Ok(ProbeResult {
        ok,
        kind: outcome.kind,
        answer,
        error,
        chat_url,
    })
}
