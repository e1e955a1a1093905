//! Liveness, readiness and Prometheus metrics.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use super::AppState;

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
    match state.service.store.ping().await {
        Ok(()) => {
            let mut body = json!({"status": "ok", "master_check": [{"status": "ok"}]});
            if let Ok(Some(archive)) = state.service.archive_health().await {
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

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(head) = state.service.store.head_seq().await {
        metrics::gauge!("auditrelay_log_head_seq").set(head as f64);
    }
    if let Err(error) = state.service.archive_health().await {
        tracing::warn!(%error, "could not compute archive metrics");
    }
    if let Err(error) = state.service.record_delivery_gauges().await {
        tracing::warn!(%error, "could not compute delivery metrics");
    }
    let body = state.metrics.as_ref().map(|m| m.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
