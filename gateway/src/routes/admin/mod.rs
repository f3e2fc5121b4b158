//! The admin API (`/v1/admin/*`) and operator sign-in (`/admin/login`,
//! `/admin/logout`). Every handler here takes [`crate::operators::Access`];
//! the `/admin` pages themselves are in [`crate::pages`].

mod audit;
mod forms;
mod keys;
mod session;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/login", post(session::login))
        .route("/admin/logout", post(session::logout))
        .route("/admin/keys", post(forms::create))
        .route("/admin/keys/{id}/revoke", post(forms::revoke))
        .route("/v1/admin/me", get(session::me))
        .route("/v1/admin/keys", get(keys::list).post(keys::create))
        .route("/v1/admin/keys/{id}", delete(keys::revoke))
        .route("/v1/admin/audit", get(audit::list))
        .route("/v1/admin/operators", get(audit::operators))
}
