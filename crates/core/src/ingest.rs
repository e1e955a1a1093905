//! Parsing and validating an ingest request body: one event, a JSON array, or NDJSON.
//!
//! Every message names the event's index and the field, so a producer can fix its input.

use serde_json::{Map, Value};
use std::net::IpAddr;

use crate::event::{EntityType, EventId, INSTANCE_SCOPE_ID, INSTANCE_SCOPE_PATH, NewEvent};
use crate::names::validate_full_path;
use crate::storable::find_nul_in_object;
use crate::time::parse_timestamp;

/// Size limits of one ingest request.
#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    pub max_events: usize,
    pub max_body_bytes: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits { max_events: 1000, max_body_bytes: 10 * 1024 * 1024 }
    }
}

pub const MAX_EVENT_TYPE_LEN: usize = 255;
pub const MAX_TEXT_LEN: usize = 5500;
pub const MAX_SHORT_TEXT_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    /// The body is not acceptable; answered with 400.
    #[error("{0}")]
    Invalid(String),
    /// The body has too many events or bytes; answered with 413.
    #[error("{0}")]
    TooLarge(String),
}

fn invalid(index: usize, message: impl std::fmt::Display) -> IngestError {
    IngestError::Invalid(format!("event {index}: {message}"))
}

/// Parses a request body into validated events. `ndjson` selects newline-delimited JSON.
pub fn parse_ingest_body(body: &[u8], ndjson: bool, limits: IngestLimits) -> Result<Vec<NewEvent>, IngestError> {
    if body.len() > limits.max_body_bytes {
        return Err(IngestError::TooLarge(format!(
            "request body is {} bytes; the limit is {} bytes",
            body.len(),
            limits.max_body_bytes
        )));
    }
    let values = if ndjson { split_ndjson(body)? } else { split_json(body)? };
    if values.is_empty() {
        return Err(IngestError::Invalid("the request contains no events".into()));
    }
    if values.len() > limits.max_events {
        return Err(IngestError::TooLarge(format!(
            "the request contains {} events; the limit is {} per request",
            values.len(),
            limits.max_events
        )));
    }
    values.into_iter().enumerate().map(|(i, v)| parse_event(i, v)).collect()
}

fn split_json(body: &[u8]) -> Result<Vec<Value>, IngestError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| IngestError::Invalid(format!("the body is not valid JSON: {e}")))?;
    match value {
        Value::Array(items) => Ok(items),
        object @ Value::Object(_) => Ok(vec![object]),
        _ => Err(IngestError::Invalid("the body must be a JSON object or an array of objects".into())),
    }
}

fn split_ndjson(body: &[u8]) -> Result<Vec<Value>, IngestError> {
    let text =
        std::str::from_utf8(body).map_err(|e| IngestError::Invalid(format!("the body is not valid UTF-8: {e}")))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| IngestError::Invalid(format!("line {}: not valid JSON: {e}", n + 1)))
        })
        .collect()
}

/// Every top-level field GitLab's payload schema knows; anything else is refused.
const KNOWN_FIELDS: [&str; 14] = [
    "id",
    "event_type",
    "event_name",
    "entity_type",
    "entity_id",
    "entity_path",
    "author_id",
    "author_name",
    "ip_address",
    "target_id",
    "target_type",
    "target_details",
    "details",
    "created_at",
];

fn parse_event(index: usize, value: Value) -> Result<NewEvent, IngestError> {
    let Value::Object(mut fields) = value else {
        return Err(invalid(index, "must be a JSON object"));
    };
    // Before any other rule, so the message names where the NUL is, even inside `details`.
    if let Some(at) = find_nul_in_object(&fields) {
        return Err(invalid(index, at));
    }
    if let Some(unknown) = fields.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(invalid(index, format_args!("unknown field '{unknown}'")));
    }
    let mut take = |key: &str| fields.remove(key).filter(|v| !v.is_null());
    let f = Fields { index };

    let event_type = f.text(take("event_type"), "event_type", MAX_EVENT_TYPE_LEN)?;
    let event_name = f.text(take("event_name"), "event_name", MAX_EVENT_TYPE_LEN)?;
    let event_type = match (event_type, event_name) {
        (Some(t), Some(n)) if t != n => {
            return Err(invalid(index, "event_name must equal event_type when both are given"));
        }
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => return Err(invalid(index, "event_type is required")),
    };
    validate_event_type(&event_type).map_err(|e| invalid(index, format_args!("event_type {e}")))?;

    let entity_type = match f.text(take("entity_type"), "entity_type", MAX_SHORT_TEXT_LEN)? {
        None => return Err(invalid(index, "entity_type is required")),
        Some(text) => EntityType::parse(&text).ok_or_else(|| {
            let allowed: Vec<&str> = EntityType::ALL.iter().map(|t| t.as_str()).collect();
            invalid(index, format_args!("entity_type '{text}' is not one of {}", allowed.join(", ")))
        })?,
    };
    let mut entity_id = f.integer(take("entity_id"), "entity_id")?;
    let mut entity_path = f.text(take("entity_path"), "entity_path", MAX_TEXT_LEN)?;
    match entity_type {
        EntityType::InstanceScope => {
            entity_id.get_or_insert(INSTANCE_SCOPE_ID);
            entity_path.get_or_insert_with(|| INSTANCE_SCOPE_PATH.to_owned());
        }
        EntityType::Group | EntityType::Project => {
            if entity_id.is_none() && entity_path.is_none() {
                return Err(invalid(index, "entity_id or entity_path is required"));
            }
            if let Some(path) = &entity_path {
                validate_full_path(path).map_err(|e| invalid(index, format_args!("entity_path {e}")))?;
                if entity_type == EntityType::Project && !path.contains('/') {
                    return Err(invalid(index, "entity_path of a Project must be '<group path>/<project path>'"));
                }
            }
        }
        EntityType::User | EntityType::UserNamespace => {
            if entity_id.is_none() {
                return Err(invalid(index, "entity_id is required"));
            }
        }
    }

    let producer_id = match take("id") {
        None => None,
        // Integers are the service's own ids: a producer's integer id is taken as its decimal
        // text, so the two can never name the same event (see `EventId`).
        Some(Value::Number(n)) => Some(EventId::Str(
            n.as_i64().ok_or_else(|| invalid(index, "id must be a 64-bit integer or a string"))?.to_string(),
        )),
        Some(Value::String(s))
            if !s.is_empty() && s.len() <= MAX_SHORT_TEXT_LEN && !s.chars().any(char::is_control) =>
        {
            Some(EventId::Str(s))
        }
        Some(Value::String(_)) => {
            return Err(invalid(
                index,
                "id must be a non-empty string of at most 255 characters without control characters",
            ));
        }
        Some(other) => {
            return Err(invalid(index, format_args!("id must be an integer or a string, not {}", kind(&other))));
        }
    };
    let created_at = match f.text(take("created_at"), "created_at", 64)? {
        None => None,
        Some(text) => Some(
            parse_timestamp(&text)
                .ok_or_else(|| invalid(index, format_args!("created_at '{text}' is not an ISO-8601 date-time")))?,
        ),
    };
    let ip_address = f.text(take("ip_address"), "ip_address", 64)?;
    if let Some(ip) = &ip_address {
        ip.parse::<IpAddr>()
            .map_err(|_| invalid(index, format_args!("ip_address '{ip}' is not an IPv4 or IPv6 address")))?;
    }
    let details = match take("details") {
        None => Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => return Err(invalid(index, format_args!("details must be an object, not {}", kind(&other)))),
    };
    Ok(NewEvent {
        producer_id,
        event_type,
        entity_type: Some(entity_type),
        entity_id,
        entity_path,
        author_id: f.integer(take("author_id"), "author_id")?,
        author_name: f.text(take("author_name"), "author_name", MAX_SHORT_TEXT_LEN)?,
        ip_address,
        target_id: f.integer(take("target_id"), "target_id")?,
        target_type: f.text(take("target_type"), "target_type", MAX_SHORT_TEXT_LEN)?,
        target_details: f.text(take("target_details"), "target_details", MAX_TEXT_LEN)?,
        details,
        created_at,
    })
}

/// An event type name goes into an HTTP header, so it is restricted to a safe alphabet.
pub fn validate_event_type(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("can't be blank".into());
    }
    if name.len() > MAX_EVENT_TYPE_LEN {
        return Err(format!("is longer than {MAX_EVENT_TYPE_LEN} characters"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')) {
        return Err(format!("'{name}' may contain only letters, digits, '_', '.', ':' and '-'"));
    }
    Ok(())
}

/// Typed readers for one event's fields, naming the event and field in their errors.
struct Fields {
    index: usize,
}

impl Fields {
    fn text(&self, value: Option<Value>, field: &str, max_chars: usize) -> Result<Option<String>, IngestError> {
        match value {
            None => Ok(None),
            Some(Value::String(s)) if s.chars().count() > max_chars => {
                Err(invalid(self.index, format_args!("{field} is longer than {max_chars} characters")))
            }
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(invalid(self.index, format_args!("{field} must be a string, not {}", kind(&other)))),
        }
    }

    fn integer(&self, value: Option<Value>, field: &str) -> Result<Option<i64>, IngestError> {
        match value {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| invalid(self.index, format_args!("{field} must be a 64-bit integer, not {n}"))),
            Some(other) => Err(invalid(self.index, format_args!("{field} must be an integer, not {}", kind(&other)))),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Vec<NewEvent>, IngestError> {
        parse_ingest_body(body.as_bytes(), false, IngestLimits::default())
    }

    fn error(body: &str) -> String {
        match parse(body).unwrap_err() {
            IngestError::Invalid(m) | IngestError::TooLarge(m) => m,
        }
    }

    const OK: &str = r#"{"event_type":"user_created","entity_type":"Group","entity_path":"acme/team"}"#;

    #[test]
    fn accepts_object_array_and_ndjson() {
        assert_eq!(parse(OK).unwrap().len(), 1);
        assert_eq!(parse(&format!("[{OK},{OK}]")).unwrap().len(), 2);
        let nd = format!("{OK}\n\n{OK}\n");
        assert_eq!(parse_ingest_body(nd.as_bytes(), true, IngestLimits::default()).unwrap().len(), 2);
    }

    #[test]
    fn producer_ids_are_text() {
        let events =
            parse(&format!(r#"[{{"id":5,{0}}},{{"id":"5",{0}}},{{"id":"a b",{0}}}]"#, &OK[1..OK.len() - 1])).unwrap();
        assert_eq!(events[0].producer_id, Some(EventId::Str("5".into())));
        assert_eq!(events[1].producer_id, Some(EventId::Str("5".into())));
        assert_eq!(events[2].producer_id, Some(EventId::Str("a b".into())));
    }

    #[test]
    fn nul_characters_are_refused_naming_the_field() {
        let with = |field: &str| error(&format!(r#"{{"event_type":"x","entity_type":"Group","entity_id":1,{field}}}"#));
        assert_eq!(
            with(r#""author_name":"a\u0000""#),
            "event 0: author_name contains a NUL character (\\u0000), which cannot be stored"
        );
        assert!(with(r#""details":{"a":[{"b":"\u0000"}]}"#).starts_with("event 0: details.a[0].b contains a NUL"));
        assert!(with(r#""details":{"k\u0000":1}"#).starts_with("event 0: a key in details contains a NUL"));
        assert!(with(r#""target_details":"\u0000""#).starts_with("event 0: target_details contains a NUL"));
        assert!(with(r#""id":"\u0000""#).starts_with("event 0: id contains a NUL"));
        assert!(error(r#"{"x\u0000":1}"#).starts_with("event 0: a field name contains a NUL"));
        let six_chars = r#"{"event_type":"x","entity_type":"Group","entity_id":1,"details":{"t":"\\u0000"}}"#;
        assert!(parse(six_chars).is_ok(), "an escaped backslash followed by u0000 is plain text");
    }

    #[test]
    fn names_the_event_and_field() {
        assert_eq!(error(r#"[{"entity_type":"Group","entity_id":1}]"#), "event 0: event_type is required");
        let msg = error(&format!(r#"[{OK},{{"event_type":"x","entity_type":"Group","entity_id":"7"}}]"#));
        assert_eq!(msg, "event 1: entity_id must be an integer, not a string");
        assert!(error(r#"{"event_type":"x","entity_type":"Planet","entity_id":1}"#).contains("entity_type 'Planet'"));
        assert!(error(r#"{"event_type":"x","entity_type":"Group"}"#).contains("entity_id or entity_path"));
        assert!(
            error(r#"{"event_type":"x","entity_type":"Group","entity_id":1,"bogus":1}"#)
                .contains("unknown field 'bogus'")
        );
        assert!(error(r#"{"event_type":"a\nb","entity_type":"Group","entity_id":1}"#).contains("event_type"));
        assert!(
            error(r#"{"event_type":"x","entity_type":"Group","entity_id":1,"created_at":"soon"}"#)
                .contains("created_at")
        );
        assert!(
            error(r#"{"event_type":"x","entity_type":"Group","entity_id":1,"ip_address":"999.1.1.1"}"#)
                .contains("ip_address")
        );
        assert!(
            error(r#"{"event_type":"x","entity_type":"Group","entity_id":1,"details":[]}"#)
                .contains("details must be an object")
        );
        assert!(error(r#"{"event_type":"x","entity_type":"Project","entity_path":"solo"}"#).contains("Project"));
        assert!(error("[1]").contains("event 0: must be a JSON object"));
        assert!(error("[]").contains("no events"));
        assert!(error("{").contains("not valid JSON"));
        assert!(error("\"str\"").contains("object or an array"));
    }

    #[test]
    fn instance_scope_gets_gitlab_defaults() {
        let e = &parse(r#"{"event_type":"x","entity_type":"Gitlab::Audit::InstanceScope"}"#).unwrap()[0];
        assert_eq!(e.entity_id, Some(INSTANCE_SCOPE_ID));
        assert_eq!(e.entity_path.as_deref(), Some(INSTANCE_SCOPE_PATH));
    }

    #[test]
    fn limits_give_too_large() {
        let limits = IngestLimits { max_events: 2, max_body_bytes: 10_000 };
        let three = format!("[{OK},{OK},{OK}]");
        assert!(matches!(parse_ingest_body(three.as_bytes(), false, limits), Err(IngestError::TooLarge(_))));
        let limits = IngestLimits { max_events: 10, max_body_bytes: 10 };
        assert!(matches!(parse_ingest_body(OK.as_bytes(), false, limits), Err(IngestError::TooLarge(_))));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_random_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), nd in proptest::bool::ANY) {
            let _ = parse_ingest_body(&bytes, nd, IngestLimits::default());
        }

        #[test]
        fn never_panics_on_random_json_events(
            keys in proptest::collection::vec(proptest::sample::select(KNOWN_FIELDS.to_vec()), 0..8),
            values in proptest::collection::vec(json_value(), 8),
        ) {
            let object: Map<String, Value> = keys.iter().zip(values).map(|(k, v)| (k.to_string(), v)).collect();
            let body = Value::Array(vec![Value::Object(object)]).to_string();
            let _ = parse_ingest_body(body.as_bytes(), false, IngestLimits::default());
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,12}".prop_map(Value::from),
            Just(Value::from("Group")),
            Just(Value::from("a/b")),
            Just(Value::Array(vec![])),
            Just(serde_json::json!({"k": 1})),
        ]
    }
}
