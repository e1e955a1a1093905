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
