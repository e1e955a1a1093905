//! Authentication of API requests: by `PRIVATE-TOKEN` or `Authorization: Bearer`, or — for the
//! web UI's own calls — by the session cookie together with the session's CSRF token.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};

use crate::error::{ApiError, ServiceError};
use crate::state::AppState;
use auditrelay_service::Caller;
use auditrelay_service::sessions::csrf_matches;

/// The web UI's session cookie.
pub const SESSION_COOKIE: &str = "_auditrelay_session";
/// Where the UI's scripts put the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(resolve(state, &parts.headers, ip).await?.ok_or(ServiceError::Unauthorized)?)
    }
}

/// The caller a request authenticates as, `None` when it presents nothing. A token wins; a
/// session cookie counts only with the session's CSRF token in `X-CSRF-Token`, so another
/// site cannot make a signed-in browser call the API.
pub async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
) -> Result<Option<Caller>, ServiceError> {
    if let Some(token) = token_from(headers) {
        return state.service.auth().authenticate(token, ip).await.map(Some);
    }
    let Some(cookie) = cookie_from(headers, SESSION_COOKIE) else { return Ok(None) };
    let session = state.service.sessions().web_session(cookie, ip).await?;
    let given = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !csrf_matches(&session.csrf_token, given) {
        return Err(ServiceError::Denied("invalid CSRF token".into()));
    }
    Ok(Some(session.caller))
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

/// A cookie's value from the `Cookie` headers.
pub fn cookie_from<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", "a=1; _auditrelay_session=abc; b=2".parse().unwrap());
        headers.append("cookie", "c=3".parse().unwrap());
        assert_eq!(cookie_from(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_from(&headers, "c"), Some("3"));
        assert_eq!(cookie_from(&headers, "_auditrelay"), None);
        headers.insert("cookie", "_auditrelay_session=".parse().unwrap());
        assert_eq!(cookie_from(&headers, SESSION_COOKIE), None);
    }
}
