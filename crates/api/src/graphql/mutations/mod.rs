//! Mutation root: GitLab's legacy (per-category) and consolidated destination mutations.

mod cloud;
mod delivery;
mod legacy;
mod signing;
mod stream;
mod streaming;

use async_graphql::{Context, Error, MergedObject, Result};
use auditrelay_core::destination::Category;

use super::{caller, service, top_level};
use crate::error::ServiceError;
use auditrelay_service::destinations::Destination;

#[derive(MergedObject, Default)]
pub struct Mutation(
    legacy::LegacyMutation,
    cloud::CloudMutation,
    streaming::StreamingMutation,
    delivery::DeliveryMutation,
    signing::SigningMutation,
    stream::StreamMutation,
);

/// Declares a mutation payload: `clientMutationId`, `errors` and the given fields.
macro_rules! payload {
    ($ty:ident $(, $field:ident : $field_ty:ty)* $(,)?) => {
        #[derive(async_graphql::SimpleObject)]
        pub struct $ty {
            pub client_mutation_id: Option<String>,
            pub errors: Vec<String>,
            $(pub $field: $field_ty,)*
        }
    };
}
pub(crate) use payload;

/// A destination of `category` owned as `instance` says, that the caller may manage. Any other
/// id (another group's, another category's) gets GitLab's resource access error.
async fn managed(ctx: &Context<'_>, id: i64, instance: bool, category: Category) -> Result<Destination> {
    let destination = service(ctx).managed_destination(caller(ctx)?, id, instance).await.map_err(top_level)?;
    if destination.category == category {
        Ok(destination)
    } else {
        Err(top_level(ServiceError::NotFound("Destination")))
    }
}

/// GitLab's legacy instance mutations answer non-admins with this.
fn require_admin(ctx: &Context<'_>) -> Result<()> {
    if caller(ctx)?.is_admin() { Ok(()) } else { Err(Error::new("You do not have access to this mutation.")) }
}
