//! `/application/settings` (admin).

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::api::AppState;
use crate::api::params::Params;
use crate::error::ServiceResult;
use crate::service::Caller;

pub async fn show(State(s): State<AppState>, caller: Caller) -> ServiceResult<Json<Value>> {
    Ok(Json(Value::Object(s.service.settings(&caller).await?)))
}

pub async fn update(State(s): State<AppState>, caller: Caller, Params(changes): Params) -> ServiceResult<Json<Value>> {
    Ok(Json(Value::Object(s.service.update_settings(&caller, changes).await?)))
}
