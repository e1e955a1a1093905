//! Secrets and what reaches them: `/-/metrics` behind an admin token or the metrics token,
//! custom headers that may not set framing or hop-by-hop headers, and the data dir's modes.

use auditrelay_testkit::Backend;
use serde_json::json;

use crate::{create_group, user_with_token};

const METRICS_TOKEN: &str = "metrics-scraper-token-0001";

async fn metrics_need_an_admin_or_the_metrics_token(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (_, reader) = user_with_token(&root, "reader", &["read_api"]).await;
    assert_eq!(server.api(None).get("/-/metrics").await.status, 401, "anonymous");
    assert_eq!(server.api(Some("glpat-not-a-token")).get("/-/metrics").await.status, 401);
    assert_eq!(server.api(Some(METRICS_TOKEN)).get("/-/metrics").await.status, 401, "not set yet");
    assert_eq!(reader.get("/-/metrics").await.status, 403, "a user who is not an admin");
    assert!(root.get("/-/metrics").await.expect(200).text.contains("auditrelay_http_requests_total"));
    // The metrics token: set by an admin, checked, never shown back; bad values are refused.
    root.put("/api/v4/application/settings", &json!({"metrics_token": "short"})).await.expect(400);
    let settings = root.put("/api/v4/application/settings", &json!({"metrics_token": METRICS_TOKEN})).await.expect(200);
    assert!(!settings.text.contains(METRICS_TOKEN));
    let scraper = server.api(Some(METRICS_TOKEN));
    assert!(scraper.get("/-/metrics").await.expect(200).text.contains("auditrelay_log_head_seq"));
    let bearer = reqwest::Client::new()
        .get(format!("{}/-/metrics", server.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200, "Prometheus' authorization: credentials");
    assert_eq!(scraper.get("/api/v4/audit_events").await.status, 401, "the metrics token opens nothing else");
    assert!(!root.get("/api/v4/application/settings").await.expect(200).text.contains(METRICS_TOKEN));
    root.put("/api/v4/application/settings", &json!({"metrics_token": ""})).await.expect(200);
    assert_eq!(scraper.get("/-/metrics").await.status, 401, "cleared");
}

async fn framing_headers_are_refused(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let created = root
        .graphql(
            "mutation { externalAuditEventDestinationCreate(input: { destinationUrl: \"https://siem.example.com\", groupPath: \"acme\" }) { errors externalAuditEventDestination { id } } }",
            json!({}),
        )
        .await
        .expect(200);
    let id = created.body["data"]["externalAuditEventDestinationCreate"]["externalAuditEventDestination"]["id"].clone();
    for (key, message) in [
        ("Host", "Key cannot be Host"),
        ("content-length", "Key cannot be Content-Length"),
        ("Transfer-Encoding", "Key cannot be Transfer-Encoding"),
        ("Connection", "Key cannot be Connection"),
        ("Proxy-Authorization", "Key cannot be Proxy-Authorization"),
    ] {
        let reply = root
            .graphql(
                "mutation($id: AuditEventsExternalAuditEventDestinationID!, $key: String!) { auditEventsStreamingHeadersCreate(input: { destinationId: $id, key: $key, value: \"x\" }) { errors header { id } } }",
                json!({"id": id, "key": key}),
            )
            .await
            .expect(200);
        assert_eq!(reply.body["data"]["auditEventsStreamingHeadersCreate"]["errors"], json!([message]), "{key}");
        // The consolidated API: the same rule, in the config's words.
        let reply = root
            .graphql(
                "mutation($config: JSON!) { groupAuditEventStreamingDestinationsCreate(input: { groupPath: \"acme\", category: \"http\", config: $config }) { errors } }",
                json!({"config": {"url": "https://siem.example.com/x", "headers": {key: {"value": "x", "active": true}}}}),
            )
            .await
            .expect(200);
        let errors = reply.body["data"]["groupAuditEventStreamingDestinationsCreate"]["errors"].to_string();
        assert!(errors.contains("Config headers cannot contain "), "{key}: {errors}");
    }
    let ok = root
        .graphql(
            "mutation($id: AuditEventsExternalAuditEventDestinationID!) { auditEventsStreamingHeadersCreate(input: { destinationId: $id, key: \"Authorization\", value: \"Splunk abc\" }) { errors } }",
            json!({"id": id}),
        )
        .await
        .expect(200);
    assert_eq!(ok.body["data"]["auditEventsStreamingHeadersCreate"]["errors"], json!([]));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_data_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = crate::server(Backend::Sqlite).await;
    server.root().post("/api/v4/audit_events", &crate::event("x", "Group", "g")).await.expect(201);
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&server.data_dir), 0o700, "the data dir");
    let mut files = 0;
    for entry in std::fs::read_dir(&server.data_dir).unwrap() {
        let path = entry.unwrap().path();
        // `server.log` is the test harness's capture of the server's output.
        if path.is_file() && !path.ends_with("server.log") {
            files += 1;
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    assert!(files >= 3, "database, key file, credentials");
}

crate::on_both_backends!(metrics_need_an_admin_or_the_metrics_token, framing_headers_are_refused);

const HEADER_SECRET: &str = "Splunk header-secret-0123456789";

/// The stored `header_value` column of every header row, straight from the database.
async fn stored_header_values(server: &auditrelay_testkit::TestServer) -> (sqlx::AnyPool, Vec<String>) {
    sqlx::any::install_default_drivers();
    let url = match &server.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", server.data_dir.join("auditrelay.db").display()),
    };
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    let values =
        sqlx::query_scalar("SELECT header_value FROM destination_headers ORDER BY id").fetch_all(&pool).await.unwrap();
    (pool, values)
}

async fn header_values(root: &auditrelay_testkit::Api) -> serde_json::Value {
    let reply = root
        .graphql("{ group(fullPath: \"acme\") { externalAuditEventDestinations { nodes { headers { nodes { key value } } } } } }", json!({}))
        .await
        .expect(200);
    reply.body["data"]["group"]["externalAuditEventDestinations"]["nodes"][0]["headers"]["nodes"].clone()
}

async fn header_values_are_sealed_at_rest(backend: Backend) {
    let mut server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let created = root
        .graphql(
            "mutation { externalAuditEventDestinationCreate(input: { destinationUrl: \"https://siem.example.com\", groupPath: \"acme\" }) { externalAuditEventDestination { id } } }",
            json!({}),
        )
        .await
        .expect(200);
    let id = created.body["data"]["externalAuditEventDestinationCreate"]["externalAuditEventDestination"]["id"].clone();
    for (key, value) in [("Authorization", HEADER_SECRET), ("X-Other", "other-value-1")] {
        let reply = root
            .graphql(
                "mutation($id: AuditEventsExternalAuditEventDestinationID!, $key: String!, $value: String!) { auditEventsStreamingHeadersCreate(input: { destinationId: $id, key: $key, value: $value }) { errors } }",
                json!({"id": id, "key": key, "value": value}),
            )
            .await
            .expect(200);
        assert_eq!(reply.body["data"]["auditEventsStreamingHeadersCreate"]["errors"], json!([]));
    }
    // The API answers the values as GitLab does; the database holds them sealed.
    let expected =
        json!([{"key": "Authorization", "value": HEADER_SECRET}, {"key": "X-Other", "value": "other-value-1"}]);
    assert_eq!(header_values(&root).await, expected);
    let (pool, stored) = stored_header_values(&server).await;
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|v| v.starts_with("v1:") && !v.contains("secret") && !v.contains("other")), "{stored:?}");
    // A row stored in plain text (by an earlier version) reads as it is and is sealed at start.
    sqlx::query("UPDATE destination_headers SET header_value = 'plain-legacy-value' WHERE header_key = 'X-Other'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    server.restart();
    let root = server.root();
    let expected =
        json!([{"key": "Authorization", "value": HEADER_SECRET}, {"key": "X-Other", "value": "plain-legacy-value"}]);
    assert_eq!(header_values(&root).await, expected);
    let (pool, stored) = stored_header_values(&server).await;
    assert!(stored.iter().all(|v| v.starts_with("v1:") && !v.contains("legacy")), "sealed at start: {stored:?}");
    pool.close().await;
}

crate::on_both_backends!(header_values_are_sealed_at_rest);
