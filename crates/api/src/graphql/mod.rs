//! GitLab's audit-event-streaming GraphQL API at `POST /api/graphql`, and a small explorer page
//! at `GET /-/graphql-explorer` served by the binary (no CDN). Resolvers call the service layer.

mod context;
mod delivery_health;
mod explorer;
mod gid;
mod introspection_cost;
mod limits;
mod mutations;
mod namespaces;
mod query;
mod schema;
mod stream;
mod types;
mod webhook_signing;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;

use crate::error::{ApiError, ServiceError};
use crate::state::AppState;
use auditrelay_service::Caller;
use context::WebBase;

pub use schema::{AuditSchema, schema, schema_sdl};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/graphql", post(execute).get(execute_get))
        .route("/-/graphql-explorer", get(explorer::page))
}

fn graphql_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({"errors": [{"message": message}]}))).into_response()
}

/// `GET /api/graphql?query=…&variables=…&operationName=…`: queries only. GitLab refuses
/// mutations over GET (they would be open to cross-site requests) with this message and 422.
async fn execute_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: axum::http::Uri,
) -> Response {
    let caller = match authenticate(&state, &headers, peer).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    #[derive(serde::Deserialize)]
    struct GetRequest {
        query: Option<String>,
        variables: Option<String>,
        #[serde(rename = "operationName")]
        operation_name: Option<String>,
    }
    let params: GetRequest = match serde_urlencoded::from_str(uri.query().unwrap_or("")) {
        Ok(params) => params,
        Err(e) => return graphql_error(StatusCode::BAD_REQUEST, &format!("invalid GraphQL request: {e}")),
    };
    let Some(query) = params.query.filter(|q| !q.trim().is_empty()) else {
        return graphql_error(StatusCode::BAD_REQUEST, "invalid GraphQL request: query is missing");
    };
    if is_mutation(&query, params.operation_name.as_deref()) {
        return graphql_error(StatusCode::UNPROCESSABLE_ENTITY, "Mutations are forbidden in GET requests");
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(text) = params.variables.filter(|v| !v.trim().is_empty()) {
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value) => request = request.variables(async_graphql::Variables::from_json(value)),
            Err(e) => return graphql_error(StatusCode::BAD_REQUEST, &format!("variables are not valid JSON: {e}")),
        }
    }
    run(state, &headers, caller, async_graphql::BatchRequest::Single(request)).await
}

/// Whether the operation a GET would run is a mutation. A document that does not parse is left
/// to the executor, which answers GraphQL's own syntax error.
fn is_mutation(query: &str, operation: Option<&str>) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(query) else { return false };
    match &document.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Mutation,
        DocumentOperations::Multiple(ops) => ops.iter().any(|(name, op)| {
            op.node.ty == OperationType::Mutation && operation.is_none_or(|wanted| name.as_str() == wanted)
        }),
    }
}

/// The largest GraphQL request body accepted.
const MAX_GRAPHQL_BODY: usize = 1024 * 1024;

async fn execute(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Body,
) -> Response {
    let caller = match authenticate(&state, &headers, peer).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let body = match super::body::read_limited(body, MAX_GRAPHQL_BODY).await {
        Ok(body) => body,
        Err(error) => return ApiError(error).into_response(),
    };
    let request: async_graphql::BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return graphql_error(StatusCode::BAD_REQUEST, &format!("invalid GraphQL request: {e}")),
    };
    run(state, &headers, caller, request).await
}

/// The caller (`None` when anonymous); a bad token or CSRF token is refused before anything runs.
async fn authenticate(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Result<Option<Caller>, Response> {
    match super::caller::resolve(state, headers, Some(peer.ip())).await {
        Ok(caller) => Ok(caller),
        Err(ServiceError::Denied(why)) => Err(graphql_error(StatusCode::FORBIDDEN, &why)),
        Err(_) => Err(graphql_error(StatusCode::UNAUTHORIZED, "Invalid token")),
    }
}

/// Runs a request (POST or GET) within the limits of `limits`: the request's size and number of
/// queries, a complexity budget per caller tier shared by a batch, and the answer-size cap.
async fn run(
    state: AppState,
    headers: &HeaderMap,
    caller: Option<Caller>,
    request: async_graphql::BatchRequest,
) -> Response {
    let (requests, batch) = match request {
        async_graphql::BatchRequest::Single(request) => (vec![request], false),
        async_graphql::BatchRequest::Batch(requests) => (requests, true),
    };
    let queries: Vec<&str> = requests.iter().map(|r| r.query.as_str()).collect();
    if let Err(message) = limits::check_request(&queries) {
        return graphql_error(StatusCode::UNPROCESSABLE_ENTITY, &message);
    }
    let budget = limits::Budget::new(limits::Tier::of(caller.as_ref()));
    let base = WebBase(crate::base_url::base_url(headers));
    // One query at a time, so that at most one answer is being built while the others wait
    // as JSON, and the answer stops growing at the cap.
    let mut answer = limits::Answer::new(batch);
    for request in requests {
        let request = request.data(state.service.clone()).data(caller.clone()).data(budget.clone()).data(base.clone());
        let response = state.graphql.execute(request).await;
        answer.push(serde_json::to_vec(&response).ok());
    }
    ([(axum::http::header::CONTENT_TYPE, "application/json")], answer.finish()).into_response()
}
