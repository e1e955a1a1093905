//! `POST /audit_events` (ingest) and GitLab's audit event read endpoints.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::body::read_limited;
use crate::error::{ApiResult, ServiceResult};
use crate::pagination::{PageUrl, keyset_headers, offset_headers, page_from};
use crate::params::Params;
use crate::state::AppState;
use crate::views;
use auditrelay_service::Caller;
use auditrelay_service::events::{EventKey, EventPage, EventQuery, Page};
use auditrelay_store::StoredEvent;

pub async fn ingest(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let bytes = read_limited(body, s.service.ingest_limits().max_body_bytes).await?;
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ndjson = content_type.starts_with("application/x-ndjson") || content_type.starts_with("application/jsonl");
    let ids = s.service.ingest().ingest(&s.service.access().scoped(&caller)?, &bytes, ndjson).await?;
    let ids: Vec<Value> = ids.iter().map(|id| id.to_value()).collect();
    Ok((StatusCode::CREATED, Json(json!({ "ids": ids }))))
}

/// Which store answered a listing: `clickhouse` or `store` (the operational store).
const READ_SOURCE: &str = "x-auditrelay-read-source";

fn query_from(params: &Params) -> ServiceResult<EventQuery> {
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

async fn page_response(
    s: &AppState,
    result: EventPage,
    page: Page,
    url: &PageUrl,
) -> ApiResult<impl IntoResponse + use<>> {
    let headers = match page {
        Page::Offset { page, per_page } => offset_headers(url, page, per_page, result.total.unwrap_or(0)),
        Page::Keyset { per_page, .. } => keyset_headers(url, per_page, result.next_seq),
    };
    let emails = s.service.events().author_emails(&result.events).await?;
    let email = |e: &StoredEvent| e.author_id.and_then(|a| emails.get(&a)).map(String::as_str);
    let body: Vec<Value> = result.events.iter().map(|e| views::audit_event(e, email(e))).collect();
    let source = [(READ_SOURCE, result.source.as_str())];
    Ok((headers, source, Json(Value::Array(body))))
}

/// One event in GitLab's REST shape.
async fn one(s: &AppState, event: StoredEvent) -> ApiResult<Json<Value>> {
    let emails = s.service.events().author_emails(std::slice::from_ref(&event)).await?;
    let email = event.author_id.and_then(|a| emails.get(&a)).map(String::as_str);
    Ok(Json(views::audit_event(&event, email)))
}

/// `?by=streamed_id` looks a number up as the streamed (producer's) id, not the service's.
fn key<'a>(id: &'a str, params: &Params) -> ServiceResult<EventKey<'a>> {
    let streamed = match params.string("by")?.as_deref() {
        None | Some("id") => false,
        Some("streamed_id") => true,
        Some(_) => {
            return Err(crate::error::ServiceError::BadParam(
                "by does not have a valid value: use id or streamed_id".into(),
            ));
        }
    };
    Ok(EventKey::parse(id, streamed))
}

pub async fn list_instance(
    State(s): State<AppState>,
    caller: Caller,
    url: PageUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let page = page_from(&params)?;
    let query = query_from(&params)?;
    let result = s.service.events().instance_events(&s.service.access().admin(&caller)?, &query, page).await?;
    page_response(&s, result, page, &url).await
}

/// `GET /ai/audit_events`: AI agent events, by `workflow_id`, `session_id`, `event_type` and time.
pub async fn list_ai(
    State(s): State<AppState>,
    caller: Caller,
    url: PageUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let page = page_from(&params)?;
    let query = query_from(&params)?;
    let result = s.service.events().ai_events(&s.service.access().admin(&caller)?, &query, page).await?;
    page_response(&s, result, page, &url).await
}

pub async fn list_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let page = page_from(&params)?;
    let query = query_from(&params)?;
    let grant = s.service.access().group(&caller, &id).await?;
    let result = s.service.events().group_events(&grant, &query, page).await?;
    page_response(&s, result, page, &url).await
}

pub async fn list_project(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let page = page_from(&params)?;
    let query = query_from(&params)?;
    let grant = s.service.access().project(&caller, &id).await?;
    let result = s.service.events().project_events(&grant, &query, page).await?;
    page_response(&s, result, page, &url).await
}

pub async fn show_instance(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let key = key(&id, &params)?;
    let event = s.service.events().instance_event(&s.service.access().admin(&caller)?, key).await?;
    one(&s, event).await
}

pub async fn show_group(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, event)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let key = key(&event, &params)?;
    let event = s.service.events().group_event(&s.service.access().group(&caller, &id).await?, key).await?;
    one(&s, event).await
}

pub async fn show_project(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, event)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let key = key(&event, &params)?;
    let event = s.service.events().project_event(&s.service.access().project(&caller, &id).await?, key).await?;
    one(&s, event).await
}
