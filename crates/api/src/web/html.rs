//! HTML building blocks: escaping, the page layout and the security headers every page gets.

use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName};
use axum::response::{IntoResponse, Response};

use super::session::SignedIn;

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A same-origin path for an `href` or `action` attribute: percent-encoded (every byte but
/// unreserved characters and `/`), then HTML-escaped. A path that does not start with one `/`
/// (`//host`, `scheme:`) becomes `/`.
pub fn url_attribute(path: &str) -> String {
    if !path.starts_with('/') || path.starts_with("//") {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    escape(&out)
}

/// A page in the common layout. `session` adds the top bar with the user and sign-out.
pub fn page(status: StatusCode, title: &str, session: Option<&SignedIn>, body: &str) -> Response {
    let (csrf_meta, top_bar) = match session {
        Some(s) => (format!(r#"<meta name="csrf-token" content="{}">"#, escape(&s.csrf)), top_bar(s)),
        None => (String::new(), String::new()),
    };
    let html = format!(
        r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{csrf_meta}
<title>{title} · auditrelay</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="top-bar"><a class="brand" href="/">auditrelay</a>{top_bar}</header>
<main id="main" tabindex="-1">
<h1>{title}</h1>
{body}
</main>
</body>
</html>"##,
        title = escape(title),
    );
    with_security_headers(status, html)
}

fn top_bar(s: &SignedIn) -> String {
    let admin_links = if s.caller.is_admin() {
        r#"<a href="/admin/audit_logs">Admin Area: Audit events</a><a href="/admin/gitlab_duo">GitLab Duo</a><a href="/admin/ai_sessions">AI sessions</a>"#
    } else {
        ""
    };
    format!(
        r#"<nav aria-label="Main">{admin_links}</nav><span class="user">{name} (@{username})</span>
<form method="post" action="/users/sign_out" class="sign-out"><input type="hidden" name="authenticity_token" value="{csrf}"><button type="submit">Sign out</button></form>"#,
        name = escape(&s.caller.user.name),
        username = escape(&s.caller.user.username),
        csrf = escape(&s.csrf),
    )
}

/// Scripts only from this origin, no framing, no caching of pages with user data.
pub fn with_security_headers(status: StatusCode, html: String) -> Response {
    let headers = [
        (CONTENT_TYPE, "text/html; charset=utf-8"),
        (CACHE_CONTROL, "no-store"),
        (
            HeaderName::from_static("content-security-policy"),
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (HeaderName::from_static("x-frame-options"), "DENY"),
        (HeaderName::from_static("x-content-type-options"), "nosniff"),
        (HeaderName::from_static("referrer-policy"), "same-origin"),
    ];
    (status, headers, html).into_response()
}

pub fn not_found(session: Option<&SignedIn>) -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Page not found",
        session,
        "<p>The page could not be found or you don't have permission to view it.</p>",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(super::escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn url_attributes_are_encoded_paths_on_this_origin() {
        for (path, attribute) in [
            ("/groups/acme/-/audit_events", "/groups/acme/-/audit_events"),
            ("/groups/a b/-/x", "/groups/a%20b/-/x"),
            (
                r#"/groups/x"><meta http-equiv="refresh">/-/a"#,
                "/groups/x%22%3E%3Cmeta%20http-equiv%3D%22refresh%22%3E/-/a",
            ),
            ("/groups/é", "/groups/%C3%A9"),
            ("//evil.example/x", "/"),
            ("/\\evil.example", "/%5Cevil.example"),
            ("https://evil.example", "/"),
            ("javascript:alert(1)", "/"),
        ] {
            assert_eq!(super::url_attribute(path), attribute, "{path}");
        }
    }
}
