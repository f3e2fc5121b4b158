//! `/v1/admin`: systems and agents managed at runtime.
//!
//! | method | path | |
//! |---|---|---|
//! | GET, POST | `/v1/admin/systems` | list (stored and read-only), create |
//! | GET, PATCH, DELETE | `/v1/admin/systems/{id}` | one stored system |
//! | POST | `/v1/admin/systems/{id}/test` | probe its upstream, get a test chat link |
//! | GET, POST | `/v1/admin/systems/{id}/agents` | its agents; create one |
//! | GET, PATCH, DELETE | `/v1/admin/systems/{id}/agents/{agent}` | one stored agent |
//! | POST | `/v1/admin/systems/{id}/agents/{agent}/test` | probe one agent |
//!
//! Every handler takes an [`Admin`] caller: today the root API key. The
//! console's data API (conversations, export, analytics) is in `console`.

mod agents;
mod console;
mod probe;
mod systems;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// Who may call the admin API. Swapping in the operator access check is
/// this one line.
pub(crate) type Admin = crate::auth::ServerKey;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .merge(console::router())
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
