//! The AI sessions page, GitLab's "AI audit event report": `/admin/ai_sessions` (admins) and
//! `/groups/<full_path>/-/ai_sessions` (the group's Owners). Sessions filtered by project, date
//! and status; one session's events in sequence order with its completeness, and the session
//! as a JSON download.

use auditrelay_core::WorkflowId;
use auditrelay_core::event::payload_with_id;
use auditrelay_core::time::{format_micros, parse_timestamp};
use auditrelay_service::ServiceError;
use auditrelay_service::ai::SessionReport;
use auditrelay_service::ai::sessions::{SessionFilter, SessionListing, SessionStatus};
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::html::{escape, not_found, page};
use super::log_tab::LogParams;
use super::pages;
use super::session::SignedIn;
use crate::state::AppState;

const DAY_MICROS: i64 = 86_400_000_000;

/// The page's query string (blanks mean "no filter").
#[derive(Debug, Default, Deserialize)]
pub struct SessionParams {
    project: Option<String>,
    created_after: Option<String>,
    created_before: Option<String>,
    status: Option<String>,
    /// One session (its workflow id) to show.
    session: Option<String>,
    /// `json`: download the session.
    format: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The group of `/groups/<full_path>/-/ai_sessions`, from the part after `/groups/`.
pub fn group_ai_sessions_path(rest: &str) -> Option<&str> {
    let path = rest.strip_suffix("/-/ai_sessions")?;
    let valid = !path.is_empty() && path.split('/').all(|segment| !segment.is_empty() && segment != "-");
    valid.then_some(path)
}

fn filter(params: &SessionParams) -> Result<SessionFilter, String> {
    let time = |label: &str, value: Option<&str>| {
        value.map(|v| parse_timestamp(v).ok_or_else(|| format!("{label} is not a valid date"))).transpose()
    };
    let before = given(&params.created_before);
    let whole_day = before.is_some_and(|b| b.len() == 10);
    let status = given(&params.status)
        .map(|s| SessionStatus::parse(s).ok_or_else(|| "Status must be open, incomplete or complete".to_owned()))
        .transpose()?;
    Ok(SessionFilter {
        project: given(&params.project).map(str::to_owned),
        created_after: time("From", given(&params.created_after))?,
        created_before: time("To", before)?.map(|t| if whole_day { t + DAY_MICROS - 1 } else { t }),
        status,
    })
}

pub async fn admin(State(state): State<AppState>, session: SignedIn, Query(params): Query<SessionParams>) -> Response {
    if !session.caller.is_admin() {
        return not_found(Some(&session));
    }
    render(&state, &session, None, &params).await
}

/// Every `/groups/…` page: the AI sessions page, or the group's audit events.
pub async fn group_pages(
    State(state): State<AppState>,
    session: SignedIn,
    Path(rest): Path<String>,
    uri: Uri,
) -> Response {
    if let Some(group) = group_ai_sessions_path(&rest) {
        let params = Query::<SessionParams>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
        return render(&state, &session, Some(group), &params).await;
    }
    let params = Query::<LogParams>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    pages::group_audit_events(State(state), session, Path(rest), Query(params)).await
}

async fn render(state: &AppState, session: &SignedIn, group: Option<&str>, params: &SessionParams) -> Response {
    let base = match group {
        Some(path) => format!("/groups/{path}/-/ai_sessions"),
        None => "/admin/ai_sessions".to_owned(),
    };
    let title = match group {
        Some(path) => format!("AI audit event report · {path}"),
        None => "AI audit event report".to_owned(),
    };
    let mut body = filter_form(&base, params);
    match filter(params) {
        Err(message) => body.push_str(&format!(r#"<p class="alert" role="alert">{}</p>"#, escape(&message))),
        Ok(filter) => match sessions_of(state, &session.caller, group, &filter).await {
            Ok(sessions) => body.push_str(&sessions_table(&base, &sessions)),
            Err(ServiceError::NotFound(_) | ServiceError::Forbidden | ServiceError::Unauthorized) => {
                return not_found(Some(session));
            }
            Err(e) => body.push_str(&format!(r#"<p class="alert" role="alert">{}</p>"#, escape(&e.to_string()))),
        },
    }
    if let Some(id) = given(&params.session) {
        let report = match id.parse::<WorkflowId>() {
            Ok(id) => match state.service.access().scoped(&session.caller) {
                Ok(scoped) => state.service.ai().session_report(&scoped, id).await,
                Err(error) => Err(error),
            },
            Err(_) => Err(ServiceError::NotFound("Workflow")),
        };
        match report {
            Ok(report) if given(&params.format) == Some("json") => return download(&report),
            Ok(report) => body.push_str(&session_detail(&base, &report)),
            Err(_) => return not_found(Some(session)),
        }
    }
    page(StatusCode::OK, &title, Some(session), &body)
}

fn filter_form(base: &str, params: &SessionParams) -> String {
    let value = |v: &Option<String>| escape(given(v).unwrap_or_default());
    let status = given(&params.status).unwrap_or_default();
    let option = |v: &str, label: &str| {
        let selected = if v == status { " selected" } else { "" };
        format!(r#"<option value="{v}"{selected}>{label}</option>"#)
    };
    format!(
        r#"<form method="get" action="{base}" class="filters" aria-label="Filter sessions">
<label>Project <input type="text" name="project" value="{project}" placeholder="group/project"></label>
<label>From <input type="date" name="created_after" value="{after}"></label>
<label>To <input type="date" name="created_before" value="{before}"></label>
<label>Status <select name="status">{any}{open}{incomplete}{complete}</select></label>
<button type="submit">Filter</button>
</form>"#,
        base = escape(base),
        project = value(&params.project),
        after = value(&params.created_after),
        before = value(&params.created_before),
        any = option("", "Any"),
        open = option("open", "Open"),
        incomplete = option("incomplete", "Incomplete"),
        complete = option("complete", "Complete"),
    )
}

fn missing_text(report: &SessionReport) -> String {
    let s = &report.summary;
    if s.missing_count == 0 {
        "none".to_owned()
    } else {
        let listed: Vec<String> = s.missing_sequences.iter().map(i64::to_string).collect();
        let more = if s.missing_count as usize > listed.len() { " …" } else { "" };
        format!("{}{more}", listed.join(", "))
    }
}

fn sessions_table(base: &str, sessions: &[SessionListing]) -> String {
    if sessions.is_empty() {
        return r#"<p class="empty">No AI sessions match.</p>"#.to_owned();
    }
    let mut rows = String::new();
    for s in sessions {
        let href = format!("{base}?session={}", s.row.workflow_id);
        rows.push_str(&format!(
            r#"<tr data-session="{id}"><td><a href="{href}">{id}</a></td><td>{project}</td><td>{first}</td><td>{last}</td><td>{events}</td><td class="status-{status}">{status}</td><td>{missing}</td></tr>"#,
            id = s.row.workflow_id,
            href = escape(&href),
            project = escape(s.project_path.as_deref().unwrap_or("")),
            first = escape(&format_micros(s.row.first_at)),
            last = escape(&format_micros(s.row.last_at)),
            events = s.report.summary.events,
            status = s.status.as_str(),
            missing = escape(&missing_text(&s.report)),
        ));
    }
    format!(
        r#"<table class="sessions" aria-label="AI sessions"><thead><tr><th>Session</th><th>Project</th><th>First event</th><th>Last event</th><th>Events</th><th>Status</th><th>Missing sequences</th></tr></thead><tbody>{rows}</tbody></table>"#
    )
}

fn session_detail(base: &str, report: &SessionReport) -> String {
    let s = &report.summary;
    let number = |n: Option<i64>| n.map_or("—".to_owned(), |n| n.to_string());
    let duplicates: Vec<String> = s.duplicate_sequences.iter().map(i64::to_string).collect();
    let mut rows = String::new();
    for (sequence, event) in &report.events {
        let payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
        let cloud_id = payload["details"]["cloudevent_id"].as_str().unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            number(*sequence),
            escape(&format_micros(event.created_at)),
            escape(&event.event_type),
            escape(cloud_id),
        ));
    }
    let download = format!("{base}?session={}&format=json", report.workflow_id);
    format!(
        r#"<section class="session" aria-label="Session {id}">
<h2>Session {id}</h2>
<dl class="summary">
<dt>Session id</dt><dd>{session}</dd>
<dt>Events</dt><dd data-field="events">{events}</dd>
<dt>Sequences</dt><dd>{first} to {last}</dd>
<dt>Missing sequences</dt><dd data-field="missing">{missing}</dd>
<dt>Repeated sequences</dt><dd>{duplicates}</dd>
<dt>Started</dt><dd>{started}</dd>
<dt>Ended</dt><dd>{ended}</dd>
<dt>Complete</dt><dd data-field="complete">{complete}</dd>
<dt>Digest (SHA-256 of event ids in sequence order)</dt><dd><code>{digest}</code></dd>
</dl>
<p><a href="{download}" download="ai-session-{id}.json">Download JSON</a></p>
<table class="events" aria-label="Events in sequence order"><thead><tr><th>Sequence</th><th>Time</th><th>Type</th><th>Event id</th></tr></thead><tbody>{rows}</tbody></table>
</section>"#,
        id = report.workflow_id,
        session = escape(report.session_id.as_deref().unwrap_or("")),
        events = s.events,
        first = number(s.first_sequence),
        last = number(s.last_sequence),
        missing = escape(&missing_text(report)),
        duplicates = if duplicates.is_empty() { "none".to_owned() } else { duplicates.join(", ") },
        started = if s.started { "yes" } else { "no" },
        ended = if s.ended { "yes" } else { "no" },
        complete = if s.complete { "yes" } else { "no" },
        digest = escape(&s.digest_sha256),
        download = escape(&download),
    )
}

/// The session as JSON: its summary, its events in sequence order as GitLab payloads, and the
/// service's summaries.
fn download(report: &SessionReport) -> Response {
    let payload = |e: &auditrelay_store::StoredEvent| {
        serde_json::from_str::<Value>(&payload_with_id(&e.id, &e.payload)).unwrap_or(Value::Null)
    };
    let body = json!({
        "summary": Value::Object(report.summary_json()),
        "events": report.events.iter().map(|(_, e)| payload(e)).collect::<Vec<_>>(),
        "summaries": report.summaries.iter().map(payload).collect::<Vec<_>>(),
    });
    let disposition = format!("attachment; filename=\"ai-session-{}.json\"", report.workflow_id);
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, "application/json".to_owned()),
            (CACHE_CONTROL, "no-store".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The sessions of the instance (`group` none) or of a group, as the service allows.
async fn sessions_of(
    state: &AppState,
    caller: &auditrelay_service::Caller,
    group: Option<&str>,
    filter: &auditrelay_service::ai::sessions::SessionFilter,
) -> Result<Vec<auditrelay_service::ai::sessions::SessionListing>, ServiceError> {
    let (service, access) = (&state.service, state.service.access());
    match group {
        None => service.ai().instance_ai_sessions(&access.admin(caller)?, filter).await,
        Some(path) => service.ai().group_ai_sessions(&access.group(caller, path).await?, filter).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_pages_name_their_group() {
        assert_eq!(group_ai_sessions_path("acme/-/ai_sessions"), Some("acme"));
        assert_eq!(group_ai_sessions_path("acme/sub/-/ai_sessions"), Some("acme/sub"));
        assert_eq!(group_ai_sessions_path("/-/ai_sessions"), None);
        assert_eq!(group_ai_sessions_path("acme/-/audit_events"), None);
    }

    #[test]
    fn filters_are_checked() {
        let params = SessionParams { status: Some("weird".into()), ..Default::default() };
        assert!(filter(&params).unwrap_err().contains("Status must be"));
        let params = SessionParams { created_after: Some("soon".into()), ..Default::default() };
        assert!(filter(&params).unwrap_err().contains("From is not a valid date"));
        let params = SessionParams {
            created_before: Some("2026-12-01".into()),
            status: Some("open".into()),
            ..Default::default()
        };
        let f = filter(&params).unwrap();
        assert_eq!(f.status, Some(SessionStatus::Open));
        assert_eq!(f.created_before.map(|t| t % DAY_MICROS), Some(DAY_MICROS - 1), "the whole last day");
    }
}
