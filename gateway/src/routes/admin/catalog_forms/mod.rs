//! The forms of the systems and agents pages (`/admin/systems…`): each
//! checks its fields, calls the catalog, and answers with a redirect to the
//! page (done) or the page again with the form as typed and each problem
//! next to its field (refused). Their CSRF token is checked by [`Access`]
//! (the form's action carries it); only admins get past
//! [`Access::require_admin`]. Every change and every Test is audited.
//!
//! | POST | |
//! |---|---|
//! | `/admin/systems` | create a system |
//! | `/admin/systems/{id}` | change it |
//! | `/admin/systems/{id}/enabled` | enable or disable it (`enabled=true\|false`) |
//! | `/admin/systems/{id}/delete` | delete it (`confirm=yes`) |
//! | `/admin/systems/{id}/test` | probe it, get a test chat link |
//! | `/admin/systems/{id}/agents[/{agent}[/enabled\|/delete\|/test]]` | the same for agents |

mod agents;
mod systems;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use sdk::Lang;

use super::probe::{Prober, probe};
use crate::catalog::{CatalogError, PROBE_USER};
use crate::error::ApiError;
use crate::operators::{Access, audit};
use crate::pages::{ProbeView, Problem, Problems};
use crate::state::AppState;

/// How long a test chat link from a page may be used, at most.
const TEST_LINK_TTL: Duration = Duration::from_secs(15 * 60);

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/systems", post(systems::create))
        .route("/admin/systems/{id}", post(systems::update))
        .route("/admin/systems/{id}/enabled", post(systems::enabled))
        .route("/admin/systems/{id}/delete", post(systems::delete))
        .route("/admin/systems/{id}/test", post(systems::test))
        .route("/admin/systems/{id}/agents", post(agents::create))
        .route("/admin/systems/{id}/agents/{agent}", post(agents::update))
        .route(
            "/admin/systems/{id}/agents/{agent}/enabled",
            post(agents::enabled),
        )
        .route(
            "/admin/systems/{id}/agents/{agent}/delete",
            post(agents::delete),
        )
        .route(
            "/admin/systems/{id}/agents/{agent}/test",
            post(agents::test),
        )
}

/// Record `action` on `target` by `access` in the audit log.
async fn audited(state: &AppState, access: &Access, action: &str, target: &str) {
    audit::record(
        &*state.store,
        &access.actor_name(),
        action,
        target,
        &access.address(),
    )
    .await;
}

/// A form's fields, by name (the last value of a repeated name wins).
fn fields(body: &[u8]) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The field a catalog message is about: the messages start with it.
fn field_of(message: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("agent id", "id"),
        ("id", "id"),
        ("display_name", "display_name"),
        ("allowed_origins", "origins"),
        ("kind", "kind"),
        ("url", "url"),
        ("credential", "credential"),
        ("model, system_prompt and options", "model"),
        ("model", "model"),
        ("system_prompt", "system_prompt"),
        ("options.temperature", "temperature"),
        ("options", "temperature"),
        ("title", "title"),
        ("description", "description"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| message.starts_with(prefix))
        .map_or(Problems::FORM, |(_, field)| *field)
}

/// A refusal of the catalog as a problem of a field, with the page's
/// status; what is no problem of the form (a missing system, the store) is
/// an error to answer as such.
fn problem_of(e: CatalogError) -> Result<(&'static str, Problem, StatusCode), ApiError> {
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    match e {
        CatalogError::Invalid(message) => {
            let field = field_of(&message);
            let problem = if message.contains("is required") || message.contains("cannot be empty")
            {
                Problem::Required
            } else if message.contains("longer than") {
                Problem::TooLong
            } else {
                match field {
                    "id" => Problem::Id,
                    "origins" => {
                        Problem::Origin(message.split('"').nth(1).unwrap_or_default().to_owned())
                    }
                    "url" => Problem::Url,
                    "kind" => Problem::Kind,
                    "temperature" => Problem::Temperature,
                    "model" if message.contains("apply to kind") => Problem::OpenAiOnly,
                    _ => Problem::Other(message),
                }
            };
            Ok((field, problem, invalid))
        }
        CatalogError::NoSecretKey => Ok(("credential", Problem::NoSecretKey, invalid)),
        CatalogError::ReadOnly(_) => Ok((Problems::FORM, Problem::ReadOnly, StatusCode::CONFLICT)),
        CatalogError::Exists(_) => Ok(("id", Problem::Exists, StatusCode::CONFLICT)),
        other => Err(other.into()),
    }
}

/// Probe `system` (`agent`) as the signed-in operator's test user
/// (`admin-test:<operator>`), with a short-lived chat link relative to this
/// gateway; audited.
async fn test_as_operator(
    state: &AppState,
    access: &Access,
    lang: Lang,
    system: &str,
    agent: Option<&str>,
) -> Result<ProbeView, ApiError> {
    let user = format!("{PROBE_USER}:{}", access.actor_name());
    let prober = Prober {
        user: &user,
        token_ttl: state.config.jwt.token_ttl.min(TEST_LINK_TTL),
        base: "",
        lang: Some(lang),
    };
    let result = probe(state, &prober, system, agent, None).await?;
    let target = match agent {
        Some(agent) => format!("{system}/{agent}"),
        None => system.to_owned(),
    };
    let action = if agent.is_some() {
        "agent.test"
    } else {
        "system.test"
    };
    audited(state, access, action, &format!("{target} as {user}")).await;
    Ok(ProbeView {
        kind: result.kind.to_owned(),
        answer: result.answer,
        error: result.error,
        chat_url: result.chat_url,
    })
}

/// The page's path with its language (and `saved=1` after a change).
fn page_path(path: &str, lang: Lang, saved: bool) -> String {
    if saved {
        format!("{path}?lang={}&saved=1", lang.as_str())
    } else {
        format!("{path}?lang={}", lang.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_messages_land_on_their_field() {
        let cases = [
            ("id is required", "id", Problem::Required),
            ("id: bad", "id", Problem::Id),
            ("agent id \"a b\" must be", "id", Problem::Id),
            (
                "display_name cannot be empty",
                "display_name",
                Problem::Required,
            ),
            (
                "allowed_origins: \"ftp://x\" is not an origin",
                "origins",
                Problem::Origin("ftp://x".into()),
            ),
            ("url must be the webhook's http(s) URL", "url", Problem::Url),
            (
                "credential is required for kind \"openai\"",
                "credential",
                Problem::Required,
            ),
            (
                "model is required for kind \"openai\"",
                "model",
                Problem::Required,
            ),
            (
                "model, system_prompt and options apply to kind \"openai\" only",
                "model",
                Problem::OpenAiOnly,
            ),
            (
                "options.temperature must be between 0 and 2",
                "temperature",
                Problem::Temperature,
            ),
            (
                "system_prompt is longer than 20000 characters",
                "system_prompt",
                Problem::TooLong,
            ),
        ];
        for (message, field, problem) in cases {
            let (f, p, status) = problem_of(CatalogError::Invalid(message.into())).unwrap();
            assert_eq!((f, p, status.as_u16()), (field, problem, 422), "{message}");
        }
        let (f, p, status) = problem_of(CatalogError::ReadOnly("x".into())).unwrap();
        assert_eq!(
            (f, p, status.as_u16()),
            (Problems::FORM, Problem::ReadOnly, 409)
        );
        assert!(problem_of(CatalogError::NotFound("x".into())).is_err());
    }
}
