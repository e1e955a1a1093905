//! The Google Cloud Logging sink against the local fake of Google's endpoints
//! (`auditrelay_testkit::fake_gcp`): wire shape and order, token caching, failure classes.

use std::sync::Arc;
use std::time::Duration;

use auditrelay_core::EventId;
use auditrelay_core::event::payload_with_id;
use auditrelay_delivery::sinks::gcp::{GcpEndpoints, GcpSink, GcpSpec};
use auditrelay_delivery::{FailureKind, Outgoing};
use auditrelay_testkit::fake_gcp::{FakeGcp, TEST_CLIENT_EMAIL, other_private_key, test_private_key};
use serde_json::{Value, json};

const PROJECT: &str = "auditrelay-test";
const LOG_ID: &str = "audit_events";

fn spec(private_key: &str) -> GcpSpec {
    GcpSpec {
        google_project_id_name: PROJECT.into(),
        client_email: TEST_CLIENT_EMAIL.into(),
        log_id_name: LOG_ID.into(),
        private_key: private_key.into(),
    }
}

fn endpoints(fake: &FakeGcp) -> GcpEndpoints {
    GcpEndpoints { token_url: fake.token_url(), logging_url: fake.logging_url() }
}

fn sink(fake: &FakeGcp) -> GcpSink {
    GcpSink::new(spec(test_private_key()), endpoints(fake), reqwest::Client::new()).expect("sink")
}

/// Events `first..first+n`, alternating integer and UUID-style ids, bodies as the log renders them.
fn events(first: i64, n: i64) -> Vec<Outgoing> {
    (first..first + n)
        .map(|seq| {
            let id = if seq % 2 == 0 { EventId::Int(seq * 10) } else { EventId::Str(format!("uuid-{seq}")) };
            let rest = format!(
                r#"{{"author_id":{seq},"entity_id":29,"entity_type":"Project","details":{{"custom_message":"event {seq}"}},"created_at":"2022-07-26T05:43:53.662Z","event_type":"repository_git_operation"}}"#
            );
            Outgoing {
                seq,
                id: id.clone(),
                event_type: "repository_git_operation".into(),
                entity_type: "Project".into(),
                created_at: 1_658_814_233_662_000,
                body: payload_with_id(&id, &rest),
                stamp: None,
            }
        })
        .collect()
}

fn expected_entry(event: &Outgoing) -> Value {
    json!({
        "logName": format!("projects/{PROJECT}/logs/{LOG_ID}"),
        "resource": {"type": "global"},
        "severity": "INFO",
        "jsonPayload": serde_json::from_str::<Value>(&event.body).unwrap(),
    })
}

#[tokio::test]
async fn batches_arrive_in_order_with_one_token() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = sink(&fake);
    let batches = [events(1, 2), events(3, 1), events(4, 3)];
    for batch in &batches {
        sink.send_batch(batch).await.expect("send");
    }
    let sent: Vec<&Outgoing> = batches.iter().flatten().collect();
    let received = fake.entries();
    assert_eq!(received.len(), 6);
    for (entry, event) in received.iter().zip(&sent) {
        assert_eq!(entry, &expected_entry(event));
        // Key order too: `id` first, as GitLab sends it.
        assert_eq!(entry["jsonPayload"].to_string(), event.body);
    }
    assert_eq!(fake.write_requests(), 3, "one request per batch");
    assert_eq!(fake.token_requests(), 1, "the token is cached across batches");

    // An empty batch sends nothing.
    sink.send_batch(&[]).await.unwrap();
    assert_eq!(fake.write_requests(), 3);
}

#[tokio::test]
async fn concurrent_senders_share_one_token_fetch() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = Arc::new(sink(&fake));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let sink = sink.clone();
        tasks.spawn(async move { sink.send_batch(&events(i * 10, 2)).await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().expect("send");
    }
    assert_eq!(fake.entries().len(), 16);
    assert_eq!(fake.token_requests(), 1);
}

#[tokio::test]
async fn a_token_about_to_expire_is_replaced() {
    let fake = FakeGcp::start_for_test_account().await;
    // 60 s is within the sink's refresh margin: each token is stale as soon as it is used.
    fake.set_expires_in(60);
    let sink = sink(&fake);
    sink.send_batch(&events(1, 1)).await.unwrap();
    assert_eq!(fake.token_requests(), 1);
    sink.send_batch(&events(2, 1)).await.unwrap();
    assert_eq!(fake.token_requests(), 2);

    // A long-lived token is kept again.
    fake.set_expires_in(3600);
    sink.send_batch(&events(3, 1)).await.unwrap();
    sink.send_batch(&events(4, 1)).await.unwrap();
    assert_eq!(fake.token_requests(), 3);
    assert_eq!(fake.entries().len(), 4);
}

#[tokio::test]
async fn a_wrong_private_key_is_an_auth_failure_and_nothing_is_written() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = GcpSink::new(spec(other_private_key()), endpoints(&fake), reqwest::Client::new()).unwrap();
    let err = sink.send_batch(&events(1, 2)).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Auth, "{err}");
    assert_eq!(err.status, Some(400));
    assert!(err.message.contains("invalid_grant"), "{err}");
    assert_eq!(fake.write_requests(), 0);
    assert!(fake.entries().is_empty());
}

#[tokio::test]
async fn an_unknown_service_account_is_an_auth_failure() {
    let fake = FakeGcp::start_for_test_account().await;
    let mut spec = spec(test_private_key());
    spec.client_email = "someone-else@auditrelay-test.iam.gserviceaccount.com".into();
    let sink = GcpSink::new(spec, endpoints(&fake), reqwest::Client::new()).unwrap();
    let err = sink.send_batch(&events(1, 1)).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Auth, "{err}");
    assert!(fake.entries().is_empty());
}

#[tokio::test]
async fn a_malformed_private_key_is_refused_at_construction() {
    let fake = FakeGcp::start_for_test_account().await;
    let err = GcpSink::new(
        spec("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"),
        endpoints(&fake),
        reqwest::Client::new(),
    )
    .unwrap_err();
    assert_eq!(err.kind, FailureKind::Auth);
    assert_eq!(fake.token_requests(), 0);
}

#[tokio::test]
async fn a_logging_500_is_transient_and_the_retry_succeeds() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = sink(&fake);
    fake.fail_next_writes(1, 500, None);
    let batch = events(1, 2);
    let err = sink.send_batch(&batch).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Transient, "{err}");
    assert_eq!(err.status, Some(500));
    assert_eq!(err.retry_after, None);
    assert!(fake.entries().is_empty());

    sink.send_batch(&batch).await.unwrap();
    assert_eq!(fake.entries(), batch.iter().map(expected_entry).collect::<Vec<_>>());
    assert_eq!(fake.token_requests(), 1);
}

#[tokio::test]
async fn a_429_is_transient_with_retry_after() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = sink(&fake);
    fake.fail_next_writes(1, 429, Some("7"));
    let err = sink.send_batch(&events(1, 1)).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Transient, "{err}");
    assert_eq!(err.status, Some(429));
    assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
    assert!(err.message.contains("RESOURCE_EXHAUSTED"), "{err}");
}

#[tokio::test]
async fn a_logging_401_refreshes_the_token_once_then_succeeds() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = sink(&fake);
    sink.send_batch(&events(1, 1)).await.unwrap();
    assert_eq!(fake.token_requests(), 1);

    // The cached token is revoked: the fake itself answers 401 for it.
    fake.revoke_tokens();
    sink.send_batch(&events(2, 1)).await.expect("retried with a fresh token");
    assert_eq!(fake.token_requests(), 2, "exactly one refresh");
    assert_eq!(fake.write_requests(), 3);
    assert_eq!(fake.entries().len(), 2);

    // The fresh token is cached in turn.
    sink.send_batch(&events(3, 1)).await.unwrap();
    assert_eq!(fake.token_requests(), 2);
}

#[tokio::test]
async fn a_second_401_is_an_auth_failure() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = sink(&fake);
    fake.fail_next_writes(2, 401, None);
    let err = sink.send_batch(&events(1, 1)).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Auth, "{err}");
    assert_eq!(err.status, Some(401));
    assert_eq!(fake.token_requests(), 2, "one initial fetch, one refresh, no more");
    assert_eq!(fake.write_requests(), 2);
    assert!(fake.entries().is_empty());
}

#[tokio::test]
async fn a_logging_403_is_auth_without_a_refresh() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = sink(&fake);
    fake.fail_next_writes(1, 403, None);
    let err = sink.send_batch(&events(1, 1)).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Auth, "{err}");
    assert_eq!(fake.token_requests(), 1);
    assert_eq!(fake.write_requests(), 1);
}

#[tokio::test]
async fn a_logging_400_is_permanent() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = sink(&fake);
    fake.fail_next_writes(1, 400, None);
    let err = sink.send_batch(&events(1, 1)).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Permanent, "{err}");
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_permanent_and_nothing_is_sent() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = sink(&fake);
    let mut batch = events(1, 2);
    batch[1].body = "[1,2]".into();
    let err = sink.send_batch(&batch).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Permanent, "{err}");
    assert_eq!(fake.token_requests() + fake.write_requests(), 0);
}

#[tokio::test]
async fn token_endpoint_outages_are_transient() {
    let fake = FakeGcp::start_for_test_account().await;
    let sink = sink(&fake);
    fake.fail_next_token_requests(1, 503);
    let err = sink.send_batch(&events(1, 1)).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Transient, "{err}");
    assert_eq!(err.status, Some(503));
    assert_eq!(fake.write_requests(), 0);
    sink.send_batch(&events(1, 1)).await.unwrap();
    assert_eq!(fake.token_requests(), 2);
    assert_eq!(fake.entries().len(), 1);
}

#[tokio::test]
async fn connection_failures_are_transient() {
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let endpoints = GcpEndpoints {
        token_url: format!("http://127.0.0.1:{port}/token"),
        logging_url: format!("http://127.0.0.1:{port}/v2/entries:write"),
    };
    let sink = GcpSink::new(spec(test_private_key()), endpoints, reqwest::Client::new()).unwrap();
    let err = sink.send_batch(&events(1, 1)).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Transient, "{err}");
    assert_eq!(err.status, None);
}

#[tokio::test]
async fn the_fake_refuses_what_google_refuses() {
    let fake = FakeGcp::start_for_test_account().await;
    let client = reqwest::Client::new();
    // No bearer token.
    let answer = client.post(fake.logging_url()).json(&json!({"entries": []})).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    // A token it never issued.
    let answer = client.post(fake.logging_url()).bearer_auth("ya29.made-up").json(&json!({})).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    // A bad grant type.
    let answer = client
        .post(fake.token_url())
        .form(&[("grant_type", "client_credentials"), ("assertion", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
    // A malformed assertion.
    let answer = client
        .post(fake.token_url())
        .form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", "not.a.jwt")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(fake.token_requests(), 2);
    assert!(fake.entries().is_empty());
}
