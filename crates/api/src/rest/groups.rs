//! `/groups`, `/projects` and group members.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::Value;

use super::{CREATED, offset_limit};
use crate::error::{ApiResult, ServiceError};
use crate::params::Params;
use crate::{AppState, views};
use auditrelay_service::Caller;
use auditrelay_service::identity::{CreateGroup, CreateProject};

pub async fn create(State(s): State<AppState>, caller: Caller, params: Params) -> ApiResult<impl IntoResponse> {
    let input = CreateGroup {
        name: params.required_string("name")?,
        path: params.required_string("path")?,
        parent_id: params.int("parent_id")?,
    };
    let group = s.service.create_group(&caller, input).await?;
    Ok((CREATED, Json(views::group(&group))))
}

pub async fn list(State(s): State<AppState>, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let (offset, limit) = offset_limit(&params)?;
    let groups = s.service.groups(&caller, offset, limit).await?;
    Ok(Json(groups.iter().map(views::group).collect()))
}

pub async fn show(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(views::group(&s.service.group(&caller, &id).await?)))
}

pub async fn add_member(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let user_id = params.required_int("user_id")?;
    let access_level = params.required_int("access_level")?;
    let member = s.service.add_member(&caller, &id, user_id, access_level).await?;
    Ok((CREATED, Json(views::member(&member))))
}

pub async fn members(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let members = s.service.members(&caller, &id).await?;
    Ok(Json(members.iter().map(views::member).collect()))
}

pub async fn member(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let user_id = user_id.parse().map_err(|_| ServiceError::NotFound("Member"))?;
    Ok(Json(views::member(&s.service.member(&caller, &id, user_id).await?)))
}

pub async fn create_project(State(s): State<AppState>, caller: Caller, params: Params) -> ApiResult<impl IntoResponse> {
    let name = params.string("name")?;
    let path = params.string("path")?;
    let (name, path) = match (name, path) {
        (Some(name), Some(path)) => (name, path),
        (Some(name), None) => (name.clone(), name.to_lowercase().replace(' ', "-")),
        (None, Some(path)) => (path.clone(), path),
        (None, None) => {
            return Err(ServiceError::BadParam(
                "name, path are missing, at least one parameter must be provided".into(),
            )
            .into());
        }
    };
    let input = CreateProject { name, path, namespace_id: params.required_int("namespace_id")? };
    let (project, namespace) = s.service.create_project(&caller, input).await?;
    Ok((CREATED, Json(views::project(&project, &namespace))))
}

pub async fn projects(State(s): State<AppState>, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let (offset, limit) = offset_limit(&params)?;
    let projects = s.service.projects(&caller, offset, limit).await?;
    Ok(Json(projects.iter().map(|(p, g)| views::project(p, g)).collect()))
}

pub async fn project(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (project, namespace) = s.service.project(&caller, &id).await?;
    Ok(Json(views::project(&project, &namespace)))
}
