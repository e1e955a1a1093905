//! REST endpoints under `/api/v4`, GitLab's paths and shapes.

mod ai;
mod audit_events;
mod groups;
mod members;
mod settings;
mod stream_proof;
pub(crate) mod streaming;
mod users;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/user", get(users::current))
        .route("/users", post(users::create).get(users::list))
        .route("/users/{id}", get(users::show))
        .route("/users/{id}/personal_access_tokens", post(users::create_token).get(users::user_tokens))
        .route("/personal_access_tokens", get(users::list_tokens))
        .route("/personal_access_tokens/self", get(users::own_token))
        .route("/personal_access_tokens/{id}", get(users::show_token).delete(users::revoke_token))
        .route("/version", get(users::version))
        .route("/groups", post(groups::create).get(groups::list))
        .route("/groups/{id}", get(groups::show))
        .route("/groups/{id}/subgroups", get(groups::subgroups))
        .route("/groups/{id}/descendant_groups", get(groups::descendant_groups))
        .route("/groups/{id}/projects", get(groups::group_projects))
        .route("/groups/{id}/members", post(members::add).get(members::list))
        .route("/groups/{id}/members/all", get(members::list_all))
        .route("/groups/{id}/members/{user_id}", get(members::show))
        .route("/projects", post(groups::create_project).get(groups::projects))
        .route("/projects/{id}", get(groups::project))
        .route("/projects/{id}/members", get(members::project_direct))
        .route("/projects/{id}/members/all", get(members::project_all))
        .route("/application/settings", get(settings::show).put(settings::update))
        .route("/audit_events", post(audit_events::ingest).get(audit_events::list_instance))
        .route("/audit_events/{id}", get(audit_events::show_instance))
        .route("/ai/audit_events", get(audit_events::list_ai))
        .route("/groups/{id}/audit_events", get(audit_events::list_group))
        .route("/groups/{id}/audit_events/{event_id}", get(audit_events::show_group))
        .route("/projects/{id}/audit_events", get(audit_events::list_project))
        .route("/projects/{id}/audit_events/{event_id}", get(audit_events::show_project))
        .route("/ai/duo_workflows/workflows", post(ai::create_workflow))
        .route("/ai/duo_workflows/workflows/{id}", get(ai::show_workflow))
        .route("/ai/duo_workflows/workflows/{id}/audit_events", post(ai::ingest))
        .route("/ai/duo_workflows/workflows/{id}/audit_events/summary", get(ai::summary))
        .route("/streaming_destinations/{id}", get(streaming::show))
        .route("/streaming_destinations/{id}/parked", get(streaming::parked))
        .route("/streaming_destinations/{id}/checkpoints", get(stream_proof::checkpoints))
        .route("/streaming_destinations/{id}/stream", axum::routing::put(stream_proof::update))
        .route("/streaming/public_key", get(stream_proof::public_key))
        .route("/streaming/public_key/rotate", post(stream_proof::rotate))
        .route("/streaming_destinations/{id}/history", get(streaming::history))
        .route("/streaming_destinations/{id}/resend_parked", post(streaming::resend_parked))
        .route("/streaming_destinations/{id}/replays", post(streaming::replay))
        .route("/streaming_destinations/{id}/test_event", post(streaming::test_event))
        .route("/streaming_destinations/{id}/replays/{replay_id}", get(streaming::replay_status))
}
