//! The agent forms. A credential left empty on edit stays as stored; it
//! is never put back into a page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};

use super::{audited, fields, page_path, problem_of, test_as_operator};
use crate::catalog::{AgentInput, AgentOptions};
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::operators::Access;
use crate::pages::{AgentFlash, AgentForm, Problem, Problems, admin_lang, agent_page, agents_page};
use crate::state::AppState;

/// The form's fields as typed, and the credential apart (empty: none
/// given).
fn agent_form(body: &[u8]) -> (AgentForm, String) {
    let mut f = fields(body);
    let mut take = |name: &str| f.remove(name).unwrap_or_default();
    let form = AgentForm {
        id: take("id").trim().to_owned(),
        kind: take("kind").trim().to_owned(),
        url: take("url").trim().to_owned(),
        model: take("model").trim().to_owned(),
        system_prompt: take("system_prompt"),
        temperature: take("temperature").trim().to_owned(),
        max_tokens: take("max_tokens").trim().to_owned(),
        title: take("title").trim().to_owned(),
        description: take("description"),
        enabled: take("enabled") == "true",
    };
    (form, take("credential").trim().to_owned())
}

/// The catalog's input from `form`: `Err` with the problems found before
/// asking it. `options` are the agent's current ones (edit), which the
/// form does not show all of.
fn input_of(
    form: &AgentForm,
    credential: String,
    with_id: bool,
    options: AgentOptions,
) -> Result<AgentInput, Problems> {
    let mut problems = Problems::default();
    let openai = form.kind == "openai";
    if !openai {
        for (field, value) in [
            ("model", &form.model),
            ("system_prompt", &form.system_prompt),
            ("temperature", &form.temperature),
            ("max_tokens", &form.max_tokens),
        ] {
            if !value.trim().is_empty() {
                problems.add(field, Problem::OpenAiOnly);
            }
        }
    }
    let temperature = match form.temperature.as_str() {
        "" => None,
        text => match text.replace(',', ".").parse::<f32>() {
            Ok(t) if (0.0..=2.0).contains(&t) => Some(t),
            Ok(_) => {
                problems.add("temperature", Problem::Temperature);
                None
            }
            Err(_) => {
                problems.add("temperature", Problem::Number);
                None
            }
        },
    };
    let max_tokens = match form.max_tokens.as_str() {
        "" => None,
        text => text.parse::<u32>().ok().filter(|n| *n > 0).or_else(|| {
            problems.add("max_tokens", Problem::Number);
            None
        }),
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let options = if openai {
        AgentOptions {
            temperature,
            max_tokens,
            ..options
        }
    } else {
        AgentOptions::default()
    };
    Ok(AgentInput {
        id: with_id.then(|| form.id.clone()),
        kind: Some(form.kind.clone()),
        url: Some(form.url.clone()),
        credential: (!credential.is_empty()).then_some(credential),
        model: Some(form.model.clone()),
        system_prompt: Some(form.system_prompt.clone()),
        options: Some(options),
        title: Some(form.title.clone()),
        description: Some(form.description.clone()),
        enabled: Some(form.enabled),
    })
}

/// `POST /admin/systems/{id}/agents`.
pub(super) async fn create(
    State(state): State<AppState>,
    access: Access,
    ApiPath(system): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = admin_lang(&headers, uri.query());
    if let Err(e) = access.require_admin() {
        return e.into_response();
    }
    let (form, credential) = agent_form(&body);
    let (problems, status) = match input_of(&form, credential, true, AgentOptions::default()) {
        Err(problems) => (problems, StatusCode::UNPROCESSABLE_ENTITY),
        Ok(input) => match state.catalog.create_agent(&system, input).await {
            Ok(created) => {
                let target = format!("{system}/{}", created.id);
                audited(&state, &access, "agent.create", &target).await;
                let path = format!("/admin/systems/{system}/agents/{}", created.id);
                return Redirect::to(&page_path(&path, lang, true)).into_response();
            }
            Err(e) => match problem_of(e) {
                Ok((field, problem, status)) => {
                    let mut problems = Problems::default();
                    problems.add(field, problem);
                    (problems, status)
                }
                Err(e) => return e.into_response(),
            },
        },
    };
    agents_page(&state, &access, lang, &system, status, form, &problems).await
}

/// `POST /admin/systems/{id}/agents/{agent}`.
pub(super) async fn update(
    State(state): State<AppState>,
    access: Access,
    ApiPath((system, agent)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = admin_lang(&headers, uri.query());
    if let Err(e) = access.require_admin() {
        return e.into_response();
    }
    let current = match state.catalog.get_agent(&system, &agent).await {
        Ok(current) => current,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (form, credential) = agent_form(&body);
    let form = AgentForm {
        id: agent.clone(),
        ..form
    };
    match input_of(&form, credential, false, current.options) {
        Err(problems) => {
            let flash = AgentFlash {
                form: Some(form),
                problems,
                ..AgentFlash::default()
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            agent_page(&state, &access, lang, (&system, &agent), status, flash).await
        }
        Ok(input) => {
            change(
                &state,
                &access,
                lang,
                (&system, &agent),
                input,
                Some(form),
                "agent.update",
            )
            .await
        }
    }
}

/// `POST /admin/systems/{id}/agents/{agent}/enabled`.
pub(super) async fn enabled(
    State(state): State<AppState>,
    access: Access,
    ApiPath((system, agent)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = admin_lang(&headers, uri.query());
    if let Err(e) = access.require_admin() {
        return e.into_response();
    }
    let on = fields(&body).get("enabled").is_some_and(|v| v == "true");
    let input = AgentInput {
        enabled: Some(on),
        ..AgentInput::default()
    };
    let action = if on { "agent.enable" } else { "agent.disable" };
    change(
        &state,
        &access,
        lang,
        (&system, &agent),
        input,
        None,
        action,
    )
    .await
}

/// Apply `input` to an agent: back to its page, saved or with the problem
/// shown.
async fn change(
    state: &AppState,
    access: &Access,
    lang: sdk::Lang,
    (system, agent): (&str, &str),
    input: AgentInput,
    form: Option<AgentForm>,
    action: &str,
) -> Response {
    match state.catalog.update_agent(system, agent, input).await {
        Ok(_) => {
            audited(state, access, action, &format!("{system}/{agent}")).await;
            let path = format!("/admin/systems/{system}/agents/{agent}");
            Redirect::to(&page_path(&path, lang, true)).into_response()
        }
        Err(e) => match problem_of(e) {
            Ok((field, problem, status)) => {
                let mut problems = Problems::default();
                problems.add(field, problem);
                let flash = AgentFlash {
                    form,
                    problems,
                    ..AgentFlash::default()
                };
                agent_page(state, access, lang, (system, agent), status, flash).await
            }
            Err(e) => e.into_response(),
        },
    }
}

/// `POST /admin/systems/{id}/agents/{agent}/delete`, with `confirm=yes`.
pub(super) async fn delete(
    State(state): State<AppState>,
    access: Access,
    ApiPath((system, agent)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = admin_lang(&headers, uri.query());
    if let Err(e) = access.require_admin() {
        return e.into_response();
    }
    let mut problems = Problems::default();
    let status = if fields(&body).get("confirm").is_none_or(|v| v != "yes") {
        problems.add("confirm", Problem::Confirm);
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        match state.catalog.delete_agent(&system, &agent).await {
            Ok(()) => {
                audited(
                    &state,
                    &access,
                    "agent.delete",
                    &format!("{system}/{agent}"),
                )
                .await;
                let path = format!("/admin/systems/{system}/agents");
                return Redirect::to(&page_path(&path, lang, false)).into_response();
            }
            Err(e) => match problem_of(e) {
                Ok((field, problem, status)) => {
                    problems.add(field, problem);
                    status
                }
                Err(e) => return e.into_response(),
            },
        }
    };
    let flash = AgentFlash {
        problems,
        ..AgentFlash::default()
    };
    agent_page(&state, &access, lang, (&system, &agent), status, flash).await
}

/// `POST /admin/systems/{id}/agents/{agent}/test`.
pub(super) async fn test(
    State(state): State<AppState>,
    access: Access,
    ApiPath((system, agent)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = admin_lang(&headers, uri.query());
    access.require_admin()?;
    let probe = test_as_operator(&state, &access, lang, &system, Some(&agent)).await?;
    let flash = AgentFlash {
        probe: Some(probe),
        ..AgentFlash::default()
    };
    Ok(agent_page(
        &state,
        &access,
        lang,
        (&system, &agent),
        StatusCode::OK,
        flash,
    )
    .await)
}
