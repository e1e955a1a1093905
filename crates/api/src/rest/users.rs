//! `/users`, `/user` and personal access tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::Value;

use super::{CREATED, offset_limit};
use crate::error::{ApiResult, ServiceError};
use crate::params::Params;
use crate::{AppState, views};
use auditrelay_service::Caller;
use auditrelay_service::identity::{CreateToken, CreateUser};

pub async fn current(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(views::user(&s.service.current_user(&caller)?)))
}

pub async fn create(State(s): State<AppState>, caller: Caller, params: Params) -> ApiResult<impl IntoResponse> {
    let input = CreateUser {
        email: params.required_string("email")?,
        username: params.required_string("username")?,
        name: params.required_string("name")?,
        password: params.required_string("password")?,
        admin: params.bool("admin")?.unwrap_or(false),
    };
    let user = s.service.create_user(&caller, input).await?;
    Ok((CREATED, Json(views::user(&user))))
}

pub async fn list(State(s): State<AppState>, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let (offset, limit) = offset_limit(&params)?;
    let users = s.service.users(&caller, offset, limit).await?;
    Ok(Json(users.iter().map(views::user).collect()))
}

pub async fn show(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = id.parse().map_err(|_| ServiceError::NotFound("User"))?;
    Ok(Json(views::user(&s.service.user(&caller, id).await?)))
}

pub async fn create_token(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let user_id = id.parse().map_err(|_| ServiceError::NotFound("User"))?;
    let expires_at = match params.string("expires_at")? {
        None => None,
        Some(date) => Some(
            chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc().timestamp_micros())
                .ok_or_else(|| ServiceError::BadParam("expires_at is invalid: use YYYY-MM-DD".into()))?,
        ),
    };
    let input = CreateToken { name: params.required_string("name")?, scopes: params.list("scopes")?, expires_at };
    let (token, plain) = s.service.create_token(&caller, user_id, input).await?;
    Ok((CREATED, Json(views::token(&token, Some(&plain)))))
}

pub async fn list_tokens(State(s): State<AppState>, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let tokens = s.service.tokens(&caller, params.int("user_id")?).await?;
    Ok(Json(tokens.iter().map(|t| views::token(t, None)).collect()))
}

pub async fn revoke_token(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = id.parse().map_err(|_| ServiceError::NotFound("Token"))?;
    s.service.revoke_token(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
