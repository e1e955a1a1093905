//! Authorization: effective (inherited) access levels and visibility, and the proofs of
//! permission the use cases take. A proof's fields are private to this module and only its
//! constructors (on `Service::access`) make one, so holding a proof means its checks passed, in
//! the order and with the errors the APIs answer: the token's scope, then "not found" for what
//! the caller cannot see, then the role's refusal. A proof names what it allows in its type (the
//! scope `N`, the rule `R`), so a use case cannot be handed a weaker one.

use auditrelay_core::AccessLevel;
use auditrelay_core::access::{scope_needed, scopes_allow};
use auditrelay_core::{GroupId, ProjectId, UserId};
use auditrelay_store::namespaces::{Group, Project};
use std::marker::PhantomData;

use crate::error::{ServiceError, ServiceResult};
use crate::{Caller, Service};

mod destinations;

pub use destinations::{DestinationGrant, OwnerGrant};

/// What a caller may do in a group or project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    None,
    Member(AccessLevel),
    Admin,
}

impl Access {
    pub fn at_least(self, level: AccessLevel) -> bool {
        match self {
            Access::Admin => true,
            Access::Member(have) => have >= level,
            Access::None => false,
        }
    }

    pub fn can_see(self) -> bool {
        self != Access::None
    }
}

/// The token scopes a proof stands for, as types (`need::Write`), so a use case names its own.
pub mod need {
    use auditrelay_core::access::Need;

    /// A scope a proof can stand for. Sealed: the four below are all there are.
    pub trait Needed: private::Sealed + Send + Sync + 'static {
        /// `None`: any token will do (see [`Any`]).
        const NEED: Option<Need>;
    }

    /// `read_api` or `api`.
    pub struct Read;
    /// `api`.
    pub struct Write;
    /// `ingest_audit_events` (or an admin's `api`).
    pub struct Ingest;
    /// No scope at all: key rotation has only ever asked for an administrator.
    pub struct Any;

    impl Needed for Read {
        const NEED: Option<Need> = Some(Need::Read);
    }
    impl Needed for Write {
        const NEED: Option<Need> = Some(Need::Write);
    }
    impl Needed for Ingest {
        const NEED: Option<Need> = Some(Need::Ingest);
    }
    impl Needed for Any {
        const NEED: Option<Need> = None;
    }

    mod private {
        pub trait Sealed {}
        impl Sealed for super::Read {}
        impl Sealed for super::Write {}
        impl Sealed for super::Ingest {}
        impl Sealed for super::Any {}
    }
}

use need::Needed;

/// Fails unless the token's scopes allow `N`.
fn check_scope<N: Needed>(caller: &Caller) -> ServiceResult<()> {
    match N::NEED {
        Some(need) if !scopes_allow(&caller.scopes, need, caller.user.is_admin) => {
            Err(ServiceError::InsufficientScope(scope_needed(need)))
        }
        _ => Ok(()),
    }
}

/// The token's scopes allow `N`.
pub struct Scoped<'c, N: Needed> {
    caller: &'c Caller,
    need: PhantomData<N>,
}

/// The token's scopes allow `N`, and the caller is an administrator.
pub struct Admin<'c, N: Needed> {
    caller: &'c Caller,
    need: PhantomData<N>,
}

/// The token's scopes allow `N`, and the caller is `user_id` or an administrator.
pub struct SelfOrAdmin<'c, N: Needed> {
    caller: &'c Caller,
    user_id: UserId,
    need: PhantomData<N>,
}

/// What a group or project rule asks: a scope, the least role, and how a caller who can see the
/// namespace but holds less is refused (each use case words it as GitLab does).
pub trait Rule: Send + Sync + 'static {
    type Need: Needed;
    const LEVEL: AccessLevel;
    /// What an unknown or invisible namespace is called in the "not found".
    const MISSING: &'static str;
    fn refused() -> ServiceError;
}

macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident: $need:ident, $level:ident, $missing:literal, $refused:expr;)*) => {
        $(
            $(#[$doc])*
            pub struct $name;
            impl Rule for $name {
                type Need = need::$need;
                const LEVEL: AccessLevel = AccessLevel::$level;
                const MISSING: &'static str = $missing;
                fn refused() -> ServiceError {
                    $refused
                }
            }
        )*
    };
}

/// The rules of group and project use cases.
pub mod rules {
    use super::{AccessLevel, Rule, ServiceError, need};

    fn denied(why: &str) -> ServiceError {
        ServiceError::Denied(why.into())
    }

    rules! {
        /// Any member (or an admin) sees a group, its members and its subgroups.
        SeeGroup: Read, Guest, "Group", ServiceError::Forbidden;
        /// Owners add members.
        AddMembers: Write, Owner, "Group", denied("you need the Owner role to add members");
        /// Developers read the group's events (their own; Owners all of them).
        ReadGroupEvents: Read, Developer, "Group", ServiceError::Forbidden;
        /// Owners read the AI sessions of the group.
        ReadGroupAiSessions: Read, Owner, "Group", ServiceError::Forbidden;
        /// Owners manage the group's destinations; to anyone else the group is not there.
        ManageGroupDestinations: Read, Owner, "Group", ServiceError::NotFound("Group");
        /// Maintainers of the parent create subgroups.
        CreateSubgroup: Write, Maintainer, "Parent Group",
            denied("you need at least the Maintainer role on the parent group");
        /// Maintainers of the namespace create projects in it.
        CreateProject: Write, Maintainer, "Namespace",
            denied("you need at least the Maintainer role in the namespace");
        /// Any member of its groups sees a project and its members.
        SeeProject: Read, Guest, "Project", ServiceError::Forbidden;
        /// Developers read the project's events (their own; Maintainers all of them).
        ReadProjectEvents: Read, Developer, "Project", ServiceError::Forbidden;
        /// Developers run workflows in the project.
        RunWorkflows: Write, Developer, "Project",
            denied("you need at least the Developer role in the project");
    }
}

/// The caller may act on the group as rule `R` says. Holds the group and the caller's access.
pub struct GroupGrant<'c, R: Rule> {
    caller: &'c Caller,
    group: Group,
    access: Access,
    rule: PhantomData<R>,
}

/// The caller may act on the project as rule `R` says. Holds the project and the caller's access.
pub struct ProjectGrant<'c, R: Rule> {
    caller: &'c Caller,
    project: Project,
    access: Access,
    rule: PhantomData<R>,
}

/// Every proof says who is acting, for the audit events' authorship and the spans.
macro_rules! caller_of {
    ($($proof:ident<$param:ident: $bound:ident>),*) => {
        $(
            impl<'c, $param: $bound> $proof<'c, $param> {
                pub fn caller(&self) -> &'c Caller {
                    self.caller
                }
            }
        )*
    };
}

caller_of!(
    Scoped<N: Needed>,
    Admin<N: Needed>,
    SelfOrAdmin<N: Needed>,
    GroupGrant<R: Rule>,
    ProjectGrant<R: Rule>
);

impl<N: Needed> SelfOrAdmin<'_, N> {
    pub fn user_id(&self) -> UserId {
        self.user_id
    }
}

impl<'c, R: Rule> GroupGrant<'c, R> {
    pub fn group(&self) -> &Group {
        &self.group
    }

    pub fn access(&self) -> Access {
        self.access
    }
}

impl<'c, R: Rule> ProjectGrant<'c, R> {
    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn access(&self) -> Access {
        self.access
    }
}

/// The constructors of proofs: `service.access()`.
#[derive(Clone, Copy)]
pub struct Authorizer<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn access(&self) -> Authorizer<'_> {
        Authorizer { ctx: self }
    }

    /// The caller's access to a group: admin, or the highest membership on it or an ancestor
    /// (memberships are inherited down the tree, as in GitLab).
    pub(crate) async fn group_access(&self, caller: &Caller, group: &Group) -> ServiceResult<Access> {
        if caller.is_admin() {
            return Ok(Access::Admin);
        }
        let ancestry: Vec<GroupId> = self.store.group_ancestry(group).await?.iter().map(|g| g.id).collect();
        let best = self
            .store
            .memberships_of_user(caller.user.id)
            .await?
            .into_iter()
            .filter(|(group_id, _)| ancestry.contains(group_id))
            .filter_map(|(_, level)| AccessLevel::from_value(level))
            .max();
        Ok(best.map_or(Access::None, Access::Member))
    }

    pub(crate) async fn project_access(&self, caller: &Caller, project: &Project) -> ServiceResult<Access> {
        match self.store.group_by_id(project.namespace_id).await? {
            Some(namespace) => self.group_access(caller, &namespace).await,
            None => Ok(if caller.is_admin() { Access::Admin } else { Access::None }),
        }
    }
}

impl<'s> Authorizer<'s> {
    pub fn scoped<'c, N: Needed>(&self, caller: &'c Caller) -> ServiceResult<Scoped<'c, N>> {
        check_scope::<N>(caller)?;
        Ok(Scoped { caller, need: PhantomData })
    }

    /// The scope first, then the administrator (`403`).
    pub fn admin<'c, N: Needed>(&self, caller: &'c Caller) -> ServiceResult<Admin<'c, N>> {
        check_scope::<N>(caller)?;
        if !caller.is_admin() {
            return Err(ServiceError::Forbidden);
        }
        Ok(Admin { caller, need: PhantomData })
    }

    /// A user's own things (`None`: the caller's), or anyone's for an admin; else `403`.
    pub fn self_or_admin<'c, N: Needed>(
        &self,
        caller: &'c Caller,
        user_id: Option<UserId>,
    ) -> ServiceResult<SelfOrAdmin<'c, N>> {
        check_scope::<N>(caller)?;
        let user_id = user_id.unwrap_or(caller.user.id);
        if user_id != caller.user.id && !caller.is_admin() {
            return Err(ServiceError::Forbidden);
        }
        Ok(SelfOrAdmin { caller, user_id, need: PhantomData })
    }

    /// A group by numeric id or full path, as rule `R` allows: the scope, then "not found" for
    /// a group that is missing or that the caller cannot see, then `R`'s refusal below its role.
    pub async fn group<'c, R: Rule>(&self, caller: &'c Caller, id_or_path: &str) -> ServiceResult<GroupGrant<'c, R>> {
        check_scope::<R::Need>(caller)?;
        let store = &self.ctx.store;
        let group = match id_or_path.parse::<GroupId>() {
            Ok(id) => store.group_by_id(id).await?,
            Err(_) => store.group_by_path(id_or_path).await?,
        }
        .ok_or(ServiceError::NotFound(R::MISSING))?;
        let access = self.ctx.group_access(caller, &group).await?;
        if !access.can_see() {
            return Err(ServiceError::NotFound(R::MISSING));
        }
        if !access.at_least(R::LEVEL) {
            return Err(R::refused());
        }
        Ok(GroupGrant { caller, group, access, rule: PhantomData })
    }

    /// A project by numeric id or full path, as rule `R` allows (checked as for groups).
    pub async fn project<'c, R: Rule>(
        &self,
        caller: &'c Caller,
        id_or_path: &str,
    ) -> ServiceResult<ProjectGrant<'c, R>> {
        check_scope::<R::Need>(caller)?;
        let store = &self.ctx.store;
        let project = match id_or_path.parse::<ProjectId>() {
            Ok(id) => store.project_by_id(id).await?,
            Err(_) => store.project_by_path(id_or_path).await?,
        }
        .ok_or(ServiceError::NotFound(R::MISSING))?;
        let access = self.ctx.project_access(caller, &project).await?;
        if !access.can_see() {
            return Err(ServiceError::NotFound(R::MISSING));
        }
        if !access.at_least(R::LEVEL) {
            return Err(R::refused());
        }
        Ok(ProjectGrant { caller, project, access, rule: PhantomData })
    }
}

#[cfg(test)]
mod tests {
    use crate::access::Access;
    use auditrelay_core::AccessLevel;

    #[test]
    fn access_levels_compare() {
        assert!(Access::Admin.at_least(AccessLevel::Owner));
        assert!(Access::Member(AccessLevel::Owner).at_least(AccessLevel::Maintainer));
        assert!(!Access::Member(AccessLevel::Developer).at_least(AccessLevel::Maintainer));
        assert!(!Access::None.at_least(AccessLevel::Guest));
        assert!(!Access::None.can_see());
    }
}
