//! The `http://host` of a request as the client addressed it: for absolute `Link` URLs,
//! GitLab's `web_url`s (REST) and `webUrl`s (GraphQL).

use axum::http::HeaderMap;

/// `http://host` of the request as the client addressed it, for absolute `Link` URLs.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = header("x-forwarded-proto").filter(|s| *s == "https").unwrap_or("http");
    format!("{scheme}://{}", header("host").unwrap_or("localhost"))
}

/// The request's `http://host`, for GitLab's absolute `web_url`s.
pub(crate) struct BaseUrl(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for BaseUrl {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(BaseUrl(base_url(&parts.headers)))
    }
}
