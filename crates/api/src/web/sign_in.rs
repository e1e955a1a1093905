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
use crate::AppState;
use crate::error::{ApiError, ServiceError};

#[derive(Deserialize)]
pub struct SignInQuery {
    redirect_to: Option<String>,
}

pub async fn form(Query(q): Query<SignInQuery>) -> Response {
    render(StatusCode::OK, q.redirect_to.as_deref(), "", None)
}

fn render(status: StatusCode, redirect_to: Option<&str>, username: &str, error: Option<&str>) -> Response {
    let alert = error
        .map_or(String::new(), |e| format!(r#"<p class="alert" role="alert" id="sign-in-error">{}</p>"#, escape(e)));
    let body = format!(
        r#"{alert}<form method="post" action="/users/sign_in" class="sign-in">
<input type="hidden" name="redirect_to" value="{redirect}">
<label for="user_login">Username</label>
<input id="user_login" name="username" autocomplete="username" required autofocus value="{username}">
<label for="user_password">Password</label>
<input id="user_password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button>
</form>"#,
        redirect = escape(safe_redirect(redirect_to)),
        username = escape(username),
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
    match state.service.sign_in(username, password, Some(peer.ip())).await {
        Ok((cookie, _)) => (
            StatusCode::SEE_OTHER,
            [
                (SET_COOKIE, set_cookie(&cookie, forwarded_https(&headers))),
                (LOCATION, safe_redirect(redirect_to).to_owned()),
            ],
        )
            .into_response(),
        Err(ServiceError::TooManyRequests(message)) => {
            render(StatusCode::TOO_MANY_REQUESTS, redirect_to, username, Some(&message))
        }
        Err(_) => render(StatusCode::UNAUTHORIZED, redirect_to, username, Some("Invalid username or password.")),
    }
}

pub async fn sign_out(State(state): State<AppState>, signed_in: SignedIn, headers: HeaderMap, body: Bytes) -> Response {
    if !signed_in.csrf_ok(&parse_form(&body)) {
        return csrf_refused();
    }
    if let Err(error) = state.service.sign_out(&signed_in.cookie).await {
        return ApiError(error).into_response();
    }
    (
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, clear_cookie(forwarded_https(&headers))), (LOCATION, "/users/sign_in".to_owned())],
    )
        .into_response()
}
