//! The GraphQL schema: GitLab's query and mutation roots with the limits extension, and its SDL
//! (checked in at `schema.graphql`).

use async_graphql::{EmptySubscription, Schema};

use super::limits::Limits;
use super::mutations::Mutation;
use super::query::Query;
use super::types::StreamingDestinationInterface;

pub type AuditSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema, without per-request data.
pub fn schema() -> AuditSchema {
    Schema::build(Query, Mutation::default(), EmptySubscription)
        .register_output_type::<StreamingDestinationInterface>()
        // Complexity and depth are limited per caller by `limits::Limits`.
        .extension(Limits)
        .finish()
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn schema_sdl() -> String {
    schema().sdl()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `schema.graphql` at the repository root is generated from the code; regenerate it with
    /// `cargo run -- graphql-schema > schema.graphql`.
    #[test]
    fn checked_in_schema_matches_the_code() {
        let checked_in = include_str!("../../../../schema.graphql");
        assert!(
            checked_in == schema_sdl(),
            "schema.graphql is stale: run `cargo run -- graphql-schema > schema.graphql`"
        );
    }
}
