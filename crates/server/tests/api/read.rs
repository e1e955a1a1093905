use auditrelay_testkit::Backend;
use serde_json::{Value, json};

use crate::{create_group, on_both_backends, user_with_token};

fn at(event_type: &str, entity_type: &str, path: &str, created_at: &str) -> Value {
    json!({"event_type": event_type, "entity_type": entity_type, "entity_path": path, "created_at": created_at})
}

async fn filters_and_offset_pagination(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let batch: Vec<Value> =
        (1..=25).map(|day| at("daily", "Group", "acme", &format!("2024-01-{day:02}T12:00:00Z"))).collect();
    root.post("/api/v4/audit_events", &Value::Array(batch)).await.expect(201);
    root.post("/api/v4/audit_events", &at("proj", "Project", "acme/web", "2024-01-10T00:00:00Z")).await.expect(201);

    let window = root
        .get("/api/v4/audit_events?created_after=2024-01-05&created_before=2024-01-09T23:59:59Z&entity_type=Group")
        .await
        .expect(200);
    let days: Vec<&str> = window.body.as_array().unwrap().iter().map(|e| e["created_at"].as_str().unwrap()).collect();
    assert_eq!(days.len(), 5, "{days:?}");
    assert!(days.iter().all(|d| *d >= "2024-01-05" && *d < "2024-01-10"));
    assert_eq!(days[0], "2024-01-09T12:00:00.000Z", "newest first");

    let projects = root.get("/api/v4/audit_events?entity_type=Project").await.expect(200);
    let project_events = projects.body.as_array().unwrap();
    assert_eq!(project_events.len(), 1);
    let project_id = project_events[0]["entity_id"].as_i64().unwrap();
    let by_id = root.get(&format!("/api/v4/audit_events?entity_type=Project&entity_id={project_id}")).await.expect(200);
    assert_eq!(by_id.body.as_array().unwrap().len(), 1);

    root.get("/api/v4/audit_events?entity_type=Planet").await.expect(400);
    root.get("/api/v4/audit_events?entity_id=3").await.expect(400);
    root.get("/api/v4/audit_events?created_after=someday").await.expect(400);

    let page = root.get("/api/v4/audit_events?entity_type=Group&per_page=10&page=2").await.expect(200);
    assert_eq!(page.body.as_array().unwrap().len(), 10);
    assert_eq!(page.header("x-page"), Some("2"));
    assert_eq!(page.header("x-per-page"), Some("10"));
    assert_eq!(page.header("x-total"), Some("25"));
    assert_eq!(page.header("x-total-pages"), Some("3"));
    assert_eq!(page.header("x-next-page"), Some("3"));
    assert_eq!(page.header("x-prev-page"), Some("1"));
    let next = page.next_link().expect("next link");
    assert!(next.starts_with(&format!("{}/api/v4/audit_events?", server.base)), "{next}");
    let last = root.get(&next).await.expect(200);
    assert_eq!(last.body.as_array().unwrap().len(), 5);
    assert_eq!(last.header("x-next-page"), Some(""));
    let capped = root.get("/api/v4/audit_events?per_page=1000").await.expect(200);
    assert_eq!(capped.header("x-per-page"), Some("100"));
}

async fn keyset_pagination_walks_every_event_once(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let batch: Vec<Value> = (0..45)
        .map(|i| json!({"id": format!("k{i}"), "event_type": "x", "entity_type": "Group", "entity_path": "acme"}))
        .collect();
    root.post("/api/v4/audit_events", &Value::Array(batch)).await.expect(201);
    let mut url = "/api/v4/audit_events?pagination=keyset&per_page=20&order_by=id&sort=desc".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = root.get(&url).await.expect(200);
        pages += 1;
        assert!(page.header("x-total").is_none(), "keyset pages carry no totals");
        seen.extend(page.body.as_array().unwrap().iter().map(|e| e["streamed_id"].clone()));
        match page.next_link() {
            Some(next) => url = next,
            None => break,
        }
    }
    let ours: Vec<Value> = seen.iter().filter(|id| id.as_str().is_some_and(|s| s.starts_with('k'))).cloned().collect();
    let expected: Vec<Value> = (0..45).rev().map(|i| json!(format!("k{i}"))).collect();
    assert_eq!(ours, expected, "newest first, each once");
    assert!(pages >= 3);
    root.get("/api/v4/audit_events?pagination=keyset&cursor=garbage").await.expect(400);
    root.get("/api/v4/audit_events?pagination=keyset&order_by=created_at").await.expect(400);
}

async fn group_and_project_scopes_and_roles(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (_, owner) = user_with_token(&root, "owner", &["api"]).await;
    let (dev_id, dev) = user_with_token(&root, "dev", &["api"]).await;
    let (_, stranger) = user_with_token(&root, "stranger", &["api"]).await;
    let acme = create_group(&owner, "acme", None).await;
    owner
        .post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": dev_id, "access_level": 30}))
        .await
        .expect(201);
    root.post(
        "/api/v4/audit_events",
        &json!([
            {"id": "g1", "event_type": "x", "entity_type": "Group", "entity_path": "acme"},
            {"id": "s1", "event_type": "x", "entity_type": "Group", "entity_path": "acme/sub"},
            {"id": "p1", "event_type": "x", "entity_type": "Project", "entity_path": "acme/sub/web", "author_id": dev_id},
            {"id": "o1", "event_type": "x", "entity_type": "Group", "entity_path": "elsewhere"},
            {"id": "u1", "event_type": "x", "entity_type": "User", "entity_id": 1}
        ]),
    )
    .await
    .expect(201);

    let ids = |reply: &auditrelay_testkit::Reply| -> Vec<String> {
        reply.body.as_array().unwrap().iter().filter_map(|e| e["streamed_id"].as_str().map(str::to_owned)).collect()
    };
    // The Owner sees the group, its subgroups and projects, nothing else.
    let tree = owner.get("/api/v4/groups/acme/audit_events").await.expect(200);
    assert_eq!(ids(&tree), ["p1", "s1", "g1"]);
    let sub = owner.get("/api/v4/groups/acme%2Fsub/audit_events").await.expect(200);
    assert_eq!(ids(&sub), ["p1", "s1"]);
    owner.get("/api/v4/groups/acme/audit_events/o1").await.expect(404);
    owner.get("/api/v4/groups/acme%2Fsub/audit_events/g1").await.expect(404);
    assert_eq!(owner.get("/api/v4/groups/acme/audit_events/p1").await.expect(200).body["streamed_id"], "p1");
    // A Developer sees only events they authored, in the group and in the project.
    let own = dev.get("/api/v4/groups/acme/audit_events").await.expect(200);
    assert_eq!(ids(&own), ["p1"]);
    dev.get("/api/v4/groups/acme/audit_events/g1").await.expect(404);
    assert_eq!(ids(&dev.get("/api/v4/projects/acme%2Fsub%2Fweb/audit_events").await.expect(200)), ["p1"]);
    // Others get "not found"; only admins read the instance log.
    stranger.get("/api/v4/groups/acme/audit_events").await.expect(404);
    stranger.get("/api/v4/projects/acme%2Fsub%2Fweb/audit_events").await.expect(404);
    owner.get("/api/v4/audit_events").await.expect(403);
    owner.get("/api/v4/audit_events/g1").await.expect(403);
    let project = owner.get("/api/v4/projects/acme%2Fsub%2Fweb/audit_events/p1").await.expect(200);
    assert_eq!(project.body["entity_type"], "Project");
    root.get("/api/v4/audit_events/u1").await.expect(200);
    root.get("/api/v4/audit_events/nope").await.expect(404);
}

on_both_backends!(
    filters_and_offset_pagination,
    keyset_pagination_walks_every_event_once,
    group_and_project_scopes_and_roles
);
