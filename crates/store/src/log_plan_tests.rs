//! The listings' query plans on SQLite after migration 0015: each scope and the entity filter
//! are still answered from an index (a walk of the whole log would pass these tests' results
//! but not a large instance's).

use sqlx::{Connection, Row};

use super::{EventFilter, EventScope, SeqOrder, list_sql};
use crate::dialect::Dialect;
use crate::migrate::apply_pending;

async fn migrated_db() -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect("sqlite::memory:").await.expect("in-memory SQLite");
    apply_pending(&mut conn, Dialect::Sqlite, i64::MAX).await.expect("migrations");
    conn
}

/// SQLite's plan of the first page of `filter`, newest first, as one line per step.
async fn plan_of(filter: EventFilter) -> String {
    let mut conn = migrated_db().await;
    let (sql, w) = list_sql(&filter, SeqOrder::NewestFirst { before: Some(1_000) }, 0, 20);
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let rows = w.bind(sqlx::query(&explain)).fetch_all(&mut conn).await.expect("plan");
    rows.iter().map(|r| r.get::<String, _>("detail")).collect::<Vec<_>>().join("\n")
}

fn scoped(scope: EventScope) -> EventFilter {
    EventFilter { scope, ..EventFilter::all() }
}

#[tokio::test]
async fn a_subgroup_is_listed_from_its_top_level_groups_index() {
    let plan = plan_of(scoped(EventScope::GroupTree { group_id: 2, full_path: "a/b".into(), is_root: false })).await;
    assert!(plan.contains("USING INDEX events_root_group"), "{plan}");
}

#[tokio::test]
async fn a_top_level_group_and_a_project_are_listed_from_their_indexes() {
    let plan = plan_of(scoped(EventScope::GroupTree { group_id: 1, full_path: "a".into(), is_root: true })).await;
    assert!(plan.contains("USING INDEX events_root_group"), "{plan}");
    let plan = plan_of(scoped(EventScope::Project(5))).await;
    assert!(plan.contains("USING INDEX events_project"), "{plan}");
}

#[tokio::test]
async fn a_user_entity_filter_uses_the_partial_entity_index() {
    let filter = EventFilter { entity_type: Some("User".into()), entity_id: Some(7), ..EventFilter::all() };
    let plan = plan_of(filter).await;
    assert!(plan.contains("USING INDEX events_entity"), "{plan}");
}

#[tokio::test]
async fn an_ai_workflow_is_listed_from_the_partial_workflow_index() {
    let plan = plan_of(EventFilter { workflow_id: Some(9), ..EventFilter::all() }).await;
    assert!(plan.contains("USING INDEX events_workflow"), "{plan}");
}
