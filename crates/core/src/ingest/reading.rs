//! Reading an ingest body into raw events: each top-level field straight into its slot.
//!
//! An event's own object is never built as a `serde_json::Map`: with `preserve_order` that is
//! an index map whose keys are allocated and hashed, only for the fields to be removed from it
//! again, which was most of the parse's cost. Field values are still read as JSON values, so the
//! validation sees what it saw before, and `details` keeps its keys in the order they were sent.
//!
//! A NUL character can reach a string only through the escape `\u0000` (JSON does not allow a
//! raw control character in a string). A body without that text is read the fast way; one with
//! it is read as JSON values first, so that every NUL is found and named where it is.

use serde::Deserializer;
use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

use crate::storable::{NulAt, find_nul_in_object};

/// Every top-level field GitLab's payload schema knows; anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Id,
    EventType,
    EventName,
    EntityType,
    EntityId,
    EntityPath,
    AuthorId,
    AuthorName,
    IpAddress,
    TargetId,
    TargetType,
    TargetDetails,
    Details,
    CreatedAt,
}

impl Field {
    pub(super) const ALL: [Field; 14] = [
        Field::Id,
        Field::EventType,
        Field::EventName,
        Field::EntityType,
        Field::EntityId,
        Field::EntityPath,
        Field::AuthorId,
        Field::AuthorName,
        Field::IpAddress,
        Field::TargetId,
        Field::TargetType,
        Field::TargetDetails,
        Field::Details,
        Field::CreatedAt,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::EventType => "event_type",
            Field::EventName => "event_name",
            Field::EntityType => "entity_type",
            Field::EntityId => "entity_id",
            Field::EntityPath => "entity_path",
            Field::AuthorId => "author_id",
            Field::AuthorName => "author_name",
            Field::IpAddress => "ip_address",
            Field::TargetId => "target_id",
            Field::TargetType => "target_type",
            Field::TargetDetails => "target_details",
            Field::Details => "details",
            Field::CreatedAt => "created_at",
        }
    }

    fn named(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.name() == name)
    }
}

/// One event's top-level fields as sent, before validation. A `null` counts as absent.
#[derive(Debug, Default, PartialEq)]
pub(super) struct RawEvent {
    values: [Option<Value>; Field::ALL.len()],
    /// The first field, in document order, that the schema does not know.
    pub(super) first_unknown: Option<String>,
}

impl RawEvent {
    /// Takes a field's value out, leaving it absent.
    pub(super) fn take(&mut self, field: Field) -> Option<Value> {
        self.values[field as usize].take()
    }

    fn put(&mut self, field: Field, value: Value) {
        self.values[field as usize] = Some(value).filter(|v| !v.is_null());
    }

    fn set(&mut self, key: &str, value: Value) {
        match Field::named(key) {
            Some(field) => self.put(field, value),
            None => self.note_unknown(key),
        }
    }

    fn note_unknown(&mut self, key: &str) {
        self.first_unknown.get_or_insert_with(|| key.to_owned());
    }

    fn from_object(fields: Map<String, Value>) -> RawEvent {
        let mut raw = RawEvent::default();
        for (key, value) in fields {
            raw.set(&key, value);
        }
        raw
    }
}

/// One item of a body: an event's fields, or why it is not one.
// Nearly every item is an event, so boxing it would only add an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq)]
pub(super) enum Item {
    Event(RawEvent),
    NotObject,
    HasNul(NulAt),
}

impl Item {
    fn from_value(value: Value) -> Item {
        match value {
            Value::Object(fields) => match find_nul_in_object(&fields) {
                Some(at) => Item::HasNul(at),
                None => Item::Event(RawEvent::from_object(fields)),
            },
            _ => Item::NotObject,
        }
    }
}

/// Why a body could not be read into items.
#[derive(Debug)]
pub(super) enum ReadError {
    Json(serde_json::Error),
    /// Valid JSON that is neither an object nor an array.
    NotObjectOrArray,
    Utf8(std::str::Utf8Error),
    /// An NDJSON line (counted from 1) that is not valid JSON.
    Line(usize, serde_json::Error),
}

/// Whether the body may hold a NUL character in a string or key.
pub(super) fn may_hold_nul(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"\\u0000").is_some()
}

/// Reads a JSON body: one object, or an array of items.
pub(super) fn read_json(body: &[u8], via_values: bool) -> Result<Vec<Item>, ReadError> {
    if via_values {
        return match serde_json::from_slice(body).map_err(ReadError::Json)? {
            Value::Array(values) => Ok(values.into_iter().map(Item::from_value).collect()),
            object @ Value::Object(_) => Ok(vec![Item::from_value(object)]),
            _ => Err(ReadError::NotObjectOrArray),
        };
    }
    match serde_json::from_slice(body).map_err(ReadError::Json)? {
        Body::Items(items) => Ok(items),
        Body::Other => Err(ReadError::NotObjectOrArray),
    }
}

/// Reads newline-delimited JSON: one item per non-blank line.
pub(super) fn read_ndjson(body: &[u8], via_values: bool) -> Result<Vec<Item>, ReadError> {
    let text = std::str::from_utf8(body).map_err(ReadError::Utf8)?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            let item =
                if via_values { serde_json::from_str(line).map(Item::from_value) } else { serde_json::from_str(line) };
            item.map_err(|e| ReadError::Line(n + 1, e))
        })
        .collect()
}

/// A JSON body's top level: its items (one for an object), or something else.
enum Body {
    Items(Vec<Item>),
    Other,
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BodyVisitor)
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemVisitor)
    }
}

/// Implements the visitor methods of every JSON scalar, each giving the visitor's `$other`.
macro_rules! scalars_are {
    ($other:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($other)
        }
    };
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = Body;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or an array of objects")
    }

    scalars_are!(Body::Other);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Body, A::Error> {
        read_fields(map).map(|raw| Body::Items(vec![Item::Event(raw)]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Body, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Body::Items(items))
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    scalars_are!(Item::NotObject);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
        read_fields(map).map(Item::Event)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Item::NotObject)
    }
}

fn read_fields<'de, A: MapAccess<'de>>(mut map: A) -> Result<RawEvent, A::Error> {
    let mut raw = RawEvent::default();
    while let Some(key) = map.next_key_seed(KeyInto(&mut raw))? {
        match key {
            Some(field) => {
                let value = map.next_value()?;
                raw.put(field, value);
            }
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(raw)
}

/// Reads a key without allocating it: a known field, or `None` after noting it as unknown.
struct KeyInto<'a>(&'a mut RawEvent);

impl<'de> DeserializeSeed<'de> for KeyInto<'_> {
    type Value = Option<Field>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Field>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyInto<'_> {
    type Value = Option<Field>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<Field>, E> {
        let field = Field::named(key);
        if field.is_none() {
            self.0.note_unknown(key);
        }
        Ok(field)
    }
}
