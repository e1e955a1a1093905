//! The web UI, served by the binary: sign-in, the audit event pages (Log and Streams tabs) for
//! the instance and for top-level groups, the GitLab Duo settings and the AI sessions report. Pages are HTML rendered
//! here from service calls; the Streams tab's script calls the GraphQL and REST APIs with the
//! session cookie and its CSRF token, so every rule stays in the service layer.

mod ai_sessions;
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
        .route("/admin/ai_sessions", get(ai_sessions::admin))
        .route("/groups/{*path}", get(ai_sessions::group_pages))
        .route("/assets/{name}", get(assets::serve))
}
