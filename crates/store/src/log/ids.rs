//! Producer ids and their scopes: which event of the log a producer's id names.
//!
//! A producer id names one event within its scope, the event's top-level group (or the instance
//! for events outside any group), never across scopes: group A's `evt-X` and group B's `evt-X`
//! are two events, and a repeat within a scope is the first one. The index
//! `events_producer_id (producer_id, COALESCE(root_group_id, 0))` enforces it.

use auditrelay_core::EventId;
use sqlx::Any;
use std::collections::HashMap;

use super::rows::{EVENT_COLUMNS, PreparedEvent, StoredEvent, stored_event};
use crate::Result;
use crate::connect::{Dialect, Store};

const LOOKUP_CHUNK: usize = 500;
/// The scope of a row in SQL, as in the unique index.
const SCOPE_SQL: &str = "COALESCE(root_group_id, 0)";

/// Where a producer id is unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdScope {
    /// Events outside any group (users, the instance).
    Instance,
    /// The events of one top-level group's tree (its id).
    TopLevelGroup(i64),
}

impl IdScope {
    /// The scope of an event with this `root_group_id`.
    pub fn of(root_group_id: Option<i64>) -> IdScope {
        root_group_id.map_or(IdScope::Instance, IdScope::TopLevelGroup)
    }

    /// The scope's value in SQL (`COALESCE(root_group_id, 0)`; group ids start at 1).
    fn key(self) -> i64 {
        match self {
            IdScope::Instance => 0,
            IdScope::TopLevelGroup(id) => id,
        }
    }
}

/// The stored forms that name `id`: its JSON text, and for a decimal text also the integer
/// form that producer ids had before they were text (rows written then keep it).
fn stored_forms(id: &EventId) -> Vec<String> {
    let mut forms = vec![id.to_json()];
    if let EventId::Str(text) = id
        && let Ok(n) = text.parse::<i64>()
        && n.to_string() == *text
    {
        forms.push(n.to_string());
    }
    forms
}

/// Which events of a batch to insert, under which `seq`, and the public id of every event.
pub(super) struct Plan<'a> {
    pub ids: Vec<EventId>,
    /// `(seq, event, stored producer id)`.
    pub to_insert: Vec<(i64, &'a PreparedEvent, Option<String>)>,
    pub head: i64,
}

/// Plans a batch after `head`: an event whose producer id its scope already holds (in the log,
/// `known`, or earlier in the batch) is not stored again and answers the original id.
pub(super) fn plan<'a>(events: &'a [PreparedEvent], known: &HashMap<(i64, String), EventId>, head: i64) -> Plan<'a> {
    let mut plan = Plan { ids: Vec::with_capacity(events.len()), to_insert: Vec::with_capacity(events.len()), head };
    let mut in_batch: HashMap<(i64, String), EventId> = HashMap::new();
    for event in events {
        let Some(id) = &event.producer_id else {
            plan.head += 1;
            plan.ids.push(EventId::Int(plan.head));
            plan.to_insert.push((plan.head, event, None));
            continue;
        };
        let scope = IdScope::of(event.root_group_id).key();
        let forms = stored_forms(id);
        let original = forms.iter().find_map(|f| {
            let key = (scope, f.clone());
            known.get(&key).or_else(|| in_batch.get(&key)).cloned()
        });
        if let Some(original) = original {
            plan.ids.push(original);
            continue;
        }
        plan.head += 1;
        plan.ids.push(id.clone());
        in_batch.insert((scope, forms[0].clone()), id.clone());
        plan.to_insert.push((plan.head, event, Some(forms[0].clone())));
    }
    plan
}

/// The statements that find a batch's producer ids already in the log: one per chunk of stored
/// forms, each with the forms it binds, in order. Each answers `(scope, stored producer id)`.
pub(super) fn lookups(dialect: Dialect, events: &[PreparedEvent]) -> Vec<(String, Vec<String>)> {
    let mut forms: Vec<String> = events.iter().filter_map(|e| e.producer_id.as_ref()).flat_map(stored_forms).collect();
    forms.sort_unstable();
    forms.dedup();
    forms
        .chunks(LOOKUP_CHUNK)
        .map(|chunk| {
            let sql = format!(
                "SELECT {SCOPE_SQL}, producer_id FROM events WHERE producer_id IN {}",
                dialect.in_list(chunk.len())
            );
            (sql, chunk.to_vec())
        })
        .collect()
}

/// Records one answer of a lookup: the id a stored producer id names in its scope.
pub(super) fn remember(known: &mut HashMap<(i64, String), EventId>, scope: i64, stored: String) {
    if let Some(id) = EventId::from_json(&stored) {
        known.insert((scope, stored), id);
    }
}

/// The producer ids of `events` already in the log, per scope, with the id each names.
pub(super) async fn existing(
    tx: &mut sqlx::Transaction<'_, Any>,
    dialect: Dialect,
    events: &[PreparedEvent],
) -> Result<HashMap<(i64, String), EventId>> {
    let mut known = HashMap::new();
    for (sql, forms) in lookups(dialect, events) {
        run_lookup(tx, &sql, &forms, &mut known).await?;
    }
    Ok(known)
}

/// Runs one statement of [`lookups`], adding what it finds to `known`.
pub(super) async fn run_lookup(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    forms: &[String],
    known: &mut HashMap<(i64, String), EventId>,
) -> Result<()> {
    let mut query = sqlx::query_as::<_, (i64, String)>(sql);
    for form in forms {
        query = query.bind(form.as_str());
    }
    for (scope, stored) in query.fetch_all(&mut *conn).await? {
        remember(known, scope, stored);
    }
    Ok(())
}

impl Store {
    /// The event a producer id (as written in a URL) names in `scope`.
    pub async fn event_by_producer_id(&self, scope: IdScope, id: &str) -> Result<Option<StoredEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE producer_id = $1 AND {SCOPE_SQL} = $2");
        for form in stored_forms(&EventId::Str(id.to_owned())) {
            if let Some(row) = sqlx::query(&sql).bind(form).bind(scope.key()).fetch_optional(&self.read).await? {
                return Ok(Some(stored_event(&row)?));
            }
        }
        Ok(None)
    }

    /// Up to `limit` events, of any scope, that carry this producer id (oldest first).
    pub async fn events_by_producer_id(&self, id: &str, limit: i64) -> Result<Vec<StoredEvent>> {
        let forms = stored_forms(&EventId::Str(id.to_owned()));
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE producer_id IN {} ORDER BY seq LIMIT {limit}",
            self.dialect.in_list(forms.len())
        );
        let mut query = sqlx::query(&sql);
        for form in &forms {
            query = query.bind(form.as_str());
        }
        query.fetch_all(&self.read).await?.iter().map(stored_event).collect()
    }

    /// The event with the service's own id `seq`, whatever its producer id.
    pub async fn event_by_seq(&self, seq: i64) -> Result<Option<StoredEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = $1");
        match sqlx::query(&sql).bind(seq).fetch_optional(&self.read).await? {
            Some(row) => Ok(Some(stored_event(&row)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(producer_id: Option<&str>, root_group_id: Option<i64>) -> PreparedEvent {
        PreparedEvent {
            producer_id: producer_id.map(|s| EventId::Str(s.into())),
            created_at: 0,
            event_type: "x".into(),
            entity_type: "Group".into(),
            entity_id: 1,
            author_id: None,
            group_id: root_group_id,
            project_id: None,
            root_group_id,
            payload: "{}".into(),
            workflow_id: None,
            ai_sequence: None,
            session_id: None,
        }
    }

    fn str_id(s: &str) -> EventId {
        EventId::Str(s.into())
    }

    #[test]
    fn the_same_producer_id_in_two_scopes_is_two_events() {
        let events = [event(Some("evt-X"), Some(1)), event(Some("evt-X"), Some(2)), event(Some("evt-X"), None)];
        let plan = plan(&events, &HashMap::new(), 10);
        assert_eq!(plan.ids, [str_id("evt-X"), str_id("evt-X"), str_id("evt-X")]);
        let seqs: Vec<i64> = plan.to_insert.iter().map(|(seq, _, _)| *seq).collect();
        assert_eq!(seqs, [11, 12, 13]);
        assert_eq!(plan.head, 13);
    }

    #[test]
    fn a_repeat_within_a_scope_answers_the_original_and_stores_nothing() {
        let known = HashMap::from([((1, "\"evt-X\"".to_owned()), str_id("evt-X"))]);
        let events = [event(Some("evt-X"), Some(1)), event(Some("new"), Some(1)), event(Some("new"), Some(1))];
        let plan = plan(&events, &known, 5);
        assert_eq!(plan.ids, [str_id("evt-X"), str_id("new"), str_id("new")]);
        assert_eq!(plan.to_insert.len(), 1);
        assert_eq!(plan.head, 6);
    }

    #[test]
    fn events_without_producer_ids_get_the_service_id() {
        let events = [event(None, Some(1)), event(None, None)];
        let plan = plan(&events, &HashMap::new(), 0);
        assert_eq!(plan.ids, [EventId::Int(1), EventId::Int(2)]);
    }

    #[test]
    fn a_decimal_id_matches_its_legacy_integer_form() {
        let known = HashMap::from([((0, "42".to_owned()), EventId::Int(42))]);
        let events = [event(Some("42"), None), event(Some("42"), Some(3)), event(Some("042"), None)];
        let plan = plan(&events, &known, 100);
        assert_eq!(plan.ids, [EventId::Int(42), str_id("42"), str_id("042")]);
        assert_eq!(plan.to_insert.len(), 2, "the legacy row answers; other scopes and other texts are new");
        assert_eq!(stored_forms(&str_id("042")), ["\"042\""]);
        assert_eq!(stored_forms(&str_id("-7")), ["\"-7\"", "-7"]);
    }
}
