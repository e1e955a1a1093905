//! Tenant isolation and integrity (docs/integrity.md): producer ids are scoped per top-level
//! group, values a backend cannot store are refused at the door, one request's failed commit
//! fails no other, and an event's author is what the sender may claim.

use auditrelay_testkit::{Api, Backend, Receiver};
use serde_json::{Value, json};
use std::time::Duration;

use crate::delivery::http_destination;
use crate::{create_group, on_both_backends, user_with_token};

const PRODUCER: &[&str] = &["api", "ingest_audit_events"];

/// Two top-level groups, `alpha` (with a subgroup `alpha/team`) and `beta`, each with its own
/// Owner (not an admin).
async fn two_tenants(root: &Api) -> (Api, Api) {
    let (_, alpha) = user_with_token(root, "alice", PRODUCER).await;
    let (_, beta) = user_with_token(root, "bob", PRODUCER).await;
    let alpha_id = create_group(&alpha, "alpha", None).await;
    create_group(&alpha, "team", Some(alpha_id)).await;
    create_group(&beta, "beta", None).await;
    (alpha, beta)
}

fn group_event(id: &str, path: &str) -> Value {
    json!({"id": id, "event_type": "tenant_event", "entity_type": "Group", "entity_path": path})
}

async fn ingest(api: &Api, events: Value) -> Vec<Value> {
    api.post("/api/v4/audit_events", &events).await.expect(201).body["ids"].as_array().unwrap().clone()
}

/// A group's events of `event_type` (its listing also holds the service's own events).
async fn group_events(api: &Api, group: &str, event_type: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut url = format!("/api/v4/groups/{group}/audit_events?pagination=keyset&per_page=100");
    loop {
        let page = api.get(&url).await.expect(200);
        events.extend(page.body.as_array().unwrap().iter().filter(|e| e["event_name"] == event_type).cloned());
        match page.next_link() {
            Some(next) => url = next,
            None => return events,
        }
    }
}

async fn producer_ids_are_scoped_per_top_level_group(backend: Backend) {
    let server = crate::delivery::fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    http_destination(&root, None, json!({"url": receiver.url("/all")})).await;
    let (alpha, beta) = two_tenants(&root).await;

    // Beta's owner takes `evt-X` first; alpha's own `evt-X` is another event, stored and streamed.
    assert_eq!(ingest(&beta, group_event("evt-X", "beta")).await, [json!("evt-X")]);
    assert_eq!(ingest(&alpha, group_event("evt-X", "alpha")).await, [json!("evt-X")]);
    assert_eq!(group_events(&alpha, "alpha", "tenant_event").await.len(), 1, "alpha's event is stored");
    // A repeat within alpha's scope (also through its subgroup) answers the original, stores nothing.
    assert_eq!(ingest(&alpha, group_event("evt-X", "alpha/team")).await, [json!("evt-X")]);
    assert_eq!(ingest(&alpha, json!([group_event("evt-X", "alpha"), group_event("evt-Y", "alpha")])).await.len(), 2);
    assert_eq!(group_events(&alpha, "alpha", "tenant_event").await.len(), 2);
    assert_eq!(group_events(&beta, "beta", "tenant_event").await.len(), 1);
    // The instance is a scope of its own.
    let user_event = json!({"id": "evt-X", "event_type": "tenant_event", "entity_type": "User", "entity_id": 1});
    assert_eq!(ingest(&root, user_event).await, [json!("evt-X")]);

    // Reads by id resolve within the caller's scope.
    let a = alpha.get("/api/v4/groups/alpha/audit_events/evt-X").await.expect(200);
    assert_eq!(a.body["details"]["entity_path"], "alpha");
    let b = beta.get("/api/v4/groups/beta/audit_events/evt-X").await.expect(200);
    assert_eq!(b.body["details"]["entity_path"], "beta");
    alpha.get("/api/v4/groups/alpha/team/audit_events/evt-X").await.expect(404);
    beta.get("/api/v4/groups/beta/audit_events/evt-Y").await.expect(404);
    let instance = root.get("/api/v4/audit_events/evt-X").await.expect(200);
    assert_eq!(instance.body["entity_type"], "User");
    // Only alpha has `evt-Y`: the instance finds it; an id two groups share is ambiguous there.
    assert_eq!(root.get("/api/v4/audit_events/evt-Y").await.expect(200).body["details"]["entity_path"], "alpha");
    let projects = json!([
        {"id": "p-1", "event_type": "e", "entity_type": "Project", "entity_path": "alpha/app"},
        {"id": "p-1", "event_type": "e", "entity_type": "Project", "entity_path": "beta/app"}
    ]);
    ingest(&root, projects).await;
    root.get("/api/v4/audit_events/p-1").await.expect(409);
    let project = alpha.get("/api/v4/projects/alpha%2Fapp/audit_events/p-1").await.expect(200);
    assert_eq!(project.body["details"]["entity_path"], "alpha/app");

    // Every `evt-X` is streamed: alpha's, beta's and the instance's, each once.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut paths: Vec<String> = loop {
        let paths: Vec<String> = receiver
            .received()
            .iter()
            .map(|r| r.json())
            .filter(|p| p["id"] == "evt-X")
            .map(|p| p["entity_path"].as_str().unwrap_or_default().to_owned())
            .collect();
        if paths.len() >= 3 || std::time::Instant::now() > deadline {
            break paths;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    paths.sort();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(paths.contains(&"alpha".to_owned()) && paths.contains(&"beta".to_owned()), "{paths:?}");
}

/// A producer's integer id is its decimal text; integers are the service's own ids.
async fn producer_ids_never_collide_with_service_ids(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let own = ingest(&root, json!({"event_type": "x", "entity_type": "Group", "entity_path": "acme"})).await;
    let seq = own[0].as_i64().expect("the service's own id is an integer");
    let theirs =
        ingest(&root, json!({"id": seq, "event_type": "x", "entity_type": "Group", "entity_path": "acme"})).await;
    assert_eq!(theirs, [json!(seq.to_string())], "a producer's integer id is answered as text");
    assert_ne!(theirs[0], own[0]);
    let ids = crate::all_event_ids(&root).await;
    assert_eq!(ids, [own[0].clone(), theirs[0].clone()], "two events, two distinct public ids");
    // The text and the integer form name the same producer id.
    let again =
        ingest(&root, json!({"id": seq.to_string(), "event_type": "x", "entity_type": "Group", "entity_path": "acme"}))
            .await;
    assert_eq!(again, theirs);
    assert_eq!(crate::all_event_ids(&root).await.len(), 2);
}

/// NUL characters, which PostgreSQL's text cannot hold, are refused with 400 naming the field.
async fn nul_characters_are_refused_at_the_door(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let base = || json!({"event_type": "x", "entity_type": "Group", "entity_path": "acme"});
    ingest(&root, base()).await;
    let cases: [(&str, Value, &str); 6] = [
        ("author_name", json!("a\u{0}b"), "event 0: author_name contains a NUL character"),
        ("target_details", json!("\u{0}"), "event 0: target_details contains a NUL character"),
        ("details", json!({"a": {"b": [1, "x\u{0}"]}}), "event 0: details.a.b[1] contains a NUL character"),
        ("details", json!({"k\u{0}": 1}), "event 0: a key in details contains a NUL character"),
        ("id", json!("evt\u{0}"), "event 0: id contains a NUL character"),
        ("details", json!({"workflow_id": 1, "session_id": "s\u{0}"}), "event 0: details.session_id contains"),
    ];
    for (field, value, message) in cases {
        let mut event = base();
        event[field] = value;
        if message.contains("session_id") {
            event["event_type"] = json!("ai_tool_invoked");
        }
        let refused = root.post("/api/v4/audit_events", &json!([event])).await.expect(400);
        let text = refused.body["message"].as_str().unwrap_or(&refused.text).to_owned();
        assert!(text.starts_with(message), "{field}: {text}");
    }
    let mut second = base();
    second["details"] = json!({"note": "\u{0}"});
    let refused = root.post("/api/v4/audit_events", &json!([base(), second])).await.expect(400);
    assert!(refused.text.contains("event 1: details.note"), "{}", refused.text);
    assert_eq!(crate::all_event_ids(&root).await.len(), 1, "nothing of a refused request is stored");
}

/// One tenant's poison (NUL in an AI event's session, which used to fail PostgreSQL's group
/// commit) while another tenant ingests: the poison is refused, every other ingest succeeds.
async fn poison_does_not_fail_another_tenants_ingest(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (alpha, beta) = two_tenants(&root).await;
    let poison = json!({"event_type": "ai_tool_invoked", "entity_type": "Group", "entity_path": "alpha",
        "details": {"workflow_id": 1, "session_id": "s\u{0}1"}});
    let statuses = concurrently(&alpha, poison, &beta, "beta").await;
    eprintln!(
        "poison: {} requests; another tenant's ingests failed: {} of 150",
        statuses.poison.len(),
        statuses.other_failures
    );
    assert!(statuses.poison.iter().all(|s| *s == 400), "poison answered {:?}", statuses.poison);
    assert_eq!(statuses.other_failures, 0, "another tenant's ingests failed");
    assert_eq!(group_events(&alpha, "alpha", "ai_tool_invoked").await.len(), 0);
    assert_eq!(group_events(&beta, "beta", "steady").await.len(), 150);
}

/// A group commit the database refuses (the test build's fault) is retried request by request:
/// only the failing request fails.
async fn a_failed_commit_fails_only_its_own_request(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (alpha, beta) = two_tenants(&root).await;
    let fault = json!({"event_type": "auditrelay_test_commit_fault", "entity_type": "Group", "entity_path": "alpha"});
    let statuses = concurrently(&alpha, fault, &beta, "beta").await;
    eprintln!(
        "faults: {} requests; another tenant's ingests failed: {} of 150",
        statuses.poison.len(),
        statuses.other_failures
    );
    assert!(statuses.poison.iter().all(|s| *s == 503), "the fault answered {:?}", statuses.poison);
    assert_eq!(statuses.other_failures, 0, "another tenant's ingests failed");
    assert_eq!(group_events(&alpha, "alpha", "auditrelay_test_commit_fault").await.len(), 0);
    assert_eq!(group_events(&beta, "beta", "steady").await.len(), 150);
}

struct Statuses {
    poison: Vec<u16>,
    other_failures: usize,
}

/// `bad` is sent again and again while `good` sends 150 events in concurrent requests.
async fn concurrently(bad: &Api, poison: Value, good: &Api, path: &str) -> Statuses {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poisoner = {
        let (bad, stop) = (bad.clone(), stop.clone());
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || statuses.len() < 20 {
                let sends: Vec<_> = (0..4)
                    .map(|_| {
                        let (bad, poison) = (bad.clone(), poison.clone());
                        tokio::spawn(async move { bad.post("/api/v4/audit_events", &poison).await.status })
                    })
                    .collect();
                for send in sends {
                    statuses.push(send.await.unwrap());
                }
            }
            statuses
        })
    };
    let sends: Vec<_> = (0..150)
        .map(|n| {
            let good = good.clone();
            let event =
                json!({"event_type": "steady", "entity_type": "Group", "entity_path": path, "details": {"n": n}});
            tokio::spawn(async move { good.post("/api/v4/audit_events", &event).await.status })
        })
        .collect();
    let mut other_failures = 0;
    for send in sends {
        if send.await.unwrap() != 201 {
            other_failures += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    Statuses { poison: poisoner.await.unwrap(), other_failures }
}

/// A Maintainer who creates a subgroup owns it, but may not author events as others there:
/// only an Owner of the top-level group (or an admin) names other authors.
async fn authors_are_what_the_sender_may_claim(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (owner_id, owner) = user_with_token(&root, "olga", PRODUCER).await;
    let (maintainer_id, maintainer) = user_with_token(&root, "mark", PRODUCER).await;
    let corp = create_group(&owner, "corp", None).await;
    owner
        .post(&format!("/api/v4/groups/{corp}/members"), &json!({"user_id": maintainer_id, "access_level": 40}))
        .await
        .expect(201);
    create_group(&maintainer, "side", Some(corp)).await;
    let event = |extra: Value| {
        let mut e = json!({"event_type": "member_added", "entity_type": "Group", "entity_path": "corp/side"});
        e.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        e
    };

    for forged in [
        json!({"author_id": 1}),
        json!({"author_id": owner_id}),
        json!({"author_id": maintainer_id, "author_name": "Administrator"}),
        json!({"details": {"author_name": "Administrator"}}),
        json!({"details": {"author_email": "admin@example.com"}}),
    ] {
        let refused = maintainer.post("/api/v4/audit_events", &event(forged.clone())).await.expect(403);
        assert!(refused.text.contains("only an Owner of the top-level group 'corp'"), "{forged}: {}", refused.text);
    }
    // Their own events are authored by them, whether they say so or not.
    for own in [json!({}), json!({"author_id": maintainer_id, "author_name": "mark"})] {
        let id = ingest(&maintainer, event(own)).await[0].clone();
        let stored = owner.get(&format!("/api/v4/groups/corp/audit_events/{id}")).await.expect(200);
        assert_eq!(stored.body["author_id"], maintainer_id);
        assert_eq!(stored.body["details"]["author_name"], "mark");
    }
    // The top-level Owner's producer names the authors of events it relays.
    let id = ingest(&owner, event(json!({"author_id": maintainer_id, "author_name": "mark"}))).await[0].clone();
    let stored = owner.get(&format!("/api/v4/groups/corp/audit_events/{id}")).await.expect(200);
    assert_eq!(stored.body["author_id"], maintainer_id);
    // A user's events about themselves (instance stream) are authored by them too.
    let about_self = json!({"event_type": "x", "entity_type": "User", "entity_id": maintainer_id, "author_id": 1});
    maintainer.post("/api/v4/audit_events", &about_self).await.expect(403);
    ingest(&root, event(json!({"author_id": owner_id}))).await;
}

on_both_backends!(
    producer_ids_are_scoped_per_top_level_group,
    producer_ids_never_collide_with_service_ids,
    nul_characters_are_refused_at_the_door,
    poison_does_not_fail_another_tenants_ingest,
    a_failed_commit_fails_only_its_own_request,
    authors_are_what_the_sender_may_claim,
);
