//! `/admin/systems` (every system, a create form) and `/admin/systems/{id}`
//! (edit, enable or disable, delete, Test). Systems from the environment or
//! the configuration file are listed and shown, marked read-only, with no
//! form. The forms' handlers are in `routes::admin::catalog_forms`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use sdk::Lang;
use serde::{Deserialize, Serialize};

use super::form::{ProbeView, Problems};
use super::{forbidden, lang_of, refused, render};
use crate::catalog::{Source, SystemView};
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::identity::SystemId;
use crate::operators::Access;
use crate::pages::i18n::{self, SystemsTexts};
use crate::state::AppState;
use crate::upstream::RouteKey;

/// The system form's fields as typed (origins one per line).
#[derive(Debug, Clone, Serialize)]
pub struct SystemForm {
    pub id: String,
    pub display_name: String,
    pub origins: String,
    pub enabled: bool,
}

impl Default for SystemForm {
    fn default() -> Self {
        Self {
            id: String::new(),
            display_name: String::new(),
            origins: String::new(),
            enabled: true,
        }
    }
}

impl From<&SystemView> for SystemForm {
    fn from(s: &SystemView) -> Self {
        Self {
            id: s.id.clone(),
            display_name: s.display_name.clone(),
            origins: s.allowed_origins.join("\n"),
            enabled: s.enabled,
        }
    }
}

/// The fields a system form's problems may name.
const FIELDS: &[&str] = &["id", "display_name", "origins", "confirm"];

/// What a system page shows besides the stored system: the form as typed
/// (after a refusal), its problems, what "Test" found, or that it saved.
#[derive(Debug, Default)]
pub struct SystemFlash {
    pub form: Option<SystemForm>,
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
struct SystemRow {
    id: String,
    display_name: String,
    upstream: String,
    enabled: bool,
    source: &'static str,
    read_only: bool,
}

pub(super) fn source_text(source: Source, t: &SystemsTexts) -> &'static str {
    match source {
        Source::Database => t.source_database,
        Source::Env => t.source_env,
        Source::File => t.source_file,
    }
}

/// What answers `system`'s messages that name no agent: the kind of its own
/// upstream, else of the shared one (so marked), else nothing.
fn upstream_of(state: &AppState, system: &str, t: &SystemsTexts) -> String {
    let Ok(id) = SystemId::parse(system) else {
        return String::new();
    };
    let routes = state.catalog.routes();
    let agents = routes.agents(&id).len();
    let own = routes.names_system(&id);
    let kind = match routes.resolve(&RouteKey::system(&id)) {
        Some(upstream) if own => upstream.kind().to_owned(),
        Some(upstream) => format!("{} ({})", t.shared_upstream, upstream.kind()),
        None => "—".to_owned(),
    };
    if agents > 0 {
        format!("{kind} · {} {agents}", t.agents)
    } else {
        kind
    }
}

/// The systems page (also the create form's answer when it is refused).
pub async fn systems_page(
    state: &AppState,
    access: &Access,
    lang: Lang,
    status: StatusCode,
    form: SystemForm,
    problems: &Problems,
) -> Response {
    if !access.is_admin() {
        return forbidden(access, lang, "/admin/systems");
    }
    let t = i18n::admin(lang).page;
    let st = i18n::systems(lang);
    let rows: Vec<SystemRow> = match state.catalog.list_systems().await {
        Ok(list) => list
            .into_iter()
            .map(|s| SystemRow {
                upstream: upstream_of(state, &s.id, st),
                enabled: s.enabled,
                source: source_text(s.source, st),
                read_only: s.read_only,
                display_name: s.display_name,
                id: s.id,
            })
            .collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let errors = problems.shown(FIELDS, st);
    render(
        "admin_systems.html",
        "/admin/systems",
        t.nav_systems,
        access,
        lang,
        status,
        context! {
            s => Serde(st),
            systems => Serde(rows),
            form => Serde(form),
            error => None::<String>,
            errors => Serde(errors),
        },
    )
}

/// One system's page: its form (or read-only facts), Test, its agents.
pub async fn system_page(
    state: &AppState,
    access: &Access,
    lang: Lang,
    id: &str,
    status: StatusCode,
    flash: SystemFlash,
) -> Response {
    if !access.is_admin() {
        return forbidden(access, lang, "/admin/systems");
    }
    let st = i18n::systems(lang);
    let system = match state.catalog.get_system(id).await {
        Ok(system) => system,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let form = flash.form.unwrap_or_else(|| SystemForm::from(&system));
    let errors = flash.problems.shown(FIELDS, st);
    let title = system.display_name.clone();
    render(
        "admin_system.html",
        "/admin/systems",
        &title,
        access,
        lang,
        status,
        context! {
            s => Serde(st),
            system => Serde(&system),
            source => source_text(system.source, st),
            upstream => upstream_of(state, &system.id, st),
            form => Serde(form),
            error => None::<String>,
            errors => Serde(errors),
            probe => Serde(flash.probe),
            saved => flash.saved,
        },
    )
}

/// `GET /admin/systems`.
pub(in crate::pages) async fn list(
    State(state): State<AppState>,
    access: Result<Access, ApiError>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(q.lang.as_deref(), &headers);
    match access {
        Ok(access) => {
            systems_page(
                &state,
                &access,
                lang,
                StatusCode::OK,
                SystemForm::default(),
                &Problems::default(),
            )
            .await
        }
        Err(e) => refused(e, lang),
    }
}

/// `GET /admin/systems/{id}`.
pub(in crate::pages) async fn edit(
    State(state): State<AppState>,
    access: Result<Access, ApiError>,
    ApiPath(id): ApiPath<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(q.lang.as_deref(), &headers);
    match access {
        Ok(access) => {
            let flash = SystemFlash {
                saved: q.saved.is_some(),
                ..SystemFlash::default()
            };
            system_page(&state, &access, lang, &id, StatusCode::OK, flash).await
        }
        Err(e) => refused(e, lang),
    }
}
