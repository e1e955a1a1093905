use auditrelay_testkit::Backend;
use serde_json::{Value, json};

use crate::{all_event_ids, create_group, event, on_both_backends, user_with_token};

async fn accepts_object_array_and_ndjson(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let one = root.post("/api/v4/audit_events", &event("a", "Group", "acme")).await.expect(201);
    assert_eq!(one.body["ids"].as_array().unwrap().len(), 1);
    let many = root
        .post("/api/v4/audit_events", &json!([event("b", "Group", "acme"), event("c", "Project", "acme/web")]))
        .await
        .expect(201);
    assert_eq!(many.body["ids"].as_array().unwrap().len(), 2);
    let ndjson = format!(
        "{}\n{}\n\n{}\n",
        event("d", "Group", "acme"),
        event("e", "Group", "acme"),
        event("f", "Group", "acme")
    );
    let nd = root.post_raw("/api/v4/audit_events", "application/x-ndjson", ndjson).await.expect(201);
    assert_eq!(nd.body["ids"].as_array().unwrap().len(), 3);
    // GitLab's own content type for JSON bodies is accepted too.
    root.post_raw("/api/v4/audit_events", "application/x-www-form-urlencoded", event("g", "Group", "acme").to_string())
        .await
        .expect(201);

    // The stored event carries GitLab's payload fields.
    let id = one.body["ids"][0].clone();
    let stored = root.get(&format!("/api/v4/audit_events/{id}")).await.expect(200);
    assert_eq!(stored.body["event_name"], "a");
    assert_eq!(stored.body["entity_type"], "Group");
    assert_eq!(stored.body["details"]["entity_path"], "acme");
}

async fn producer_ids_make_retries_idempotent(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let batch = json!([
        {"id": "evt-1", "event_type": "x", "entity_type": "Group", "entity_path": "acme"},
        {"id": 42, "event_type": "x", "entity_type": "Group", "entity_path": "acme"},
        {"event_type": "x", "entity_type": "Group", "entity_path": "acme"}
    ]);
    let first = root.post("/api/v4/audit_events", &batch).await.expect(201);
    let before = all_event_ids(&root).await.len();
    let retry = root.post("/api/v4/audit_events", &json!([batch[0], batch[1]])).await.expect(201);
    // A producer's integer id is its decimal text (integers are the service's own ids).
    assert_eq!(retry.body["ids"], json!(["evt-1", "42"]));
    assert_eq!(first.body["ids"][0], "evt-1");
    assert_eq!(first.body["ids"][1], "42");
    assert_eq!(all_event_ids(&root).await.len(), before, "a retried id is not stored twice");
    // The same id twice in one request is stored once.
    let dup = root.post("/api/v4/audit_events", &json!([{"id": "d", "event_type": "x", "entity_type": "Group", "entity_id": 1}, {"id": "d", "event_type": "x", "entity_type": "Group", "entity_id": 1}])).await.expect(201);
    assert_eq!(dup.body["ids"], json!(["d", "d"]));
    assert_eq!(all_event_ids(&root).await.len(), before + 1);
    // String "42" is the same producer id as integer 42 (acme's scope).
    let text = root
        .post("/api/v4/audit_events", &json!({"id": "42", "event_type": "x", "entity_type": "Group", "entity_id": 1}))
        .await
        .expect(201);
    assert_eq!(text.body["ids"], json!(["42"]));
    assert_eq!(all_event_ids(&root).await.len(), before + 1);
    let by_string = root.get("/api/v4/audit_events/evt-1").await.expect(200);
    assert_eq!(by_string.body["streamed_id"], "evt-1");
}

async fn bad_input_is_refused_whole(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    root.post("/api/v4/audit_events", &event("seed", "Group", "acme")).await.expect(201);
    let before = all_event_ids(&root).await;

    let mut batch: Vec<Value> = (0..5).map(|i| event(&format!("ok_{i}"), "Group", "acme")).collect();
    batch[3] = json!({"event_type": "bad", "entity_type": "Group", "entity_path": "acme", "author_id": "seven"});
    let refused = root.post("/api/v4/audit_events", &Value::Array(batch)).await.expect(400);
    assert_eq!(refused.body["message"], "event 3: author_id must be an integer, not a string");

    let cases: Vec<(String, &str)> = vec![
        ("{\"event_type\":".into(), "not valid JSON"),
        ("42".into(), "object or an array"),
        ("[]".into(), "no events"),
        (json!({"entity_type": "Group", "entity_id": 1}).to_string(), "event 0: event_type is required"),
        (json!({"event_type": "x", "entity_type": "Group"}).to_string(), "entity_id or entity_path is required"),
        (json!({"event_type": "x", "entity_type": "Galaxy", "entity_id": 1}).to_string(), "entity_type 'Galaxy'"),
        (
            json!({"event_type": "x", "entity_type": "Group", "entity_id": 1, "colour": "red"}).to_string(),
            "unknown field 'colour'",
        ),
        (
            json!({"event_type": "x", "entity_type": "Group", "entity_id": 1, "details": "text"}).to_string(),
            "details must be an object",
        ),
        (
            json!({"event_type": "x", "entity_type": "Group", "entity_id": 1, "created_at": "tomorrow"}).to_string(),
            "created_at",
        ),
        (json!({"event_type": "x", "entity_type": "Group", "entity_id": 999}).to_string(), "does not exist"),
        (json!({"event_type": "x", "entity_type": "Group", "entity_path": "a//b"}).to_string(), "entity_path"),
    ];
    for (body, expected) in cases {
        let reply = root.post_raw("/api/v4/audit_events", "application/json", body.clone()).await.expect(400);
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{body} → {message}");
    }
    let nd = root
        .post_raw(
            "/api/v4/audit_events",
            "application/x-ndjson",
            "{\"event_type\":\"x\",\"entity_type\":\"Group\",\"entity_id\":1}\n{oops\n",
        )
        .await
        .expect(400);
    assert!(nd.body["message"].as_str().unwrap().starts_with("line 2"));
    let bytes = root.post_raw("/api/v4/audit_events", "application/json", vec![0xff, 0xfe, b'{']).await.expect(400);
    assert!(bytes.body["message"].as_str().unwrap().contains("not valid JSON"));

    // Too many events, too many bytes.
    let too_many: Vec<Value> = (0..1001).map(|_| event("x", "Group", "acme")).collect();
    let reply = root.post("/api/v4/audit_events", &Value::Array(too_many)).await.expect(413);
    assert!(reply.body["message"].as_str().unwrap().contains("1001 events"));
    let huge = json!({"event_type": "x", "entity_type": "Group", "entity_path": "acme", "details": {"blob": "x".repeat(11 * 1024 * 1024)}});
    let reply = root.post("/api/v4/audit_events", &huge).await.expect(413);
    assert!(reply.body["message"].as_str().unwrap().contains("limit"));

    assert_eq!(all_event_ids(&root).await, before, "nothing of a refused request is stored");
}

async fn ingest_needs_the_right_token(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (_, reader) = user_with_token(&root, "reader", &["read_api"]).await;
    let (_, plain_api) = user_with_token(&root, "dev", &["api"]).await;
    let (owner_id, owner) = user_with_token(&root, "owner", &["api"]).await;
    let owner_ingest = {
        let token = root
            .post(
                &format!("/api/v4/users/{owner_id}/personal_access_tokens"),
                &json!({"name": "ingest", "scopes": ["ingest_audit_events"]}),
            )
            .await
            .expect(201);
        owner.with_token(token.body["token"].as_str().unwrap())
    };
    let acme = create_group(&owner, "acme", None).await;
    create_group(&root, "other", None).await;

    assert_eq!(
        reader.post("/api/v4/audit_events", &event("x", "Group", "acme")).await.expect(403).body["scope"],
        "ingest_audit_events"
    );
    plain_api.post("/api/v4/audit_events", &event("x", "Group", "acme")).await.expect(403);
    server.api(Some("glpat-wrong")).post("/api/v4/audit_events", &event("x", "Group", "acme")).await.expect(401);
    // The ingest token reads nothing.
    owner_ingest.get("/api/v4/user").await.expect(403);
    // An Owner's ingest token may send events of their group, not of another group, and may not
    // create namespaces or speak for the instance.
    owner_ingest.post("/api/v4/audit_events", &event("x", "Group", "acme")).await.expect(201);
    owner_ingest
        .post("/api/v4/audit_events", &json!({"event_type": "x", "entity_type": "Group", "entity_id": acme}))
        .await
        .expect(201);
    let other = owner_ingest.post("/api/v4/audit_events", &event("x", "Group", "other")).await.expect(403);
    assert!(other.body["message"].as_str().unwrap().contains("event 0"));
    owner_ingest.post("/api/v4/audit_events", &event("x", "Group", "brand-new")).await.expect(400);
    owner_ingest
        .post("/api/v4/audit_events", &json!({"event_type": "x", "entity_type": "Gitlab::Audit::InstanceScope"}))
        .await
        .expect(403);
}

async fn events_teach_the_namespace_tree(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    root.post(
        "/api/v4/audit_events",
        &json!({"event_type": "x", "entity_type": "Project", "entity_path": "a/b/c", "entity_id": 777}),
    )
    .await
    .expect(201);
    let a = root.get("/api/v4/groups/a").await.expect(200);
    let b = root.get("/api/v4/groups/a%2Fb").await.expect(200);
    assert_eq!(b.body["parent_id"], a.body["id"]);
    let c = root.get("/api/v4/projects/a%2Fb%2Fc").await.expect(200);
    assert_eq!(c.body["namespace"]["id"], b.body["id"]);
    // The payload keeps the producer's entity id; the event is in the project's and groups' logs.
    let project_log = root.get("/api/v4/projects/a%2Fb%2Fc/audit_events").await.expect(200);
    assert_eq!(project_log.body[0]["entity_id"], 777);
    let group_log = root.get("/api/v4/groups/a/audit_events").await.expect(200);
    assert_eq!(group_log.body.as_array().unwrap().len(), 1);
    // A path that is a project cannot become a group.
    let clash = root.post("/api/v4/audit_events", &event("x", "Group", "a/b/c/d")).await.expect(400);
    assert!(clash.body["message"].as_str().unwrap().contains("already taken"), "{}", clash.text);
}

on_both_backends!(
    accepts_object_array_and_ndjson,
    producer_ids_make_retries_idempotent,
    bad_input_is_refused_whole,
    ingest_needs_the_right_token,
    events_teach_the_namespace_tree,
);

/// Random bodies at the HTTP endpoint: every answer is a 2xx or 4xx, never a 5xx, and the
/// service keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_bodies_never_break_ingest() {
    use rand::{Rng, SeedableRng};
    let server = crate::server(Backend::Sqlite).await;
    let root = server.root();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x00a0_d17e);
    let fields = [
        "id",
        "event_type",
        "entity_type",
        "entity_id",
        "entity_path",
        "author_id",
        "details",
        "created_at",
        "ip_address",
        "target_id",
        "x",
    ];
    let values = [
        json!(null),
        json!(1),
        json!(-1),
        json!(1.5),
        json!("Group"),
        json!("Project"),
        json!("a/b"),
        json!(""),
        json!([]),
        json!({}),
        json!(true),
        json!(i64::MAX),
        json!("2024-01-01"),
    ];
    for round in 0..300 {
        let body: Vec<u8> = if round % 3 == 0 {
            (0..rng.random_range(0..200)).map(|_| rng.random::<u8>()).collect()
        } else {
            let events: Vec<Value> = (0..rng.random_range(1..4))
                .map(|_| {
                    let mut object = serde_json::Map::new();
                    for _ in 0..rng.random_range(0..7) {
                        let field = fields[rng.random_range(0..fields.len())];
                        object.insert(field.into(), values[rng.random_range(0..values.len())].clone());
                    }
                    Value::Object(object)
                })
                .collect();
            Value::Array(events).to_string().into_bytes()
        };
        let content_type = if round % 5 == 0 { "application/x-ndjson" } else { "application/json" };
        let reply = root.post_raw("/api/v4/audit_events", content_type, body.clone()).await;
        assert!(
            reply.status < 500,
            "round {round}: {} for {:?}: {}",
            reply.status,
            String::from_utf8_lossy(&body),
            reply.text
        );
    }
    root.get("/-/readiness").await.expect(200);
}
