//! The admin API (`/v1/admin/*`) and operator sign-in (`/admin/login`,
//! `/admin/logout`). Every handler here takes [`crate::operators::Access`]
//! (an operator session or an API key), directly or as [`Admin`]; the
//! `/admin` pages themselves are in [`crate::pages`].
//!
//! | method | path | |
//! |---|---|---|
//! | GET, POST | `/v1/admin/systems` | list (stored and read-only), create |
//! | GET, PATCH, DELETE | `/v1/admin/systems/{id}` | one stored system |
//! | POST | `/v1/admin/systems/{id}/test` | probe its upstream, get a test chat link |
//! | GET, POST | `/v1/admin/systems/{id}/agents` | its agents; create one |
//! | GET, PATCH, DELETE | `/v1/admin/systems/{id}/agents/{agent}` | one stored agent |
//! | POST | `/v1/admin/systems/{id}/agents/{agent}/test` | probe one agent |
//! | GET, POST, DELETE | `/v1/admin/keys[/{id}]` | scoped API keys |
//! | GET | `/v1/admin/audit`, `/v1/admin/operators`, `/v1/admin/me` | audit log, operators, who am I |
//!
//! The systems and agents pages' forms (`POST /admin/systems…`) are in
//! `catalog_forms`.
//!
//! The console's data API (conversations, export, analytics) is in
//! `console`; it lets analysts read their own systems.

mod agents;
mod audit;
mod catalog_forms;
mod console;
mod forms;
mod keys;
mod probe;
mod session;
mod systems;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{delete, get, post};

use crate::error::ApiError;
use crate::operators::Access;
use crate::state::AppState;

/// An admin: an operator with the `admin` role, or an API key with the
/// `admin` permission (root keys have every permission). Anyone else gets
/// 403 `forbidden`. Changes it makes are recorded with [`Admin::audit`].
pub(crate) struct Admin(Access);

impl Admin {
    /// Record `action` on `target` in the audit log, as this admin, from
    /// its address.
    pub(super) async fn audit(&self, state: &AppState, action: &str, target: &str) {
        crate::operators::audit::record(
            &*state.store,
            &self.0.actor_name(),
            action,
            target,
            &self.0.address(),
        )
        .await;
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let access = Access::from_request_parts(parts, state).await?;
        access.require_admin()?;
        Ok(Admin(access))
    }
}

/// The OpenAPI description of these routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    session::login,
    session::logout,
    session::me,
    keys::list,
    keys::create,
    keys::revoke,
    audit::list,
    audit::operators,
    systems::list,
    systems::create,
    systems::show,
    systems::update,
    systems::delete,
    probe::system,
    agents::list,
    agents::create,
    agents::show,
    agents::update,
    agents::delete,
    probe::agent,
    console::conversations,
    console::transcript,
    console::export_filter,
    console::analytics_of,
))]
pub(super) struct AdminDoc;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .merge(console::router())
        .merge(catalog_forms::router())
        .route("/admin/login", post(session::login))
        .route("/admin/logout", post(session::logout))
        .route("/admin/keys", post(forms::create))
        .route("/admin/keys/{id}/revoke", post(forms::revoke))
        .route("/v1/admin/me", get(session::me))
        .route("/v1/admin/keys", get(keys::list).post(keys::create))
        .route("/v1/admin/keys/{id}", delete(keys::revoke))
        .route("/v1/admin/audit", get(audit::list))
        .route("/v1/admin/operators", get(audit::operators))
        .route(
            "/v1/admin/systems",
            get(systems::list).post(systems::create),
        )
        .route(
            "/v1/admin/systems/{id}",
            get(systems::show)
                .patch(systems::update)
                .delete(systems::delete),
        )
        .route("/v1/admin/systems/{id}/test", post(probe::system))
        .route(
            "/v1/admin/systems/{id}/agents",
            get(agents::list).post(agents::create),
        )
        .route(
            "/v1/admin/systems/{id}/agents/{agent}",
            get(agents::show)
                .patch(agents::update)
                .delete(agents::delete),
        )
        .route(
            "/v1/admin/systems/{id}/agents/{agent}/test",
            post(probe::agent),
        )
}
