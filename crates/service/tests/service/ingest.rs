//! Ingest: who may send which events, how a batch is placed and authored, and that a refused
//! batch stores nothing.

use auditrelay_core::{EventId, Scope};
use auditrelay_service::ServiceError;
use auditrelay_service::events::{EventQuery, Page};
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
    cast.service().instance_events(cast.root(), &EventQuery::default(), page).await.unwrap().events.len()
}

#[tokio::test]
async fn ingest_needs_the_ingest_scope_or_an_admin_api_token() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let batch = body(group_event("alpha"));
    assert_refused!(
        service.ingest(&cast.owner, &batch, false).await,
        ServiceError::InsufficientScope(Scope::IngestAuditEvents)
    );
    let reader = cast.world.caller_of(cast.root().user.id, &["read_api"]).await;
    assert_refused!(service.ingest(&reader, &batch, false).await, ServiceError::InsufficientScope(_));
    assert_eq!(service.ingest(cast.root(), &batch, false).await.unwrap().len(), 1);
    let producer = cast.world.caller_of(cast.owner.user.id, &["ingest_audit_events"]).await;
    assert_eq!(service.ingest(&producer, &batch, false).await.unwrap().len(), 1);
}

async fn only_owners_send_their_groups_events_and_a_refused_batch_stores_nothing(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let owner = cast.world.caller_of(cast.owner.user.id, &["ingest_audit_events"]).await;
    let maintainer = cast.world.caller_of(cast.maintainer.user.id, &["ingest_audit_events"]).await;
    let before = log_len(&cast).await;
    // One event of another tenant's group spoils the whole batch.
    let mixed = body(json!([group_event("alpha"), group_event("beta")]));
    assert_refused!(service.ingest(&owner, &mixed, false).await, ServiceError::Denied(m) if m.starts_with("event 1:"));
    assert_refused!(service.ingest(&maintainer, &body(group_event("alpha")), false).await, ServiceError::Denied(_));
    // Only admins' events teach the service new namespaces.
    assert_refused!(
        service.ingest(&owner, &body(group_event("alpha/new")), false).await,
        ServiceError::BadInput(m) if m.contains("does not exist")
    );
    assert_eq!(log_len(&cast).await, before, "nothing of a refused batch is stored");
    let learned = service.ingest(cast.root(), &body(group_event("gamma/team")), false).await.unwrap();
    assert_eq!(learned.len(), 1);
    assert!(service.group(cast.root(), "gamma/team").await.is_ok(), "the admin's event created the group");
}

#[tokio::test]
async fn instance_and_user_events_are_for_admins_or_about_oneself() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let producer = cast.world.caller_of(cast.developer.user.id, &["ingest_audit_events"]).await;
    let instance = json!({"event_type": "custom", "entity_type": "Gitlab::Audit::InstanceScope", "entity_id": 1});
    assert_refused!(service.ingest(&producer, &body(instance.clone()), false).await, ServiceError::Denied(_));
    let other = json!({"event_type": "custom", "entity_type": "User", "entity_id": cast.owner.user.id});
    assert_refused!(service.ingest(&producer, &body(other), false).await, ServiceError::Denied(_));
    let me = json!({"event_type": "custom", "entity_type": "User", "entity_id": cast.developer.user.id});
    assert_eq!(service.ingest(&producer, &body(me), false).await.unwrap().len(), 1);
    assert_eq!(service.ingest(cast.root(), &body(instance), false).await.unwrap().len(), 1);
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
        service.ingest(&sub_owner, &claimed(cast.owner.user.id), false).await,
        ServiceError::Denied(m) if m.contains("top-level group 'alpha'")
    );
    assert_eq!(service.ingest(&sub_owner, &claimed(cast.maintainer.user.id), false).await.unwrap().len(), 1);
    let top_owner = cast.world.caller_of(cast.owner.user.id, &["ingest_audit_events"]).await;
    assert_eq!(service.ingest(&top_owner, &claimed(cast.developer.user.id), false).await.unwrap().len(), 1);
    // An omitted author is the sender.
    let page = Page::Offset { page: 1, per_page: 100 };
    let query = EventQuery { event_type: Some("custom".into()), ..Default::default() };
    let anonymous = body(json!({"event_type": "custom", "entity_type": "Group", "entity_path": "alpha/sub"}));
    service.ingest(&sub_owner, &anonymous, false).await.unwrap();
    let events = service.group_events(cast.root(), "alpha/sub", &query, page).await.unwrap().events;
    assert_eq!(events.iter().filter(|e| e.author_id == Some(cast.maintainer.user.id)).count(), 2);
}

#[tokio::test]
async fn malformed_batches_are_refused_with_what_is_wrong() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let root = cast.root();
    assert_refused!(service.ingest(root, b"{not json", false).await, ServiceError::BadInput(_));
    let no_type = body(json!({"entity_type": "Group", "entity_path": "alpha"}));
    assert_refused!(
        service.ingest(root, &no_type, false).await,
        ServiceError::BadInput(m) if m == "event 0: event_type is required"
    );
    let nowhere = body(json!({"event_type": "x", "entity_type": "Group"}));
    assert_refused!(service.ingest(root, &nowhere, false).await, ServiceError::BadInput(m) if m.contains("entity_id or entity_path"));
    let summary =
        body(json!({"event_type": "ai_agent_session_summary", "entity_type": "Group", "entity_path": "alpha"}));
    assert_refused!(service.ingest(root, &summary, false).await, ServiceError::BadInput(m) if m.contains("service's own event"));
    let ndjson = format!("{}\n{}\n", group_event("alpha"), group_event("alpha"));
    assert_eq!(service.ingest(root, ndjson.as_bytes(), true).await.unwrap().len(), 2);
}

async fn a_producer_id_is_stored_once_per_top_level_group(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let with_id =
        |path: &str| body(json!({"id": "evt-1", "event_type": "custom", "entity_type": "Group", "entity_path": path}));
    let first = service.ingest(cast.root(), &with_id("alpha"), false).await.unwrap();
    let again = service.ingest(cast.root(), &with_id("alpha"), false).await.unwrap();
    assert_eq!(first, vec![EventId::Str("evt-1".into())]);
    assert_eq!(again, first, "a re-sent event answers its id");
    service.ingest(cast.root(), &with_id("beta"), false).await.unwrap();
    let query = EventQuery { event_type: Some("custom".into()), ..Default::default() };
    let page = Page::Offset { page: 1, per_page: 100 };
    let read = service.instance_events(cast.root(), &query, page).await.unwrap();
    assert_eq!(read.events.len(), 2, "once in alpha, once in beta");
}

on_both_backends!(
    only_owners_send_their_groups_events_and_a_refused_batch_stores_nothing,
    a_producer_id_is_stored_once_per_top_level_group,
);
