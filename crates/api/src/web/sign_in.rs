//! `/users/sign_in` (username and password) and `/users/sign_out`.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

use super::authorize::safe_redirect;
use super::html::{escape, page};
use super::session::{SignedIn, clear_cookie, csrf_refused, form_value, parse_form, set_cookie};
use crate::error::{ApiError, ServiceError};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SignInQuery {
    redirect_to: Option<String>,
}

/// The cookie holding the sign-in form's CSRF token (login CSRF: a cross-site page must not
/// sign a browser into the attacker's account). The form carries the same token.
const SIGN_IN_CSRF_COOKIE: &str = "_auditrelay_sign_in";

/// GitLab's answer to a form without a valid authenticity token (`422`).
const CSRF_REFUSED: &str = "Can't verify CSRF token authenticity.";

pub async fn form(headers: HeaderMap, Query(q): Query<SignInQuery>) -> Response {
    render(StatusCode::OK, q.redirect_to.as_deref(), "", None, &headers)
}

/// The page with a fresh CSRF token in the form and its cookie (or the browser's current one).
fn render(
    status: StatusCode,
    redirect_to: Option<&str>,
    username: &str,
    error: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let token = match crate::caller::cookie_from(headers, SIGN_IN_CSRF_COOKIE) {
        Some(token) if token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric()) => token.to_owned(),
        _ => auditrelay_service::secrets::random_string(43),
    };
    let secure = if forwarded_https(headers) { "; Secure" } else { "" };
    let cookie = format!("{SIGN_IN_CSRF_COOKIE}={token}; Path=/users/sign_in; HttpOnly; SameSite=Strict{secure}");
    let mut response = form_page(status, redirect_to, username, error, &token);
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// True when the post comes from this site's own form: its token equals the cookie's, and
/// the browser's `Origin` (sent with every cross-site post) names this host.
fn same_site_form(headers: &HeaderMap, form: &[(String, String)]) -> bool {
    let cookie = crate::caller::cookie_from(headers, SIGN_IN_CSRF_COOKIE).unwrap_or("");
    let given = form_value(form, "authenticity_token").unwrap_or("");
    auditrelay_service::sessions::csrf_matches(cookie, given) && origin_is_this_host(headers)
}

/// No `Origin` (not a browser, or an old one), or one whose host and port are the request's
/// `Host`; `Origin: null` (sandboxed or privacy-redirected) is refused.
fn origin_is_this_host(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else { return true };
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let origin = origin.to_str().unwrap_or("");
    let origin_host = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    !host.is_empty() && origin_host.is_some_and(|o| o.eq_ignore_ascii_case(host))
}

fn form_page(
    status: StatusCode,
    redirect_to: Option<&str>,
    username: &str,
    error: Option<&str>,
    token: &str,
) -> Response {
    let alert = error
        .map_or(String::new(), |e| format!(r#"<p class="alert" role="alert" id="sign-in-error">{}</p>"#, escape(e)));
    let body = format!(
        r#"{alert}<form method="post" action="/users/sign_in" class="sign-in">
<input type="hidden" name="authenticity_token" value="{token}">
<input type="hidden" name="redirect_to" value="{redirect}">
<label for="user_login">Username</label>
<input id="user_login" name="username" autocomplete="username" required autofocus value="{username}">
<label for="user_password">Password</label>
<input id="user_password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button>
</form>"#,
        redirect = escape(safe_redirect(redirect_to)),
        username = escape(username),
        token = escape(token),
    );
    page(status, "Sign in", None, &body)
}

fn forwarded_https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").is_some_and(|v| v == "https")
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let username = form_value(&form, "username").unwrap_or("");
    let password = form_value(&form, "password").unwrap_or("");
    let redirect_to = form_value(&form, "redirect_to");
    if !same_site_form(&headers, &form) {
        return render(StatusCode::UNPROCESSABLE_ENTITY, redirect_to, username, Some(CSRF_REFUSED), &headers);
    }
    match state.service.sessions().sign_in(username, password, Some(peer.ip())).await {
        Ok((cookie, _)) => (
            StatusCode::SEE_OTHER,
            [
                (SET_COOKIE, set_cookie(&cookie, forwarded_https(&headers))),
                (LOCATION, safe_redirect(redirect_to).to_owned()),
            ],
        )
            .into_response(),
        Err(ServiceError::TooManyRequests(message)) => {
            render(StatusCode::TOO_MANY_REQUESTS, redirect_to, username, Some(&message), &headers)
        }
        Err(_) => {
            render(StatusCode::UNAUTHORIZED, redirect_to, username, Some("Invalid username or password."), &headers)
        }
    }
}

pub async fn sign_out(State(state): State<AppState>, signed_in: SignedIn, headers: HeaderMap, body: Bytes) -> Response {
    if !signed_in.csrf_ok(&parse_form(&body)) {
        return csrf_refused();
    }
    if let Err(error) = state.service.sessions().sign_out(&signed_in.cookie).await {
        return ApiError(error).into_response();
    }
    (
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, clear_cookie(forwarded_https(&headers))), (LOCATION, "/users/sign_in".to_owned())],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_hosts_origin_may_post_the_form() {
        for (host, origin, allowed) in [
            ("127.0.0.1:8080", None, true),
            ("127.0.0.1:8080", Some("http://127.0.0.1:8080"), true),
            ("audit.example", Some("https://AUDIT.example"), true),
            ("127.0.0.1:8080", Some("http://127.0.0.1:9090"), false),
            ("127.0.0.1:8080", Some("https://evil.example"), false),
            ("127.0.0.1:8080", Some("null"), false),
            ("audit.example", Some("http://audit.example.evil.example"), false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(axum::http::header::HOST, host.parse().unwrap());
            if let Some(origin) = origin {
                headers.insert(axum::http::header::ORIGIN, origin.parse().unwrap());
            }
            assert_eq!(origin_is_this_host(&headers), allowed, "{host} {origin:?}");
        }
    }
}
