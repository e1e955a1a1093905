//! Standard Webhooks signatures end to end, checked by an independent implementation: the
//! `standardwebhooks` package from PyPI (installed into a virtualenv by
//! `scripts/standardwebhooks-venv.sh`; the test fails, never skips, when it cannot be had).
//! Enable, rotate (both secrets verify), remove the old secret (it no longer verifies),
//! disable; the audit events of each change; the errors; the secret never stored in plain text.

use auditrelay_testkit::{Api, Backend, Receiver, TestServer};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use crate::delivery::{fast_server, group_event, http_destination, ingest, wait_for_ids};
use crate::{create_group, on_both_backends};

const SIGNING: &str = "webhookSigning { enabled secrets { createdAt lastFour } }";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The virtualenv's python, made on first use. Panics (the test fails) when it cannot be made.
fn verifier_python() -> String {
    let script = repo_root().join("scripts/standardwebhooks-venv.sh");
    let out = std::process::Command::new("bash").arg(&script).output().expect("bash runs");
    assert!(
        out.status.success(),
        "the standardwebhooks verifier could not be installed (python3 with venv and PyPI are needed): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Runs the reference verifier on what `receiver` got for `ids`, as a capture file.
fn check_with_reference(receiver: &Receiver, ids: &[Value], accept: &[&str], reject: &[&str], dir: &Path) {
    let capture = dir.join("signed-capture.ndjson");
    let mut text = String::new();
    for request in receiver.received().iter().filter(|r| ids.contains(&r.json()["id"])) {
        let headers: serde_json::Map<String, Value> = request
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), Value::from(v.to_str().unwrap_or_default())))
            .collect();
        text += &json!({"received_at": "2026-01-01T00:00:00Z", "headers": headers, "body": request.body}).to_string();
        text.push('\n');
    }
    std::fs::write(&capture, text).unwrap();
    let mut command = std::process::Command::new(verifier_python());
    command.arg(repo_root().join("scripts/standardwebhooks_check.py")).arg(&capture);
    for secret in accept {
        command.arg("--accept").arg(secret);
    }
    for secret in reject {
        command.arg("--reject").arg(secret);
    }
    let out = command.output().expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the reference verifier refused: {report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains(&format!("checked {} deliveries, 0 problems", ids.len())), "{report}");
}

async fn mutate(api: &Api, name: &str, gid: &str, with_secret: bool) -> Value {
    let fields = if with_secret { format!("errors secret {SIGNING}") } else { format!("errors {SIGNING}") };
    let document = format!("mutation($id: ID!) {{ {name}(input: {{ destinationId: $id }}) {{ {fields} }} }}");
    let reply = api.graphql(&document, json!({"id": gid})).await.expect(200);
    assert!(reply.body["errors"].is_null(), "{}", reply.text);
    reply.body["data"][name].clone()
}

async fn signed_delivery(server: &TestServer, receiver: &Receiver, id: &str) -> Vec<Value> {
    let ids = ingest(&server.root(), json!([group_event(id)])).await;
    wait_for_ids(receiver, &ids).await;
    ids
}

async fn signatures_verify_with_the_reference_library(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let receiver = Receiver::start().await;
    let (id, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/in")})).await;
    let gid = format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{id}");
    let dir = tempdir(&server);

    let enabled = mutate(&root, "auditrelayWebhookSigningEnable", &gid, true).await;
    assert_eq!(enabled["errors"], json!([]));
    let first = enabled["secret"].as_str().unwrap().to_owned();
    assert!(first.starts_with("whsec_") && first.len() == 50, "{first}");
    assert_eq!(enabled["webhookSigning"]["enabled"], json!(true));
    assert_eq!(enabled["webhookSigning"]["secrets"][0]["lastFour"], json!(&first[first.len() - 4..]));
    let again = mutate(&root, "auditrelayWebhookSigningEnable", &gid, true).await;
    assert_eq!(again["errors"], json!(["Webhook signing is already enabled; rotate the secret to replace it"]));
    let removed_none = mutate(&root, "auditrelayWebhookSecretRemoveOld", &gid, false).await;
    assert_eq!(removed_none["errors"], json!(["There is no old signing secret to remove: no rotation is in progress"]));

    // The secret is shown once: reads show only its last four characters.
    let read = root
        .graphql(
            "query { group(fullPath: \"acme\") { externalAuditEventStreamingDestinations { nodes { auditrelayWebhookSigning { enabled secrets { lastFour } } } } } }",
            json!({}),
        )
        .await
        .expect(200);
    assert!(!read.text.contains(&first[6..]), "{}", read.text);
    assert!(read.text.contains("\"enabled\":true"), "{}", read.text);

    let one = signed_delivery(&server, &receiver, "signed-1").await;
    let request = receiver.received().into_iter().find(|r| r.json()["id"] == one[0]).unwrap();
    assert_eq!(request.header("webhook-id"), Some("signed-1"), "webhook-id is the event's id as streamed");
    assert_eq!(request.header("webhook-signature").unwrap().split(' ').count(), 1);
    check_with_reference(&receiver, &one, &[&first], &[], &dir);

    // Rotation: both secrets sign until the old one is removed.
    let rotated = mutate(&root, "auditrelayWebhookSecretRotate", &gid, true).await;
    assert_eq!(rotated["errors"], json!([]));
    let second = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(rotated["webhookSigning"]["secrets"].as_array().unwrap().len(), 2);
    let third = mutate(&root, "auditrelayWebhookSecretRotate", &gid, true).await;
    assert_eq!(third["errors"], json!(["A rotation is already in progress; remove the old signing secret first"]));
    let two = signed_delivery(&server, &receiver, "signed-2").await;
    let request = receiver.received().into_iter().find(|r| r.json()["id"] == two[0]).unwrap();
    assert_eq!(request.header("webhook-signature").unwrap().split(' ').count(), 2);
    check_with_reference(&receiver, &two, &[&first, &second], &[], &dir);

    let removed = mutate(&root, "auditrelayWebhookSecretRemoveOld", &gid, false).await;
    assert_eq!(removed["errors"], json!([]));
    assert_eq!(removed["webhookSigning"]["secrets"][0]["lastFour"], json!(&second[second.len() - 4..]));
    let three = signed_delivery(&server, &receiver, "signed-3").await;
    check_with_reference(&receiver, &three, &[&second], &[&first], &dir);

    let disabled = mutate(&root, "auditrelayWebhookSigningDisable", &gid, false).await;
    assert_eq!(disabled["errors"], json!([]));
    assert_eq!(disabled["webhookSigning"], json!({"enabled": false, "secrets": []}));
    let four = signed_delivery(&server, &receiver, "signed-4").await;
    let request = receiver.received().into_iter().find(|r| r.json()["id"] == four[0]).unwrap();
    assert!(request.header("webhook-signature").is_none() && request.header("webhook-id").is_none());

    // Every change is an audit event of its own, streamed like any other.
    let messages: Vec<String> = receiver
        .received()
        .iter()
        .filter_map(|r| r.json()["details"]["custom_message"].as_str().map(str::to_owned))
        .filter(|m| m.contains("Standard Webhooks"))
        .collect();
    for expected in ["Enabled Standard", "Added a new Standard", "Removed the old Standard", "Disabled Standard"] {
        assert!(messages.iter().any(|m| m.starts_with(expected)), "{expected}: {messages:?}");
    }

    if backend == Backend::Sqlite {
        for entry in std::fs::read_dir(&server.data_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with("auditrelay.db") {
                let bytes = std::fs::read(&path).unwrap();
                for secret in [&first, &second] {
                    let needle = &secret.as_bytes()[6..];
                    assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{} holds a secret", path.display());
                }
            }
        }
    }
}

/// Only HTTP destinations sign; an unknown id names the problem.
async fn signing_errors_name_the_problem(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let reply = root
        .graphql(
            "mutation { groupAuditEventStreamingDestinationsCreate(input: { groupPath: \"acme\", category: \"aws\", secretToken: \"aws-secret-value-123456\", config: {accessKeyXid: \"AKIAIOSFODNN7EXAMPLE\", bucketName: \"acme-audit\", awsRegion: \"eu-west-1\"} }) { errors externalAuditEventDestination { id } } }",
            json!({}),
        )
        .await
        .expect(200);
    let gid = reply.body["data"]["groupAuditEventStreamingDestinationsCreate"]["externalAuditEventDestination"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", reply.text))
        .to_owned();
    let refused = mutate(&root, "auditrelayWebhookSigningEnable", &gid, true).await;
    assert_eq!(refused["errors"], json!(["Webhook signing is only available for HTTP destinations"]));
    let document =
        "mutation { auditrelayWebhookSigningEnable(input: { destinationId: \"gid://gitlab/User/1\" }) { errors } }";
    let bad = root.graphql(document, json!({})).await.expect(200);
    assert!(bad.text.contains("is not the global id of a streaming destination"), "{}", bad.text);
}

fn tempdir(server: &TestServer) -> PathBuf {
    let dir = server.data_dir.join("signing-test");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

on_both_backends!(signatures_verify_with_the_reference_library, signing_errors_name_the_problem);
