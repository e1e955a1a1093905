//! The web UI end to end: headless Chromium (over WebDriver) signs in, manages streaming
//! destinations on the Streams tab, and the events reach a real receiver as configured. Plus
//! sessions, CSRF and page authorization over plain HTTP on both backends.
//!
//! The browser tests are `#[ignore]`d for plain `cargo test`; `scripts/test.sh` installs Chromium
//! and runs them. Screenshots of each tab go to `$AUDITRELAY_ARTIFACTS_DIR` (default
//! `target/test-artifacts/ui`).

use auditrelay_testkit::browser::{Browser, artifacts_dir};
use auditrelay_testkit::{Api, Backend, Receiver, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::delivery::{allow_local, ingest, wait_for_ids};
use crate::{create_group, on_both_backends};

const PASSWORD: &str = "password-123";
/// The W3C key of an element reference passed to a script.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

async fn browser() -> Browser {
    Browser::start().await.expect("headless Chromium and chromedriver are needed (scripts/test.sh installs them)")
}

async fn sign_in(browser: &Browser, server: &TestServer, username: &str, password: &str) {
    browser.goto(&format!("{}/users/sign_in", server.base)).await.unwrap();
    browser.fill("#user_login", username).await.unwrap();
    browser.fill("#user_password", password).await.unwrap();
    browser.click("form.sign-in button[type=submit]").await.unwrap();
    browser.wait_for("form.sign-out").await.unwrap();
}

async fn shot(browser: &Browser, name: &str) {
    browser.screenshot(&artifacts_dir().join(format!("{name}.png"))).await.unwrap();
}

/// Creates a user with a password; returns its id.
async fn user(root: &Api, username: &str) -> i64 {
    let body = json!({"username": username, "name": username, "email": format!("{username}@example.com"), "password": PASSWORD});
    root.post("/api/v4/users", &body).await.expect(201).body["id"].as_i64().unwrap()
}

async fn owner_of(root: &Api, group: i64, user_id: i64) {
    root.post(&format!("/api/v4/groups/{group}/members"), &json!({"user_id": user_id, "access_level": 50}))
        .await
        .expect(201);
}

fn gitlab_event(id: &str, event_type: &str) -> Value {
    json!({"id": id, "event_type": event_type, "entity_type": "Group", "entity_path": "acme", "author_id": 7, "author_name": "Jane"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs Chromium and chromedriver: scripts/test.sh runs it"]
async fn admin_manages_an_http_destination_in_the_browser() {
    let server = crate::builder(Backend::Sqlite).start().await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let receiver = Receiver::start().await;
    let browser = browser().await;
    sign_in(&browser, &server, "root", auditrelay_testkit::ROOT_PASSWORD).await;
    browser.goto(&format!("{}/admin/audit_logs", server.base)).await.unwrap();
    browser.wait_for_text("table.events", "group_created").await.unwrap();
    shot(&browser, "admin-log-tab").await;

    // Add: an HTTP destination on loopback is refused until the admin allows local requests;
    // the API's message appears next to the URL field.
    browser.click(".tabs a[href$='tab=streams']").await.unwrap();
    browser.wait_for("#add-destination").await.unwrap();
    browser.click("#add-destination").await.unwrap();
    browser.click("#add-menu button[data-category=http]").await.unwrap();
    let form = "#new-destination form.destination-form";
    browser.fill(&format!("{form} input[name=name]"), "siem").await.unwrap();
    browser.fill(&format!("{form} input[name=url]"), &receiver.url("/ingest")).await.unwrap();
    browser.click(&format!("{form} .add-header")).await.unwrap();
    browser.fill(&format!("{form} tr.header-row:nth-child(1) .header-key"), "X-Active").await.unwrap();
    browser.fill(&format!("{form} tr.header-row:nth-child(1) .header-value"), "yes").await.unwrap();
    browser.click(&format!("{form} .add-header")).await.unwrap();
    browser.fill(&format!("{form} tr.header-row:nth-child(2) .header-key"), "X-Inactive").await.unwrap();
    browser.fill(&format!("{form} tr.header-row:nth-child(2) .header-value"), "no").await.unwrap();
    browser.click(&format!("{form} tr.header-row:nth-child(2) .header-active")).await.unwrap();
    browser.click(&format!("{form} .event-type-toggle")).await.unwrap();
    browser.fill(&format!("{form} .event-type-search"), "repository_git").await.unwrap();
    browser.click(&format!("{form} input.event-type-option[value=repository_git_operation]")).await.unwrap();
    browser.click(&format!("{form} button[type=submit]")).await.unwrap();
    let url_error =
        browser.wait_for_text(&format!("{form} .field-url .field-error"), "Config url is blocked").await.unwrap();
    assert!(url_error.contains("local network") || url_error.contains("localhost"), "{url_error}");
    shot(&browser, "admin-streams-validation").await;

    allow_local(&root).await;
    browser.click(&format!("{form} button[type=submit]")).await.unwrap();
    let item = "li.destination[data-name=siem]";
    browser.wait_for(item).await.unwrap();
    assert_eq!(browser.text(&format!("{item} .badge.filtered")).await.unwrap(), "filtered");
    let token = browser.text(&format!("{item} .verification-token")).await.unwrap();
    assert!(token.len() >= 16, "verification token shown: {token:?}");
    shot(&browser, "admin-streams-tab").await;

    // Only the filtered type arrives, with the active header and without the inactive one.
    let other = ingest(&root, json!([gitlab_event("ui-other-1", "group_settings_changed")])).await;
    let ours = ingest(&root, json!([gitlab_event("ui-match-1", "repository_git_operation")])).await;
    wait_for_ids(&receiver, &ours).await;
    let got = receiver.received();
    let first = got.iter().find(|r| r.json()["id"] == ours[0]).unwrap();
    assert_eq!(first.header("x-active"), Some("yes"));
    assert_eq!(first.header("x-inactive"), None);
    assert_eq!(first.header("x-gitlab-event-streaming-token"), Some(token.as_str()));
    assert!(!receiver.ids().contains(&other[0]), "an event outside the filter was streamed");

    // Health and the test event.
    browser.click("#refresh-streams").await.unwrap();
    browser.wait_for_text(&format!("{item} .health-state"), "closed").await.unwrap();
    browser.click(&format!("{item} .test-event")).await.unwrap();
    browser.wait_for_text(&format!("{item} .operation-result"), "Test event delivered").await.unwrap();
    assert!(receiver.received().iter().any(|r| r.json()["event_type"] == "audit_events_streaming_test_event"));

    // Replay a time range: the matching event is sent again, with the same id.
    let from = browser.find(&format!("{item} form.replay input[name=from]")).await.unwrap();
    browser.execute("arguments[0].value = '2000-01-01T00:00'", json!([{ (ELEMENT): from }])).await.unwrap();
    browser.click(&format!("{item} .replay-submit")).await.unwrap();
    browser.wait_for_text(&format!("{item} .operation-result"), "Replay").await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while receiver.ids().iter().filter(|id| **id == ours[0]).count() < 2 {
        assert!(std::time::Instant::now() < deadline, "the replay did not resend the event");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!receiver.ids().contains(&other[0]), "a replay ignored the event-type filter");

    // Edit: change the active header's value and delete the inactive header.
    browser.click(&format!("{item} button.edit")).await.unwrap();
    let editor = format!("{item} .editor form");
    browser.fill(&format!("{editor} tr.header-row:nth-child(1) .header-value"), "changed").await.unwrap();
    browser.click(&format!("{editor} tr.header-row:nth-child(2) .delete-header")).await.unwrap();
    assert_eq!(browser.find_all(&format!("{editor} tr.header-row")).await.unwrap().len(), 1);
    browser.click(&format!("{editor} button[type=submit]")).await.unwrap();
    browser.wait_for_text("#streams-status", "saved").await.unwrap();
    let again = ingest(&root, json!([gitlab_event("ui-match-2", "repository_git_operation")])).await;
    wait_for_ids(&receiver, &again).await;
    let second = receiver.received().into_iter().find(|r| r.json()["id"] == again[0]).unwrap();
    assert_eq!(second.header("x-active"), Some("changed"));

    // Delete, through the confirmation dialog.
    browser.click(&format!("{item} button.delete")).await.unwrap();
    browser.wait_for("dialog.confirm[open]").await.unwrap();
    shot(&browser, "admin-streams-delete-dialog").await;
    browser.click("dialog.confirm .confirm-delete").await.unwrap();
    browser.wait_gone(item).await.unwrap();
    let left = root.graphql("{ auditEventsInstanceStreamingDestinations { count } }", json!({})).await.expect(200);
    assert_eq!(left.body["data"]["auditEventsInstanceStreamingDestinations"]["count"], 0);

    // GitLab Duo settings.
    browser.goto(&format!("{}/admin/gitlab_duo", server.base)).await.unwrap();
    browser.click("#ai_audit_event_streaming_enabled").await.unwrap();
    shot(&browser, "admin-gitlab-duo").await;
    browser.click("form.settings button[type=submit]").await.unwrap();
    browser.wait_for_text("main", "Settings saved").await.unwrap();
    let settings = root.get("/api/v4/application/settings").await.expect(200);
    assert_eq!(settings.body["ai_audit_event_streaming_enabled"], true);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs Chromium and chromedriver: scripts/test.sh runs it"]
async fn group_owner_manages_only_their_groups_streams() {
    let server = crate::builder(Backend::Sqlite).start().await;
    let root = server.root();
    allow_local(&root).await;
    let acme = create_group(&root, "acme", None).await;
    create_group(&root, "sub", Some(acme)).await;
    create_group(&root, "other", None).await;
    let alice = user(&root, "alice").await;
    owner_of(&root, acme, alice).await;
    let receiver = Receiver::start().await;
    let browser = browser().await;
    sign_in(&browser, &server, "alice", PASSWORD).await;

    browser.goto(&format!("{}/groups/acme/-/audit_events?tab=streams", server.base)).await.unwrap();
    browser.click("#add-destination").await.unwrap();
    browser.click("#add-menu button[data-category=http]").await.unwrap();
    let form = "#new-destination form.destination-form";
    browser.fill(&format!("{form} input[name=name]"), "acme-siem").await.unwrap();
    browser.fill(&format!("{form} input[name=url]"), &receiver.url("/acme")).await.unwrap();
    browser.fill(&format!("{form} input[name=namespace]"), "acme/sub").await.unwrap();
    browser.click(&format!("{form} button[type=submit]")).await.unwrap();
    let item = "li.destination[data-name=acme-siem]";
    browser.wait_for(item).await.unwrap();
    assert_eq!(browser.text(&format!("{item} .badge.filtered")).await.unwrap(), "filtered");
    shot(&browser, "group-streams-tab").await;
    // Only the subgroup's events pass the namespace filter.
    let outside = ingest(&root, json!([gitlab_event("ui-acme-0", "repository_git_operation")])).await;
    let mut inside = gitlab_event("ui-acme-1", "repository_git_operation");
    inside["entity_path"] = json!("acme/sub");
    let ours = ingest(&root, json!([inside])).await;
    wait_for_ids(&receiver, &ours).await;
    assert!(!receiver.ids().contains(&outside[0]), "an event outside the namespace filter was streamed");
    browser.click(&format!("{item} button.edit")).await.unwrap();
    let namespace = browser.find(&format!("{item} .editor input[name=namespace]")).await.unwrap();
    let shown = browser.execute("return arguments[0].value", json!([{ (ELEMENT): namespace }])).await.unwrap();
    assert_eq!(shown, "acme/sub");

    browser.goto(&format!("{}/groups/acme/-/audit_events", server.base)).await.unwrap();
    browser.wait_for_text("table.events", "repository_git_operation").await.unwrap();
    shot(&browser, "group-log-tab").await;

    for page in [
        "/groups/other/-/audit_events?tab=streams",
        "/groups/other/-/audit_events",
        "/admin/audit_logs",
        "/admin/gitlab_duo",
    ] {
        browser.goto(&format!("{}{page}", server.base)).await.unwrap();
        browser.wait_for_text("main h1", "Page not found").await.unwrap();
    }
    // Even the API, called from alice's signed-in page with her CSRF token, shows no other group.
    let script = r#"const done = arguments[0];
        fetch('/api/graphql', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json',
          'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
          body: JSON.stringify({query: '{ group(fullPath: "other") { externalAuditEventStreamingDestinations { count } } }'})})
        .then(r => r.json()).then(done, e => done(String(e)));"#;
    let reply = browser.execute_async(script).await.unwrap();
    assert_eq!(reply["data"]["group"], Value::Null, "{reply}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs Chromium and chromedriver: scripts/test.sh runs it"]
async fn secrets_are_never_shown_back_and_headers_stop_at_twenty() {
    let server = crate::builder(Backend::Sqlite).start().await;
    let browser = browser().await;
    sign_in(&browser, &server, "root", auditrelay_testkit::ROOT_PASSWORD).await;
    browser.goto(&format!("{}/admin/audit_logs?tab=streams", server.base)).await.unwrap();

    // Keyboard: Enter on "Add streaming destination" opens the menu and focuses its first item.
    browser.execute("document.getElementById('add-destination').focus()", json!([])).await.unwrap();
    browser.keys("\u{E007}").await.unwrap();
    browser.wait_for("#add-menu button[data-category=http]").await.unwrap();
    let focused = browser.execute("return document.activeElement.dataset.category", json!([])).await.unwrap();
    assert_eq!(focused, "http");

    // AWS S3: the secret access key is sent once and never shown again.
    browser.click("#add-menu button[data-category=aws]").await.unwrap();
    let form = "#new-destination form.destination-form";
    browser.fill(&format!("{form} input[name=name]"), "archive").await.unwrap();
    browser.fill(&format!("{form} input[name=accessKeyXid]"), "AKIAIOSFODNN7EXAMPLE").await.unwrap();
    browser.fill(&format!("{form} input[name=bucketName]"), "audit-archive").await.unwrap();
    browser.fill(&format!("{form} input[name=awsRegion]"), "eu-west-1").await.unwrap();
    browser.fill(&format!("{form} input[name=secret]"), "very-secret-access-key").await.unwrap();
    browser.click(&format!("{form} button[type=submit]")).await.unwrap();
    let item = "li.destination[data-name=archive]";
    browser.wait_for_text(&format!("{item} .where"), "s3://audit-archive (eu-west-1)").await.unwrap();
    assert!(browser.find_all(&format!("{item} .verification-token")).await.unwrap().is_empty());
    browser.click(&format!("{item} button.edit")).await.unwrap();
    let editor = format!("{item} .editor form");
    browser.wait_for_text(&format!("{editor} .replace-secret"), "Add a new secret access key").await.unwrap();
    assert!(browser.find_all(&format!("{editor} [name=secret]")).await.unwrap().is_empty());
    let html = browser.execute("return document.documentElement.outerHTML", json!([])).await.unwrap();
    assert!(!html.as_str().unwrap().contains("very-secret-access-key"), "the secret is in the page");
    browser.click(&format!("{editor} .replace-secret")).await.unwrap();
    let secret = browser.wait_for(&format!("{editor} [name=secret]")).await.unwrap();
    assert_eq!(browser.element_text(&secret).await.unwrap(), "");
    shot(&browser, "admin-streams-edit-s3").await;
    browser.click(&format!("{editor} button.cancel")).await.unwrap();

    // Google Cloud Logging offers a new private key the same way.
    browser.click("#add-destination").await.unwrap();
    browser.click("#add-menu button[data-category=gcp]").await.unwrap();
    browser.wait_for(&format!("{form} input[name=googleProjectIdName]")).await.unwrap();
    assert!(browser.find_all(&format!("{form} textarea[name=secret]")).await.unwrap().len() == 1);
    browser.click(&format!("{form} button.cancel")).await.unwrap();

    // HTTP: "Add header" stops at twenty.
    browser.click("#add-destination").await.unwrap();
    browser.click("#add-menu button[data-category=http]").await.unwrap();
    for _ in 0..20 {
        browser.click(&format!("{form} .add-header")).await.unwrap();
    }
    assert_eq!(browser.find_all(&format!("{form} tr.header-row")).await.unwrap().len(), 20);
    let add = browser.find(&format!("{form} .add-header")).await.unwrap();
    let disabled = browser.execute("return arguments[0].disabled", json!([{ (ELEMENT): add }])).await.unwrap();
    assert_eq!(disabled, true);
    browser.wait_for_text(&format!("{form} .header-limit"), "Maximum of 20 HTTP headers").await.unwrap();
    browser.close().await;
}

/// A client that keeps redirects visible.
fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap()
}

/// Signs in over HTTP; returns the session cookie value and the page's CSRF token.
async fn http_sign_in(server: &TestServer, username: &str, password: &str) -> (String, String) {
    let reply = post_sign_in(server, username, password).await;
    assert_eq!(reply.status(), StatusCode::SEE_OTHER);
    let set_cookie = reply.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax") && set_cookie.contains("Path=/"));
    let cookie = set_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    // Every page of a signed-in user (even "not found") carries the session's CSRF token.
    let page = page(server, &cookie, "/admin/gitlab_duo").await.1;
    let csrf = page.split(r#"name="csrf-token" content=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    (cookie, csrf)
}

async fn page(server: &TestServer, cookie: &str, path: &str) -> (StatusCode, String) {
    let reply = http()
        .get(format!("{}{path}", server.base))
        .header("cookie", format!("_auditrelay_session={cookie}"))
        .send()
        .await
        .unwrap();
    (reply.status(), reply.text().await.unwrap())
}

async fn sessions_csrf_and_page_authorization(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let acme = create_group(&root, "acme", None).await;
    let bob = user(&root, "bob").await;
    owner_of(&root, acme, bob).await;

    // Anonymous pages redirect to sign-in; a wrong password is refused.
    let anonymous = http().get(format!("{}/admin/audit_logs", server.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()["location"], "/users/sign_in?redirect_to=%2Fadmin%2Faudit_logs");
    let (status, refusal) = try_sign_in(&server, "bob", "nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(refusal.contains("Invalid username or password."));

    let (cookie, csrf) = http_sign_in(&server, "root", auditrelay_testkit::ROOT_PASSWORD).await;
    let graphql = |token: Option<&str>| {
        let mut request = http()
            .post(format!("{}/api/graphql", server.base))
            .header("cookie", format!("_auditrelay_session={cookie}"))
            .json(&json!({"query": "mutation { instanceAuditEventStreamingDestinationsCreate(input: {category: \"http\", config: {url: \"https://siem.example.com\"}}) { errors } }"}));
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    // A cookie alone (what a cross-site form or fetch would carry) changes nothing.
    assert_eq!(graphql(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(graphql(Some("wrong")).await.unwrap().status(), StatusCode::FORBIDDEN);
    let rest = http()
        .post(format!("{}/api/v4/groups", server.base))
        .header("cookie", format!("_auditrelay_session={cookie}"))
        .json(&json!({"name": "evil", "path": "evil"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), StatusCode::FORBIDDEN);
    assert_eq!(root.get("/api/v4/groups/evil").await.status, 404);
    let count = root.graphql("{ auditEventsInstanceStreamingDestinations { count } }", json!({})).await.expect(200);
    assert_eq!(count.body["data"]["auditEventsInstanceStreamingDestinations"]["count"], 0);
    let duo = http()
        .post(format!("{}/admin/gitlab_duo", server.base))
        .header("cookie", format!("_auditrelay_session={cookie}"))
        .form(&[("ai_audit_event_streaming_enabled", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(duo.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        root.get("/api/v4/application/settings").await.expect(200).body["ai_audit_event_streaming_enabled"],
        false
    );
    // With the token, the same call works.
    let ok = graphql(Some(&csrf)).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        ok.json::<Value>().await.unwrap()["data"]["instanceAuditEventStreamingDestinationsCreate"]["errors"],
        json!([])
    );

    // Sign-out ends the session on the server.
    let out = http()
        .post(format!("{}/users/sign_out", server.base))
        .header("cookie", format!("_auditrelay_session={cookie}"))
        .form(&[("authenticity_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(page(&server, &cookie, "/admin/audit_logs").await.0, StatusCode::SEE_OTHER);

    // A group owner: their group's pages, no admin pages, no other group.
    create_group(&root, "other", None).await;
    let (bob_cookie, _) = http_sign_in(&server, "bob", PASSWORD).await;
    assert_eq!(page(&server, &bob_cookie, "/admin/audit_logs").await.0, StatusCode::NOT_FOUND);
    assert_eq!(page(&server, &bob_cookie, "/admin/gitlab_duo").await.0, StatusCode::NOT_FOUND);
    let (status, body) = page(&server, &bob_cookie, "/groups/acme/-/audit_events?tab=streams").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"data-group-path="acme""#));
    assert_eq!(page(&server, &bob_cookie, "/groups/other/-/audit_events?tab=streams").await.0, StatusCode::NOT_FOUND);
    assert_eq!(page(&server, &bob_cookie, "/groups/other/-/audit_events").await.0, StatusCode::NOT_FOUND);
}

/// Posts the sign-in form, with the CSRF token and cookie a browser gets with the form.
async fn post_sign_in(server: &TestServer, username: &str, password: &str) -> reqwest::Response {
    let (cookie, token) = crate::hardening_web::sign_in_form(&server.base).await;
    http()
        .post(format!("{}/users/sign_in", server.base))
        .header("cookie", cookie)
        .form(&[("username", username), ("password", password), ("authenticity_token", &token)])
        .send()
        .await
        .unwrap()
}

/// Answers a sign-in form post: the status and the page.
async fn try_sign_in(server: &TestServer, username: &str, password: &str) -> (StatusCode, String) {
    let reply = post_sign_in(server, username, password).await;
    (reply.status(), reply.text().await.unwrap())
}

async fn repeated_failed_sign_ins_lock_the_username(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    user(&root, "bob").await;
    for _ in 0..10 {
        assert_eq!(try_sign_in(&server, "bob", "guess").await.0, StatusCode::UNAUTHORIZED);
    }
    // Locked now, even with the right password, and whatever the letter case.
    for name in ["bob", "BOB"] {
        let (status, page) = try_sign_in(&server, name, PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(page.contains("Too many failed sign-in attempts. Try again in 10 minutes."), "{page}");
    }
    // Other users are not affected, and a success clears a user's earlier failures.
    assert_eq!(try_sign_in(&server, "root", "guess").await.0, StatusCode::UNAUTHORIZED);
    http_sign_in(&server, "root", auditrelay_testkit::ROOT_PASSWORD).await;
}

on_both_backends!(sessions_csrf_and_page_authorization, repeated_failed_sign_ins_lock_the_username);
