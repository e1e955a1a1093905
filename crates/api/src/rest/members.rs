//! Group and project members: direct (`/members`) and with inherited ones (`/members/all`).

use auditrelay_core::UserId;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::Value;

use crate::base_url::BaseUrl;
use crate::error::{ApiResult, ServiceError};
use crate::pagination::{PageUrl, list_page_from, paginate};
use crate::params::Params;
use crate::state::AppState;
use crate::{filters, views};
use auditrelay_service::Caller;
use auditrelay_store::identity::Member;

fn member_page(
    members: Vec<Member>,
    params: &Params,
    url: &PageUrl,
    base: &str,
) -> ApiResult<impl IntoResponse + use<>> {
    let (headers, members) = paginate(members, |m| m.user.id.get(), list_page_from(params)?, url);
    Ok((headers, Json(members.iter().map(|m| views::member(m, base)).collect::<Value>())))
}

pub async fn add(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let user_id = params.required_int("user_id")?;
    let access_level = params.required_int("access_level")?;
    let grant = s.service.access().group(&caller, &id).await?;
    let member = s.service.identity().add_member(&grant, UserId(user_id), access_level).await?;
    Ok((StatusCode::CREATED, Json(views::member(&member, &base))))
}

pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let filter = filters::members(&params)?;
    let members = s.service.directory().list_members(&s.service.access().group(&caller, &id).await?, &filter).await?;
    member_page(members, &params, &url, &base)
}

pub async fn list_all(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let filter = filters::members(&params)?;
    let grant = s.service.access().group(&caller, &id).await?;
    let members = s.service.directory().group_all_members(&grant, &filter).await?;
    member_page(members, &params, &url, &base)
}

pub async fn show(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
) -> ApiResult<Json<Value>> {
    let user_id = user_id.parse().map_err(|_| ServiceError::NotFound("Member"))?;
    let grant = s.service.access().group(&caller, &id).await?;
    Ok(Json(views::member(&s.service.identity().member(&grant, user_id).await?, &base)))
}

/// `GET /projects/:id/members`: projects have no direct members here (access comes from groups).
pub async fn project_direct(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    s.service.identity().project(&s.service.access().project(&caller, &id).await?).await?;
    member_page(Vec::new(), &params, &url, &base)
}

pub async fn project_all(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let filter = filters::members(&params)?;
    let grant = s.service.access().project(&caller, &id).await?;
    let members = s.service.directory().project_all_members(&grant, &filter).await?;
    member_page(members, &params, &url, &base)
}
