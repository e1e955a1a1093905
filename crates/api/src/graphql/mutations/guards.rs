//! Who may run a mutation on what: the destination a caller may manage, and the legacy instance
//! mutations kept to admins.

use async_graphql::{Context, Error, Result};
use auditrelay_core::DestinationId;
use auditrelay_core::destination::Category;

use crate::error::ServiceError;
use crate::graphql::context::{caller, service, top_level};
use auditrelay_service::access::DestinationGrant;
use auditrelay_service::access::need::Needed;

/// A destination of `category` owned as `instance` says, that the caller may manage. Any other
/// id (another group's, another category's) gets GitLab's resource access error.
pub(super) async fn managed<'a, N: Needed>(
    ctx: &Context<'a>,
    id: DestinationId,
    instance: bool,
    category: Category,
) -> Result<DestinationGrant<'a, N>> {
    let destination = service(ctx).access().destination(caller(ctx)?, id, instance).await.map_err(top_level)?;
    if destination.destination().category == category {
        Ok(destination)
    } else {
        Err(top_level(ServiceError::NotFound("Destination")))
    }
}

/// GitLab's legacy instance mutations answer non-admins with this.
pub(super) fn require_admin(ctx: &Context<'_>) -> Result<()> {
    if caller(ctx)?.is_admin() { Ok(()) } else { Err(Error::new("You do not have access to this mutation.")) }
}
