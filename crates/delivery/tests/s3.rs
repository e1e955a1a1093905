//! The S3 sink against a real S3-compatible server that checks SigV4 signatures: s3s-fs, started
//! per test on a free loopback port with a fresh data dir. `scripts/s3-server.sh install` builds
//! it and prints its path; the tests read that path from `AUDITRELAY_S3S_FS_BIN` and fail (never
//! skip) without it. The answers s3s-fs cannot give (it creates a missing bucket on `PutObject`
//! instead of answering `NoSuchBucket`; it never throttles) come from a one-shot local stub
//! that replays S3's documented error answers.

use std::net::Ipv4Addr;
use std::time::Duration;

use auditrelay_core::EventId;
use auditrelay_delivery::sinks::s3::{S3Sink, S3Spec};
use auditrelay_delivery::{FailureKind, Outgoing};
use auditrelay_testkit::s3s::S3sFs;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ACCESS_KEY: &str = "AKIAAUDITRELAYTEST01";
const SECRET: &str = "auditrelay-test-secret-access-key";
const BUCKET: &str = "audit-events";
const REGION: &str = "us-east-1";

/// s3s-fs with `BUCKET` created, accepting `ACCESS_KEY`/`SECRET`.
fn start_s3s() -> S3sFs {
    S3sFs::start(ACCESS_KEY, SECRET, &[BUCKET])
}

fn spec(secret: &str, bucket: &str) -> S3Spec {
    S3Spec {
        access_key_xid: ACCESS_KEY.into(),
        secret_access_key: secret.into(),
        bucket_name: bucket.into(),
        aws_region: REGION.into(),
    }
}

fn event(seq: i64, id: EventId, entity_type: &str, event_type: &str, body: &str) -> Outgoing {
    Outgoing {
        seq,
        id,
        event_type: event_type.into(),
        entity_type: entity_type.into(),
        created_at: 1_770_950_000_123_000,
        body: body.into(),
        stamp: None,
    }
}

fn events() -> Vec<Outgoing> {
    vec![
        event(
            1,
            EventId::Int(42),
            "Project",
            "repository_git_operation",
            r#"{"id":42,"author_id":1,"entity_id":29,"entity_type":"Project","details":{"author_name":"Zoë Ærø","custom_message":"pushed <b>main</b> & tagged"},"created_at":"2026-02-13T02:33:20.123Z","event_type":"repository_git_operation"}"#,
        ),
        event(
            2,
            EventId::Str("5b1f0c3e-8a2d-4c1e-9f00-0123456789ab".into()),
            "Group",
            "group_created",
            r#"{"id":"5b1f0c3e-8a2d-4c1e-9f00-0123456789ab","author_id":1,"entity_id":7,"entity_type":"Group","details":{},"event_type":"group_created"}"#,
        ),
        event(
            3,
            EventId::Int(9_007_199_254_740_993),
            "Gitlab::Audit::InstanceScope",
            "user_created",
            r#"{"id":9007199254740993,"author_id":-3,"entity_id":1,"entity_type":"Gitlab::Audit::InstanceScope","event_type":"user_created"}"#,
        ),
    ]
}

/// Checks `key` against `<slug>/<YYYY>/<MM>/<event_type>_<id>_<ms>.json` with `ms` in the
/// window the send ran in, and `YYYY/MM` from `ms`.
fn assert_key_layout(key: &str, slug: &str, event: &Outgoing, before_ms: i64, after_ms: i64) {
    let prefix = format!("{}_{}_", event.event_type, event.id);
    let (dirs, file) = key.rsplit_once('/').unwrap_or_else(|| panic!("key {key} has no /"));
    let ms: i64 = file
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(".json"))
        .unwrap_or_else(|| panic!("key {key}: file name is not {prefix}<ms>.json"))
        .parse()
        .unwrap_or_else(|e| panic!("key {key}: epoch millis: {e}"));
    assert!((before_ms..=after_ms).contains(&ms), "key {key}: {ms} not within [{before_ms}, {after_ms}]");
    let uploaded = chrono::DateTime::from_timestamp_millis(ms).unwrap();
    assert_eq!(dirs, format!("{slug}/{}", uploaded.format("%Y/%m")), "key {key}");
}

#[tokio::test]
#[ignore = "needs s3s-fs: scripts/test.sh runs it"]
async fn events_are_written_at_gitlab_keys_with_exact_bodies() {
    let server = start_s3s();
    let sink = S3Sink::new(spec(SECRET, BUCKET), Some(&server.endpoint())).expect("sink");
    let reader = AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_bucket_name(BUCKET)
        .with_region(REGION)
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET)
        .build()
        .expect("object_store reader");

    for (event, slug) in events().iter().zip(["project", "group", "instance"]) {
        let before = chrono::Utc::now().timestamp_millis();
        let key =
            sink.send(event).await.unwrap_or_else(|e| panic!("send {}: {e:?}\nlog:\n{}", event.seq, server.log()));
        let after = chrono::Utc::now().timestamp_millis();
        assert_key_layout(&key, slug, event, before, after);

        // Read back over S3 (another client, signed too): exact bytes and the content type.
        let got = reader.get(&object_store::path::Path::from(key.as_str())).await.expect("get the object back");
        assert_eq!(
            got.attributes.get(&object_store::Attribute::ContentType).map(|v| v.as_ref()),
            Some("application/json"),
            "content type of {key}"
        );
        let bytes = got.bytes().await.expect("object body");
        assert_eq!(bytes.as_ref(), event.body.as_bytes(), "body of {key}");

        // And on disk, where s3s-fs keeps it: <data dir>/<bucket>/<key>.
        let on_disk = std::fs::read(server.bucket(BUCKET).join(&key)).expect("object file");
        assert_eq!(on_disk, event.body.as_bytes(), "file of {key}");
    }

    let listed = server.keys(BUCKET);
    assert_eq!(listed.len(), 3, "{listed:?}");
}

#[tokio::test]
#[ignore = "needs s3s-fs: scripts/test.sh runs it"]
async fn keys_with_unusual_characters_are_written_as_built() {
    let server = start_s3s();
    let sink = S3Sink::new(spec(SECRET, BUCKET), Some(&server.endpoint())).expect("sink");
    let id = EventId::Str("ext id: 50% #1 (ü)+x=y&z".into());
    let event = event(1, id, "Project", "custom_event", r#"{"id":"ext id: 50% #1 (ü)+x=y&z"}"#);
    let key = sink.send(&event).await.unwrap_or_else(|e| panic!("send: {e:?}\nlog:\n{}", server.log()));
    assert!(key.ends_with(".json") && key.contains("custom_event_ext id: 50% #1 (ü)+x=y&z_"), "{key}");
    let on_disk = std::fs::read(server.bucket(BUCKET).join(&key)).expect("object file at the exact key");
    assert_eq!(on_disk, event.body.as_bytes());
}

#[tokio::test]
#[ignore = "needs s3s-fs: scripts/test.sh runs it"]
async fn a_wrong_secret_is_an_auth_failure() {
    let server = start_s3s();
    let sink = S3Sink::new(spec("not-the-secret", BUCKET), Some(&server.endpoint())).expect("sink");
    let error = sink.send(&events()[0]).await.expect_err("a wrong secret must fail");
    assert_eq!(error.kind, FailureKind::Auth, "{error:?}");
    assert_eq!(error.status, Some(403), "{error:?}");
    assert!(error.message.contains("SignatureDoesNotMatch"), "{error:?}");
    assert!(server.keys(BUCKET).is_empty());
}

#[tokio::test]
#[ignore = "needs s3s-fs: scripts/test.sh runs it"]
async fn an_unknown_access_key_is_an_auth_failure() {
    let server = start_s3s();
    let spec = S3Spec { access_key_xid: "AKIAUNKNOWNKEY000001".into(), ..spec(SECRET, BUCKET) };
    let sink = S3Sink::new(spec, Some(&server.endpoint())).expect("sink");
    let error = sink.send(&events()[0]).await.expect_err("an unknown key must fail");
    assert_eq!(error.kind, FailureKind::Auth, "{error:?}");
    assert_eq!(error.status, Some(403), "{error:?}");
}

#[tokio::test]
#[ignore = "needs s3s-fs: scripts/test.sh runs it"]
async fn a_stopped_server_is_a_transient_failure() {
    let mut server = start_s3s();
    let sink = S3Sink::new(spec(SECRET, BUCKET), Some(&server.endpoint())).expect("sink");
    sink.send(&events()[0]).await.expect("delivered while the server runs");
    server.stop();
    // The pooled connection is found closed...
    let error = sink.send(&events()[1]).await.expect_err("no server, no delivery");
    assert_eq!(error.kind, FailureKind::Transient, "{error:?}");
    assert_eq!(error.status, None, "{error:?}");
    // ...and a new one is refused.
    let fresh = S3Sink::new(spec(SECRET, BUCKET), Some(&server.endpoint())).expect("sink");
    let error = fresh.send(&events()[1]).await.expect_err("no server, no delivery");
    assert_eq!(error.kind, FailureKind::Transient, "{error:?}");
    assert!(error.message.contains("could not connect"), "{error:?}");
}

/// s3s-fs creates a missing bucket on PutObject, so S3's answer is replayed by a stub.
#[tokio::test]
async fn a_missing_bucket_is_an_auth_failure() {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>\
                <Message>The specified bucket does not exist</Message><BucketName>no-such-bucket</BucketName>\
                <RequestId>4442587FB7D0A2F9</RequestId><HostId>abc</HostId></Error>";
    let (endpoint, request) = stub_s3("404 Not Found", &[], body).await;
    let sink = S3Sink::new(spec(SECRET, "no-such-bucket"), Some(&endpoint)).expect("sink");
    let error = sink.send(&events()[0]).await.expect_err("a missing bucket must fail");
    assert_eq!(error.kind, FailureKind::Auth, "{error:?}");
    assert_eq!(error.status, Some(404));
    assert!(error.message.contains("NoSuchBucket: The specified bucket does not exist"), "{error:?}");

    // What was sent: a SigV4-signed, path-style PutObject of the exact body.
    let request = request.await.expect("the stub saw a request");
    let head = request.head.to_ascii_lowercase();
    assert!(request.head.starts_with("PUT /no-such-bucket/project/"), "{}", request.head);
    assert!(head.contains("\r\ncontent-type: application/json\r\n"), "{}", request.head);
    assert!(head.contains("\r\nauthorization: aws4-hmac-sha256 credential=akiaauditrelaytest01/"), "{}", request.head);
    assert!(head.contains("\r\nx-amz-content-sha256: "), "{}", request.head);
    assert_eq!(request.body, events()[0].body.as_bytes());
}

/// s3s-fs never throttles; S3's `503 SlowDown` is replayed by a stub.
#[tokio::test]
async fn throttling_is_a_transient_failure() {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>\
                <Message>Please reduce your request rate.</Message></Error>";
    let (endpoint, _request) = stub_s3("503 Slow Down", &["Retry-After: 2"], body).await;
    let sink = S3Sink::new(spec(SECRET, BUCKET), Some(&endpoint)).expect("sink");
    let error = sink.send(&events()[1]).await.expect_err("throttled");
    assert_eq!(error.kind, FailureKind::Transient, "{error:?}");
    assert_eq!(error.status, Some(503));
    assert_eq!(error.retry_after, Some(Duration::from_secs(2)));
    assert!(error.message.contains("SlowDown: Please reduce your request rate."), "{error:?}");
}

struct StubRequest {
    head: String,
    body: Vec<u8>,
}

/// A one-request HTTP server on loopback that answers with `status`, `headers` and `body`.
async fn stub_s3(status: &str, headers: &[&str], body: &str) -> (String, tokio::task::JoinHandle<StubRequest>) {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind the stub");
    let endpoint = format!("http://{}", listener.local_addr().expect("stub address"));
    let mut answer =
        format!("HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n", body.len());
    for header in headers {
        answer.push_str(header);
        answer.push_str("\r\n");
    }
    answer.push_str("Connection: close\r\n\r\n");
    answer.push_str(body);
    let handle = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut received = Vec::new();
        let mut buffer = [0u8; 8192];
        let (head, body_start) = loop {
            let n = stream.read(&mut buffer).await.expect("read the request");
            assert!(n > 0, "the client closed before sending a whole request head");
            received.extend_from_slice(&buffer[..n]);
            if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break (String::from_utf8_lossy(&received[..at + 4]).into_owned(), at + 4);
            }
        };
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        while received.len() < body_start + length {
            let n = stream.read(&mut buffer).await.expect("read the request body");
            assert!(n > 0, "the client closed before sending the whole body");
            received.extend_from_slice(&buffer[..n]);
        }
        stream.write_all(answer.as_bytes()).await.expect("answer");
        stream.shutdown().await.ok();
        StubRequest { head, body: received[body_start..body_start + length].to_vec() }
    });
    (endpoint, handle)
}
