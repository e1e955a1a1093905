//! GitLab's Duo Workflows endpoints: create and show a workflow, and its AI audit events
//! (a CloudEvents batch, `application/json` or `application/cloudevents-batch+json`) and the
//! summary of its session.

use auditrelay_core::WorkflowId;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::body::read_limited;
use crate::error::{ApiResult, ServiceError};
use crate::params::Params;
use crate::state::AppState;
use auditrelay_core::ai_events::MAX_BATCH_BYTES;
use auditrelay_core::time::format_micros;
use auditrelay_service::Caller;
use auditrelay_service::ai::{CreateWorkflow, WorkflowView};

pub async fn create_workflow(
    State(s): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let project = params.string("project_id")?.ok_or_else(|| ServiceError::missing("project_id"))?;
    let input = CreateWorkflow {
        project,
        goal: params.string("goal")?.ok_or_else(|| ServiceError::missing("goal"))?,
        workflow_definition: params.string("workflow_definition")?,
        environment: params.string("environment")?,
    };
    let created = s.service.ai().create_workflow(&s.service.access().scoped(&caller)?, input).await?;
    Ok((StatusCode::CREATED, Json(workflow(&created))))
}

pub async fn show_workflow(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = id.parse::<WorkflowId>().map_err(|_| ServiceError::NotFound("Workflow"))?;
    Ok(Json(workflow(&s.service.ai().workflow(&s.service.access().scoped(&caller)?, id).await?)))
}

pub async fn ingest(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let id = id.parse::<WorkflowId>().map_err(|_| ServiceError::NotFound("Workflow"))?;
    let bytes = read_limited(body, MAX_BATCH_BYTES).await?;
    let ids = s.service.ai().ingest_ai_events(&s.service.access().scoped(&caller)?, id, &bytes).await?;
    let ids: Vec<Value> = ids.iter().map(|id| id.to_value()).collect();
    Ok((StatusCode::CREATED, Json(json!({ "ids": ids }))))
}

/// A workflow's session: events, first and last sequence, missing and repeated numbers,
/// started/ended, and the digest of its event ids in sequence order.
pub async fn summary(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = id.parse::<WorkflowId>().map_err(|_| ServiceError::NotFound("Workflow"))?;
    let report = s.service.ai().session_report(&s.service.access().scoped(&caller)?, id).await?;
    Ok(Json(Value::Object(report.summary_json())))
}

fn workflow(view: &WorkflowView) -> Value {
    let w = &view.workflow;
    json!({
        "id": w.id,
        "project_id": w.project_id,
        "project_path": view.project.full_path,
        "namespace_id": view.project.namespace_id,
        "user_id": w.user_id,
        "goal": w.goal,
        "workflow_definition": w.workflow_definition,
        "environment": w.environment,
        "status": "created",
        "created_at": format_micros(w.created_at),
    })
}
