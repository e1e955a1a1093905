//! Secrets at rest: no destination secret is stored or returned in plain text.

use auditrelay_testkit::{Backend, TestServer};
use serde_json::json;

use super::documents::*;
use super::helpers::*;
use crate::{create_group, on_both_backends};

const GCP_SECRET: &str = "-----BEGIN PRIVATE KEY-----secretvalue123";
const AWS_SECRET: &str = "aws-secret-value-123456";

async fn secrets_are_encrypted_at_rest(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let gcp = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "gcp", "secretToken": GCP_SECRET,
               "config": {"googleProjectIdName": "acme-audit", "clientEmail": "sa@example.com"}}),
    )
    .await;
    assert_eq!(gcp["errors"], json!([]));
    let aws = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "aws", "secretToken": AWS_SECRET,
               "config": {"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "bucketName": "acme-audit", "awsRegion": "eu-west-1"}}),
    )
    .await;
    assert_eq!(aws["errors"], json!([]));
    let legacy_gcp = payload(
        &root,
        &gcp_create_default_log(),
        "googleCloudLoggingConfigurationCreate",
        gcp_variables("acme", "acme-legacy", &format!("{GCP_SECRET}-legacy"), "legacy-gcp"),
    )
    .await;
    assert_eq!(legacy_gcp["errors"], json!([]));
    let legacy_s3 = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "acme-legacy", &format!("{AWS_SECRET}-legacy"), "legacy-s3"),
    )
    .await;
    assert_eq!(legacy_s3["errors"], json!([]));
    let http = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "http", "secretToken": "http-token-abcdef-123", "config": {"url": "https://siem.example.com"}}),
    )
    .await;
    assert_eq!(http["errors"], json!([]));
    // The secrets are not echoed back by any API either.
    let everything = root.graphql(&group_destinations_query(), json!({"fullPath": "acme"})).await;
    assert!(
        !everything.text.contains("secretvalue123") && !everything.text.contains(AWS_SECRET),
        "{}",
        everything.text
    );
    let secrets = [GCP_SECRET.as_bytes(), AWS_SECRET.as_bytes(), b"secretvalue123", b"http-token-abcdef-123"];

    match backend {
        Backend::Sqlite => assert_sqlite_free_of(&server, &secrets),
        Backend::Postgres => assert_postgres_free_of(&server, &secrets),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_sqlite_free_of(server: &TestServer, secrets: &[&[u8]]) {
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&server.data_dir).expect("data dir") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("auditrelay.db") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read database file");
        for secret in secrets {
            assert!(!contains(&bytes, secret), "{name} holds the plain secret {}", String::from_utf8_lossy(secret));
        }
        checked.push(name);
    }
    assert!(
        checked.iter().any(|n| n == "auditrelay.db"),
        "no database file in {}: {checked:?}",
        server.data_dir.display()
    );
}

fn psql(url: &str, sql: &str) -> String {
    let output = std::process::Command::new("psql").arg(url).args(["-Atc", sql]).output().expect("run psql");
    assert!(output.status.success(), "psql failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn assert_postgres_free_of(server: &TestServer, secrets: &[&[u8]]) {
    let url = server.database_url.as_deref().expect("a PostgreSQL server has a database URL");
    let stored = psql(url, "select secret from destinations");
    let values: Vec<&str> = stored.lines().collect();
    assert_eq!(values.len(), 5, "{stored}");
    assert!(values.iter().all(|v| v.starts_with("v1:")), "every secret is sealed: {stored}");
    // Every column of every destination and header row, as text.
    let rows = psql(url, "select d::text from destinations d union all select h::text from destination_headers h");
    for secret in secrets {
        let secret = std::str::from_utf8(secret).unwrap();
        assert!(!stored.contains(secret), "secret column holds {secret}");
        assert!(!rows.contains(secret), "a destination row holds {secret}: {rows}");
    }
}

on_both_backends!(secrets_are_encrypted_at_rest);
