//! `/users`, `/user` and personal access tokens.

use auditrelay_core::UserId;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::base_url::BaseUrl;
use crate::error::{ApiResult, ServiceError};
use crate::pagination::{PageUrl, list_page_from, paginate};
use crate::params::Params;
use crate::state::AppState;
use crate::{filters, views};
use auditrelay_service::Caller;
use auditrelay_service::access::{Scoped, need};
use auditrelay_service::identity::{CreateToken, CreateUser};

pub async fn current(State(s): State<AppState>, caller: Caller, BaseUrl(base): BaseUrl) -> ApiResult<Json<Value>> {
    Ok(Json(views::user(&s.service.identity().current_user(&s.service.access().scoped(&caller)?).await?, &base)))
}

pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let input = CreateUser {
        email: params.required_string("email")?,
        username: params.required_string("username")?,
        name: params.required_string("name")?,
        password: params.required_string("password")?,
        admin: params.bool("admin")?.unwrap_or(false),
    };
    let user = s.service.identity().create_user(&s.service.access().admin(&caller)?, input).await?;
    Ok((StatusCode::CREATED, Json(views::user(&user, &base))))
}

/// `GET /users`: any signed-in user lists users (GitLab's basic view; admins see the full one).
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let page = list_page_from(&params)?;
    let filter = filters::users(&params)?;
    let users = s.service.directory().list_users(&s.service.access().scoped(&caller)?, &filter).await?;
    let (headers, users) = paginate(users, |u| u.id.get(), page, &url);
    let full = caller.is_admin();
    let body: Vec<Value> =
        users.iter().map(|u| if full { views::user(u, &base) } else { views::user_basic(u, &base) }).collect();
    Ok((headers, Json(Value::Array(body))))
}

pub async fn show(
    State(s): State<AppState>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = id.parse().map_err(|_| ServiceError::NotFound("User"))?;
    Ok(Json(views::user(&s.service.identity().user(&s.service.access().scoped(&caller)?, id).await?, &base)))
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
    let (token, plain) = s.service.identity().create_token(&s.service.access().admin(&caller)?, user_id, input).await?;
    Ok((StatusCode::CREATED, Json(views::token(&token, Some(&plain)))))
}

fn token_page(
    tokens: Vec<auditrelay_store::identity::Token>,
    params: &Params,
    url: &PageUrl,
) -> ApiResult<impl IntoResponse + use<>> {
    let (headers, tokens) = paginate(tokens, |t| t.id.get(), list_page_from(params)?, url);
    Ok((headers, Json(tokens.iter().map(|t| views::token(t, None)).collect::<Value>())))
}

pub async fn list_tokens(
    State(s): State<AppState>,
    caller: Caller,
    url: PageUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let user_id = params.int("user_id")?.map(UserId);
    let tokens = s.service.identity().tokens(&s.service.access().self_or_admin(&caller, user_id)?).await?;
    token_page(tokens, &params, &url)
}

/// `GET /users/:id/personal_access_tokens`: the user's own, or any user's for an admin.
pub async fn user_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let user_id = id.parse().map_err(|_| ServiceError::NotFound("User"))?;
    let user = s.service.identity().user(&s.service.access().scoped(&caller)?, user_id).await?;
    let tokens = s.service.identity().tokens(&s.service.access().self_or_admin(&caller, Some(user.id))?).await?;
    token_page(tokens, &params, &url)
}

pub async fn own_token(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(views::token(&s.service.directory().own_token(&s.service.access().scoped(&caller)?).await?, None)))
}

pub async fn show_token(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = id.parse().map_err(|_| ServiceError::NotFound("Token"))?;
    Ok(Json(views::token(&s.service.directory().token(&s.service.access().scoped(&caller)?, id).await?, None)))
}

/// GitLab's version of the API this service speaks (clients gate features on it), with the
/// service's own version as the revision.
pub const GITLAB_API_VERSION: &str = "18.10.0-ee";

/// `GET /version`: any authenticated caller, as in GitLab.
pub async fn version(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let _: Scoped<'_, need::Read> = s.service.access().scoped(&caller)?;
    Ok(Json(json!({
        "version": GITLAB_API_VERSION,
        "revision": concat!("auditrelay-", env!("CARGO_PKG_VERSION")),
        "kas": {"enabled": false, "externalUrl": null, "externalK8sProxyUrl": null, "version": null},
        "enterprise": true,
    })))
}

pub async fn revoke_token(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = id.parse().map_err(|_| ServiceError::NotFound("Token"))?;
    s.service.identity().revoke_token(&s.service.access().scoped(&caller)?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
