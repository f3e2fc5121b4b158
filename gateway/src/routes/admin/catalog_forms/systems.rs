//! The system forms.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};

use super::{audited, fields, page_path, problem_of, test_as_operator};
use crate::catalog::SystemInput;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::operators::Access;
use crate::pages::{
    Problem, Problems, SystemFlash, SystemForm, admin_lang, system_page, systems_page,
};
use crate::state::AppState;

/// The form's fields as typed; a missing `enabled` is an unticked box.
fn system_form(body: &[u8]) -> SystemForm {
    let mut f = fields(body);
    let mut take = |name: &str| f.remove(name).unwrap_or_default();
    SystemForm {
        id: take("id").trim().to_owned(),
        display_name: take("display_name"),
        origins: take("origins"),
        enabled: take("enabled") == "true",
    }
}

/// The origins typed one per line (or separated by commas or blanks).
fn origins_of(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect()
}

fn input_of(form: &SystemForm, with_id: bool) -> SystemInput {
    let name = form.display_name.trim();
    SystemInput {
        id: with_id.then(|| form.id.clone()),
        // Left empty on create, the id is the name; on edit, the catalog
        // refuses an empty one (next to the field).
        display_name: (!with_id || !name.is_empty()).then(|| name.to_owned()),
        allowed_origins: Some(origins_of(&form.origins)),
        enabled: Some(form.enabled),
        default_agent: None,
    }
}

/// `POST /admin/systems`.
pub(super) async fn create(
    State(state): State<AppState>,
    access: Access,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = admin_lang(&headers, uri.query());
    if let Err(e) = access.require_admin() {
        return e.into_response();
    }
    let form = system_form(&body);
    let mut problems = Problems::default();
    let status = match state.catalog.create_system(input_of(&form, true)).await {
        Ok(created) => {
            audited(&state, &access, "system.create", &created.id).await;
            let path = format!("/admin/systems/{}", created.id);
            return Redirect::to(&page_path(&path, lang, true)).into_response();
        }
        Err(e) => match problem_of(e) {
            Ok((field, problem, status)) => {
                problems.add(field, problem);
                status
            }
            Err(e) => return e.into_response(),
        },
    };
    systems_page(&state, &access, lang, status, form, &problems).await
}

/// `POST /admin/systems/{id}`: display name, origins, enabled.
pub(super) async fn update(
    State(state): State<AppState>,
    access: Access,
    ApiPath(id): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = admin_lang(&headers, uri.query());
    if let Err(e) = access.require_admin() {
        return e.into_response();
    }
    let form = SystemForm {
        id: id.clone(),
        ..system_form(&body)
    };
    let input = input_of(&form, false);
    change(
        &state,
        &access,
        lang,
        &id,
        input,
        Some(form),
        "system.update",
    )
    .await
}

/// `POST /admin/systems/{id}/enabled`.
pub(super) async fn enabled(
    State(state): State<AppState>,
    access: Access,
    ApiPath(id): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = admin_lang(&headers, uri.query());
    if let Err(e) = access.require_admin() {
        return e.into_response();
    }
    let on = fields(&body).get("enabled").is_some_and(|v| v == "true");
    let input = SystemInput {
        enabled: Some(on),
        ..SystemInput::default()
    };
    let action = if on {
        "system.enable"
    } else {
        "system.disable"
    };
    change(&state, &access, lang, &id, input, None, action).await
}

/// Apply `input` to system `id`: back to its page, saved or with the
/// problem shown.
async fn change(
    state: &AppState,
    access: &Access,
    lang: sdk::Lang,
    id: &str,
    input: SystemInput,
    form: Option<SystemForm>,
    action: &str,
) -> Response {
    match state.catalog.update_system(id, input).await {
        Ok(_) => {
            audited(state, access, action, id).await;
            let path = format!("/admin/systems/{id}");
            Redirect::to(&page_path(&path, lang, true)).into_response()
        }
        Err(e) => match problem_of(e) {
            Ok((field, problem, status)) => {
                let mut problems = Problems::default();
                problems.add(field, problem);
                let flash = SystemFlash {
                    form,
                    problems,
                    ..SystemFlash::default()
                };
                system_page(state, access, lang, id, status, flash).await
            }
            Err(e) => e.into_response(),
        },
    }
}

/// `POST /admin/systems/{id}/delete`, with `confirm=yes`.
pub(super) async fn delete(
    State(state): State<AppState>,
    access: Access,
    ApiPath(id): ApiPath<String>,
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
        match state.catalog.delete_system(&id).await {
            Ok(()) => {
                audited(&state, &access, "system.delete", &id).await;
                return Redirect::to(&page_path("/admin/systems", lang, false)).into_response();
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
    let flash = SystemFlash {
        problems,
        ..SystemFlash::default()
    };
    system_page(&state, &access, lang, &id, status, flash).await
}

/// `POST /admin/systems/{id}/test`: the page with what the probe found.
pub(super) async fn test(
    State(state): State<AppState>,
    access: Access,
    ApiPath(id): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = admin_lang(&headers, uri.query());
    access.require_admin()?;
    let probe = test_as_operator(&state, &access, lang, &id, None).await?;
    let flash = SystemFlash {
        probe: Some(probe),
        ..SystemFlash::default()
    };
    Ok(system_page(&state, &access, lang, &id, StatusCode::OK, flash).await)
}
