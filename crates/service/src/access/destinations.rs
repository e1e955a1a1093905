//! The proofs that a caller manages destinations: of an owner (a top-level group or the
//! instance), and of one destination with its headers and filters. A child of the access
//! module, so it alone (with its parent) makes them.

use auditrelay_core::DestinationId;
use auditrelay_store::destinations::HeaderRow;
use std::marker::PhantomData;

use super::need::{self, Needed};
use super::{Authorizer, check_scope, rules};
use crate::Caller;
use crate::destinations::{Destination, NamespaceFilter, Owner};
use crate::error::{ServiceError, ServiceResult};

/// The caller manages the destinations of `owner` (Owner of the group, or an admin for the
/// instance), with a token allowing `N` (and reading).
pub struct OwnerGrant<'c, N: Needed> {
    caller: &'c Caller,
    owner: Owner,
    need: PhantomData<N>,
}

/// The caller manages the destination, with a token allowing `N` (and reading).
pub struct DestinationGrant<'c, N: Needed> {
    caller: &'c Caller,
    destination: Destination,
    need: PhantomData<N>,
}

impl<'c, N: Needed> OwnerGrant<'c, N> {
    pub fn caller(&self) -> &'c Caller {
        self.caller
    }

    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// The same owner for a use case needing `M` (only the token's scope is checked again).
    pub fn needing<M: Needed>(&self) -> ServiceResult<OwnerGrant<'c, M>> {
        check_scope::<M>(self.caller)?;
        Ok(OwnerGrant { caller: self.caller, owner: self.owner.clone(), need: PhantomData })
    }
}

impl<'c, N: Needed> DestinationGrant<'c, N> {
    pub fn caller(&self) -> &'c Caller {
        self.caller
    }

    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    pub fn into_destination(self) -> Destination {
        self.destination
    }

    /// The same destination for a use case needing `M`: only the token's scope is checked again
    /// (the destination was proven managed), as when a handler reads, then changes.
    pub fn needing<M: Needed>(&self) -> ServiceResult<DestinationGrant<'c, M>> {
        check_scope::<M>(self.caller)?;
        Ok(DestinationGrant { caller: self.caller, destination: self.destination.clone(), need: PhantomData })
    }
}

impl<'s> Authorizer<'s> {
    /// The owner of a group's (by id or path) or the instance's (`None`) destinations, managed
    /// by the caller: reading first, then the owner (the instance: admins, else `403`; a group:
    /// its Owners, to anyone else "not found"), then `N`.
    pub async fn owner<'c, N: Needed>(
        &self,
        caller: &'c Caller,
        group: Option<&str>,
    ) -> ServiceResult<OwnerGrant<'c, N>> {
        check_scope::<need::Read>(caller)?;
        let owner = match group {
            None if caller.is_admin() => Owner::Instance,
            None => return Err(ServiceError::Forbidden),
            Some(path) => Owner::Group(self.group::<rules::ManageGroupDestinations>(caller, path).await?.group),
        };
        check_scope::<N>(caller)?;
        Ok(OwnerGrant { caller, owner, need: PhantomData })
    }

    /// The same, for an owner in hand (checked again: it may come from anywhere).
    pub async fn owner_of<'c, N: Needed>(&self, caller: &'c Caller, owner: &Owner) -> ServiceResult<OwnerGrant<'c, N>> {
        match owner {
            Owner::Instance => self.owner(caller, None).await,
            Owner::Group(group) => self.owner(caller, Some(&group.id.to_string())).await,
        }
    }

    /// A destination the caller manages, owned as `instance` says; any other is "not found".
    pub async fn destination<'c, N: Needed>(
        &self,
        caller: &'c Caller,
        id: DestinationId,
        instance: bool,
    ) -> ServiceResult<DestinationGrant<'c, N>> {
        let row = self.ctx.store.destination(id).await?.ok_or(ServiceError::NotFound("Destination"))?;
        if row.group_id.is_none() != instance {
            return Err(ServiceError::NotFound("Destination"));
        }
        let owner = match row.group_id {
            None => self.owner::<need::Read>(caller, None).await?,
            Some(gid) => self.owner::<need::Read>(caller, Some(&gid.to_string())).await?,
        };
        let destination = self.ctx.load_destination(row, owner.owner).await?;
        check_scope::<N>(caller)?;
        Ok(DestinationGrant { caller, destination, need: PhantomData })
    }

    /// A destination in hand (read earlier for this caller, e.g. a GraphQL parent object): the
    /// caller manages its owner, checked again without reading the destination again.
    pub async fn manages<'c, N: Needed>(
        &self,
        caller: &'c Caller,
        destination: &Destination,
    ) -> ServiceResult<DestinationGrant<'c, N>> {
        let owner = self.owner_of::<N>(caller, &destination.owner).await?;
        Ok(DestinationGrant { caller: owner.caller, destination: destination.clone(), need: PhantomData })
    }

    /// A destination of either kind (group or instance) that the caller manages.
    pub async fn any_destination<'c, N: Needed>(
        &self,
        caller: &'c Caller,
        id: DestinationId,
    ) -> ServiceResult<DestinationGrant<'c, N>> {
        let row = self.ctx.store.destination(id).await?.ok_or(ServiceError::NotFound("Destination"))?;
        self.destination(caller, id, row.group_id.is_none()).await
    }

    /// A custom header with its destination (group or instance as `instance`), managed.
    pub async fn header<'c, N: Needed>(
        &self,
        caller: &'c Caller,
        header_id: i64,
        instance: bool,
    ) -> ServiceResult<(DestinationGrant<'c, N>, HeaderRow)> {
        let header = self.ctx.store.header(header_id).await?.ok_or(ServiceError::NotFound("Header"))?;
        let destination = self.destination(caller, header.destination_id, instance).await?;
        Ok((destination, header))
    }

    /// A namespace filter of the API generation `legacy` says, with its destination, managed.
    pub async fn namespace_filter<'c, N: Needed>(
        &self,
        caller: &'c Caller,
        filter_id: i64,
        instance: bool,
        legacy: bool,
    ) -> ServiceResult<(DestinationGrant<'c, N>, NamespaceFilter)> {
        let store = &self.ctx.store;
        let row = store.namespace_filter(filter_id).await?.ok_or(ServiceError::NotFound("Namespace filter"))?;
        if row.legacy != legacy {
            return Err(ServiceError::NotFound("Namespace filter"));
        }
        let destination = self.destination(caller, row.destination_id, instance).await?;
        let filter = destination
            .destination
            .namespace_filters
            .iter()
            .find(|f| f.row.id == filter_id)
            .cloned()
            .ok_or(ServiceError::NotFound("Namespace filter"))?;
        Ok((destination, filter))
    }
}
