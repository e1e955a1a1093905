//! Authorization on groups and projects: effective (inherited) access levels and visibility.

use auditrelay_core::AccessLevel;
use auditrelay_store::namespaces::{Group, Project};

use super::{Caller, Service};
use crate::error::{ServiceError, ServiceResult};

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

impl Service {
    /// The caller's access to a group: admin, or the highest membership on it or an ancestor
    /// (memberships are inherited down the tree, as in GitLab).
    pub async fn group_access(&self, caller: &Caller, group: &Group) -> ServiceResult<Access> {
        if caller.is_admin() {
            return Ok(Access::Admin);
        }
        let ancestry: Vec<i64> = self.store.group_ancestry(group).await?.iter().map(|g| g.id).collect();
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

    pub async fn project_access(&self, caller: &Caller, project: &Project) -> ServiceResult<Access> {
        match self.store.group_by_id(project.namespace_id).await? {
            Some(namespace) => self.group_access(caller, &namespace).await,
            None => Ok(if caller.is_admin() { Access::Admin } else { Access::None }),
        }
    }

    /// Finds a group by numeric id or full path. Groups the caller cannot see are "not found".
    pub async fn visible_group(&self, caller: &Caller, id_or_path: &str) -> ServiceResult<(Group, Access)> {
        let group = match id_or_path.parse::<i64>() {
            Ok(id) => self.store.group_by_id(id).await?,
            Err(_) => self.store.group_by_path(id_or_path).await?,
        }
        .ok_or(ServiceError::NotFound("Group"))?;
        let access = self.group_access(caller, &group).await?;
        if !access.can_see() {
            return Err(ServiceError::NotFound("Group"));
        }
        Ok((group, access))
    }

    pub async fn visible_project(&self, caller: &Caller, id_or_path: &str) -> ServiceResult<(Project, Access)> {
        let project = match id_or_path.parse::<i64>() {
            Ok(id) => self.store.project_by_id(id).await?,
            Err(_) => self.store.project_by_path(id_or_path).await?,
        }
        .ok_or(ServiceError::NotFound("Project"))?;
        let access = self.project_access(caller, &project).await?;
        if !access.can_see() {
            return Err(ServiceError::NotFound("Project"));
        }
        Ok((project, access))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_levels_compare() {
        assert!(Access::Admin.at_least(AccessLevel::Owner));
        assert!(Access::Member(AccessLevel::Owner).at_least(AccessLevel::Maintainer));
        assert!(!Access::Member(AccessLevel::Developer).at_least(AccessLevel::Maintainer));
        assert!(!Access::None.at_least(AccessLevel::Guest));
        assert!(!Access::None.can_see());
    }
}
