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

pub(crate) use html::{escape, with_security_headers};

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};

use crate::state::AppState;

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

/// Every answer (pages, the explorer, assets, API JSON, errors) may not be framed or
/// MIME-sniffed and sends no referrer to other sites. Answers without their own policy (all but
/// the HTML pages) get one that loads nothing.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (X_FRAME_OPTIONS, "DENY"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (REFERRER_POLICY, "same-origin"),
        (CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    ] {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
}
