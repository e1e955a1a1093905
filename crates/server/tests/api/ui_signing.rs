//! The Streams tab's additions in headless Chromium: the stream's facts (position, delivered
//! through, last checkpoint) as the API gives them, the delivery chart drawn after deliveries,
//! and Standard Webhooks signing enabled from the page with its secret shown once.
//! `#[ignore]`d like the other browser tests; `scripts/test.sh` runs them.

use auditrelay_testkit::browser::{Browser, artifacts_dir};
use auditrelay_testkit::{Backend, Receiver};
use serde_json::json;

use crate::create_group;
use crate::delivery::{allow_local, group_event, http_destination, ingest, wait_for_ids};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs Chromium and chromedriver: scripts/test.sh runs it"]
async fn chart_and_signing_secret_on_the_streams_tab() {
    let server = crate::builder(Backend::Sqlite)
        .env("AUDITRELAY_CHECKPOINT_POSITIONS", "2")
        .env("AUDITRELAY_CHECKPOINT_MS", "200")
        .start()
        .await;
    let root = server.root();
    allow_local(&root).await;
    create_group(&root, "acme", None).await;
    let receiver = Receiver::start().await;
    let (id, _) = http_destination(&root, None, json!({"url": receiver.url("/in")})).await;
    let ours = ingest(&root, json!([group_event("ui-1"), group_event("ui-2"), group_event("ui-3")])).await;
    wait_for_ids(&receiver, &ours).await;
    let last =
        *crate::stream::stream_of(&receiver.received()).assert_complete(&Default::default()).keys().last().unwrap();
    let stream = crate::stream::wait_for_checkpoint(&root, id, last).await;

    let browser = Browser::start().await.expect("headless Chromium and chromedriver are needed");
    browser.goto(&format!("{}/users/sign_in", server.base)).await.unwrap();
    browser.fill("#user_login", "root").await.unwrap();
    browser.fill("#user_password", auditrelay_testkit::ROOT_PASSWORD).await.unwrap();
    browser.click("form.sign-in button[type=submit]").await.unwrap();
    browser.wait_for("form.sign-out").await.unwrap();
    browser.goto(&format!("{}/admin/audit_logs?tab=streams", server.base)).await.unwrap();

    // The stream's facts, as the API gives them (the service's own events, a sign-in say, may
    // add positions meanwhile, so the page's figures lie between the two readings).
    let item = "li.destination";
    browser.wait_for(&format!("{item} dl.stream-proof dd.stream-delivered-through")).await.unwrap();
    let number = |text: String| text.trim().parse::<u64>().unwrap_or_else(|_| panic!("not a number: {text:?}"));
    let position = number(browser.text(&format!("{item} dd.stream-position")).await.unwrap());
    let through = number(browser.text(&format!("{item} dd.stream-delivered-through")).await.unwrap());
    let now = root.get(&format!("/api/v4/streaming_destinations/{id}")).await.expect(200).body["stream"].clone();
    assert!(stream["position"].as_u64().unwrap() <= position && position <= now["position"].as_u64().unwrap());
    assert!(last <= through && through <= position, "delivered through {through}, position {position}");
    let checkpoint = browser.text(&format!("{item} dd.stream-checkpoint")).await.unwrap();
    let sequence: u64 = checkpoint.strip_prefix('#').and_then(|c| c.split(' ').next()).map_or(0, |n| number(n.into()));
    assert!(sequence >= last && checkpoint.contains(" at "), "{checkpoint}");
    let delivered = browser.text(&format!("{item} dd.stream-checkpoint-delivered")).await.unwrap();
    assert_eq!(delivered, "no", "HTTP checkpoints are not sent in-band unless asked");

    // The chart has bars for the deliveries just made.
    browser.wait_for(&format!("{item} svg.delivery-chart rect.chart-rate")).await.unwrap();
    let buckets = browser
        .execute("return document.querySelector('svg.delivery-chart').getAttribute('data-buckets')", json!([]))
        .await
        .unwrap();
    assert_ne!(buckets, json!("0"), "the chart has data");

    // Enable signing: the new secret is shown once, then only its last four characters.
    browser.wait_for_text(&format!("{item} .signing-state"), "Signing off").await.unwrap();
    browser.click(&format!("{item} .signing-enable")).await.unwrap();
    let shown = browser.wait_for_text(&format!("{item} .webhook-secret"), "whsec_").await;
    let result = browser.text(&format!("{item} .signing-result")).await.unwrap_or_default();
    let secret = shown.unwrap_or_else(|e| panic!("{e}; the page said: {result:?}"));
    assert!(secret.starts_with("whsec_") && secret.len() == 50, "{secret}");
    browser.wait_for_text(&format!("{item} .signing-state"), &secret[secret.len() - 4..]).await.unwrap();
    browser.screenshot(&artifacts_dir().join("streams-signing-secret-once.png")).await.unwrap();

    browser.goto(&format!("{}/admin/audit_logs?tab=streams", server.base)).await.unwrap();
    browser.wait_for_text(&format!("{item} .signing-state"), "Signing on").await.unwrap();
    let page = browser.text("main").await.unwrap();
    assert!(!page.contains(&secret[6..]), "the secret is never shown again");
    browser.screenshot(&artifacts_dir().join("streams-chart-and-signing.png")).await.unwrap();
    browser.close().await;
}
