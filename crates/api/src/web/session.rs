//! The signed-in browser behind a page request, the session cookie, and the CSRF check of
//! form posts.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use std::sync::OnceLock;

use crate::caller::{SESSION_COOKIE, cookie_from};
use crate::state::AppState;
use auditrelay_service::Caller;
use auditrelay_service::sessions::{SESSION_TTL_MICROS, csrf_matches};

/// A page request from a signed-in user.
pub struct SignedIn {
    pub caller: Caller,
    pub csrf: String,
    pub cookie: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        if let Some(cookie) = cookie_from(&parts.headers, SESSION_COOKIE)
            && let Ok(session) = state.service.sessions().web_session(cookie, ip).await
        {
            return Ok(SignedIn { caller: session.caller, csrf: session.csrf_token, cookie: cookie.to_owned() });
        }
        let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let query = serde_urlencoded::to_string([("redirect_to", here)]).unwrap_or_default();
        Err(Redirect::to(&format!("/users/sign_in?{query}")).into_response())
    }
}

impl SignedIn {
    /// True when a form post carries this session's CSRF token as `authenticity_token`.
    pub fn csrf_ok(&self, form: &[(String, String)]) -> bool {
        csrf_matches(&self.csrf, form_value(form, "authenticity_token").unwrap_or(""))
    }
}

/// The answer to a form post without the session's CSRF token.
pub fn csrf_refused() -> Response {
    (StatusCode::FORBIDDEN, "403 Forbidden - invalid CSRF token").into_response()
}

pub fn form_value<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// `Secure` cookies when `AUDITRELAY_SECURE_COOKIES=true` (auditrelay behind TLS) or when the
/// request came over https through a proxy.
fn secure_cookies(forwarded_https: bool) -> bool {
    static CONFIGURED: OnceLock<bool> = OnceLock::new();
    forwarded_https || *CONFIGURED.get_or_init(|| std::env::var("AUDITRELAY_SECURE_COOKIES").is_ok_and(|v| v == "true"))
}

pub fn set_cookie(value: &str, forwarded_https: bool) -> String {
    cookie_header(value, SESSION_TTL_MICROS / 1_000_000, secure_cookies(forwarded_https))
}

pub fn clear_cookie(forwarded_https: bool) -> String {
    cookie_header("", 0, secure_cookies(forwarded_https))
}

fn cookie_header(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_and_same_site() {
        let cookie = cookie_header("abc", 60, false);
        assert_eq!(cookie, "_auditrelay_session=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax");
        assert!(cookie_header("abc", 60, true).ends_with("; Secure"));
    }

    #[test]
    fn forms_are_parsed() {
        let form = parse_form(b"authenticity_token=t%2B1&x=");
        assert_eq!(form_value(&form, "authenticity_token"), Some("t+1"));
        assert_eq!(form_value(&form, "x"), Some(""));
        assert_eq!(form_value(&form, "y"), None);
        assert!(parse_form(b"%%%").is_empty() || form_value(&parse_form(b"%%%"), "a").is_none());
    }
}
