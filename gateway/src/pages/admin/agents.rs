//! `/admin/systems/{id}/agents` (a system's agents, a create form) and
//! `/admin/systems/{id}/agents/{agent}` (edit, enable or disable, delete,
//! Test). A credential is never shown, only its hint; agents from the
//! configuration file are shown read-only. The forms' handlers are in
//! `routes::admin::catalog_forms`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use sdk::Lang;
use serde::{Deserialize, Serialize};

use super::form::{ProbeView, Problems};
use super::systems::source_text;
use super::{forbidden, lang_of, refused, render};
use crate::catalog::AgentView;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::operators::Access;
use crate::pages::i18n;
use crate::state::AppState;

/// The agent form's fields as typed. The credential is never sent back
/// into a page: after a refusal it has to be typed again.
#[derive(Debug, Clone, Serialize)]
pub struct AgentForm {
    pub id: String,
    pub kind: String,
    pub url: String,
    pub model: String,
    pub system_prompt: String,
    pub temperature: String,
    pub max_tokens: String,
    pub title: String,
    pub description: String,
    pub enabled: bool,
}

impl Default for AgentForm {
    fn default() -> Self {
        Self {
            id: String::new(),
            kind: "openai".to_owned(),
            url: String::new(),
            model: String::new(),
            system_prompt: String::new(),
            temperature: String::new(),
            max_tokens: String::new(),
            title: String::new(),
            description: String::new(),
            enabled: true,
        }
    }
}

impl From<&AgentView> for AgentForm {
    fn from(a: &AgentView) -> Self {
        Self {
            id: a.id.clone(),
            kind: a.kind.clone(),
            url: a.url.clone(),
            model: a.model.clone().unwrap_or_default(),
            system_prompt: a.system_prompt.clone().unwrap_or_default(),
            temperature: a
                .options
                .temperature
                .map(|t| t.to_string())
                .unwrap_or_default(),
            max_tokens: a
                .options
                .max_tokens
                .map(|t| t.to_string())
                .unwrap_or_default(),
            title: a.title.clone(),
            description: a.description.clone(),
            enabled: a.enabled,
        }
    }
}

/// The fields an agent form's problems may name.
const FIELDS: &[&str] = &[
    "id",
    "kind",
    "url",
    "credential",
    "model",
    "system_prompt",
    "temperature",
    "max_tokens",
    "title",
    "description",
    "confirm",
];

/// The kinds offered, with the text key of their label (`None`: the
/// product's own name).
const KINDS: &[(&str, Option<&str>)] = &[
    ("openai", Some("kindOpenai")),
    ("n8n", None),
    ("dify", None),
];

#[derive(Debug, Serialize)]
struct KindOption {
    value: &'static str,
    label: &'static str,
}

fn kinds(st: &i18n::SystemsTexts) -> Vec<KindOption> {
    KINDS
        .iter()
        .map(|(value, key)| KindOption {
            value,
            label: match key {
                Some(_) => st.kind_openai,
                None if *value == "n8n" => "n8n",
                None => "Dify",
            },
        })
        .collect()
}

/// What an agent page shows besides the stored agent (see
/// [`super::systems::SystemFlash`]).
#[derive(Debug, Default)]
pub struct AgentFlash {
    pub form: Option<AgentForm>,
    pub problems: Problems,
    pub probe: Option<ProbeView>,
    pub saved: bool,
}

#[derive(Debug, Deserialize)]
pub(in crate::pages) struct PageQuery {
    lang: Option<String>,
    saved: Option<String>,
}

#[derive(Debug, Serialize)]
struct AgentRow {
    id: String,
    title: String,
    kind: String,
    url: String,
    credential: String,
    enabled: bool,
    source: &'static str,
    read_only: bool,
}

/// A system's agents page (also the create form's answer when refused).
pub async fn agents_page(
    state: &AppState,
    access: &Access,
    lang: Lang,
    system: &str,
    status: StatusCode,
    form: AgentForm,
    problems: &Problems,
) -> Response {
    if !access.is_admin() {
        return forbidden(access, lang, "/admin/systems");
    }
    let st = i18n::systems(lang);
    let view = match state.catalog.get_system(system).await {
        Ok(view) => view,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let rows: Vec<AgentRow> = match state.catalog.list_agents(system).await {
        Ok(list) => list
            .into_iter()
            .map(|a| AgentRow {
                credential: a.credential_hint.clone().unwrap_or_default(),
                enabled: a.enabled,
                source: source_text(a.source, st),
                read_only: a.read_only,
                id: a.id,
                title: a.title,
                kind: a.kind,
                url: a.url,
            })
            .collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let errors = problems.shown(FIELDS, st);
    let title = st.agents_of.replace("{name}", &view.display_name);
    render(
        "admin_agents.html",
        "/admin/systems",
        &title,
        access,
        lang,
        status,
        context! {
            s => Serde(st),
            system => Serde(&view),
            agents => Serde(rows),
            kinds => Serde(kinds(st)),
            form => Serde(form),
            error => None::<String>,
            errors => Serde(errors),
        },
    )
}

/// One agent's page: its form (or read-only facts), Test.
pub async fn agent_page(
    state: &AppState,
    access: &Access,
    lang: Lang,
    (system, id): (&str, &str),
    status: StatusCode,
    flash: AgentFlash,
) -> Response {
    if !access.is_admin() {
        return forbidden(access, lang, "/admin/systems");
    }
    let st = i18n::systems(lang);
    let agent = match state.catalog.get_agent(system, id).await {
        Ok(agent) => agent,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let form = flash.form.unwrap_or_else(|| AgentForm::from(&agent));
    let errors = flash.problems.shown(FIELDS, st);
    let credential = match &agent.credential_hint {
        Some(hint) => st.credential_kept.replace("{name}", hint),
        None => st.credential_none.to_owned(),
    };
    let title = agent.title.clone();
    render(
        "admin_agent.html",
        "/admin/systems",
        &title,
        access,
        lang,
        status,
        context! {
            s => Serde(st),
            agent => Serde(&agent),
            source => source_text(agent.source, st),
            credential => credential,
            kinds => Serde(kinds(st)),
            form => Serde(form),
            error => None::<String>,
            errors => Serde(errors),
            probe => Serde(flash.probe),
            saved => flash.saved,
        },
    )
}

/// `GET /admin/systems/{id}/agents`.
pub(in crate::pages) async fn list(
    State(state): State<AppState>,
    access: Result<Access, ApiError>,
    ApiPath(system): ApiPath<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(q.lang.as_deref(), &headers);
    match access {
        Ok(access) => {
            agents_page(
                &state,
                &access,
                lang,
                &system,
                StatusCode::OK,
                AgentForm::default(),
                &Problems::default(),
            )
            .await
        }
        Err(e) => refused(e, lang),
    }
}

/// `GET /admin/systems/{id}/agents/{agent}`.
pub(in crate::pages) async fn edit(
    State(state): State<AppState>,
    access: Result<Access, ApiError>,
    ApiPath((system, agent)): ApiPath<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(q.lang.as_deref(), &headers);
    match access {
        Ok(access) => {
            let flash = AgentFlash {
                saved: q.saved.is_some(),
                ..AgentFlash::default()
            };
            agent_page(
                &state,
                &access,
                lang,
                (&system, &agent),
                StatusCode::OK,
                flash,
            )
            .await
        }
        Err(e) => refused(e, lang),
    }
}
