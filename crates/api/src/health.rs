//! Liveness, readiness and Prometheus metrics.

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

use crate::error::ApiError;
use auditrelay_service::ServiceError;
use auditrelay_service::access::need;
use axum::routing::get;
use serde_json::json;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/-/health", get(|| async { (StatusCode::OK, "GitLab OK") }))
        .route("/-/liveness", get(|| async { axum::Json(json!({"status": "ok"})) }))
        .route("/-/readiness", get(readiness))
        .route("/-/metrics", get(metrics))
}

/// Ready when the database answers. The ClickHouse archive's state is shown as detail only:
/// ingest and reads work without it.
async fn readiness(State(state): State<AppState>) -> impl IntoResponse {
    match state.service.status().ping().await {
        Ok(()) => {
            let mut body = json!({"status": "ok", "master_check": [{"status": "ok"}]});
            if let Ok(Some(archive)) = state.service.status().archive_health().await {
                body["clickhouse_archive"] = json!(archive);
            }
            (StatusCode::OK, axum::Json(body))
        }
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({"status": "failed", "master_check": [{"status": "failed", "message": error.to_string()}]}),
            ),
        ),
    }
}

/// `/-/metrics` names destinations and shows traffic: it needs an admin's token (`read_api`
/// or `api`) or the `metrics_token` setting's token, as `Authorization: Bearer` or
/// `PRIVATE-TOKEN` (GitLab guards its metrics with an allow-list).
async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let Some(token) = crate::caller::token_from(&headers).filter(|t| !t.is_empty()) else {
        return ApiError(ServiceError::Unauthorized).into_response();
    };
    let allowed = match state.service.settings().is_metrics_token(token).await {
        Ok(true) => Ok(()),
        Ok(false) => match state.service.auth().authenticate(token, Some(peer.ip())).await {
            Ok(caller) => state.service.access().admin::<need::Read>(&caller).map(|_| ()),
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    if let Err(error) = allowed {
        return ApiError(error).into_response();
    }
    if let Ok(head) = state.service.status().head_seq().await {
        metrics::gauge!("auditrelay_log_head_seq").set(head as f64);
    }
    if let Err(error) = state.service.status().archive_health().await {
        tracing::warn!(%error, "could not compute archive metrics");
    }
    if let Err(error) = state.service.delivery().record_delivery_gauges().await {
        tracing::warn!(%error, "could not compute delivery metrics");
    }
    let body = state.metrics.as_ref().map(|m| m.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
