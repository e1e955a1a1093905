//! The archive's reads without ClickHouse configured: there is no archive to report on, and
//! every listing, in every scope, answers from the operational store at once.

use auditrelay_service::events::{EventQuery, Page, ReadSource};
use auditrelay_store::SeqOrder;
use serde_json::json;

use crate::{Backend, Cast, World, on_both_backends};

#[tokio::test]
async fn without_clickhouse_there_is_no_archive_health_to_report() {
    // Built as `serve` builds it without `--clickhouse-url`: no `with_archive`, so health is
    // `None` (it is exactly when no archive is wired).
    let world = World::new(Backend::Sqlite).await;
    assert!(world.service.status().archive_health().await.unwrap().is_none());
}

async fn without_clickhouse_every_scope_reads_from_the_store_at_once(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let batch = json!([
        {"event_type": "archived_read", "entity_type": "Group", "entity_path": "alpha"},
        {"event_type": "archived_read", "entity_type": "Project", "entity_path": "alpha/app"},
    ]);
    let (access, events) = (service.access(), service.events());
    let root = access.scoped(cast.root()).unwrap();
    service.ingest().ingest(&root, batch.to_string().as_bytes(), false).await.unwrap();
    let query = |entity: Option<&str>| EventQuery {
        event_type: Some("archived_read".into()),
        entity_type: entity.map(str::to_owned),
        ..EventQuery::default()
    };
    let page = Page::Offset { page: 1, per_page: 20 };
    let admin = access.admin(cast.root()).unwrap();
    let owner = access.group(&cast.owner, "alpha").await.unwrap();
    let maintainer = access.project(&cast.maintainer, "alpha/app").await.unwrap();
    let reads = [
        (events.instance_events(&admin, &query(None), page).await.unwrap(), 2),
        (events.group_events(&owner, &query(Some("Group")), page).await.unwrap(), 1),
        (events.project_events(&maintainer, &query(Some("Project")), page).await.unwrap(), 1),
    ];
    for (read, expected) in reads {
        assert_eq!(read.source, ReadSource::Store);
        assert_eq!(read.events.len(), expected, "the events just ingested are read back without waiting");
        assert_eq!(read.total, Some(expected as i64));
    }
    let ai = events.ai_events(&admin, &EventQuery::default(), page).await.unwrap();
    assert_eq!((ai.source, ai.events.len()), (ReadSource::Store, 0));
}

#[tokio::test]
async fn without_clickhouse_keyset_pages_read_from_the_store() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let events: Vec<_> =
        (0..3).map(|_| json!({"event_type": "paged", "entity_type": "Group", "entity_path": "alpha"})).collect();
    let root = service.access().scoped(cast.root()).unwrap();
    service.ingest().ingest(&root, json!(events).to_string().as_bytes(), false).await.unwrap();
    let query = EventQuery { event_type: Some("paged".into()), ..EventQuery::default() };
    let owner = service.access().group(&cast.owner, "alpha").await.unwrap();
    let first = Page::Keyset { order: SeqOrder::NewestFirst { before: None }, per_page: 2 };
    let first = service.events().group_events(&owner, &query, first).await.unwrap();
    assert_eq!((first.source, first.events.len()), (ReadSource::Store, 2));
    let next = Page::Keyset { order: SeqOrder::NewestFirst { before: first.next_seq }, per_page: 2 };
    let rest = service.events().group_events(&owner, &query, next).await.unwrap();
    assert_eq!((rest.source, rest.events.len(), rest.next_seq), (ReadSource::Store, 1, None));
}

on_both_backends!(without_clickhouse_every_scope_reads_from_the_store_at_once);
