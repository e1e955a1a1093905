//! GitLab's directory listings with their filters: users, groups (with subgroups and
//! descendants), projects, members (direct and inherited) and personal access tokens. Each
//! answers the whole filtered list in id order; the API cuts pages out of it.

use auditrelay_core::AccessLevel;
use auditrelay_core::states::UserState;
use auditrelay_core::{GroupId, TokenId, UserId};
use auditrelay_store::identity::{Member, Token, User};
use auditrelay_store::namespaces::{Group, Project};
use std::collections::HashMap;

use super::Service;
use super::access::{GroupGrant, ProjectGrant, Scoped, need, rules};
use crate::error::{ServiceError, ServiceResult};

/// `GET /users` filters. `active`, `blocked` and `external` filter only when true, as in GitLab.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub username: Option<String>,
    pub search: Option<String>,
    pub active: bool,
    pub blocked: bool,
    /// The service has no external users: `external=true` finds none.
    pub external: bool,
}

/// `GET /groups` filters (and those of `/groups/:id/subgroups` and `/descendant_groups`).
#[derive(Debug, Default, Clone)]
pub struct GroupFilter {
    pub search: Option<String>,
    pub top_level_only: bool,
    pub owned: bool,
    pub min_access_level: Option<AccessLevel>,
}

/// `GET /projects` filters (and `/groups/:id/projects`).
#[derive(Debug, Default, Clone)]
pub struct ProjectFilter {
    pub search: Option<String>,
    pub owned: bool,
    pub membership: bool,
    pub min_access_level: Option<AccessLevel>,
}

/// Member filters: `query` (name or username) and `user_ids`.
#[derive(Debug, Default, Clone)]
pub struct MemberFilter {
    pub query: Option<String>,
    pub user_ids: Vec<UserId>,
}

/// A group with GitLab's `full_name`: the names (not paths) of its ancestors and itself.
#[derive(Debug, Clone)]
pub struct NamedGroup {
    pub group: Group,
    pub full_name: String,
}

/// GitLab's listings: `service.directory()`.
#[derive(Clone, Copy)]
pub struct Directory<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn directory(&self) -> Directory<'_> {
        Directory { ctx: self }
    }
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn user_matches(user: &User, filter: &UserFilter, admin: bool) -> bool {
    filter.username.as_ref().is_none_or(|u| user.username.eq_ignore_ascii_case(u))
        && filter.search.as_ref().is_none_or(|s| {
            contains_ci(&user.username, s) || contains_ci(&user.name, s) || (admin && contains_ci(&user.email, s))
        })
        && (!filter.active || user.state == UserState::Active)
        && (!filter.blocked || user.state == UserState::Blocked)
        && !filter.external
}

fn member_matches(member: &Member, filter: &MemberFilter) -> bool {
    filter.query.as_ref().is_none_or(|q| contains_ci(&member.user.username, q) || contains_ci(&member.user.name, q))
        && (filter.user_ids.is_empty() || filter.user_ids.contains(&member.user.id))
}

/// Every group's full name, from one listing of all groups.
fn full_names(all: &[Group]) -> HashMap<GroupId, String> {
    let by_id: HashMap<GroupId, &Group> = all.iter().map(|g| (g.id, g)).collect();
    let mut names = HashMap::with_capacity(all.len());
    for group in all {
        let mut chain = vec![group.name.as_str()];
        let mut next = group.parent_id;
        while let Some(parent) = next.and_then(|id| by_id.get(&id)) {
            chain.push(&parent.name);
            next = parent.parent_id;
            if chain.len() > 64 {
                break;
            }
        }
        chain.reverse();
        names.insert(group.id, chain.join(" / "));
    }
    names
}

/// The caller's access from their memberships in every group: a membership is inherited by the
/// whole subtree, the highest level wins. (An admin sees every group whatever this says.)
fn access_map(all: &[Group], memberships: &[(GroupId, i64)]) -> HashMap<GroupId, AccessLevel> {
    let by_id: HashMap<GroupId, &Group> = all.iter().map(|g| (g.id, g)).collect();
    let mut access = HashMap::new();
    for (group_id, level) in memberships {
        let (Some(root), Some(level)) = (by_id.get(group_id), AccessLevel::from_value(*level)) else { continue };
        for group in all.iter().filter(|g| in_tree(g, root)) {
            let entry = access.entry(group.id).or_insert(level);
            *entry = (*entry).max(level);
        }
    }
    access
}

/// Whether `group` is `root` or lies under it.
fn in_tree(group: &Group, root: &Group) -> bool {
    group.id == root.id || group.full_path.starts_with(&format!("{}/", root.full_path))
}

impl Directory<'_> {
    /// Users, for any signed-in caller as in GitLab (the API shows non-admins less of each).
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn list_users(&self, scoped: &Scoped<'_, need::Read>, filter: &UserFilter) -> ServiceResult<Vec<User>> {
        let caller = scoped.caller();
        let all = self.ctx.store.list_users(0, i64::MAX / 2).await?;
        Ok(all.into_iter().filter(|u| user_matches(u, filter, caller.is_admin())).collect())
    }

    /// A group with its full name (a group in hand: the caller was allowed to see it).
    pub async fn named_group(&self, group: Group) -> ServiceResult<NamedGroup> {
        let names: Vec<String> = self.ctx.store.group_ancestry(&group).await?.into_iter().map(|g| g.name).collect();
        Ok(NamedGroup { full_name: names.join(" / "), group })
    }

    /// The namespace of a project in hand, with its full name (`None` if it is gone).
    pub async fn project_namespace(&self, project: &Project) -> ServiceResult<Option<NamedGroup>> {
        match self.ctx.store.group_by_id(project.namespace_id).await? {
            Some(group) => Ok(Some(self.named_group(group).await?)),
            None => Ok(None),
        }
    }

    /// Groups the caller can see (all for an admin, else those under their memberships), filtered,
    /// optionally only those under `under` (`Some((root, direct_children_only))`).
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn list_groups(
        &self,
        scoped: &Scoped<'_, need::Read>,
        filter: &GroupFilter,
        under: Option<(&Group, bool)>,
    ) -> ServiceResult<Vec<NamedGroup>> {
        let caller = scoped.caller();
        let all = self.ctx.store.list_groups(0, i64::MAX / 2).await?;
        let memberships = self.ctx.store.memberships_of_user(caller.user.id).await?;
        let access = access_map(&all, &memberships);
        let names = full_names(&all);
        let admin = caller.is_admin();
        let owned: Vec<GroupId> = memberships
            .iter()
            .filter(|(_, level)| *level == AccessLevel::Owner.value())
            .map(|(group_id, _)| *group_id)
            .collect();
        let visible = all.iter().filter(|g| admin || access.contains_key(&g.id)).filter(|g| match under {
            None => true,
            Some((root, true)) => g.parent_id == Some(root.id),
            Some((root, false)) => g.id != root.id && in_tree(g, root),
        });
        let chosen = visible.filter(|g| {
            filter.search.as_ref().is_none_or(|s| contains_ci(&g.name, s) || contains_ci(&g.path, s))
                && (!filter.top_level_only || g.parent_id.is_none())
                && (!filter.owned || owned.contains(&g.id))
                && filter.min_access_level.is_none_or(|min| access.get(&g.id).is_some_and(|have| *have >= min))
        });
        Ok(chosen
            .map(|g| NamedGroup { full_name: names.get(&g.id).cloned().unwrap_or_default(), group: g.clone() })
            .collect())
    }

    /// Projects the caller can see, filtered; only those of group `under` (with its subgroups'
    /// when `with_subgroups`) if given.
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn list_projects(
        &self,
        scoped: &Scoped<'_, need::Read>,
        filter: &ProjectFilter,
        under: Option<(&Group, bool)>,
    ) -> ServiceResult<Vec<(Project, NamedGroup)>> {
        let caller = scoped.caller();
        let groups = self.ctx.store.list_groups(0, i64::MAX / 2).await?;
        let memberships = self.ctx.store.memberships_of_user(caller.user.id).await?;
        let access = access_map(&groups, &memberships);
        let names = full_names(&groups);
        let by_id: HashMap<GroupId, &Group> = groups.iter().map(|g| (g.id, g)).collect();
        let admin = caller.is_admin();
        let mut out = Vec::new();
        for project in self.ctx.store.list_projects(0, i64::MAX / 2).await? {
            let Some(namespace) = by_id.get(&project.namespace_id) else { continue };
            // `membership`, `owned` and `min_access_level` look at memberships, also for an admin.
            let level = access.get(&namespace.id).copied();
            let visible = admin || access.contains_key(&namespace.id);
            let placed = match under {
                None => true,
                Some((root, true)) => in_tree(namespace, root),
                Some((root, false)) => namespace.id == root.id,
            };
            let keep = visible
                && placed
                && filter
                    .search
                    .as_ref()
                    .is_none_or(|s| contains_ci(&project.name, s) || contains_ci(&project.path, s))
                && (!filter.membership || level.is_some())
                && (!filter.owned || level == Some(AccessLevel::Owner))
                && filter.min_access_level.is_none_or(|min| level.is_some_and(|have| have >= min));
            if keep {
                let full_name = names.get(&namespace.id).cloned().unwrap_or_default();
                out.push((project, NamedGroup { group: (*namespace).clone(), full_name }));
            }
        }
        Ok(out)
    }

    /// A group's direct members, filtered.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = grant.group().id.get()))]
    pub async fn list_members(
        &self,
        grant: &GroupGrant<'_, rules::SeeGroup>,
        filter: &MemberFilter,
    ) -> ServiceResult<Vec<Member>> {
        let members = self.ctx.identity().members(grant).await?;
        Ok(members.into_iter().filter(|m| member_matches(m, filter)).collect())
    }

    /// `members/all`: members of the group and its ancestors, each user once with their
    /// highest access level (GitLab's rule for inherited members).
    async fn list_all_members(&self, group: &Group, filter: &MemberFilter) -> ServiceResult<Vec<Member>> {
        let mut best: HashMap<UserId, Member> = HashMap::new();
        for ancestor in self.ctx.store.group_ancestry(group).await? {
            for member in self.ctx.store.members_of_group(ancestor.id).await? {
                match best.get(&member.user.id) {
                    Some(have) if have.access_level >= member.access_level => {}
                    _ => {
                        best.insert(member.user.id, member);
                    }
                }
            }
        }
        let mut members: Vec<Member> = best.into_values().filter(|m| member_matches(m, filter)).collect();
        members.sort_by_key(|m| m.user.id);
        Ok(members)
    }

    /// `GET /groups/:id/members/all`.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = grant.group().id.get()))]
    pub async fn group_all_members(
        &self,
        grant: &GroupGrant<'_, rules::SeeGroup>,
        filter: &MemberFilter,
    ) -> ServiceResult<Vec<Member>> {
        self.list_all_members(grant.group(), filter).await
    }

    /// `GET /projects/:id/members/all`: the project's members are those of its groups.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), project = grant.project().id.get()))]
    pub async fn project_all_members(
        &self,
        grant: &ProjectGrant<'_, rules::SeeProject>,
        filter: &MemberFilter,
    ) -> ServiceResult<Vec<Member>> {
        let project = grant.project();
        let namespace =
            self.ctx.store.group_by_id(project.namespace_id).await?.ok_or(ServiceError::NotFound("Project"))?;
        self.list_all_members(&namespace, filter).await
    }

    /// A personal access token by id: the caller's own, or any for an admin.
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get(), id = id.get()))]
    pub async fn token(&self, scoped: &Scoped<'_, need::Read>, id: TokenId) -> ServiceResult<Token> {
        let caller = scoped.caller();
        let token = self.ctx.store.token_by_id(id).await?.ok_or(ServiceError::NotFound("Token"))?;
        if token.user_id != caller.user.id && !caller.is_admin() {
            return Err(ServiceError::NotFound("Token"));
        }
        Ok(token)
    }

    /// The token the caller authenticated with (`GET /personal_access_tokens/self`).
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn own_token(&self, scoped: &Scoped<'_, need::Read>) -> ServiceResult<Token> {
        let id = scoped.caller().token_id.ok_or_else(|| {
            ServiceError::BadParam("this request is not authenticated with a personal access token".into())
        })?;
        self.token(scoped, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: i64, name: &str, path: &str, parent: Option<i64>, full_path: &str) -> Group {
        Group {
            id: GroupId(id),
            name: name.into(),
            path: path.into(),
            parent_id: parent.map(GroupId),
            root_id: GroupId(1),
            full_path: full_path.into(),
            created_at: 0,
        }
    }

    #[test]
    fn full_names_are_built_from_names() {
        let all = [group(1, "Acme Corp", "acme", None, "acme"), group(2, "Web Team", "web", Some(1), "acme/web")];
        let names = full_names(&all);
        assert_eq!(names[&GroupId(1)], "Acme Corp");
        assert_eq!(names[&GroupId(2)], "Acme Corp / Web Team");
        assert!(in_tree(&all[1], &all[0]));
        assert!(!in_tree(&group(3, "x", "acmex", None, "acmex"), &all[0]));
    }

    #[test]
    fn user_filters_follow_gitlab() {
        let user = User {
            id: UserId(2),
            username: "Alice".into(),
            name: "Alice Liddell".into(),
            email: "alice@wonder.land".into(),
            password_hash: String::new(),
            is_admin: false,
            state: UserState::Active,
            created_at: 0,
        };
        let f = |filter: UserFilter, admin| user_matches(&user, &filter, admin);
        assert!(f(UserFilter { username: Some("alice".into()), ..Default::default() }, false));
        assert!(!f(UserFilter { username: Some("ali".into()), ..Default::default() }, false));
        assert!(f(UserFilter { search: Some("LIDD".into()), ..Default::default() }, false));
        assert!(!f(UserFilter { search: Some("wonder".into()), ..Default::default() }, false));
        assert!(f(UserFilter { search: Some("wonder".into()), ..Default::default() }, true));
        assert!(f(UserFilter { active: true, ..Default::default() }, false));
        assert!(!f(UserFilter { blocked: true, ..Default::default() }, false));
        assert!(!f(UserFilter { external: true, ..Default::default() }, false));
    }
}
