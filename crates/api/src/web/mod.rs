//! The web UI, served by the binary: sign-in, the audit event pages (Log and Streams tabs) for
//! the instance and for top-level groups, and the GitLab Duo settings. Pages are HTML rendered
//! here from service calls; the Streams tab's script calls the GraphQL and REST APIs with the
//! session cookie and its CSRF token, so every rule stays in the service layer.

mod assets;
mod authorize;
mod duo;
mod html;
mod log_tab;
mod pages;
mod session;
mod sign_in;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/users/sign_in", get(sign_in::form).post(sign_in::submit))
        .route("/users/sign_out", post(sign_in::sign_out))
        .route("/admin/audit_logs", get(pages::admin_audit_logs))
        .route("/admin/gitlab_duo", get(duo::show).post(duo::save))
        .route("/groups/{*path}", get(pages::group_audit_events))
        .route("/assets/{name}", get(assets::serve))
}
