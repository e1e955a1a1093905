//! Event-type filters (allow-lists) and namespace filters of a destination.

use auditrelay_core::destination::{MAX_NAMESPACE_FILTERS, rules};
use auditrelay_core::event_catalogue;
use auditrelay_core::{GroupId, ProjectId};

use super::audit_names::namespace_filter_event;
use super::{Api, Destination, Destinations, FilterTarget, NamespaceFilter, Owner, destination_audit, invalid};
use crate::Caller;
use crate::access::{DestinationGrant, need};
use crate::audit::Author;
use crate::error::{ServiceError, ServiceResult};

impl Destinations<'_> {
    /// Whether a filter may name this type: defined in the catalogue, or seen in ingested events.
    pub async fn is_known_event_type(&self, name: &str) -> ServiceResult<bool> {
        if event_catalogue::is_defined(name) || self.ctx.observed_types.read().is_ok_and(|seen| seen.contains(name)) {
            return Ok(true);
        }
        Ok(self.ctx.store.observed_event_types().await?.iter().any(|n| n == name))
    }

    /// Adds types to the allow-list, all or nothing. Returns the whole list after the add.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn add_event_type_filters(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        types: &[String],
    ) -> ServiceResult<Vec<String>> {
        let (caller, destination) = (grant.caller(), grant.destination());
        if types.is_empty() {
            return Err(ServiceError::BadParam("event type filters must be present".into()));
        }
        for event_type in types {
            rules::event_type_filter(event_type).map_err(|e| invalid(format!("Validation failed: {e}")))?;
            if !self.is_known_event_type(event_type).await? {
                return Err(invalid(format!(
                    "Validation failed: Audit event type with value {event_type} is undefined."
                )));
            }
        }
        if let Some(present) = types.iter().find(|t| destination.event_types.contains(t)) {
            return Err(invalid(format!("Validation failed: Audit event type {present} has already been taken")));
        }
        let message =
            format!("Created audit event type filters {} for destination {}", types.join(", "), destination.name);
        let audit = filter_audit(caller, destination, "event_type_filters_created", message);
        let (id, types) = (destination.id, types.to_vec());
        self.ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    tx.add_event_types(id, &types).await?;
                    tx.record_route_version(id).await?;
                    Ok(((), vec![audit]))
                })
            })
            .await?;
        Ok(self.ctx.store.event_types_of(destination.id).await?)
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn remove_event_type_filters(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        types: &[String],
    ) -> ServiceResult<()> {
        let (caller, destination) = (grant.caller(), grant.destination());
        if types.is_empty() {
            return Err(ServiceError::BadParam("event type filters must be present".into()));
        }
        let missing: Vec<&str> =
            types.iter().filter(|t| !destination.event_types.contains(t)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(invalid(format!(
                "Couldn't find event type filters where audit event type(s): {}",
                missing.join(", ")
            )));
        }
        let message =
            format!("Deleted audit event type filters {} from destination {}", types.join(", "), destination.name);
        let audit = filter_audit(caller, destination, "event_type_filters_deleted", message);
        let (id, types) = (destination.id, types.to_vec());
        self.ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    tx.remove_event_types(id, &types).await?;
                    tx.record_route_version(id).await?;
                    Ok(((), vec![audit]))
                })
            })
            .await?;
        Ok(())
    }

    /// The legacy HTTP filter: exactly one of a group or a project, one per destination, and a
    /// namespace in at most one legacy filter.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get(), group = ?group_path))]
    pub async fn add_legacy_namespace_filter(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        group_path: Option<&str>,
        project_path: Option<&str>,
    ) -> ServiceResult<NamespaceFilter> {
        let (caller, destination) = (grant.caller(), grant.destination());
        let target = match (group_path, project_path) {
            (Some(path), None) => FilterTarget::Group(
                self.ctx
                    .store
                    .group_by_path(path)
                    .await?
                    .ok_or_else(|| ServiceError::BadParam("group_path is invalid".into()))?,
            ),
            (None, Some(path)) => FilterTarget::Project(
                self.ctx
                    .store
                    .project_by_path(path)
                    .await?
                    .ok_or_else(|| ServiceError::BadParam("project_path is invalid".into()))?,
            ),
            _ => {
                return Err(ServiceError::BadParam(
                    "one and only one of [groupPath, projectPath] arguments is required".into(),
                ));
            }
        };
        if !destination.namespace_filters.is_empty() {
            return Err(invalid("External audit event destination has already been taken"));
        }
        let (group_id, project_id) = ids(&target);
        if self.ctx.store.legacy_filters_on(group_id, project_id).await? > 0 {
            return Err(invalid("Namespace has already been taken"));
        }
        if !self.under_owner(&destination.owner, &target).await? {
            return Err(invalid(
                "External audit event destination does not belong to the top-level group of the namespace.",
            ));
        }
        self.insert_namespace_filter(caller, destination, target, Api::Legacy).await
    }

    /// The consolidated filter: a group or project path, at most five per destination.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get(), namespace = %namespace_path))]
    pub async fn add_namespace_filter(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        namespace_path: &str,
    ) -> ServiceResult<NamespaceFilter> {
        let (caller, destination) = (grant.caller(), grant.destination());
        let target = match self.ctx.store.group_by_path(namespace_path).await? {
            Some(group) => FilterTarget::Group(group),
            None => match self.ctx.store.project_by_path(namespace_path).await? {
                Some(project) => FilterTarget::Project(project),
                None => {
                    return Err(ServiceError::BadParam("namespace_path should be of group or project only.".into()));
                }
            },
        };
        if destination.namespace_filters.len() >= MAX_NAMESPACE_FILTERS {
            return Err(invalid(format!("Namespace filters are limited to {MAX_NAMESPACE_FILTERS} per destination")));
        }
        if destination.namespace_filters.iter().any(|f| ids(&f.target) == ids(&target)) {
            return Err(invalid("Namespace has already been taken"));
        }
        if !self.under_owner(&destination.owner, &target).await? {
            return Err(invalid(
                "External streaming destination does not belong to the top-level group of the namespace.",
            ));
        }
        self.insert_namespace_filter(caller, destination, target, Api::Consolidated).await
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn delete_namespace_filter(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        filter: &NamespaceFilter,
        api: Api,
    ) -> ServiceResult<()> {
        let (caller, destination) = (grant.caller(), grant.destination());
        let message =
            format!("Deleted namespace filter {} of destination {}", target_path(&filter.target), destination.name);
        let event_type = namespace_filter_event(api, &destination.owner, false);
        let audit = filter_audit(caller, destination, event_type, message);
        let (id, filter_id) = (destination.id, filter.row.id);
        self.ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    tx.delete_namespace_filter(filter_id).await?;
                    tx.record_route_version(id).await?;
                    Ok(((), vec![audit]))
                })
            })
            .await?;
        Ok(())
    }

    async fn insert_namespace_filter(
        &self,
        caller: &Caller,
        destination: &Destination,
        target: FilterTarget,
        api: Api,
    ) -> ServiceResult<NamespaceFilter> {
        let (group_id, project_id) = ids(&target);
        let message = format!("Created namespace filter {} for destination {}", target_path(&target), destination.name);
        let event_type = namespace_filter_event(api, &destination.owner, true);
        let audit = filter_audit(caller, destination, event_type, message);
        let id = destination.id;
        let row = self
            .ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    let row = tx.create_namespace_filter(id, group_id, project_id, api == Api::Legacy).await?;
                    tx.record_route_version(id).await?;
                    Ok((row, vec![audit]))
                })
            })
            .await?;
        Ok(NamespaceFilter { row, target })
    }

    /// Whether a namespace lies under the destination's top-level group (always, for instance
    /// destinations).
    async fn under_owner(&self, owner: &Owner, target: &FilterTarget) -> ServiceResult<bool> {
        let Owner::Group(owner) = owner else { return Ok(true) };
        let root = match target {
            FilterTarget::Group(group) => group.root_id,
            FilterTarget::Project(project) => match self.ctx.store.group_by_id(project.namespace_id).await? {
                Some(group) => group.root_id,
                None => return Ok(false),
            },
        };
        Ok(root == owner.id)
    }
}

/// The audit event of a filter change (its target is the destination, known before the change).
fn filter_audit(
    caller: &Caller,
    destination: &Destination,
    event_type: &str,
    message: String,
) -> auditrelay_store::PreparedEvent {
    let target = ("AuditEvents::ExternalAuditEventDestination", destination.id.get(), destination.name.as_str());
    destination_audit(&Author::of(caller), &destination.owner, event_type, target, message)
}

fn ids(target: &FilterTarget) -> (Option<GroupId>, Option<ProjectId>) {
    match target {
        FilterTarget::Group(g) => (Some(g.id), None),
        FilterTarget::Project(p) => (None, Some(p.id)),
    }
}

pub fn target_path(target: &FilterTarget) -> &str {
    match target {
        FilterTarget::Group(g) => &g.full_path,
        FilterTarget::Project(p) => &p.full_path,
    }
}
