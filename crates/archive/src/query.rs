//! The read API's filters as ClickHouse SQL, mirroring the operational store's WHERE clause
//! (crates/store/src/log.rs) so both sources return the same events in the same order.
//!
//! The SQL text holds only structure and `?` placeholders; every value goes in through the
//! `clickhouse` crate's `bind`, which quotes it. ClickHouse 18.16 refuses an array on the right of
//! `IN`, so lists are matched with `has(array, column)`. Pure: [`Select`] is applied to a query
//! by the caller.

use auditrelay_store::{EventFilter, EventScope, SeqOrder};
use clickhouse::query::Query;

use crate::table::TABLE;

/// The ids of a non-root group and its subgroups: ClickHouse has no namespace tree, so the
/// caller resolves the tree in the operational store first.
pub type GroupIds = Vec<i64>;

/// A value for one `?` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Text(String),
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

/// SQL text with `?` placeholders and their values, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub sql: String,
    pub values: Vec<Value>,
}

impl Select {
    /// Binds the values to a query made from [`Select::sql`].
    pub fn bind_to(&self, mut query: Query) -> Query {
        for value in &self.values {
            query = match value {
                Value::Int(n) => query.bind(*n),
                Value::Text(s) => query.bind(s.as_str()),
                Value::Ints(list) => query.bind(list.as_slice()),
                Value::Texts(list) => query.bind(list.as_slice()),
            };
        }
        query
    }
}

/// Conditions joined by `AND`, with their values.
#[derive(Default)]
struct Where {
    conditions: Vec<&'static str>,
    values: Vec<Value>,
}

impl Where {
    fn add(&mut self, condition: &'static str, value: Value) {
        self.conditions.push(condition);
        self.values.push(value);
    }

    fn sql(&self) -> String {
        self.conditions.join(" AND ")
    }
}

/// A SELECT of events (the columns of `?fields`: the row type's) matching `filter` with
/// `seq <= upto`, in `order`.
pub fn list_sql(
    filter: &EventFilter,
    group_ids: &[i64],
    upto: i64,
    order: SeqOrder,
    offset: i64,
    limit: i64,
) -> Select {
    let mut w = where_conditions(filter, group_ids, upto);
    let direction = match order {
        SeqOrder::NewestFirst { before } => {
            if let Some(seq) = before {
                w.add("seq < ?", Value::Int(seq));
            }
            "DESC"
        }
        SeqOrder::OldestFirst { after } => {
            if let Some(seq) = after {
                w.add("seq > ?", Value::Int(seq));
            }
            "ASC"
        }
    };
    let sql = format!("SELECT ?fields FROM {TABLE} WHERE {} ORDER BY seq {direction} LIMIT ? OFFSET ?", w.sql());
    let mut values = w.values;
    values.extend([Value::Int(limit.max(0)), Value::Int(offset.max(0))]);
    Select { sql, values }
}

pub fn count_sql(filter: &EventFilter, group_ids: &[i64], upto: i64) -> Select {
    let w = where_conditions(filter, group_ids, upto);
    Select { sql: format!("SELECT count() FROM {TABLE} WHERE {}", w.sql()), values: w.values }
}

fn where_conditions(filter: &EventFilter, group_ids: &[i64], upto: i64) -> Where {
    let mut w = Where::default();
    w.add("seq <= ?", Value::Int(upto));
    match &filter.scope {
        EventScope::All => {}
        EventScope::Project(id) => w.add("project_id = ?", Value::Int(*id)),
        EventScope::GroupTree { group_id, is_root: true, .. } => w.add("root_group_id = ?", Value::Int(*group_id)),
        EventScope::GroupTree { group_id, is_root: false, .. } => {
            let ids = if group_ids.is_empty() { vec![*group_id] } else { group_ids.to_vec() };
            w.add("root_group_id IS NOT NULL AND has(?, group_id)", Value::Ints(ids));
        }
    }
    if let Some(t) = filter.created_after {
        w.add("created_at >= ?", Value::Int(t));
    }
    if let Some(t) = filter.created_before {
        w.add("created_at <= ?", Value::Int(t));
    }
    if let Some(t) = &filter.entity_type {
        w.add("entity_type = ?", Value::Text(t.clone()));
    }
    if let Some(id) = filter.entity_id {
        w.add("entity_id = ?", Value::Int(id));
    }
    if let Some(id) = filter.author_id {
        w.add("author_id = ?", Value::Int(id));
    }
    if !filter.event_types.is_empty() {
        w.add("has(?, event_type)", Value::Texts(filter.event_types.clone()));
    }
    if let Some(id) = filter.workflow_id {
        w.add("workflow_id = ?", Value::Int(id));
    }
    if let Some(s) = &filter.session_id {
        w.add("session_id = ?", Value::Text(s.clone()));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_conditions_with_bound_values() {
        let filter = EventFilter {
            scope: EventScope::GroupTree { group_id: 4, full_path: "a/b".into(), is_root: false },
            created_after: Some(10),
            entity_type: Some("Project".into()),
            event_types: vec!["ai_tool_invoked".into(), "ai_llm_input_sent".into()],
            workflow_id: Some(42),
            session_id: Some("s'1?".into()),
            ..EventFilter::all()
        };
        let select = list_sql(&filter, &[4, 9], 100, SeqOrder::NewestFirst { before: Some(50) }, 20, 21);
        assert_eq!(
            select.sql,
            "SELECT ?fields FROM audit_events WHERE seq <= ? AND root_group_id IS NOT NULL AND has(?, group_id) AND \
             created_at >= ? AND entity_type = ? AND has(?, event_type) AND workflow_id = ? AND session_id = ? AND \
             seq < ? ORDER BY seq DESC LIMIT ? OFFSET ?"
        );
        use Value::*;
        assert_eq!(
            select.values,
            vec![
                Int(100),
                Ints(vec![4, 9]),
                Int(10),
                Text("Project".into()),
                Texts(vec!["ai_tool_invoked".into(), "ai_llm_input_sent".into()]),
                Int(42),
                Text("s'1?".into()),
                Int(50),
                Int(21),
                Int(20),
            ]
        );
        let count = count_sql(&EventFilter { scope: EventScope::Project(3), ..EventFilter::all() }, &[], 7);
        assert_eq!(count.sql, "SELECT count() FROM audit_events WHERE seq <= ? AND project_id = ?");
        assert_eq!(count.values, vec![Int(7), Int(3)]);
    }

    #[test]
    fn a_group_without_resolved_subgroups_matches_itself() {
        let filter = EventFilter {
            scope: EventScope::GroupTree { group_id: 4, full_path: "a/b".into(), is_root: false },
            ..EventFilter::all()
        };
        assert_eq!(count_sql(&filter, &[], 1).values[1], Value::Ints(vec![4]));
    }

    #[test]
    fn bound_text_stays_a_value() {
        let filter = EventFilter { session_id: Some(r"x' OR 1=1 --\?".into()), ..EventFilter::all() };
        let select = count_sql(&filter, &[], 5);
        let query = clickhouse::Client::default().query(&select.sql);
        let sql = select.bind_to(query).sql_display().to_string();
        assert!(sql.ends_with(r"session_id = 'x\' OR 1=1 --\\?'"), "{sql}");
    }
}
