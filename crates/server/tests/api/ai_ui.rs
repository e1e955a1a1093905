//! The AI sessions page (GitLab's "AI audit event report") in headless Chromium: a group Owner
//! filters the group's sessions, opens one with held-back sequence numbers, sees them missing,
//! downloads the session as JSON, and sees it complete once they arrive; a Developer and a
//! non-admin get "not found". `#[ignore]`d for plain `cargo test` (needs Chromium).

use auditrelay_testkit::browser::{Browser, artifacts_dir};
use auditrelay_testkit::{Backend, TestServer};
use serde_json::{Value, json};

use crate::ai::{create_workflow, post_batch};
use crate::ai_producer::producer_event;
use crate::create_group;

const PASSWORD: &str = "password-123";

async fn sign_in(browser: &Browser, server: &TestServer, username: &str) {
    browser.goto(&format!("{}/users/sign_in", server.base)).await.unwrap();
    browser.fill("#user_login", username).await.unwrap();
    browser.fill("#user_password", PASSWORD).await.unwrap();
    browser.click("form.sign-in button[type=submit]").await.unwrap();
    browser.wait_for("form.sign-out").await.unwrap();
}

fn event(workflow: i64, n: i64) -> Value {
    let (event_type, data) = match n {
        1 => ("ai_agent_session_started", json!({"workflow_type": "chat", "goal": "g"})),
        10 => ("ai_agent_session_ended", json!({"status": "completed"})),
        _ => ("ai_tool_invoked", json!({"tool_name": "grep", "tool_args": {"n": n}})),
    };
    producer_event(workflow, &format!("ui-{n:02}"), event_type, json!(n), data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs Chromium and chromedriver: scripts/test.sh runs it"]
async fn a_group_owner_reads_the_ai_audit_event_report() {
    let server = crate::builder(Backend::Sqlite).start().await;
    let root = server.root();
    let acme = create_group(&root, "acme", None).await;
    root.post("/api/v4/projects", &json!({"name": "agent", "namespace_id": acme})).await.expect(201);
    let mut ids = Vec::new();
    for (name, level) in [("olga", 50), ("dave", 30)] {
        let body =
            json!({"username": name, "name": name, "email": format!("{name}@example.com"), "password": PASSWORD});
        let id = root.post("/api/v4/users", &body).await.expect(201).body["id"].as_i64().unwrap();
        root.post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": id, "access_level": level}))
            .await
            .expect(201);
        ids.push(id);
    }
    let workflow = create_workflow(&root, "acme/agent").await;
    let partial: Vec<Value> = (1..=10).filter(|n| *n != 4 && *n != 7).map(|n| event(workflow, n)).collect();
    post_batch(&root, workflow, &Value::Array(partial)).await.expect(201);
    let open = create_workflow(&root, "acme/agent").await;
    post_batch(&root, open, &Value::Array(vec![event(open, 1)])).await.expect(201);

    let browser = Browser::start().await.expect("headless Chromium and chromedriver are needed");
    sign_in(&browser, &server, "olga").await;
    let page = format!("{}/groups/acme/-/ai_sessions", server.base);
    browser.goto(&page).await.unwrap();
    let row = format!("table.sessions tr[data-session='{workflow}']");
    browser.wait_for_text(&row, "incomplete").await.unwrap();
    assert!(browser.text(&row).await.unwrap().contains("4, 7"));
    browser.wait_for_text(&format!("table.sessions tr[data-session='{open}']"), "open").await.unwrap();
    // Filter by project and status: only the incomplete session stays.
    browser.fill("form.filters input[name=project]", "acme/agent").await.unwrap();
    browser
        .execute("document.querySelector('form.filters select[name=status]').value = 'incomplete';", json!([]))
        .await
        .unwrap();
    browser.click("form.filters button[type=submit]").await.unwrap();
    browser.wait_for_text("table.sessions", "incomplete").await.unwrap();
    assert_eq!(browser.find_all("table.sessions tbody tr").await.unwrap().len(), 1);
    assert!(browser.current_url().await.unwrap().contains("status=incomplete"));
    browser.screenshot(&artifacts_dir().join("ai-sessions.png")).await.unwrap();

    // The session: its events in sequence order and what is missing.
    browser.click(&format!("{row} a")).await.unwrap();
    browser.wait_for("section.session").await.unwrap();
    assert_eq!(browser.text("dd[data-field=missing]").await.unwrap(), "4, 7");
    assert_eq!(browser.text("dd[data-field=complete]").await.unwrap(), "no");
    let sequences = browser
        .execute(
            "return [...document.querySelectorAll('table.events tbody tr td:first-child')].map(td => td.textContent);",
            json!([]),
        )
        .await
        .unwrap();
    assert_eq!(sequences, json!(["1", "2", "3", "5", "6", "8", "9", "10"]));
    let script = r#"const done = arguments[arguments.length - 1];
        fetch(document.querySelector('section.session a[download]').href).then(r => r.json()).then(done, e => done(String(e)));"#;
    let download = browser.execute_async(script).await.unwrap();
    assert_eq!(download["summary"]["missing_sequences"], json!([4, 7]), "{download}");
    assert_eq!(download["events"].as_array().unwrap().len(), 8);
    assert_eq!(download["events"][3]["details"]["cloudevent_id"], "ui-05", "in sequence order");
    assert_eq!(download["summaries"].as_array().unwrap().len(), 1);

    // The held-back events arrive: the session is complete.
    post_batch(&root, workflow, &Value::Array(vec![event(workflow, 4), event(workflow, 7)])).await.expect(201);
    browser.goto(&format!("{page}?session={workflow}")).await.unwrap();
    browser.wait_for_text("dd[data-field=complete]", "yes").await.unwrap();
    assert_eq!(browser.text("dd[data-field=missing]").await.unwrap(), "none");
    assert_eq!(browser.text("dd[data-field=events]").await.unwrap(), "10");
    browser.screenshot(&artifacts_dir().join("ai-session-complete.png")).await.unwrap();

    // A Developer of the group sees no report; nor does a non-admin see the instance's.
    browser.goto(&format!("{}/admin/ai_sessions", server.base)).await.unwrap();
    browser.wait_for_text("h1", "Page not found").await.unwrap();
    browser.click("form.sign-out button[type=submit]").await.unwrap();
    sign_in(&browser, &server, "dave").await;
    browser.goto(&page).await.unwrap();
    browser.wait_for_text("h1", "Page not found").await.unwrap();
    browser.close().await;
}
