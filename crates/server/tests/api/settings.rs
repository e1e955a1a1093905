use auditrelay_testkit::Backend;
use serde_json::json;

use crate::{on_both_backends, user_with_token};

async fn application_settings(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let settings = root.get("/api/v4/application/settings").await.expect(200);
    assert_eq!(settings.body["allow_local_requests_from_web_hooks_and_services"], false);
    assert_eq!(settings.body["ai_audit_event_streaming_enabled"], false);

    let updated =
        root.put("/api/v4/application/settings", &json!({"ai_audit_event_streaming_enabled": true})).await.expect(200);
    assert_eq!(updated.body["ai_audit_event_streaming_enabled"], true);
    // GitLab clients send settings as query parameters too.
    let by_query = root
        .send(
            reqwest::Method::PUT,
            "/api/v4/application/settings?allow_local_requests_from_web_hooks_and_services=true",
            None,
            None,
        )
        .await
        .expect(200);
    assert_eq!(by_query.body["allow_local_requests_from_web_hooks_and_services"], true);

    let bad = root.put("/api/v4/application/settings", &json!({"ai_audit_event_streaming_enabled": "yes", "allow_local_requests_from_web_hooks_and_services": false})).await.expect(400);
    assert!(bad.body["error"].as_str().unwrap().contains("ai_audit_event_streaming_enabled"));
    root.put("/api/v4/application/settings", &json!({"no_such_setting": true})).await.expect(400);
    let unchanged = root.get("/api/v4/application/settings").await.expect(200);
    assert_eq!(
        unchanged.body["allow_local_requests_from_web_hooks_and_services"], true,
        "a refused update changes nothing"
    );

    let (_, alice) = user_with_token(&root, "alice", &["api"]).await;
    alice.get("/api/v4/application/settings").await.expect(403);
    alice.put("/api/v4/application/settings", &json!({"ai_audit_event_streaming_enabled": false})).await.expect(403);

    let log = root.get("/api/v4/audit_events?entity_type=Gitlab::Audit::InstanceScope").await.expect(200);
    let changes: Vec<&str> =
        log.body.as_array().unwrap().iter().map(|e| e["details"]["target_details"].as_str().unwrap()).collect();
    assert_eq!(changes, ["allow_local_requests_from_web_hooks_and_services", "ai_audit_event_streaming_enabled"]);
}

on_both_backends!(application_settings);
