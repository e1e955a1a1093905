//! The read API's filters as ClickHouse SQL, mirroring the operational store's WHERE clause
//! (crates/store/src/log.rs) so both sources return the same events in the same order.

use auditrelay_store::{EventFilter, EventScope, SeqOrder};

use crate::table::{EVENT_COLUMNS, TABLE};

/// The ids of a non-root group and its subgroups: ClickHouse has no namespace tree, so the
/// caller resolves the tree in the operational store first.
pub type GroupIds = Vec<i64>;

/// A SELECT of events matching `filter` with `seq <= upto`, in `order`.
pub fn list_sql(
    filter: &EventFilter,
    group_ids: &[i64],
    upto: i64,
    order: SeqOrder,
    offset: i64,
    limit: i64,
) -> String {
    let mut conditions = where_conditions(filter, group_ids, upto);
    let direction = match order {
        SeqOrder::NewestFirst { before } => {
            conditions.extend(before.map(|seq| format!("seq < {seq}")));
            "DESC"
        }
        SeqOrder::OldestFirst { after } => {
            conditions.extend(after.map(|seq| format!("seq > {seq}")));
            "ASC"
        }
    };
    format!(
        "SELECT {EVENT_COLUMNS} FROM {TABLE} WHERE {} ORDER BY seq {direction} LIMIT {} OFFSET {}",
        conditions.join(" AND "),
        limit.max(0),
        offset.max(0)
    )
}

pub fn count_sql(filter: &EventFilter, group_ids: &[i64], upto: i64) -> String {
    format!("SELECT count() AS n FROM {TABLE} WHERE {}", where_conditions(filter, group_ids, upto).join(" AND "))
}

fn where_conditions(filter: &EventFilter, group_ids: &[i64], upto: i64) -> Vec<String> {
    let mut c = vec![format!("seq <= {upto}")];
    match &filter.scope {
        EventScope::All => {}
        EventScope::Project(id) => c.push(format!("project_id = {id}")),
        EventScope::GroupTree { group_id, is_root: true, .. } => c.push(format!("root_group_id = {group_id}")),
        EventScope::GroupTree { group_id, is_root: false, .. } => {
            let mut ids: Vec<String> = group_ids.iter().map(i64::to_string).collect();
            if ids.is_empty() {
                ids.push(group_id.to_string());
            }
            c.push(format!("root_group_id IS NOT NULL AND group_id IN ({})", ids.join(", ")));
        }
    }
    c.extend(filter.created_after.map(|t| format!("created_at >= {t}")));
    c.extend(filter.created_before.map(|t| format!("created_at <= {t}")));
    c.extend(filter.entity_type.as_deref().map(|t| format!("entity_type = {}", quote(t))));
    c.extend(filter.entity_id.map(|id| format!("entity_id = {id}")));
    c.extend(filter.author_id.map(|id| format!("author_id = {id}")));
    if !filter.event_types.is_empty() {
        let list: Vec<String> = filter.event_types.iter().map(|t| quote(t)).collect();
        c.push(format!("event_type IN ({})", list.join(", ")));
    }
    c.extend(filter.workflow_id.map(|id| format!("workflow_id = {id}")));
    c.extend(filter.session_id.as_deref().map(|s| format!("session_id = {}", quote(s))));
    c
}

/// A ClickHouse string literal: backslash escapes, so any caller-given text stays a value.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_text_a_value() {
        assert_eq!(quote("a'b\\c"), r"'a\'b\\c'");
        assert_eq!(quote("x\0\ny"), r"'x\0\ny'");
    }

    #[test]
    fn filters_become_conditions() {
        let filter = EventFilter {
            scope: EventScope::GroupTree { group_id: 4, full_path: "a/b".into(), is_root: false },
            created_after: Some(10),
            entity_type: Some("Project".into()),
            event_types: vec!["ai_tool_invoked".into(), "ai_llm_input_sent".into()],
            workflow_id: Some(42),
            session_id: Some("s'1".into()),
            ..EventFilter::all()
        };
        let sql = list_sql(&filter, &[4, 9], 100, SeqOrder::NewestFirst { before: Some(50) }, 20, 21);
        assert_eq!(
            sql,
            format!(
                "SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq <= 100 AND root_group_id IS NOT NULL AND \
                 group_id IN (4, 9) AND created_at >= 10 AND entity_type = 'Project' AND event_type IN \
                 ('ai_tool_invoked', 'ai_llm_input_sent') AND workflow_id = 42 AND session_id = 's\\'1' AND seq < 50 \
                 ORDER BY seq DESC LIMIT 21 OFFSET 20"
            )
        );
        let count = count_sql(&EventFilter { scope: EventScope::Project(3), ..EventFilter::all() }, &[], 7);
        assert_eq!(count, "SELECT count() AS n FROM audit_events WHERE seq <= 7 AND project_id = 3");
    }
}
