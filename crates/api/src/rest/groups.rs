//! `/groups` (with subgroups, descendant groups and a group's projects) and `/projects`.

use auditrelay_core::GroupId;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::Value;

use crate::base_url::BaseUrl;
use crate::error::{ApiResult, ServiceError, ServiceResult};
use crate::pagination::{PageUrl, list_page_from, paginate};
use crate::params::Params;
use crate::state::AppState;
use crate::{filters, views};
use auditrelay_service::Caller;
use auditrelay_service::directory::NamedGroup;
use auditrelay_service::identity::{CreateGroup, CreateProject};
use auditrelay_store::namespaces::Project;

pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let input = CreateGroup {
        name: params.required_string("name")?,
        path: params.required_string("path")?,
        parent_id: params.int("parent_id")?.map(GroupId),
    };
    let group = s.service.identity().create_group(&s.service.access().scoped(&caller)?, input).await?;
    Ok((StatusCode::CREATED, Json(views::group(&s.service.directory().named_group(group).await?, &base))))
}

fn group_page(
    groups: Vec<NamedGroup>,
    params: &Params,
    url: &PageUrl,
    base: &str,
) -> ApiResult<impl IntoResponse + use<>> {
    let (headers, groups) = paginate(groups, |g| g.group.id.get(), list_page_from(params)?, url);
    Ok((headers, Json(groups.iter().map(|g| views::group(g, base)).collect::<Value>())))
}

pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let filter = filters::groups(&params)?;
    let groups = s.service.directory().list_groups(&s.service.access().scoped(&caller)?, &filter, None).await?;
    group_page(groups, &params, &url, &base)
}

/// `GET /groups/:id/subgroups` (direct children) and `/descendant_groups` (the whole subtree).
async fn under(
    s: &AppState,
    caller: &Caller,
    id: &str,
    direct: bool,
    params: &Params,
) -> ServiceResult<Vec<NamedGroup>> {
    let grant = s.service.access().group(caller, id).await?;
    let group = s.service.identity().group(&grant).await?;
    let filter = filters::groups(params)?;
    s.service.directory().list_groups(&s.service.access().scoped(caller)?, &filter, Some((&group, direct))).await
}

pub async fn subgroups(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let groups = under(&s, &caller, &id, true, &params).await?;
    group_page(groups, &params, &url, &base)
}

pub async fn descendant_groups(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let groups = under(&s, &caller, &id, false, &params).await?;
    group_page(groups, &params, &url, &base)
}

pub async fn show(
    State(s): State<AppState>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let group = s.service.identity().group(&s.service.access().group(&caller, &id).await?).await?;
    Ok(Json(views::group(&s.service.directory().named_group(group).await?, &base)))
}

pub async fn create_project(
    State(s): State<AppState>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
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
    let input = CreateProject { name, path, namespace_id: GroupId(params.required_int("namespace_id")?) };
    let (project, namespace) = s.service.identity().create_project(&s.service.access().scoped(&caller)?, input).await?;
    let namespace = s.service.directory().named_group(namespace).await?;
    Ok((StatusCode::CREATED, Json(views::project(&project, &namespace, &base))))
}

/// A page of projects, in GitLab's full or (`simple=true`) basic shape.
fn project_page(
    projects: Vec<(Project, NamedGroup)>,
    params: &Params,
    url: &PageUrl,
    base: &str,
) -> ApiResult<impl IntoResponse + use<>> {
    let simple = params.bool("simple")?.unwrap_or(false);
    let (headers, projects) = paginate(projects, |(p, _)| p.id.get(), list_page_from(params)?, url);
    let body = projects
        .iter()
        .map(|(p, g)| if simple { views::project_simple(p, g, base) } else { views::project(p, g, base) })
        .collect::<Value>();
    Ok((headers, Json(body)))
}

pub async fn projects(
    State(s): State<AppState>,
    caller: Caller,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let filter = filters::projects(&params)?;
    let projects = s.service.directory().list_projects(&s.service.access().scoped(&caller)?, &filter, None).await?;
    project_page(projects, &params, &url, &base)
}

/// `GET /groups/:id/projects`: the group's own projects, with `include_subgroups=true` also
/// those of its subgroups.
pub async fn group_projects(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    url: PageUrl,
    BaseUrl(base): BaseUrl,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    let group = s.service.identity().group(&s.service.access().group(&caller, &id).await?).await?;
    let with_subgroups = params.bool("include_subgroups")?.unwrap_or(false);
    let filter = filters::projects(&params)?;
    let scoped = s.service.access().scoped(&caller)?;
    let projects = s.service.directory().list_projects(&scoped, &filter, Some((&group, with_subgroups))).await?;
    project_page(projects, &params, &url, &base)
}

pub async fn project(
    State(s): State<AppState>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (project, namespace) = s.service.identity().project(&s.service.access().project(&caller, &id).await?).await?;
    Ok(Json(views::project(&project, &s.service.directory().named_group(namespace).await?, &base)))
}
