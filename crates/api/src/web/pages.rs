//! The audit events pages of the instance (`/admin/audit_logs`) and of a group
//! (`/groups/<full_path>/-/audit_events`), each with a Log and a Streams tab.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::authorize::{Tab, admin_page_visible, group_audit_events_path};
use super::html::{escape, not_found, page, url_attribute};
use super::log_tab::{self, LogParams};
use super::session::SignedIn;
use crate::error::ServiceError;
use crate::state::AppState;
use auditrelay_service::access::need;

/// Admins land on the instance's audit events; others see the groups whose streams they own.
pub async fn home(State(state): State<AppState>, session: SignedIn) -> Response {
    if session.caller.is_admin() {
        return Redirect::to("/admin/audit_logs").into_response();
    }
    let groups = match state.service.access().scoped(&session.caller) {
        Ok(scoped) => state.service.identity().groups(&scoped, 0, 100).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let mut items = String::new();
    for group in groups.iter().filter(|g| g.parent_id.is_none()) {
        let href = format!("/groups/{}/-/audit_events", group.full_path);
        items.push_str(&format!(r#"<li><a href="{}">{}</a></li>"#, url_attribute(&href), escape(&group.name)));
    }
    let body = if items.is_empty() {
        "<p>You are not a member of any group.</p>".to_owned()
    } else {
        format!(r#"<h2>Groups</h2><ul class="groups">{items}</ul>"#)
    };
    page(StatusCode::OK, "Audit events", Some(&session), &body)
}

pub async fn admin_audit_logs(
    State(state): State<AppState>,
    session: SignedIn,
    Query(params): Query<LogParams>,
) -> Response {
    if !admin_page_visible(session.caller.is_admin()) {
        return not_found(Some(&session));
    }
    let base = "/admin/audit_logs";
    let tab = Tab::parse(params.tab.as_deref());
    let content = match tab {
        Tab::Streams => streams_shell(None),
        Tab::Log => {
            let result = match log_tab::query(&params) {
                Ok((query, page)) => {
                    let service = &state.service;
                    let read = async {
                        service.events().instance_events(&service.access().admin(&session.caller)?, &query, page).await
                    };
                    read.await.map(|r| (r, page_number(page)))
                }
                Err(e) => Err(e),
            };
            log_tab::render(base, &params, result)
        }
    };
    page(StatusCode::OK, "Audit events", Some(&session), &tabs(base, tab, true, &content))
}

pub async fn group_audit_events(
    State(state): State<AppState>,
    session: SignedIn,
    Path(rest): Path<String>,
    Query(params): Query<LogParams>,
) -> Response {
    let Some(group_path) = group_audit_events_path(&rest) else { return not_found(Some(&session)) };
    let base = format!("/groups/{group_path}/-/audit_events");
    let tab = Tab::parse(params.tab.as_deref());
    // Streams are managed by Owners of a top-level group (or admins), as the service decides.
    let owner = state.service.access().owner::<need::Read>(&session.caller, Some(group_path)).await;
    let streams_allowed = owner
        .as_ref()
        .is_ok_and(|o| matches!(o.owner(), auditrelay_service::destinations::Owner::Group(g) if g.parent_id.is_none()));
    let content = match tab {
        Tab::Streams if streams_allowed => streams_shell(Some(group_path)),
        Tab::Streams => return not_found(Some(&session)),
        Tab::Log => {
            let result = match log_tab::query(&params) {
                Ok((query, page)) => {
                    let service = &state.service;
                    let read = async {
                        let grant = service.access().group(&session.caller, group_path).await?;
                        service.events().group_events(&grant, &query, page).await
                    };
                    read.await.map(|r| (r, page_number(page)))
                }
                Err(e) => Err(e),
            };
            if let Err(ServiceError::NotFound(_) | ServiceError::Forbidden | ServiceError::Unauthorized) = result {
                return not_found(Some(&session));
            }
            log_tab::render(&base, &params, result)
        }
    };
    let title = format!("Audit events · {group_path}");
    page(StatusCode::OK, &title, Some(&session), &tabs(&base, tab, streams_allowed, &content))
}

fn page_number(page: auditrelay_service::events::Page) -> i64 {
    match page {
        auditrelay_service::events::Page::Offset { page, .. } => page,
        auditrelay_service::events::Page::Keyset { .. } => 1,
    }
}

fn tabs(base: &str, current: Tab, with_streams: bool, content: &str) -> String {
    let link = |tab: Tab, label: &str, query: &str| {
        let current = if tab == current { r#" aria-current="page" class="active""# } else { "" };
        format!(r#"<a href="{}?tab={query}"{current}>{label}</a>"#, url_attribute(base))
    };
    let streams = if with_streams { link(Tab::Streams, "Streams", "streams") } else { String::new() };
    format!(
        r#"<nav class="tabs" aria-label="Audit events tabs">{}{streams}</nav><section class="tab-panel" aria-label="{}">{content}</section>"#,
        link(Tab::Log, "Log", "log"),
        if current == Tab::Log { "Log" } else { "Streams" },
    )
}

/// The Streams tab: its script lists and manages the destinations through the GraphQL API.
fn streams_shell(group_path: Option<&str>) -> String {
    let scope = match group_path {
        Some(path) => format!(r#"data-scope="group" data-group-path="{}""#, escape(path)),
        None => r#"data-scope="instance""#.to_owned(),
    };
    format!(
        r#"<div id="streams" {scope}><p class="loading" role="status">Loading streaming destinations…</p></div>
<noscript><p class="alert">The Streams tab needs JavaScript.</p></noscript>
<script src="/assets/api.js" defer></script><script src="/assets/stream_panel.js" defer></script><script src="/assets/streams.js" defer></script>"#
    )
}
