//! The HTTP interface over the service: GitLab-compatible REST under `/api/v4`, GraphQL under
//! `/api/graphql`, the web UI, health and metrics under `/-/`. Handlers only translate HTTP to
//! service calls and results to GitLab's JSON shapes; `error` is the one mapping table.

mod base_url;
mod body;
pub(crate) mod caller;
pub mod error;
mod filters;
pub mod graphql;
mod health;
mod pagination;
mod params;
pub mod rest;
mod state;
mod views;
pub mod web;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::time::Instant;

use auditrelay_service::ServiceError;

use crate::error::ApiError;
pub use state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(graphql::routes())
        .nest("/api/v4", rest::routes())
        .merge(web::routes())
        .fallback(|| async { ApiError(ServiceError::NotFound("")).into_response() })
        .layer(middleware::from_fn(record_request))
        .layer(middleware::from_fn(web::security_headers))
        .with_state(state)
}

/// Counts requests and their latency per route and status, for `/-/metrics`.
async fn record_request(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("auditrelay_http_requests_total", &labels).increment(1);
    metrics::histogram!("auditrelay_http_request_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}
