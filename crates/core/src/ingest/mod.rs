//! Parsing and validating an ingest request body: one event, a JSON array, or NDJSON.
//!
//! Every message names the event's index and the field, so a producer can fix its input.

use serde_json::{Map, Value};
use std::net::IpAddr;

use crate::event::{EntityType, EventId, INSTANCE_SCOPE_ID, INSTANCE_SCOPE_PATH, NewEvent};
use crate::json_kind::json_kind;
use crate::names::validate_full_path;
use crate::time::parse_timestamp;
use reading::{Field, Item, RawEvent, ReadError};

mod reading;

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
    let items = read_items(body, ndjson)?;
    if items.is_empty() {
        return Err(IngestError::Invalid("the request contains no events".into()));
    }
    if items.len() > limits.max_events {
        return Err(IngestError::TooLarge(format!(
            "the request contains {} events; the limit is {} per request",
            items.len(),
            limits.max_events
        )));
    }
    items.into_iter().enumerate().map(|(i, item)| parse_item(i, item)).collect()
}

fn read_items(body: &[u8], ndjson: bool) -> Result<Vec<Item>, IngestError> {
    let via_values = reading::may_hold_nul(body);
    let read = if ndjson { reading::read_ndjson(body, via_values) } else { reading::read_json(body, via_values) };
    read.map_err(|e| {
        IngestError::Invalid(match e {
            ReadError::Json(e) => format!("the body is not valid JSON: {e}"),
            ReadError::NotObjectOrArray => "the body must be a JSON object or an array of objects".into(),
            ReadError::Utf8(e) => format!("the body is not valid UTF-8: {e}"),
            ReadError::Line(n, e) => format!("line {n}: not valid JSON: {e}"),
        })
    })
}

fn parse_item(index: usize, item: Item) -> Result<NewEvent, IngestError> {
    match item {
        Item::Event(raw) => parse_event(index, raw),
        Item::NotObject => Err(invalid(index, "must be a JSON object")),
        // Before any other rule, so the message names where the NUL is, even inside `details`.
        Item::HasNul(at) => Err(invalid(index, at)),
    }
}

fn parse_event(index: usize, fields: RawEvent) -> Result<NewEvent, IngestError> {
    if let Some(unknown) = &fields.first_unknown {
        return Err(invalid(index, format_args!("unknown field '{unknown}'")));
    }
    let mut f = Fields { index, fields };

    let event_type = f.text(Field::EventType, MAX_EVENT_TYPE_LEN)?;
    let event_name = f.text(Field::EventName, MAX_EVENT_TYPE_LEN)?;
    let event_type = match (event_type, event_name) {
        (Some(t), Some(n)) if t != n => {
            return Err(invalid(index, "event_name must equal event_type when both are given"));
        }
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => return Err(invalid(index, "event_type is required")),
    };
    validate_event_type(&event_type).map_err(|e| invalid(index, format_args!("event_type {e}")))?;

    let entity_type = match f.text(Field::EntityType, MAX_SHORT_TEXT_LEN)? {
        None => return Err(invalid(index, "entity_type is required")),
        Some(text) => EntityType::parse(&text).ok_or_else(|| {
            let allowed: Vec<&str> = EntityType::ALL.iter().map(|t| t.as_str()).collect();
            invalid(index, format_args!("entity_type '{text}' is not one of {}", allowed.join(", ")))
        })?,
    };
    let mut entity_id = f.integer(Field::EntityId)?;
    let mut entity_path = f.text(Field::EntityPath, MAX_TEXT_LEN)?;
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

    let producer_id = match f.take(Field::Id) {
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
            return Err(invalid(index, format_args!("id must be an integer or a string, not {}", json_kind(&other))));
        }
    };
    let created_at = match f.text(Field::CreatedAt, 64)? {
        None => None,
        Some(text) => Some(
            parse_timestamp(&text)
                .ok_or_else(|| invalid(index, format_args!("created_at '{text}' is not an ISO-8601 date-time")))?,
        ),
    };
    let ip_address = f.text(Field::IpAddress, 64)?;
    if let Some(ip) = &ip_address {
        ip.parse::<IpAddr>()
            .map_err(|_| invalid(index, format_args!("ip_address '{ip}' is not an IPv4 or IPv6 address")))?;
    }
    let details = match f.take(Field::Details) {
        None => Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(invalid(index, format_args!("details must be an object, not {}", json_kind(&other))));
        }
    };
    Ok(NewEvent {
        producer_id,
        event_type,
        entity_type: Some(entity_type),
        entity_id,
        entity_path,
        author_id: f.integer(Field::AuthorId)?,
        author_name: f.text(Field::AuthorName, MAX_SHORT_TEXT_LEN)?,
        ip_address,
        target_id: f.integer(Field::TargetId)?,
        target_type: f.text(Field::TargetType, MAX_SHORT_TEXT_LEN)?,
        target_details: f.text(Field::TargetDetails, MAX_TEXT_LEN)?,
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
    fields: RawEvent,
}

impl Fields {
    fn take(&mut self, field: Field) -> Option<Value> {
        self.fields.take(field)
    }

    fn text(&mut self, field: Field, max_chars: usize) -> Result<Option<String>, IngestError> {
        let (value, field) = (self.fields.take(field), field.name());
        match value {
            None => Ok(None),
            Some(Value::String(s)) if s.chars().count() > max_chars => {
                Err(invalid(self.index, format_args!("{field} is longer than {max_chars} characters")))
            }
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(invalid(self.index, format_args!("{field} must be a string, not {}", json_kind(&other))))
            }
        }
    }

    fn integer(&mut self, field: Field) -> Result<Option<i64>, IngestError> {
        let (value, field) = (self.fields.take(field), field.name());
        match value {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| invalid(self.index, format_args!("{field} must be a 64-bit integer, not {n}"))),
            Some(other) => {
                Err(invalid(self.index, format_args!("{field} must be an integer, not {}", json_kind(&other))))
            }
        }
    }
}

#[cfg(test)]
mod tests;
