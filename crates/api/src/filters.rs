//! GitLab's listing filters read from request parameters, each bad value a 400 naming it.

use auditrelay_core::AccessLevel;
use auditrelay_core::UserId;

use super::params::Params;
use crate::error::{ServiceError, ServiceResult};
use auditrelay_service::directory::{GroupFilter, MemberFilter, ProjectFilter, UserFilter};

fn flag(params: &Params, key: &str) -> ServiceResult<bool> {
    Ok(params.bool(key)?.unwrap_or(false))
}

fn access_level(params: &Params) -> ServiceResult<Option<AccessLevel>> {
    params
        .int("min_access_level")?
        .map(|n| {
            AccessLevel::from_value(n).ok_or_else(|| {
                ServiceError::BadParam("min_access_level does not have a valid value: use 10, 20, 30, 40 or 50".into())
            })
        })
        .transpose()
}

pub fn users(params: &Params) -> ServiceResult<UserFilter> {
    Ok(UserFilter {
        username: params.string("username")?,
        search: params.string("search")?.filter(|s| !s.is_empty()),
        active: flag(params, "active")?,
        blocked: flag(params, "blocked")?,
        external: flag(params, "external")?,
    })
}

pub fn groups(params: &Params) -> ServiceResult<GroupFilter> {
    // `all_available` adds public groups for non-admins in GitLab; every group here is private.
    params.bool("all_available")?;
    Ok(GroupFilter {
        search: params.string("search")?.filter(|s| !s.is_empty()),
        top_level_only: flag(params, "top_level_only")?,
        owned: flag(params, "owned")?,
        min_access_level: access_level(params)?,
    })
}

pub fn projects(params: &Params) -> ServiceResult<ProjectFilter> {
    Ok(ProjectFilter {
        search: params.string("search")?.filter(|s| !s.is_empty()),
        owned: flag(params, "owned")?,
        membership: flag(params, "membership")?,
        min_access_level: access_level(params)?,
    })
}

pub fn members(params: &Params) -> ServiceResult<MemberFilter> {
    let user_ids = params
        .list("user_ids")
        .or_else(|_| params.int("user_ids").map(|id| id.map(|i| i.to_string()).into_iter().collect()))?
        .iter()
        .map(|id| id.parse::<UserId>().map_err(|_| ServiceError::BadParam("user_ids is invalid".into())))
        .collect::<ServiceResult<Vec<UserId>>>()?;
    Ok(MemberFilter { query: params.string("query")?.filter(|s| !s.is_empty()), user_ids })
}
