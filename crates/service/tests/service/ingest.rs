//! Ingest: who may send which events, how a batch is placed and authored, and that a refused
//! batch stores nothing.

use auditrelay_core::{EventId, Scope};
use auditrelay_service::access::need;
use auditrelay_service::events::{EventQuery, Page};
use auditrelay_service::{Caller, ServiceError, ServiceResult};
use serde_json::json;

use crate::{Backend, Cast, assert_refused, on_both_backends};

fn body(events: serde_json::Value) -> Vec<u8> {
    events.to_string().into_bytes()
}

fn group_event(path: &str) -> serde_json::Value {
    json!({"event_type": "custom_event", "entity_type": "Group", "entity_path": path})
}

async fn log_len(cast: &Cast) -> usize {
    let page = Page::Offset { page: 1, per_page: 100 };
    let admin = cast.service().access().admin(cast.root()).unwrap();
    cast.service().events().instance_events(&admin, &EventQuery::default(), page).await.unwrap().events.len()
}

/// Sends a batch as `sender`, with the proof of the ingest scope ingest takes.
async fn ingest(cast: &Cast, sender: &Caller, batch: &[u8], ndjson: bool) -> ServiceResult<Vec<EventId>> {
    let scoped = cast.service().access().scoped(sender)?;
    cast.service().ingest().ingest(&scoped, batch, ndjson).await
}

#[tokio::test]
async fn ingest_needs_the_ingest_scope_or_an_admin_api_token() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let batch = body(group_event("alpha"));
    let access = service.access();
    assert_refused!(
        access.scoped::<need::Ingest>(&cast.owner),
        ServiceError::InsufficientScope(Scope::IngestAuditEvents)
    );
    let reader = cast.world.caller_of(cast.root().user.id, &["read_api"]).await;
    assert_refused!(access.scoped::<need::Ingest>(&reader), ServiceError::InsufficientScope(_));
    assert_eq!(ingest(&cast, cast.root(), &batch, false).await.unwrap().len(), 1);
    let producer = cast.world.caller_of(cast.owner.user.id, &["ingest_audit_events"]).await;
    assert_eq!(ingest(&cast, &producer, &batch, false).await.unwrap().len(), 1);
}

async fn only_owners_send_their_groups_events_and_a_refused_batch_stores_nothing(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let owner = cast.world.caller_of(cast.owner.user.id, &["ingest_audit_events"]).await;
    let maintainer = cast.world.caller_of(cast.maintainer.user.id, &["ingest_audit_events"]).await;
    let before = log_len(&cast).await;
    // One event of another tenant's group spoils the whole batch.
    let mixed = body(json!([group_event("alpha"), group_event("beta")]));
    assert_refused!(ingest(&cast, &owner, &mixed, false).await, ServiceError::Denied(m) if m.starts_with("event 1:"));
    assert_refused!(ingest(&cast, &maintainer, &body(group_event("alpha")), false).await, ServiceError::Denied(_));
    // Only admins' events teach the service new namespaces.
    assert_refused!(
        ingest(&cast, &owner, &body(group_event("alpha/new")), false).await,
        ServiceError::BadInput(m) if m.contains("does not exist")
    );
    assert_eq!(log_len(&cast).await, before, "nothing of a refused batch is stored");
    let learned = ingest(&cast, cast.root(), &body(group_event("gamma/team")), false).await.unwrap();
    assert_eq!(learned.len(), 1);
    let learned = service.access().group(cast.root(), "gamma/team").await;
    assert!(service.identity().group(&learned.unwrap()).await.is_ok(), "the admin's event created the group");
}

#[tokio::test]
async fn instance_and_user_events_are_for_admins_or_about_oneself() {
    let cast = Cast::new(Backend::Sqlite).await;
    let producer = cast.world.caller_of(cast.developer.user.id, &["ingest_audit_events"]).await;
    let instance = json!({"event_type": "custom", "entity_type": "Gitlab::Audit::InstanceScope", "entity_id": 1});
    assert_refused!(ingest(&cast, &producer, &body(instance.clone()), false).await, ServiceError::Denied(_));
    let other = json!({"event_type": "custom", "entity_type": "User", "entity_id": cast.owner.user.id});
    assert_refused!(ingest(&cast, &producer, &body(other), false).await, ServiceError::Denied(_));
    let me = json!({"event_type": "custom", "entity_type": "User", "entity_id": cast.developer.user.id});
    assert_eq!(ingest(&cast, &producer, &body(me), false).await.unwrap().len(), 1);
    assert_eq!(ingest(&cast, cast.root(), &body(instance), false).await.unwrap().len(), 1);
}

#[tokio::test]
async fn only_a_top_level_owner_or_admin_names_another_author() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    // The maintainer creates a subgroup, so owns it, but alpha's stream is not theirs to sign.
    let sub = cast.world.group(&cast.maintainer, "sub", Some(&cast.alpha)).await;
    let sub_owner = cast.world.caller_of(cast.maintainer.user.id, &["ingest_audit_events"]).await;
    let claimed = |author: i64| {
        body(json!({"event_type": "custom", "entity_type": "Group", "entity_path": sub.full_path, "author_id": author}))
    };
    assert_refused!(
        ingest(&cast, &sub_owner, &claimed(cast.owner.user.id.get()), false).await,
        ServiceError::Denied(m) if m.contains("top-level group 'alpha'")
    );
    assert_eq!(ingest(&cast, &sub_owner, &claimed(cast.maintainer.user.id.get()), false).await.unwrap().len(), 1);
    let top_owner = cast.world.caller_of(cast.owner.user.id, &["ingest_audit_events"]).await;
    assert_eq!(ingest(&cast, &top_owner, &claimed(cast.developer.user.id.get()), false).await.unwrap().len(), 1);
    // An omitted author is the sender.
    let page = Page::Offset { page: 1, per_page: 100 };
    let query = EventQuery { event_type: Some("custom".into()), ..Default::default() };
    let anonymous = body(json!({"event_type": "custom", "entity_type": "Group", "entity_path": "alpha/sub"}));
    ingest(&cast, &sub_owner, &anonymous, false).await.unwrap();
    let grant = service.access().group(cast.root(), "alpha/sub").await.unwrap();
    let events = service.events().group_events(&grant, &query, page).await.unwrap().events;
    assert_eq!(events.iter().filter(|e| e.author_id == Some(cast.maintainer.user.id.get())).count(), 2);
}

#[tokio::test]
async fn malformed_batches_are_refused_with_what_is_wrong() {
    let cast = Cast::new(Backend::Sqlite).await;
    let root = cast.root();
    assert_refused!(ingest(&cast, root, b"{not json", false).await, ServiceError::BadInput(_));
    let no_type = body(json!({"entity_type": "Group", "entity_path": "alpha"}));
    assert_refused!(
        ingest(&cast, root, &no_type, false).await,
        ServiceError::BadInput(m) if m == "event 0: event_type is required"
    );
    let nowhere = body(json!({"event_type": "x", "entity_type": "Group"}));
    assert_refused!(ingest(&cast, root, &nowhere, false).await, ServiceError::BadInput(m) if m.contains("entity_id or entity_path"));
    let summary =
        body(json!({"event_type": "ai_agent_session_summary", "entity_type": "Group", "entity_path": "alpha"}));
    assert_refused!(ingest(&cast, root, &summary, false).await, ServiceError::BadInput(m) if m.contains("service's own event"));
    let ndjson = format!("{}\n{}\n", group_event("alpha"), group_event("alpha"));
    assert_eq!(ingest(&cast, root, ndjson.as_bytes(), true).await.unwrap().len(), 2);
}

async fn a_producer_id_is_stored_once_per_top_level_group(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let with_id =
        |path: &str| body(json!({"id": "evt-1", "event_type": "custom", "entity_type": "Group", "entity_path": path}));
    let first = ingest(&cast, cast.root(), &with_id("alpha"), false).await.unwrap();
    let again = ingest(&cast, cast.root(), &with_id("alpha"), false).await.unwrap();
    assert_eq!(first, vec![EventId::Str("evt-1".into())]);
    assert_eq!(again, first, "a re-sent event answers its id");
    ingest(&cast, cast.root(), &with_id("beta"), false).await.unwrap();
    let query = EventQuery { event_type: Some("custom".into()), ..Default::default() };
    let page = Page::Offset { page: 1, per_page: 100 };
    let admin = service.access().admin(cast.root()).unwrap();
    let read = service.events().instance_events(&admin, &query, page).await.unwrap();
    assert_eq!(read.events.len(), 2, "once in alpha, once in beta");
}

/// Concurrent batches of new paths are learned together (the log writer gathers them), sharing
/// a path; one batch naming a project's path is refused alone, and every other batch's groups
/// are where their paths say.
async fn concurrent_batches_learn_their_paths_together_and_fail_alone(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let path = |k: usize, n: usize| format!("learn/team-{}/g-{}", n % 3, k * 20 + n);
    let batch = |k: usize| {
        let mut events: Vec<_> = (0..20).map(|n| group_event(&path(k, n))).collect();
        events.push(group_event("learn/shared"));
        if k == 3 {
            events.push(group_event("alpha/app"));
        }
        body(json!(events))
    };
    let batches: Vec<Vec<u8>> = (0..8).map(batch).collect();
    let sent = futures_util::future::join_all(batches.iter().map(|b| ingest(&cast, cast.root(), b, false))).await;
    for (k, answer) in sent.into_iter().enumerate() {
        if k == 3 {
            assert_refused!(
                answer,
                ServiceError::BadInput(m) if m.starts_with("event 21: entity_path 'alpha/app' is already taken")
            );
        } else {
            assert_eq!(answer.unwrap().len(), 21, "batch {k}");
        }
    }
    let identity = service.identity();
    let shared = identity.group(&service.access().group(cast.root(), "learn/shared").await.unwrap()).await.unwrap();
    for k in (0..8).filter(|k| *k != 3) {
        for n in 0..20 {
            let grant = service.access().group(cast.root(), &path(k, n)).await.unwrap();
            let group = identity.group(&grant).await.unwrap();
            assert_eq!(group.full_path, path(k, n));
            assert_eq!(group.root_id, shared.root_id, "{} is under learn", path(k, n));
        }
    }
}

on_both_backends!(
    only_owners_send_their_groups_events_and_a_refused_batch_stores_nothing,
    a_producer_id_is_stored_once_per_top_level_group,
    concurrent_batches_learn_their_paths_together_and_fail_alone,
);
