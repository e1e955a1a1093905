//! Authentication of API requests by `PRIVATE-TOKEN` or `Authorization: Bearer`.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::net::SocketAddr;

use super::AppState;
use crate::error::ServiceError;
use crate::service::Caller;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let token = header("private-token")
            .or_else(|| {
                header("authorization").and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            })
            .map(str::trim)
            .ok_or(ServiceError::Unauthorized)?;
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        state.service.authenticate(token, ip).await
    }
}

/// The token a request presents, if any.
pub fn token_from(headers: &HeaderMap) -> Option<&str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    header("private-token")
        .or_else(|| {
            header("authorization").and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        })
        .map(str::trim)
}
