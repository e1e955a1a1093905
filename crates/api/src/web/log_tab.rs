//! The Log tab: the events of the instance or a group, filtered by date range, event type,
//! entity type and author, newest first, a page at a time.

use auditrelay_core::time::{format_micros, parse_timestamp};
use auditrelay_store::StoredEvent;
use serde::Deserialize;
use serde_json::Value;

use super::html::escape;
use crate::error::{ServiceError, ServiceResult};
use auditrelay_service::events::{EventPage, EventQuery, Page};

pub const PER_PAGE: i64 = 20;
const DAY_MICROS: i64 = 86_400_000_000;

/// The page's query string (every field as typed; blanks mean "no filter").
#[derive(Debug, Default, Deserialize)]
pub struct LogParams {
    pub tab: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub event_type: Option<String>,
    pub entity_type: Option<String>,
    pub author_id: Option<String>,
    pub page: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The filters and page the parameters ask for, or a message naming the bad one.
pub fn query(params: &LogParams) -> ServiceResult<(EventQuery, Page)> {
    let time = |name: &str, value: Option<&str>| {
        value
            .map(|v| parse_timestamp(v).ok_or_else(|| ServiceError::BadParam(format!("{name} is not a valid date"))))
            .transpose()
    };
    let before = given(&params.created_before);
    // A bare date as the end of the range includes that whole day.
    let whole_day = before.is_some_and(|b| b.len() == 10);
    let created_before = time("To", before)?.map(|t| if whole_day { t + DAY_MICROS - 1 } else { t });
    let author_id = given(&params.author_id)
        .map(|a| a.parse::<i64>().map_err(|_| ServiceError::BadParam("Author ID must be a number".into())))
        .transpose()?;
    let page = given(&params.page).and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).clamp(1, 100_000);
    let query = EventQuery {
        created_after: time("From", given(&params.created_after))?,
        created_before,
        entity_type: given(&params.entity_type).map(str::to_owned),
        entity_id: None,
        author_id,
        event_type: given(&params.event_type).map(str::to_owned),
        workflow_id: None,
        session_id: None,
    };
    Ok((query, Page::Offset { page, per_page: PER_PAGE }))
}

/// The filter form and, below it, the events or the problem with the filters.
pub fn render(base: &str, params: &LogParams, result: ServiceResult<(EventPage, i64)>) -> String {
    let mut html = filter_form(base, params);
    match result {
        Err(error) => html.push_str(&format!(r#"<p class="alert" role="alert">{}</p>"#, escape(&error.to_string()))),
        Ok((page, number)) => {
            html.push_str(&table(&page.events));
            html.push_str(&pagination(base, params, number, page.total.unwrap_or(0)));
        }
    }
    html
}

fn filter_form(base: &str, p: &LogParams) -> String {
    let value = |v: &Option<String>| escape(given(v).unwrap_or(""));
    let options: String = ["", "User", "Group", "Project"]
        .iter()
        .map(|t| {
            let selected = if given(&p.entity_type).unwrap_or("") == *t { " selected" } else { "" };
            let label = if t.is_empty() { "Any" } else { t };
            format!(r#"<option value="{t}"{selected}>{label}</option>"#)
        })
        .collect();
    format!(
        r#"<form method="get" action="{base}" class="filters" aria-label="Filter audit events">
<input type="hidden" name="tab" value="log">
<div><label for="created_after">From</label><input id="created_after" name="created_after" type="date" value="{after}"></div>
<div><label for="created_before">To</label><input id="created_before" name="created_before" type="date" value="{before}"></div>
<div><label for="event_type">Event type</label><input id="event_type" name="event_type" value="{event_type}"></div>
<div><label for="entity_type">Object type</label><select id="entity_type" name="entity_type">{options}</select></div>
<div><label for="author_id">Author ID</label><input id="author_id" name="author_id" inputmode="numeric" value="{author}"></div>
<button type="submit">Search</button>
</form>"#,
        after = value(&p.created_after),
        before = value(&p.created_before),
        author = value(&p.author_id),
        event_type = value(&p.event_type),
    )
}

fn table(events: &[StoredEvent]) -> String {
    if events.is_empty() {
        return r#"<p class="empty">No audit events match these filters.</p>"#.into();
    }
    let rows: String = events.iter().map(row).collect();
    format!(
        r#"<table class="events"><caption class="visually-hidden">Audit events</caption>
<thead><tr><th scope="col">Author</th><th scope="col">Object</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">IP address</th><th scope="col">Date</th></tr></thead>
<tbody>{rows}</tbody></table>"#
    )
}

fn row(event: &StoredEvent) -> String {
    let payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    let text = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let message = payload
        .pointer("/details/custom_message")
        .and_then(Value::as_str)
        .map(|m| format!(r#"<div class="message">{}</div>"#, escape(m)))
        .unwrap_or_default();
    format!(
        "<tr><td>{author}</td><td>{entity}</td><td><code>{event_type}</code>{message}</td><td>{target}</td><td>{ip}</td><td><time>{at}</time></td></tr>",
        author = escape(&text("author_name")),
        entity = escape(&format!("{} {}", event.entity_type, text("entity_path"))),
        event_type = escape(&event.event_type),
        target = escape(&text("target_details")),
        ip = escape(&text("ip_address")),
        at = escape(&format_micros(event.created_at)),
    )
}

fn pagination(base: &str, p: &LogParams, page: i64, total: i64) -> String {
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let link = |number: i64, label: &str, rel: &str| {
        let params = [
            ("tab", "log"),
            ("created_after", given(&p.created_after).unwrap_or("")),
            ("created_before", given(&p.created_before).unwrap_or("")),
            ("event_type", given(&p.event_type).unwrap_or("")),
            ("entity_type", given(&p.entity_type).unwrap_or("")),
            ("author_id", given(&p.author_id).unwrap_or("")),
            ("page", &number.to_string()),
        ];
        let query = serde_urlencoded::to_string(params).unwrap_or_default();
        format!(r#"<a rel="{rel}" href="{base}?{}">{label}</a>"#, escape(&query))
    };
    let prev = if page > 1 { link(page - 1, "Previous", "prev") } else { String::new() };
    let next = if page < pages { link(page + 1, "Next", "next") } else { String::new() };
    format!(
        r#"<nav class="pagination" aria-label="Pages">{prev}<span>Page {page} of {pages} ({total} events)</span>{next}</nav>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(after: &str, before: &str, author: &str) -> LogParams {
        LogParams {
            created_after: Some(after.into()),
            created_before: Some(before.into()),
            author_id: Some(author.into()),
            ..Default::default()
        }
    }

    #[test]
    fn blank_filters_mean_none_and_a_bare_end_date_covers_its_day() {
        let (q, page) = query(&params("", "2026-11-20", " ")).unwrap();
        assert_eq!(q.created_after, None);
        assert_eq!(q.author_id, None);
        let start = parse_timestamp("2026-11-20").unwrap();
        assert_eq!(q.created_before, Some(start + DAY_MICROS - 1));
        assert_eq!(page, Page::Offset { page: 1, per_page: PER_PAGE });
    }

    #[test]
    fn the_event_type_filter_is_passed_on_trimmed() {
        let with_type = LogParams { event_type: Some(" ai_tool_invoked ".into()), ..Default::default() };
        assert_eq!(query(&with_type).unwrap().0.event_type.as_deref(), Some("ai_tool_invoked"));
        assert_eq!(query(&LogParams::default()).unwrap().0.event_type, None);
    }

    #[test]
    fn bad_filters_are_named() {
        assert_eq!(query(&params("yesterday", "", "")).unwrap_err().to_string(), "From is not a valid date");
        assert_eq!(query(&params("", "", "bob")).unwrap_err().to_string(), "Author ID must be a number");
    }
}
