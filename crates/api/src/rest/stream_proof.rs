//! Provable streams over REST (an auditrelay extension): a destination's checkpoints, the
//! instance's public keys, key rotation and the in-band checkpoint option. The destination's
//! `stream` object is part of `GET /streaming_destinations/:id` (`streaming.rs`).

use auditrelay_core::DestinationId;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::{ApiResult, ServiceError, ServiceResult};
use crate::pagination::{MAX_PER_PAGE, PageUrl, after_headers};
use crate::params::Params;
use crate::state::AppState;
use auditrelay_core::time::format_micros;
use auditrelay_service::Caller;
use auditrelay_service::access::need;
use auditrelay_service::streams::{PublicKeyView, StreamView};
use auditrelay_store::streams::StoredCheckpoint;

fn id(text: &str) -> ServiceResult<DestinationId> {
    text.parse().map_err(|_| ServiceError::NotFound("Destination"))
}

/// A stored checkpoint as its SignedCheckpoint JSON (stored as signed, so byte for byte).
fn signed(checkpoint: &StoredCheckpoint) -> Value {
    serde_json::from_str(&checkpoint.signed).unwrap_or(Value::Null)
}

pub fn stream_json(view: &StreamView) -> Value {
    json!({
        "id": view.id,
        "position": view.position,
        "delivered_through": view.delivered_through,
        "last_checkpoint": view.last_checkpoint.as_ref().map(signed),
        "last_checkpoint_delivered": view.last_checkpoint.as_ref().is_some_and(|c| c.delivered),
        "in_band_checkpoints": view.in_band_checkpoints,
    })
}

fn key_json(key: &PublicKeyView) -> Value {
    json!({
        "key_id": key.key_id,
        "public_key": key.public_key,
        "algorithm": "ed25519",
        "valid_from": format_micros(key.valid_from),
        "valid_until": key.valid_until.map(format_micros),
    })
}

/// `GET /streaming_destinations/:id/checkpoints?after_sequence=N&per_page=M`.
pub async fn checkpoints(
    State(s): State<AppState>,
    caller: Caller,
    Path(destination): Path<String>,
    url: PageUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let d = s.service.access().any_destination::<need::Read>(&caller, id(&destination)?).await?;
    let after = params.int("after_sequence")?.unwrap_or(0);
    if after < 0 {
        return Err(ServiceError::BadParam("after_sequence must be 0 or more".into()).into());
    }
    let per_page = params.int("per_page")?.unwrap_or(MAX_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ServiceError::BadParam(format!("per_page must be between 1 and {MAX_PER_PAGE}")).into());
    }
    let list = s.service.streams().destination_checkpoints(&d, after, per_page).await?;
    let next = (list.len() as i64 == per_page).then(|| list.last().map(|c| c.sequence)).flatten();
    let headers = after_headers(&url, per_page, "after_sequence", next);
    Ok((headers, Json(Value::Array(list.iter().map(signed).collect()))))
}

/// `PUT /streaming_destinations/:id/stream` with `in_band_checkpoints`.
pub async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(destination): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let d = s.service.access().any_destination::<need::Read>(&caller, id(&destination)?).await?;
    let on = params.bool("in_band_checkpoints")?.ok_or_else(|| ServiceError::missing("in_band_checkpoints"))?;
    s.service.streams().set_in_band_checkpoints(&d.needing()?, on).await?;
    Ok(Json(stream_json(&s.service.streams().destination_stream(&d).await?)))
}

/// `GET /streaming/public_key`: every key, the current one with `valid_until` null.
pub async fn public_key(State(s): State<AppState>, _caller: Caller) -> ApiResult<Json<Value>> {
    let keys = s.service.streams().stream_public_keys().await?;
    Ok(Json(json!({ "keys": keys.iter().map(key_json).collect::<Vec<_>>() })))
}

/// `POST /streaming/public_key/rotate` (admins): a new current key.
pub async fn rotate(State(s): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    let key = s.service.streams().rotate_stream_key(&s.service.access().admin(&caller)?).await?;
    Ok((StatusCode::CREATED, Json(key_json(&key))))
}
