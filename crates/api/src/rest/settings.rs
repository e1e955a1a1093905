//! `/application/settings` (admin).

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;
use auditrelay_service::Caller;

pub async fn show(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(Value::Object(s.service.settings(&caller).await?)))
}

pub async fn update(State(s): State<AppState>, caller: Caller, Params(changes): Params) -> ApiResult<Json<Value>> {
    Ok(Json(Value::Object(s.service.update_settings(&caller, changes).await?)))
}
