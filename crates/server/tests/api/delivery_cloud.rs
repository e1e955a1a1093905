//! Cloud delivery end to end: the real server streams to Google Cloud Logging (a local fake that
//! checks what Google checks: the service-account JWT, the bearer token, the entries' shape) and
//! to Amazon S3 (s3s-fs, a real S3-compatible server that checks SigV4 signatures), with the
//! destinations created through GitLab's GraphQL. An HTTP destination on the same group is the
//! oracle for GitLab's payload: the cloud destinations must carry exactly the same JSON.
//!
//! The S3 tests need s3s-fs: `scripts/s3-server.sh install` prints its path, which they read from
//! `AUDITRELAY_S3S_FS_BIN`; without it they fail (never skip).

use std::time::{Duration, Instant};

use auditrelay_testkit::fake_gcp::{FakeGcp, TEST_CLIENT_EMAIL, other_private_key, test_private_key};
use auditrelay_testkit::{Api, Backend, Receiver};
use serde_json::{Value, json};

use crate::delivery::{
    GITLAB_KEYS, fast_server, health, http_destination, ingest, key_order, wait_for_health, wait_for_ids,
};
use crate::{create_group, on_both_backends};
use auditrelay_testkit::s3s::S3sFs;

const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Helpers

/// Creates a group destination of `category` through the consolidated API; returns its id.
async fn cloud_destination(api: &Api, group: &str, category: &str, config: Value, secret: &str) -> i64 {
    let document = "mutation($groupPath: ID!, $category: String!, $config: JSON!, $secretToken: String) {
      groupAuditEventStreamingDestinationsCreate(input: {
        groupPath: $groupPath, category: $category, config: $config, secretToken: $secretToken
      }) { errors externalAuditEventDestination { id category config } } }";
    let variables = json!({"groupPath": group, "category": category, "config": config, "secretToken": secret});
    let reply = api.graphql(document, variables).await.expect(200);
    let created = &reply.body["data"]["groupAuditEventStreamingDestinationsCreate"];
    assert_eq!(created["errors"], json!([]), "{}", reply.text);
    assert_eq!(created["externalAuditEventDestination"]["category"], category, "{}", reply.text);
    gid_number(&created["externalAuditEventDestination"]["id"])
}

/// Creates a group GCP destination through the legacy API; returns its id.
async fn legacy_gcp_destination(api: &Api, group: &str, project: &str, log_id: &str, private_key: &str) -> i64 {
    let document = "mutation($groupPath: ID!, $project: String!, $email: String!, $key: String!, $log: String!) {
      googleCloudLoggingConfigurationCreate(input: {
        groupPath: $groupPath, googleProjectIdName: $project, clientEmail: $email, privateKey: $key, logIdName: $log
      }) { errors googleCloudLoggingConfiguration { id logIdName } } }";
    let variables =
        json!({"groupPath": group, "project": project, "email": TEST_CLIENT_EMAIL, "key": private_key, "log": log_id});
    let reply = api.graphql(document, variables).await.expect(200);
    let created = &reply.body["data"]["googleCloudLoggingConfigurationCreate"];
    assert_eq!(created["errors"], json!([]), "{}", reply.text);
    gid_number(&created["googleCloudLoggingConfiguration"]["id"])
}

/// Creates a group S3 destination through the legacy API; returns its id.
async fn legacy_s3_destination(api: &Api, group: &str, bucket: &str, secret: &str) -> i64 {
    let document = "mutation($groupPath: ID!, $key: String!, $secret: String!, $bucket: String!, $region: String!) {
      auditEventsAmazonS3ConfigurationCreate(input: {
        groupPath: $groupPath, accessKeyXid: $key, secretAccessKey: $secret, bucketName: $bucket, awsRegion: $region
      }) { errors amazonS3Configuration { id bucketName } } }";
    let variables =
        json!({"groupPath": group, "key": ACCESS_KEY, "secret": secret, "bucket": bucket, "region": REGION});
    let reply = api.graphql(document, variables).await.expect(200);
    let created = &reply.body["data"]["auditEventsAmazonS3ConfigurationCreate"];
    assert_eq!(created["errors"], json!([]), "{}", reply.text);
    gid_number(&created["amazonS3Configuration"]["id"])
}

/// The number at the end of a GlobalID.
fn gid_number(gid: &Value) -> i64 {
    let text = gid.as_str().unwrap_or_else(|| panic!("not a GlobalID: {gid}"));
    text.rsplit('/').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not a GlobalID: {text}"))
}

/// The entries the fake accepted under `log_name`.
fn entries_of(fake: &FakeGcp, log_name: &str) -> Vec<Value> {
    fake.entries().into_iter().filter(|e| e["logName"] == log_name).collect()
}

/// The entries under `log_name` whose event is one of `ours`, in arrival order.
fn our_entries(fake: &FakeGcp, log_name: &str, ours: &[Value]) -> Vec<Value> {
    entries_of(fake, log_name).into_iter().filter(|e| ours.contains(&e["jsonPayload"]["id"])).collect()
}

/// Waits until every event of `ours` arrived under `log_name`; returns our entries.
async fn wait_for_entries(fake: &FakeGcp, log_name: &str, ours: &[Value]) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = our_entries(fake, log_name, ours);
        if ours.iter().all(|id| got.iter().any(|e| &e["jsonPayload"]["id"] == id)) {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {} events reached {log_name}; all entries: {:?}",
            got.len(),
            ours.len(),
            fake.entries()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The body the HTTP oracle received for event `id` (GitLab's payload, byte for byte).
fn oracle_body(oracle: &Receiver, id: &Value) -> String {
    let bodies: Vec<String> = oracle.received().into_iter().filter(|r| &r.json()["id"] == id).map(|r| r.body).collect();
    assert_eq!(bodies.len(), 1, "the HTTP oracle got event {id} once");
    bodies.into_iter().next().unwrap()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

// ---------------------------------------------------------------------------------------------
// Google Cloud Logging

async fn gcp_server(backend: Backend, fake: &FakeGcp) -> auditrelay_testkit::TestServer {
    fast_server(
        backend,
        &[("AUDITRELAY_GCP_TOKEN_URL", &fake.token_url()), ("AUDITRELAY_GCP_LOGGING_URL", &fake.logging_url())],
    )
    .await
}

async fn gcp_streams_gitlab_entries_with_one_token(backend: Backend) {
    let fake = FakeGcp::start_for_test_account().await;
    let server = gcp_server(backend, &fake).await;
    let root = server.root();
    let oracle = Receiver::start().await;
    create_group(&root, "acme", None).await;
    http_destination(&root, Some("acme"), json!({"url": oracle.url("/")})).await;
    let config =
        json!({"googleProjectIdName": "acme-audit", "clientEmail": TEST_CLIENT_EMAIL, "logIdName": "gitlab_audit"});
    let gcp = cloud_destination(&root, "acme", "gcp", config, test_private_key()).await;
    let log_name = "projects/acme-audit/logs/gitlab_audit";

    // Three ingests, each waited for: three entries:write requests at least.
    let mut ours: Vec<Value> = Vec::new();
    let first = ingest(&root, json!([
        {"id": "gcp-group-1", "event_type": "group_created", "entity_type": "Group", "entity_path": "acme",
         "author_id": 7, "author_name": "Jane", "ip_address": "203.0.113.9", "details": {"custom_message": "made"}},
        {"id": "gcp-project-1", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/web",
         "author_id": 7, "author_name": "Jane Ærø", "target_type": "Project", "target_id": 29, "target_details": "web",
         "details": {"custom_message": {"protocol": "ssh"}}, "created_at": "2024-05-01T10:00:00.123Z"}
    ]))
    .await;
    assert_eq!(first, [json!("gcp-group-1"), json!("gcp-project-1")]);
    ours.extend(first);
    wait_for_entries(&fake, log_name, &ours).await;

    // An instance event, then a project event: the group's destination gets the second only
    // (both are routed in the same round, so once the second arrived the first was skipped).
    let second = ingest(&root, json!([
        {"id": "gcp-instance", "event_type": "user_created", "entity_type": "Gitlab::Audit::InstanceScope"},
        {"id": "gcp-project-2", "event_type": "merge_request_created", "entity_type": "Project", "entity_path": "acme/web", "author_id": 8}
    ]))
    .await;
    ours.push(second[1].clone());
    wait_for_entries(&fake, log_name, &ours).await;

    let third = ingest(
        &root,
        json!({"id": "gcp-group-2", "event_type": "member_added", "entity_type": "Group", "entity_path": "acme"}),
    )
    .await;
    ours.extend(third);
    let entries = wait_for_entries(&fake, log_name, &ours).await;
    wait_for_ids(&oracle, &ours).await;

    // Every event once, in log order; the instance event never.
    let got: Vec<Value> = entries.iter().map(|e| e["jsonPayload"]["id"].clone()).collect();
    assert_eq!(got, ours, "every event once, in order");
    assert!(
        fake.entries().iter().all(|e| e["jsonPayload"]["id"] != "gcp-instance"),
        "an instance event does not reach a group's destination"
    );

    // GitLab's entry: logName, resource, severity, and the HTTP payload as jsonPayload; then
    // the provable stream's labels (tests/api/stream/cloud.rs checks their values).
    for entry in &entries {
        let entry_keys = key_order(entry);
        assert_eq!(entry_keys, ["logName", "resource", "severity", "jsonPayload", "labels"], "{entry}");
        assert_eq!(entry["logName"], log_name);
        assert_eq!(entry["resource"], json!({"type": "global"}));
        assert_eq!(entry["severity"], "INFO");
        let payload = &entry["jsonPayload"];
        assert_eq!(key_order(payload), GITLAB_KEYS, "GitLab's keys in GitLab's order: {payload}");
        let http_body = oracle_body(&oracle, &payload["id"]);
        assert_eq!(payload.to_string(), http_body, "jsonPayload is the HTTP destination's payload");
    }
    let project = &entries[1]["jsonPayload"];
    assert_eq!(project["id"], "gcp-project-1");
    assert_eq!(project["event_type"], "repository_git_operation");
    assert_eq!(project["entity_type"], "Project");
    assert_eq!(project["entity_path"], "acme/web");
    assert_eq!(project["author_name"], "Jane Ærø");
    assert_eq!(project["target_id"], 29);
    assert_eq!(project["created_at"], "2024-05-01T10:00:00.123Z");
    assert_eq!(project["details"]["custom_message"]["protocol"], "ssh");
    assert!(project["entity_id"].is_i64() && project["author_id"].is_i64());
    let group = &entries[0]["jsonPayload"];
    assert_eq!(group["entity_type"], "Group");
    assert_eq!(group["entity_path"], "acme");
    assert_eq!(group["ip_address"], "203.0.113.9");

    // One access token for every request (GitLab fetches one per event).
    assert!(fake.write_requests() >= 3, "{} entries:write requests", fake.write_requests());
    assert_eq!(fake.token_requests(), 1, "the access token is cached");
    let h = wait_for_health(&root, gcp, |h| h["backlog"] == 0).await;
    assert_eq!(h["state"], "closed");
    assert_eq!(h["parked"], 0);
    assert!(h["last_error"].is_null(), "{h}");

    // A destination whose private key is not the service account's: the token exchange is
    // refused (invalid JWT signature), so it pauses, sends nothing and parks nothing, while the
    // good destination carries on with its cached token.
    let bad = legacy_gcp_destination(&root, "acme", "acme-audit", "wrong-key", other_private_key()).await;
    let bad_log = "projects/acme-audit/logs/wrong-key";
    let later = ingest(
        &root,
        json!({"id": "gcp-after-bad", "event_type": "member_removed", "entity_type": "Group", "entity_path": "acme"}),
    )
    .await;
    let h = wait_for_health(&root, bad, |h| h["state"] == "paused").await;
    assert_eq!(h["last_error_status"], 400, "{h}");
    let error = h["last_error"].as_str().unwrap_or_else(|| panic!("a paused destination says why: {h}"));
    assert!(error.contains("invalid_grant") && error.contains("Invalid JWT Signature"), "{error}");
    assert_eq!(h["parked"], 0, "auth failures park nothing: {h}");
    assert!(h["backlog"].as_i64().unwrap() >= 1, "the event waits for the fix: {h}");
    ours.extend(later);
    let entries = wait_for_entries(&fake, log_name, &ours).await;
    assert_eq!(entries.len(), ours.len(), "the good destination got the new event once");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(entries_of(&fake, bad_log), Vec::<Value>::new(), "nothing was written with the wrong key");
    assert_eq!(
        fake.token_requests(),
        2,
        "one refused exchange for the bad destination (paused, not hammered); the good one kept its token"
    );
    let h = health(&root, bad).await;
    assert_eq!((h["state"].as_str(), h["parked"].as_i64()), (Some("paused"), Some(0)), "{h}");
    assert_eq!(health(&root, gcp).await["state"], "closed");
}

async fn gcp_server_errors_are_retried_until_delivered(backend: Backend) {
    let fake = FakeGcp::start_for_test_account().await;
    let server = gcp_server(backend, &fake).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    // logIdName left out: GitLab's default log id.
    let config = json!({"googleProjectIdName": "acme-retry", "clientEmail": TEST_CLIENT_EMAIL});
    let gcp = cloud_destination(&root, "acme", "gcp", config, test_private_key()).await;
    let log_name = "projects/acme-retry/logs/audit-events";
    // Let the destination's own creation event go out before Google starts failing.
    tokio::time::sleep(Duration::from_millis(500)).await;

    fake.fail_next_writes(5, 500, None);
    let writes_before = fake.write_requests();
    let events: Vec<Value> = (0..10)
        .map(|i| json!({"id": format!("retry-{i}"), "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/web", "details": {"n": i}}))
        .collect();
    let mut ours = ingest(&root, Value::Array(events)).await;

    // While Google answers 500, health says so and the events wait.
    let h = wait_for_health(&root, gcp, |h| h["last_error_status"] == 500 && h["state"] != "closed").await;
    let error = h["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("HTTP 500") && error.contains("INTERNAL"), "{h}");
    assert!(h["backlog"].as_i64().unwrap() >= 1, "{h}");
    assert_eq!(h["parked"], 0, "server errors park nothing: {h}");

    // More events while it fails; then everything arrives, once each and in order.
    let more = ingest(
        &root,
        json!({"id": "retry-late", "event_type": "member_added", "entity_type": "Group", "entity_path": "acme"}),
    )
    .await;
    ours.extend(more);
    let entries = wait_for_entries(&fake, log_name, &ours).await;
    let got: Vec<Value> = entries.iter().map(|e| e["jsonPayload"]["id"].clone()).collect();
    assert_eq!(got, ours, "nothing lost, nothing doubled, in order");
    assert!(fake.write_requests() >= writes_before + 6, "5 refused writes, then success");
    let h = wait_for_health(&root, gcp, |h| h["state"] == "closed" && h["backlog"] == 0).await;
    assert_eq!(h["parked"], 0, "{h}");
    assert_eq!(h["last_error_status"], 500, "the last error is kept for the record: {h}");
    assert!(h["last_delivered_at"].is_string(), "{h}");
    assert_eq!(fake.token_requests(), 1, "retries reuse the cached token");
}

on_both_backends!(gcp_streams_gitlab_entries_with_one_token, gcp_server_errors_are_retried_until_delivered);

// ---------------------------------------------------------------------------------------------
// Amazon S3 (s3s-fs)

const ACCESS_KEY: &str = "AKIAAUDITRELAYTEST01";
const SECRET: &str = "auditrelay-test-secret-access-key";
const REGION: &str = "us-east-1";
const BUCKET: &str = "audit-logs";
const WRONG_BUCKET: &str = "audit-wrong-secret";

/// The key GitLab writes event `id` of `event_type` at: `<slug>/.../<event_type>_<id>_<ms>.json`.
fn find_key(keys: &[String], slug: &str, event_type: &str, id: &Value) -> Option<String> {
    let id = id.as_str().map(str::to_owned).unwrap_or_else(|| id.to_string());
    let prefix = format!("{event_type}_{id}_");
    keys.iter()
        .find(|key| {
            key.starts_with(&format!("{slug}/"))
                && key.rsplit('/').next().is_some_and(|file| {
                    file.strip_prefix(&prefix)
                        .and_then(|rest| rest.strip_suffix(".json"))
                        .is_some_and(|ms| ms.chars().all(|c| c.is_ascii_digit()))
                })
        })
        .cloned()
}

/// Checks `key` is `<slug>/<YYYY>/<MM>/<event_type>_<id>_<ms>.json` with `ms` within
/// `[before_ms, after_ms]` and `YYYY/MM` the upload's month (UTC).
fn assert_key_layout(key: &str, slug: &str, event_type: &str, id: &Value, before_ms: i64, after_ms: i64) {
    let id = id.as_str().map(str::to_owned).unwrap_or_else(|| id.to_string());
    let (dirs, file) = key.rsplit_once('/').unwrap_or_else(|| panic!("key {key} has no /"));
    let ms: i64 = file
        .strip_prefix(&format!("{event_type}_{id}_"))
        .and_then(|rest| rest.strip_suffix(".json"))
        .unwrap_or_else(|| panic!("key {key}: file name is not {event_type}_{id}_<ms>.json"))
        .parse()
        .unwrap_or_else(|e| panic!("key {key}: epoch millis: {e}"));
    assert!((before_ms..=after_ms).contains(&ms), "key {key}: {ms} not within [{before_ms}, {after_ms}]");
    let uploaded = chrono::DateTime::from_timestamp_millis(ms).unwrap();
    assert_eq!(dirs, format!("{slug}/{}", uploaded.format("%Y/%m")), "key {key}");
}

/// Waits until every `(slug, event_type, id)` has an object in `bucket_dir`; returns their keys.
async fn wait_for_objects(s3: &S3sFs, bucket: &str, wanted: &[(&str, &str, Value)]) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let keys = s3.keys(bucket);
        let found: Vec<Option<String>> =
            wanted.iter().map(|(slug, event_type, id)| find_key(&keys, slug, event_type, id)).collect();
        if found.iter().all(Option::is_some) {
            return found.into_iter().flatten().collect();
        }
        assert!(
            Instant::now() < deadline,
            "objects missing in {bucket}: wanted {wanted:?}, have {keys:?}; s3s-fs log:\n{}",
            s3.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn s3_objects_at_gitlab_keys_with_gitlab_bodies(backend: Backend) {
    let s3 = S3sFs::start(ACCESS_KEY, SECRET, &[BUCKET, WRONG_BUCKET]);
    let server = fast_server(backend, &[("AUDITRELAY_S3_ENDPOINT", &s3.endpoint())]).await;
    let root = server.root();
    let oracle = Receiver::start().await;
    create_group(&root, "acme", None).await;
    http_destination(&root, Some("acme"), json!({"url": oracle.url("/")})).await;
    let config = json!({"accessKeyXid": ACCESS_KEY, "bucketName": BUCKET, "awsRegion": REGION});
    let aws = cloud_destination(&root, "acme", "aws", config, SECRET).await;

    let before = now_ms();
    let ids = ingest(&root, json!([
        {"id": "s3-project", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/web",
         "author_id": 7, "author_name": "Zoë Ærø", "target_type": "Project", "target_id": 29, "target_details": "web",
         "details": {"custom_message": "pushed <b>main</b> & tagged"}, "created_at": "2024-05-01T10:00:00.123Z"},
        {"id": "s3-group", "event_type": "group_created", "entity_type": "Group", "entity_path": "acme", "author_id": 7,
         "ip_address": "203.0.113.9"},
        {"event_type": "user_created", "entity_type": "Project", "entity_path": "acme/web"}
    ]))
    .await;
    assert_eq!(ids[..2], [json!("s3-project"), json!("s3-group")]);
    assert!(ids[2].is_i64(), "a service-generated id is an integer: {}", ids[2]);
    let wanted = [
        ("project", "repository_git_operation", ids[0].clone()),
        ("group", "group_created", ids[1].clone()),
        ("project", "user_created", ids[2].clone()),
    ];
    let keys = wait_for_objects(&s3, BUCKET, &wanted).await;
    wait_for_health(&root, aws, |h| h["backlog"] == 0).await;
    wait_for_ids(&oracle, &ids).await;
    let after = now_ms();

    for (key, (slug, event_type, id)) in keys.iter().zip(&wanted) {
        assert_key_layout(key, slug, event_type, id, before, after);
        let body = std::fs::read_to_string(s3.bucket(BUCKET).join(key)).expect("the object's file");
        assert_eq!(body, oracle_body(&oracle, id), "the object {key} holds GitLab's payload, byte for byte");
        let payload: Value = serde_json::from_str(&body).expect("the object is JSON");
        assert_eq!(key_order(&payload), GITLAB_KEYS, "{key}");
        assert_eq!(&payload["id"], id);
        assert_eq!(payload["event_type"], *event_type);
    }
    let project: Value =
        serde_json::from_str(&std::fs::read_to_string(s3.bucket(BUCKET).join(&keys[0])).unwrap()).expect("JSON");
    assert_eq!(project["author_name"], "Zoë Ærø");
    assert_eq!(project["details"]["custom_message"], "pushed <b>main</b> & tagged");
    assert_eq!(project["created_at"], "2024-05-01T10:00:00.123Z");
    assert_eq!(project["entity_path"], "acme/web");
    // Each event once (other objects are the service's own admin events).
    for (slug, event_type, id) in &wanted {
        let all = s3.keys(BUCKET);
        let id_text = id.as_str().map(str::to_owned).unwrap_or_else(|| id.to_string());
        let count =
            all.iter().filter(|k| k.starts_with(slug) && k.contains(&format!("/{event_type}_{id_text}_"))).count();
        assert_eq!(count, 1, "{event_type} {id_text} written once: {all:?}");
    }
    let h = health(&root, aws).await;
    assert_eq!((h["state"].as_str(), h["parked"].as_i64()), (Some("closed"), Some(0)), "{h}");

    // A destination with a wrong secret: s3s-fs refuses the signature; it pauses, writes
    // nothing and parks nothing, while the good destination carries on.
    let bad = legacy_s3_destination(&root, "acme", WRONG_BUCKET, "not-the-secret-access-key").await;
    let later = ingest(
        &root,
        json!({"id": "s3-after-bad", "event_type": "member_added", "entity_type": "Group", "entity_path": "acme"}),
    )
    .await;
    let h = wait_for_health(&root, bad, |h| h["state"] == "paused").await;
    assert_eq!(h["last_error_status"], 403, "{h}");
    let error = h["last_error"].as_str().unwrap_or_else(|| panic!("a paused destination says why: {h}"));
    assert!(error.contains("SignatureDoesNotMatch"), "{error}");
    assert_eq!(h["parked"], 0, "auth failures park nothing: {h}");
    assert!(h["backlog"].as_i64().unwrap() >= 1, "the event waits for the fix: {h}");
    wait_for_objects(&s3, BUCKET, &[("group", "member_added", later[0].clone())]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s3.keys(WRONG_BUCKET), Vec::<String>::new(), "nothing written with a wrong secret");
    assert_eq!(health(&root, bad).await["state"], "paused");
    assert_eq!(health(&root, aws).await["state"], "closed");
    assert_eq!(wait_for_ids(&oracle, &later).await, later);
}

on_both_backends!(s3_objects_at_gitlab_keys_with_gitlab_bodies);
