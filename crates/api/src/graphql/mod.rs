//! GitLab's audit-event-streaming GraphQL API at `POST /api/graphql`, and a small explorer page
//! at `GET /-/graphql-explorer` served by the binary (no CDN). Resolvers call the service layer.

mod explorer;
mod gid;
mod mutations;
mod query;
mod types;

use async_graphql::{Context, EmptySubscription, Error, Schema};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;

use super::AppState;
use crate::error::{ApiError, ErrorAnswer, GraphqlError, ServiceError, ServiceResult};
use auditrelay_service::{Caller, Service};

pub type AuditSchema = Schema<query::Query, mutations::Mutation, EmptySubscription>;

/// The schema, without per-request data.
pub fn schema() -> AuditSchema {
    Schema::build(query::Query, mutations::Mutation::default(), EmptySubscription)
        .register_output_type::<types::StreamingDestinationInterface>()
        .limit_depth(16)
        .limit_complexity(2_000)
        .finish()
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn schema_sdl() -> String {
    schema().sdl()
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/api/graphql", post(execute)).route("/-/graphql-explorer", get(explorer::page))
}

/// The largest GraphQL request body accepted.
const MAX_GRAPHQL_BODY: usize = 1024 * 1024;

async fn execute(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Body,
) -> Response {
    let caller = match super::caller::resolve(&state, &headers, Some(peer.ip())).await {
        Ok(caller) => caller,
        Err(ServiceError::Denied(why)) => {
            return (StatusCode::FORBIDDEN, Json(serde_json::json!({"errors": [{"message": why}]}))).into_response();
        }
        Err(_) => {
            return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"errors": [{"message": "Invalid token"}]})))
                .into_response();
        }
    };
    let body = match super::body::read_limited(body, MAX_GRAPHQL_BODY).await {
        Ok(body) => body,
        Err(error) => return ApiError(error).into_response(),
    };
    let request: async_graphql::BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"errors": [{"message": format!("invalid GraphQL request: {e}")}]})),
            )
                .into_response();
        }
    };
    let request = request.data(state.service.clone()).data(caller);
    let response = state.graphql.execute_batch(request).await;
    Json(response).into_response()
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Service {
    ctx.data_unchecked::<Arc<Service>>()
}

/// The authenticated caller; anonymous callers get GitLab's resource access error.
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.data_unchecked::<Option<Caller>>().as_ref().ok_or_else(|| Error::new(crate::error::RESOURCE_ACCESS_ERROR))
}

/// Any error, raised as a top-level GraphQL error.
pub(crate) fn top_level(error: ServiceError) -> Error {
    match error.graphql() {
        GraphqlError::TopLevel(message) => Error::new(message),
        GraphqlError::Payload(messages) => Error::new(messages.join(", ")),
    }
}

/// A service result as GitLab reports it: the value, or payload `errors`, or a raised error.
pub(crate) fn outcome<T>(result: ServiceResult<T>) -> async_graphql::Result<(Option<T>, Vec<String>)> {
    match result {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(error) => match error.graphql() {
            GraphqlError::TopLevel(message) => Err(Error::new(message)),
            GraphqlError::Payload(messages) => Ok((None, messages)),
        },
    }
}

#[cfg(test)]
mod tests {
    /// `schema.graphql` at the repository root is generated from the code; regenerate it with
    /// `cargo run -- graphql-schema > schema.graphql`.
    #[test]
    fn checked_in_schema_matches_the_code() {
        let checked_in = include_str!("../../../../schema.graphql");
        assert!(
            checked_in == super::schema_sdl(),
            "schema.graphql is stale: run `cargo run -- graphql-schema > schema.graphql`"
        );
    }
}
