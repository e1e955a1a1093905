//! Verify reading other sources: a real testkit receiver's recording (`write_capture`), a real
//! S3-compatible server (s3s-fs) with objects and metadata as the S3 sink writes them, and
//! checkpoints and public keys from a REST API (paged by `after_sequence`).

use super::*;
use auditrelay_core::stream_proof::names::{CHAIN_LABEL, CHECKPOINT_PREFIX, SEQUENCE_LABEL, STREAM_LABEL};
use auditrelay_testkit::Receiver;
use auditrelay_testkit::s3s::S3sFs;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload, path::Path as Key};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receivers_recording_verifies_including_a_body_that_is_not_utf8() {
    let receiver = Receiver::start().await;
    let http = reqwest::Client::new();
    // Position 3's body is not UTF-8: the capture keeps it as body_base64.
    let bodies: Vec<Vec<u8>> = vec![body(1).into_bytes(), body(2).into_bytes(), vec![0xff, 0x00, 0x7b]];
    let mut chain = ChainDigest::genesis(STREAM);
    for (index, bytes) in bodies.iter().enumerate() {
        chain = chain.next(bytes);
        let sent = http
            .post(receiver.url("/events"))
            .header(STREAM_HEADER, STREAM)
            .header(SEQUENCE_HEADER, (index + 1).to_string())
            .header(CHAIN_HEADER, chain.to_hex())
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert!(sent.status().is_success());
    }
    let signed = Checkpoint { chain: chain.to_hex(), ..checkpoint(3, &[]).checkpoint }.sign(&key());
    http.post(receiver.url("/events"))
        .header(CHECKPOINT_HEADER, "1")
        .body(serde_json::to_string(&signed).unwrap())
        .send()
        .await
        .unwrap();
    receiver.wait_for(4, Duration::from_secs(5)).await;

    let dir = temp();
    let path = dir.join("receiver.ndjson");
    receiver.write_capture(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(text.lines().nth(2).unwrap().contains(r#""body_base64":"/wB7""#), "{text}");
    let run = tokio::task::spawn_blocking(move || verify_capture(&path, &[])).await.unwrap();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let stream = &run.json()["streams"][0];
    assert_eq!((stream["events_received"].clone(), stream["checkpoints"]["valid"].clone()), (json!(3), json!(1)));
}

const ACCESS_KEY: &str = "verify-access";
const SECRET: &str = "verify-secret-key-0123456789";
const BUCKET: &str = "verify-bucket";

/// `auditrelay verify --json` over the whole bucket, with the server's public key.
async fn verify_bucket(s3: &S3sFs) -> Run {
    let endpoint = s3.endpoint();
    tokio::task::spawn_blocking(move || {
        let args = ["--s3-bucket", BUCKET, "--s3-endpoint", &endpoint, "--public-key", &public_key(), "--json"];
        verify_env(args, &[("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", SECRET)])
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_bucket_verifies_from_object_metadata() {
    let s3 = S3sFs::start(ACCESS_KEY, SECRET, &[BUCKET]);
    let store = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(BUCKET)
        .with_region("us-east-1")
        .with_endpoint(s3.endpoint())
        .with_allow_http(true)
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET)
        .build()
        .unwrap();
    for position in 1..=4u64 {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, "application/json".into());
        attributes.insert(Attribute::Metadata(STREAM_LABEL.into()), STREAM.into());
        attributes.insert(Attribute::Metadata(SEQUENCE_LABEL.into()), position.to_string().into());
        let chain = if position == 3 { chain_at(2) } else { chain_at(position) };
        attributes.insert(Attribute::Metadata(CHAIN_LABEL.into()), chain.to_hex().into());
        let key = Key::from(format!("user/2026/12/user_created_{position}_176458000000{position}.json"));
        let options = PutOptions { attributes, ..Default::default() };
        store.put_opts(&key, PutPayload::from(body(position).into_bytes()), options).await.unwrap();
    }
    let signed = serde_json::to_vec(&checkpoint(4, &[])).unwrap();
    let checkpoint_key = Key::from(format!("{CHECKPOINT_PREFIX}/3/00000000000000000004.json"));
    store.put(&checkpoint_key, PutPayload::from(signed)).await.unwrap();
    store.put(&Key::from("user/unrelated.txt"), PutPayload::from_static(b"not an event")).await.unwrap();

    let run = verify_bucket(&s3).await;
    assert_eq!(run.code, 1, "position 3's chain metadata is wrong: {}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["unsequenced"], 1);
    let stream = &report["streams"][0];
    assert_eq!(stream["events_received"], 4);
    assert_eq!(stream["checkpoints"]["valid"], 1);
    assert_eq!(stream["first_mismatch"]["sequence"], 3);
    assert_eq!(stream["first_mismatch"]["origin"], "user/2026/12/user_created_3_1764580000003.json");

    // Fixed, it is complete.
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::Metadata(STREAM_LABEL.into()), STREAM.into());
    attributes.insert(Attribute::Metadata(SEQUENCE_LABEL.into()), "3".into());
    attributes.insert(Attribute::Metadata(CHAIN_LABEL.into()), chain_at(3).to_hex().into());
    let key = Key::from("user/2026/12/user_created_3_1764580000003.json");
    store.put_opts(&key, PutPayload::from(body(3).into_bytes()), attributes.into()).await.unwrap();
    let run = verify_bucket(&s3).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_and_keys_come_from_the_api_page_by_page() {
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    use std::collections::HashMap;

    let checkpoints = vec![checkpoint(2, &[]), checkpoint(4, &[3])];
    let page = |State(all): State<Vec<SignedCheckpoint>>, headers: HeaderMap, Query(q): Query<HashMap<String, u64>>| async move {
        if headers.get("private-token").and_then(|v| v.to_str().ok()) != Some("secret-token") {
            return Err(StatusCode::UNAUTHORIZED);
        }
        let after = q.get("after_sequence").copied().unwrap_or(0);
        // One per page, so paging is exercised.
        let next: Vec<&SignedCheckpoint> = all.iter().filter(|c| c.checkpoint.sequence > after).take(1).collect();
        Ok(axum::Json(serde_json::to_value(next).unwrap()))
    };
    let keys = json!({"keys": [{"key_id": checkpoint(2, &[]).key_id, "public_key": public_key(), "algorithm": "ed25519",
        "valid_from": "2026-12-01T00:00:00.000Z", "valid_until": null}]});
    let app = axum::Router::new()
        .route("/api/v4/streaming_destinations/{id}/checkpoints", get(page))
        .route("/api/v4/streaming/public_key", get(move || async move { axum::Json(keys) }))
        .with_state(checkpoints);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = temp();
    let mut lines = stream_lines(5);
    lines.remove(2); // position 3, parked per the second checkpoint
    let capture = write_lines(&dir, "api.ndjson", &lines);
    let run = tokio::task::spawn_blocking(move || {
        let capture = capture.display().to_string();
        let args = ["--capture", &capture, "--api", &api, "--token", "secret-token", "--destination", "3", "--json"];
        let run = verify(args);
        let unauthorized = verify(["--capture", &capture, "--api", &api, "--token", "wrong", "--destination", "3"]);
        (run, unauthorized)
    })
    .await
    .unwrap();
    let (run, unauthorized) = run;
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let stream = &run.json()["streams"][0];
    assert_eq!(stream["checkpoints"]["valid"], 2);
    assert_eq!(stream["parked"][0]["sequence"], 3);
    assert_eq!(stream["coverage"]["checkpointed_through"], 4);
    assert_eq!(stream["coverage"]["not_yet_covered"], 1);
    assert_eq!(unauthorized.code, 2);
    assert!(unauthorized.stderr.contains("401"), "{}", unauthorized.stderr);
}
