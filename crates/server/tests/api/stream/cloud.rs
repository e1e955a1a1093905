//! The stream on the cloud sinks: Google Cloud Logging entry labels (the fake checks them) and
//! S3 object metadata read back from a real s3s-fs, plus the S3 checkpoint objects.

use auditrelay_core::stream_proof::SignedCheckpoint;
use auditrelay_testkit::fake_gcp::{FakeGcp, TEST_CLIENT_EMAIL, test_private_key};
use auditrelay_testkit::receiver::Received;
use auditrelay_testkit::s3s::S3sFs;
use auditrelay_testkit::{Api, Backend};
use object_store::{Attribute, ObjectStore};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::http::QUICK_CHECKPOINTS;
use super::{WAIT, assert_checkpoints, public_keys, stream_of, wait_for_checkpoint};
use crate::delivery::{fast_server, group_event, ingest};
use crate::{create_group, on_both_backends};

const ACCESS_KEY: &str = "AKIAAUDITRELAYSTREAM1";
const SECRET: &str = "auditrelay-stream-secret-access-key";
const BUCKET: &str = "stream-logs";

async fn destination(api: &Api, category: &str, config: Value, secret: &str) -> i64 {
    let document = "mutation($category: String!, $config: JSON!, $secretToken: String) {
      groupAuditEventStreamingDestinationsCreate(input: {
        groupPath: \"acme\", category: $category, config: $config, secretToken: $secretToken
      }) { errors externalAuditEventDestination { id } } }";
    let reply =
        api.graphql(document, json!({"category": category, "config": config, "secretToken": secret})).await.expect(200);
    let created = &reply.body["data"]["groupAuditEventStreamingDestinationsCreate"];
    assert_eq!(created["errors"], json!([]), "{}", reply.text);
    created["externalAuditEventDestination"]["id"].as_str().unwrap().rsplit('/').next().unwrap().parse().unwrap()
}

/// A request-shaped record of something a cloud sink stored, for the shared checker.
fn as_received(body: String, stream: &str, sequence: &str, chain: &str) -> Received {
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in
        [("x-auditrelay-stream", stream), ("x-auditrelay-sequence", sequence), ("x-auditrelay-chain", chain)]
    {
        headers.insert(name, value.parse().unwrap());
    }
    let raw = body.clone().into_bytes().into();
    Received { path: String::new(), headers, body, raw, at: Instant::now(), received_at: std::time::SystemTime::now() }
}

async fn gcp_entries_carry_the_stream_labels(backend: Backend) {
    let fake = FakeGcp::start_for_test_account().await;
    let mut extra = QUICK_CHECKPOINTS.to_vec();
    let (token, logging) = (fake.token_url(), fake.logging_url());
    extra.extend([("AUDITRELAY_GCP_TOKEN_URL", token.as_str()), ("AUDITRELAY_GCP_LOGGING_URL", logging.as_str())]);
    let server = fast_server(backend, &extra).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let config = json!({"googleProjectIdName": "acme-audit", "clientEmail": TEST_CLIENT_EMAIL, "logIdName": "stream"});
    let id = destination(&root, "gcp", config, test_private_key()).await;
    // In-band checkpoints are for HTTP destinations; a GCP one is refused with the reason.
    let update = "mutation($id: ID!) { auditrelayStreamUpdate(input: {destinationId: $id, inBandCheckpoints: true}) { errors } }";
    let gid = format!("gid://gitlab/AuditEvents::GoogleCloudLoggingConfiguration/{id}");
    let refused = root.graphql(update, json!({"id": gid})).await.expect(200);
    let errors = refused.body["data"]["auditrelayStreamUpdate"]["errors"].to_string();
    assert!(errors.contains("HTTP destinations only"), "{}", refused.text);
    let ids = ingest(&root, Value::Array((0..25).map(|i| group_event(&format!("g{i}"))).collect())).await;
    let deadline = Instant::now() + WAIT;
    while fake.entries().iter().filter(|e| ids.contains(&e["jsonPayload"]["id"])).count() < ids.len() {
        assert!(Instant::now() < deadline, "not every entry arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // body(n) is the GitLab body the entry's jsonPayload was made from: the same JSON, compact.
    let received: Vec<Received> = fake
        .entries()
        .iter()
        .map(|e| {
            let l = &e["labels"];
            let text = |k: &str| l[k].as_str().unwrap_or_else(|| panic!("label {k} missing: {e}")).to_owned();
            as_received(
                e["jsonPayload"].to_string(),
                &text("auditrelay_stream"),
                &text("auditrelay_sequence"),
                &text("auditrelay_chain"),
            )
        })
        .collect();
    let stream = stream_of(&received);
    assert_eq!(stream.id, format!("gid://gitlab/AuditEvents::GoogleCloudLoggingConfiguration/{id}"));
    let chains = stream.assert_complete(&BTreeMap::new());
    let last = *chains.keys().last().unwrap();
    wait_for_checkpoint(&root, id, last).await;
    assert_checkpoints(&super::checkpoints(&root, id).await, &public_keys(&root).await, &stream.id, &chains);
}

async fn s3_objects_carry_the_stream_metadata_and_checkpoints(backend: Backend) {
    let s3 = S3sFs::start(ACCESS_KEY, SECRET, &[BUCKET]);
    let mut extra = QUICK_CHECKPOINTS.to_vec();
    let endpoint = s3.endpoint();
    extra.push(("AUDITRELAY_S3_ENDPOINT", endpoint.as_str()));
    let server = fast_server(backend, &extra).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let config = json!({"accessKeyXid": ACCESS_KEY, "bucketName": BUCKET, "awsRegion": "us-east-1"});
    let id = destination(&root, "aws", config, SECRET).await;
    let ids = ingest(&root, Value::Array((0..15).map(|i| group_event(&format!("s{i}"))).collect())).await;
    let prefix = format!("auditrelay-checkpoints/{id}/");
    let is_event = |k: &String| !k.starts_with("auditrelay-checkpoints/");
    let deadline = Instant::now() + WAIT;
    while s3.keys(BUCKET).iter().filter(|k| is_event(k)).count() < ids.len() {
        assert!(Instant::now() < deadline, "not every object arrived: {:?}", s3.keys(BUCKET));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Read every object back through S3 (GetObject), metadata included.
    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&endpoint)
        .with_allow_http(true)
        .with_bucket_name(BUCKET)
        .with_region("us-east-1")
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET)
        .build()
        .unwrap();
    let mut received = Vec::new();
    for key in s3.keys(BUCKET).into_iter().filter(|k| is_event(k)) {
        let got = store.get(&object_store::path::Path::from(key.as_str())).await.unwrap();
        let meta = |name: &str| {
            got.attributes
                .get(&Attribute::Metadata(name.to_owned().into()))
                .map(|v| v.as_ref().to_owned())
                .unwrap_or_else(|| panic!("{key}: no {name} metadata"))
        };
        let (stream, sequence, chain) =
            (meta("auditrelay_stream"), meta("auditrelay_sequence"), meta("auditrelay_chain"));
        let body = String::from_utf8(got.bytes().await.unwrap().to_vec()).unwrap();
        received.push(as_received(body, &stream, &sequence, &chain));
    }
    let stream = stream_of(&received);
    assert_eq!(stream.id, format!("gid://gitlab/AuditEvents::AmazonS3Configuration/{id}"));
    let chains = stream.assert_complete(&BTreeMap::new());
    let last = *chains.keys().last().unwrap();
    wait_for_checkpoint(&root, id, last).await;

    // The checkpoints are objects too, each the listed SignedCheckpoint.
    let deadline = Instant::now() + WAIT;
    let key = format!("{prefix}{last:020}.json");
    while !s3.keys(BUCKET).contains(&key) {
        assert!(Instant::now() < deadline, "no checkpoint object {key}: {:?}", s3.keys(BUCKET));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut objects = Vec::new();
    for key in s3.keys(BUCKET).into_iter().filter(|k| k.starts_with(&prefix)) {
        let got = store.get(&object_store::path::Path::from(key.as_str())).await.unwrap();
        let signed: SignedCheckpoint = serde_json::from_slice(&got.bytes().await.unwrap()).unwrap();
        objects.push(signed);
    }
    assert_checkpoints(&objects, &public_keys(&root).await, &stream.id, &chains);
    assert_eq!(objects, super::checkpoints(&root, id).await, "the objects are the listed checkpoints");
}

on_both_backends!(gcp_entries_carry_the_stream_labels, s3_objects_carry_the_stream_metadata_and_checkpoints);
