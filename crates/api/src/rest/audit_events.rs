//! `POST /audit_events` (ingest) and GitLab's audit event read endpoints.

use axum::Json;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Uri, header::CONTENT_TYPE};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{CREATED, base_url};
use crate::body::read_limited;
use crate::error::ApiResult;
use crate::pagination::{keyset_headers, offset_headers, page_from};
use crate::params::Params;
use crate::{AppState, views};
use auditrelay_service::Caller;
use auditrelay_service::events::{EventPage, EventQuery, Page};

pub async fn ingest(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let bytes = read_limited(body, s.service.ingest_limits.max_body_bytes).await?;
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ndjson = content_type.starts_with("application/x-ndjson") || content_type.starts_with("application/jsonl");
    let ids = s.service.ingest(&caller, &bytes, ndjson).await?;
    let ids: Vec<Value> = ids.iter().map(|id| id.to_value()).collect();
    Ok((CREATED, Json(json!({ "ids": ids }))))
}

/// Which store answered a listing: `clickhouse` or `store` (the operational store).
const READ_SOURCE: &str = "x-auditrelay-read-source";

fn query_from(params: &Params) -> ApiResult<EventQuery> {
    Ok(EventQuery {
        created_after: params.timestamp("created_after")?,
        created_before: params.timestamp("created_before")?,
        entity_type: params.string("entity_type")?,
        entity_id: params.int("entity_id")?,
        author_id: None,
        event_type: params.string("event_type")?,
        workflow_id: params.int("workflow_id")?,
        session_id: params.string("session_id")?,
    })
}

fn page_response(result: EventPage, page: Page, headers: &HeaderMap, uri: &Uri) -> impl IntoResponse + use<> {
    let base = base_url(headers);
    let headers = match page {
        Page::Offset { page, per_page } => offset_headers(&base, uri, page, per_page, result.total.unwrap_or(0)),
        Page::Keyset { per_page, .. } => keyset_headers(&base, uri, per_page, result.next_seq),
    };
    let body: Vec<Value> = result.events.iter().map(views::audit_event).collect();
    let source = [(READ_SOURCE, result.source.as_str())];
    (headers, source, Json(Value::Array(body)))
}

pub async fn list_instance(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let page = page_from(&params)?;
    let result = s.service.instance_events(&caller, &query_from(&params)?, page).await?;
    Ok(page_response(result, page, &headers, &uri))
}

/// `GET /ai/audit_events`: AI agent events, by `workflow_id`, `session_id`, `event_type` and time.
pub async fn list_ai(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let page = page_from(&params)?;
    let result = s.service.ai_events(&caller, &query_from(&params)?, page).await?;
    Ok(page_response(result, page, &headers, &uri))
}

pub async fn list_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let page = page_from(&params)?;
    let result = s.service.group_events(&caller, &id, &query_from(&params)?, page).await?;
    Ok(page_response(result, page, &headers, &uri))
}

pub async fn list_project(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let page = page_from(&params)?;
    let result = s.service.project_events(&caller, &id, &query_from(&params)?, page).await?;
    Ok(page_response(result, page, &headers, &uri))
}

pub async fn show_instance(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(views::audit_event(&s.service.instance_event(&caller, &id).await?)))
}

pub async fn show_group(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, event)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(views::audit_event(&s.service.group_event(&caller, &id, &event).await?)))
}

pub async fn show_project(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, event)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(views::audit_event(&s.service.project_event(&caller, &id, &event).await?)))
}
