//! Delivery of a streaming destination: health, parked events, replays and re-sends. An
//! extension of GitLab's API (GitLab has none of these); any generation's destination id works.

use auditrelay_core::DestinationId;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::{ApiResult, ServiceError, ServiceResult};
use crate::params::Params;
use crate::state::AppState;
use auditrelay_core::time::format_micros;
use auditrelay_service::Caller;
use auditrelay_service::access::need;
use auditrelay_service::delivery::{HealthView, ReplayRange};
use auditrelay_store::delivery::{Parked, Replay};

fn id(text: &str) -> ServiceResult<DestinationId> {
    text.parse().map_err(|_| ServiceError::NotFound("Destination"))
}

pub fn health_json(h: &HealthView) -> Value {
    json!({
        "state": h.state,
        "consecutive_failures": h.consecutive_failures,
        "last_delivered_at": h.last_success_at.map(format_micros),
        "last_error": h.last_error,
        "last_error_status": h.last_error_status,
        "last_error_at": h.last_error_at.map(format_micros),
        "delivered": h.delivered,
        "backlog": h.backlog,
        "lag_seconds": h.lag_seconds,
        "parked": h.parked,
        "cursor": h.cursor,
    })
}

fn replay_json(r: &Replay) -> Value {
    json!({
        "id": r.id,
        "destination_id": r.destination_id,
        "from_seq": r.from_seq,
        "to_seq": r.to_seq,
        "next_seq": r.next_seq,
        "sent": r.sent,
        "state": r.state,
        "created_at": format_micros(r.created_at),
        "finished_at": r.finished_at.map(format_micros),
    })
}

fn parked_json(p: &Parked) -> Value {
    json!({"seq": p.seq, "attempts": p.attempts, "last_error": p.last_error, "last_status": p.last_status, "parked_at": format_micros(p.parked_at), "resend": p.resend})
}

pub async fn show(
    State(s): State<AppState>,
    caller: Caller,
    Path(destination): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = s.service.access().any_destination::<need::Read>(&caller, id(&destination)?).await?;
    let health = s.service.delivery().destination_health(&d).await?;
    let stream = s.service.streams().destination_stream(&d).await?;
    let d = d.destination();
    Ok(Json(json!({
        "stream": super::stream_proof::stream_json(&stream),
        "id": d.id,
        "name": d.name,
        "category": d.category.as_str(),
        "active": d.active,
        "group_id": d.owner.group_id(),
        "health": health_json(&health),
    })))
}

pub async fn parked(
    State(s): State<AppState>,
    caller: Caller,
    Path(destination): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = s.service.access().any_destination::<need::Read>(&caller, id(&destination)?).await?;
    let parked = s.service.delivery().parked_events(&d).await?;
    Ok(Json(Value::Array(parked.iter().map(parked_json).collect())))
}

pub async fn resend_parked(
    State(s): State<AppState>,
    caller: Caller,
    Path(destination): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = s.service.access().any_destination(&caller, id(&destination)?).await?;
    let count = s.service.delivery().resend_parked(&d).await?;
    Ok(Json(json!({ "resent": count })))
}

pub async fn replay(
    State(s): State<AppState>,
    caller: Caller,
    Path(destination): Path<String>,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let d = s.service.access().any_destination::<need::Read>(&caller, id(&destination)?).await?;
    let range = ReplayRange {
        from_seq: params.int("from_seq")?,
        to_seq: params.int("to_seq")?,
        created_after: params.timestamp("created_after")?,
        created_before: params.timestamp("created_before")?,
    };
    let replay = s.service.delivery().replay(&d.needing()?, range).await?;
    Ok((StatusCode::CREATED, Json(replay_json(&replay))))
}

pub async fn replay_status(
    State(s): State<AppState>,
    caller: Caller,
    Path((destination, replay)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let d = s.service.access().any_destination::<need::Read>(&caller, id(&destination)?).await?;
    let replay_id = replay.parse().map_err(|_| ServiceError::NotFound("Replay"))?;
    Ok(Json(replay_json(&s.service.delivery().replay_status(&d, replay_id).await?)))
}

/// Sends one sample event straight to the destination (not through the log) and reports its answer.
pub async fn test_event(
    State(s): State<AppState>,
    caller: Caller,
    Path(destination): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = s.service.access().any_destination(&caller, id(&destination)?).await?;
    let outcome = s.service.test_events().send_test_event(&d).await?;
    Ok(Json(json!({ "delivered": outcome.delivered, "message": outcome.message })))
}

/// `GET /streaming_destinations/:id/history`: the last hour of deliveries in 10-second buckets
/// (`start` as RFC 3339, `delivered`, `max_lag_seconds`), oldest first, as this node saw them.
pub async fn history(
    State(s): State<AppState>,
    caller: Caller,
    Path(destination): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = s.service.access().any_destination::<need::Read>(&caller, id(&destination)?).await?;
    let buckets = s.service.delivery().delivery_history(&d).await?;
    let buckets: Vec<Value> = buckets
        .iter()
        .map(|b| {
            json!({
                "start": format_micros(b.start * 1_000_000),
                "delivered": b.delivered,
                "max_lag_seconds": b.max_lag_ms as f64 / 1000.0,
            })
        })
        .collect();
    Ok(Json(json!({"bucket_seconds": auditrelay_service::delivery::HISTORY_BUCKET_SECONDS, "buckets": buckets})))
}
