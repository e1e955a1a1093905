//! Reading the log: who reads which scope (Owners a group's events, Maintainers a project's,
//! Developers their own), tenant isolation of single events, filters and pagination.

use auditrelay_core::Scope;
use auditrelay_service::access::{need, rules};
use auditrelay_service::events::{EventKey, EventQuery, Page, ReadSource};
use auditrelay_service::{Caller, ServiceError};
use auditrelay_store::SeqOrder;
use serde_json::json;

use crate::{Backend, Cast, assert_refused, on_both_backends};

const PAGE: Page = Page::Offset { page: 1, per_page: 100 };

/// Root sends `read_test` events: in alpha by the developer and by the owner, in `alpha/app` by
/// the developer and by the maintainer, in beta by the other owner (each with a producer id).
async fn seeded(backend: Backend) -> Cast {
    let cast = Cast::new(backend).await;
    let event = |id: &str, kind: &str, path: &str, author: i64| json!({"id": id, "event_type": "read_test", "entity_type": kind, "entity_path": path, "author_id": author});
    let batch = json!([
        event("a-dev", "Group", "alpha", cast.developer.user.id.get()),
        event("a-own", "Group", "alpha", cast.owner.user.id.get()),
        event("p-dev", "Project", "alpha/app", cast.developer.user.id.get()),
        event("p-mnt", "Project", "alpha/app", cast.maintainer.user.id.get()),
        event("shared", "Group", "alpha", cast.owner.user.id.get()),
        event("shared", "Group", "beta", cast.other_owner.user.id.get()),
    ]);
    let root = cast.service().access().scoped(cast.root()).unwrap();
    cast.service().ingest().ingest(&root, batch.to_string().as_bytes(), false).await.unwrap();
    cast
}

fn ids(events: &[auditrelay_store::StoredEvent]) -> Vec<String> {
    let mut ids: Vec<String> = events.iter().map(|e| e.id.to_string().trim_matches('"').to_owned()).collect();
    ids.sort();
    ids
}

fn read_test() -> EventQuery {
    EventQuery { event_type: Some("read_test".into()), ..Default::default() }
}

async fn group_events_are_for_owners_and_developers_see_their_own(backend: Backend) {
    let cast = seeded(backend).await;
    let (access, events) = (cast.service().access(), cast.service().events());
    let q = read_test();
    let read = async |caller: &Caller, group: &str| {
        let grant = access.group(caller, group).await.unwrap();
        events.group_events(&grant, &q, PAGE).await.unwrap()
    };
    let owner = read(&cast.owner, "alpha").await;
    assert_eq!(ids(&owner.events), ["a-dev", "a-own", "p-dev", "p-mnt", "shared"]);
    assert_eq!(owner.source, ReadSource::Store);
    assert_eq!(ids(&read(&cast.developer, "alpha").await.events), ["a-dev", "p-dev"]);
    // A maintainer reads a group's events only as a developer would (their own).
    assert_eq!(ids(&read(&cast.maintainer, "alpha").await.events), ["p-mnt"]);
    let grant = async |caller: &Caller| access.group::<rules::ReadGroupEvents>(caller, "alpha").await.map(|_| ());
    assert_refused!(grant(&cast.reporter).await, ServiceError::Forbidden);
    assert_refused!(grant(&cast.outsider).await, ServiceError::NotFound("Group"));
    assert_refused!(grant(&cast.other_owner).await, ServiceError::NotFound("Group"));
    assert_eq!(ids(&read(&cast.other_owner, "beta").await.events), ["shared"]);
}

#[tokio::test]
async fn project_events_are_for_maintainers_and_developers_see_their_own() {
    let cast = seeded(Backend::Sqlite).await;
    let (access, events) = (cast.service().access(), cast.service().events());
    let q = read_test();
    let maintainer = access.project(&cast.maintainer, "alpha/app").await.unwrap();
    assert_eq!(ids(&events.project_events(&maintainer, &q, PAGE).await.unwrap().events), ["p-dev", "p-mnt"]);
    let developer = access.project(&cast.developer, "alpha/app").await.unwrap();
    assert_eq!(ids(&events.project_events(&developer, &q, PAGE).await.unwrap().events), ["p-dev"]);
    let grant =
        async |caller: &Caller| access.project::<rules::ReadProjectEvents>(caller, "alpha/app").await.map(|_| ());
    assert_refused!(grant(&cast.reporter).await, ServiceError::Forbidden);
    assert_refused!(grant(&cast.other_owner).await, ServiceError::NotFound("Project"));
}

#[tokio::test]
async fn instance_events_are_for_admins() {
    let cast = seeded(Backend::Sqlite).await;
    let (access, events) = (cast.service().access(), cast.service().events());
    let q = read_test();
    // The instance's events, and any one of them, take an administrator's reading proof.
    assert_refused!(access.admin::<need::Read>(&cast.owner), ServiceError::Forbidden);
    let reader = cast.world.caller_of(cast.root().user.id, &["read_api"]).await;
    let admin = access.admin(&reader).unwrap();
    assert_eq!(events.instance_events(&admin, &q, PAGE).await.unwrap().total, Some(6));
    let producer = cast.world.caller_of(cast.root().user.id, &["ingest_audit_events"]).await;
    assert_refused!(access.admin::<need::Read>(&producer), ServiceError::InsufficientScope(Scope::Api));
}

async fn a_single_event_is_found_only_in_its_own_scope(backend: Backend) {
    let cast = seeded(backend).await;
    let (access, events) = (cast.service().access(), cast.service().events());
    let alpha = access.group(&cast.owner, "alpha").await.unwrap();
    let beta = access.group(&cast.other_owner, "beta").await.unwrap();
    let alpha_shared = events.group_event(&alpha, EventKey::Streamed("shared")).await.unwrap();
    let beta_shared = events.group_event(&beta, EventKey::Streamed("shared")).await.unwrap();
    assert_ne!(alpha_shared.seq, beta_shared.seq, "a producer id names an event within its top-level group");
    // Another tenant's event, by the service's id, through one's own group: not found.
    assert_refused!(
        events.group_event(&alpha, EventKey::Service(beta_shared.seq)).await,
        ServiceError::NotFound("Audit Event")
    );
    let developer = access.group(&cast.developer, "alpha").await.unwrap();
    assert_refused!(
        events.group_event(&developer, EventKey::Streamed("a-own")).await,
        ServiceError::NotFound("Audit Event")
    );
    assert!(events.group_event(&developer, EventKey::Streamed("a-dev")).await.is_ok());
    let maintainer = access.project(&cast.maintainer, "alpha/app").await.unwrap();
    assert_refused!(
        events.project_event(&maintainer, EventKey::Streamed("a-dev")).await,
        ServiceError::NotFound("Audit Event")
    );
    assert!(events.project_event(&maintainer, EventKey::Streamed("p-dev")).await.is_ok());
    // At the instance, an id two groups' events carry is ambiguous.
    let root = access.admin(cast.root()).unwrap();
    assert_refused!(events.instance_event(&root, EventKey::Streamed("shared")).await, ServiceError::Conflict(_));
    let one = events.instance_event(&root, EventKey::Streamed("a-own")).await.unwrap();
    assert_eq!(events.instance_event(&root, EventKey::Service(one.seq)).await.unwrap().seq, one.seq);
    assert_refused!(
        events.instance_event(&root, EventKey::Streamed("nope")).await,
        ServiceError::NotFound("Audit Event")
    );
}

#[tokio::test]
async fn filters_are_checked_and_pages_continue() {
    let cast = seeded(Backend::Sqlite).await;
    let (access, events) = (cast.service().access(), cast.service().events());
    let root = access.admin(cast.root()).unwrap();
    let bad_type = EventQuery { entity_type: Some("Planet".into()), ..Default::default() };
    assert_refused!(events.instance_events(&root, &bad_type, PAGE).await, ServiceError::BadParam(_));
    let id_only = EventQuery { entity_id: Some(1), ..Default::default() };
    assert_refused!(
        events.instance_events(&root, &id_only, PAGE).await,
        ServiceError::BadParam(m) if m == "entity_id requires entity_type"
    );
    let projects = EventQuery { entity_type: Some("Project".into()), ..read_test() };
    assert_eq!(ids(&events.instance_events(&root, &projects, PAGE).await.unwrap().events), ["p-dev", "p-mnt"]);
    let by_author = EventQuery { author_id: Some(cast.developer.user.id.get()), ..read_test() };
    let owner = access.group(&cast.owner, "alpha").await.unwrap();
    assert_eq!(events.group_events(&owner, &by_author, PAGE).await.unwrap().events.len(), 2);

    let small = Page::Offset { page: 2, per_page: 4 };
    let second = events.instance_events(&root, &read_test(), small).await.unwrap();
    assert_eq!((second.events.len(), second.total), (2, Some(6)));
    let keyset = Page::Keyset { order: SeqOrder::OldestFirst { after: None }, per_page: 4 };
    let first = events.instance_events(&root, &read_test(), keyset).await.unwrap();
    assert_eq!(first.events.len(), 4);
    assert!(first.next_seq.is_some(), "a next page is announced");
}

#[tokio::test]
async fn the_ai_events_query_is_for_admins_and_ai_types() {
    let cast = seeded(Backend::Sqlite).await;
    let (access, events) = (cast.service().access(), cast.service().events());
    // The AI-events query takes an administrator's reading proof, as the instance's events do.
    assert_refused!(access.admin::<need::Read>(&cast.owner), ServiceError::Forbidden);
    let root = access.admin(cast.root()).unwrap();
    let not_ai = read_test();
    assert_refused!(events.ai_events(&root, &not_ai, PAGE).await, ServiceError::BadParam(m) if m.starts_with("event_type must be one of"));
    assert!(events.ai_events(&root, &EventQuery::default(), PAGE).await.unwrap().events.is_empty());
}

on_both_backends!(
    group_events_are_for_owners_and_developers_see_their_own,
    a_single_event_is_found_only_in_its_own_scope
);
