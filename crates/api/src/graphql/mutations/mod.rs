//! Mutation root: GitLab's legacy (per-category) and consolidated destination mutations.

mod cloud;
mod delivery;
mod guards;
mod legacy;
mod legacy_inputs;
mod payload;
mod signing;
mod stream;
mod streaming;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Mutation(
    legacy::LegacyMutation,
    cloud::CloudMutation,
    streaming::StreamingMutation,
    delivery::DeliveryMutation,
    signing::SigningMutation,
    stream::StreamMutation,
);
