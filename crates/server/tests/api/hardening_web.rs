//! The web UI's hardening over real HTTP: values escaped in attributes and URLs, redirects
//! only to this site, CSRF on the sign-in form, the per-address sign-in lock, and security
//! headers on every answer.

use auditrelay_testkit::Backend;
use reqwest::StatusCode;

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap()
}

/// Opens the sign-in form as a browser would: the `Cookie` header value to send back and the
/// form's `authenticity_token`.
pub async fn sign_in_form(base: &str) -> (String, String) {
    let reply = http().get(format!("{base}/users/sign_in")).send().await.unwrap();
    let set_cookie = reply.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let page = reply.text().await.unwrap();
    let token = page.split(r#"name="authenticity_token" value=""#).nth(1).unwrap().split('"').next().unwrap();
    (cookie, token.to_owned())
}

async fn post_form(base: &str, cookie: Option<&str>, origin: Option<&str>, form: &[(&str, &str)]) -> reqwest::Response {
    let mut request = http().post(format!("{base}/users/sign_in")).form(form);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

async fn signed_in_cookie(base: &str, username: &str, password: &str) -> String {
    let (cookie, token) = sign_in_form(base).await;
    let reply = post_form(
        base,
        Some(&cookie),
        None,
        &[("username", username), ("password", password), ("authenticity_token", &token)],
    )
    .await;
    assert_eq!(reply.status(), StatusCode::SEE_OTHER);
    reply.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
}

async fn sign_in_csrf_and_redirects(backend: Backend) {
    let server = crate::server(backend).await;
    let base = server.base.clone();
    let password = auditrelay_testkit::ROOT_PASSWORD;
    let (cookie, token) = sign_in_form(&base).await;
    let login = |token: &'static str| [("username", "root"), ("password", password), ("authenticity_token", token)];
    // No token, a wrong token, no cookie, or another site's Origin: 422 and no session.
    for (what, cookie, origin, form) in [
        ("no token", Some(cookie.as_str()), None, vec![("username", "root"), ("password", password)]),
        ("a wrong token", Some(cookie.as_str()), None, login("x").to_vec()),
        ("no cookie", None, None, vec![("username", "root"), ("password", password), ("authenticity_token", &token)]),
        (
            "another site",
            Some(cookie.as_str()),
            Some("https://evil.example"),
            vec![("username", "root"), ("password", password), ("authenticity_token", &token)],
        ),
    ] {
        let reply = post_form(&base, cookie, origin, &form).await;
        assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert!(
            reply.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().contains("_auditrelay_session="))
        );
        assert!(reply.text().await.unwrap().contains("Can&#39;t verify CSRF token authenticity."), "{what}");
    }
    // Open redirects: only same-origin relative paths survive sign-in.
    let same_origin = format!("http://{}", base.trim_start_matches("http://"));
    for (redirect_to, location) in [
        ("/admin/audit_logs?tab=streams", "/admin/audit_logs?tab=streams"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
    ] {
        let form = [
            ("username", "root"),
            ("password", password),
            ("authenticity_token", token.as_str()),
            ("redirect_to", redirect_to),
        ];
        let reply = post_form(&base, Some(&cookie), Some(&same_origin), &form).await;
        assert_eq!(reply.status(), StatusCode::SEE_OTHER, "{redirect_to:?}");
        assert_eq!(reply.headers()["location"], location, "{redirect_to:?}");
    }
    // The form itself never echoes a foreign target either (`%09` is a tab once decoded).
    let page = http().get(format!("{base}/users/sign_in?redirect_to=/%09/evil.example")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains(r#"name="redirect_to" value="/""#));
}

async fn values_are_escaped_in_attributes(backend: Backend) {
    let server = crate::server(backend).await;
    let cookie = signed_in_cookie(&server.base, "root", auditrelay_testkit::ROOT_PASSWORD).await;
    // A bad filter renders the form for any path; the path must not break out of `action`.
    let path = "/groups/x%22%3E%3Cmeta%20http-equiv=%22refresh%22%20content=%220;url=https:evil.example%22%3E/-/audit_events?author_id=nope";
    let reply = http().get(format!("{}{path}", server.base)).header("cookie", &cookie).send().await.unwrap();
    let page = reply.text().await.unwrap();
    assert!(!page.contains("<meta http-equiv"), "{page}");
    assert!(!page.contains(r#"action="/groups/x">"#));
    assert!(page.contains("Author ID must be a number"), "{page}");
    assert!(page.contains(r#"action="/groups/x%22%3E%3Cmeta%20http-equiv%3D%22refresh%22"#), "{page}");
}

async fn security_headers_on_every_answer(backend: Backend) {
    let server = crate::server(backend).await;
    let cookie = signed_in_cookie(&server.base, "root", auditrelay_testkit::ROOT_PASSWORD).await;
    for path in [
        "/users/sign_in",
        "/-/graphql-explorer",
        "/admin/audit_logs",
        "/assets/explorer.js",
        "/api/v4/audit_events",
        "/-/health",
        "/no/such/page",
    ] {
        let reply = http().get(format!("{}{path}", server.base)).header("cookie", &cookie).send().await.unwrap();
        let header = |name: &str| reply.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"), "{path}");
    }
    // The explorer runs under the pages' policy: no inline script or style.
    let explorer = http().get(format!("{}/-/graphql-explorer", server.base)).send().await.unwrap();
    let csp = explorer.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let page = explorer.text().await.unwrap();
    assert!(!page.contains("<script>") && !page.contains("<style>") && page.contains("/assets/explorer.js"));
    let script = http().get(format!("{}/assets/explorer.js", server.base)).send().await.unwrap();
    assert!(script.text().await.unwrap().contains("/api/graphql"));
}

async fn sign_in_lock_counts_per_address(backend: Backend) {
    let server = crate::server(backend).await;
    let base = server.base.clone();
    // 30 failures under 30 different names lock this client address, whatever the name.
    for i in 0..30 {
        let (cookie, token) = sign_in_form(&base).await;
        let name = format!("nobody-{i}");
        let form = [("username", name.as_str()), ("password", "guess"), ("authenticity_token", token.as_str())];
        assert_eq!(post_form(&base, Some(&cookie), None, &form).await.status(), StatusCode::UNAUTHORIZED, "{i}");
    }
    let (cookie, token) = sign_in_form(&base).await;
    let form =
        [("username", "root"), ("password", auditrelay_testkit::ROOT_PASSWORD), ("authenticity_token", token.as_str())];
    let reply = post_form(&base, Some(&cookie), None, &form).await;
    assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(reply.text().await.unwrap().contains("Too many failed sign-in attempts"));
    // API tokens are not web sign-ins: they keep working.
    server.root().get("/api/v4/audit_events").await.expect(200);
}

crate::on_both_backends!(
    sign_in_csrf_and_redirects,
    values_are_escaped_in_attributes,
    security_headers_on_every_answer,
    sign_in_lock_counts_per_address,
);
