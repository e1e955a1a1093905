//! `/application/settings` (admin).

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;
use auditrelay_service::Caller;
use auditrelay_service::access::need;

pub async fn show(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let admin = s.service.access().admin::<need::Read>(&caller)?;
    Ok(Json(Value::Object(s.service.settings().show(&admin).await?)))
}

pub async fn update(State(s): State<AppState>, caller: Caller, Params(changes): Params) -> ApiResult<Json<Value>> {
    let admin = s.service.access().admin::<need::Write>(&caller)?;
    Ok(Json(Value::Object(s.service.settings().update(&admin, changes).await?)))
}
