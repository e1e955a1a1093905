//! Audit events: the validated shape a producer sends and the GitLab payload that is streamed.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use std::fmt;

use crate::time::{Micros, format_micros};

/// An event's public id: the producer's own, or the service's number.
///
/// A producer's id is text (`Str`; an integer a producer sends is taken as its decimal text),
/// unique within its scope (a top-level group, or the instance). `Int` is the service's own id
/// (the log's `seq`), so the two never name the same event. Events stored before producer ids
/// became text keep their integer producer ids (`Int`), unchanged on replay.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventId {
    Int(i64),
    Str(String),
}

impl EventId {
    /// The id as JSON text: `42` or `"abc"`. This is also its stored, unique form.
    pub fn to_json(&self) -> String {
        match self {
            EventId::Int(n) => n.to_string(),
            EventId::Str(s) => Value::String(s.clone()).to_string(),
        }
    }

    /// Reads back the stored JSON text form.
    pub fn from_json(text: &str) -> Option<EventId> {
        match serde_json::from_str::<Value>(text).ok()? {
            Value::Number(n) => n.as_i64().map(EventId::Int),
            Value::String(s) => Some(EventId::Str(s)),
            _ => None,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            EventId::Int(n) => Value::from(*n),
            EventId::Str(s) => Value::String(s.clone()),
        }
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventId::Int(n) => write!(f, "{n}"),
            EventId::Str(s) => f.write_str(s),
        }
    }
}

/// The scope an event is about, with GitLab's class names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    User,
    Group,
    Project,
    InstanceScope,
    UserNamespace,
}

impl EntityType {
    pub const ALL: [EntityType; 5] = [
        EntityType::User,
        EntityType::Group,
        EntityType::Project,
        EntityType::InstanceScope,
        EntityType::UserNamespace,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::User => "User",
            EntityType::Group => "Group",
            EntityType::Project => "Project",
            EntityType::InstanceScope => "Gitlab::Audit::InstanceScope",
            EntityType::UserNamespace => "Namespaces::UserNamespace",
        }
    }

    pub fn parse(text: &str) -> Option<EntityType> {
        EntityType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Whether the entity is a group or project, whose namespace the service tracks.
    pub fn is_namespace(self) -> bool {
        matches!(self, EntityType::Group | EntityType::Project)
    }
}

/// GitLab's id for the instance scope (`Gitlab::Audit::InstanceScope::SCOPE_ID`).
pub const INSTANCE_SCOPE_ID: i64 = 1;
/// GitLab's full path for the instance scope.
pub const INSTANCE_SCOPE_PATH: &str = "gitlab_instance";

/// GitLab's author of events without a known author (`Gitlab::Audit::UnauthenticatedAuthor`):
/// its id, name and class, which GitLab streams where a producer gave no author.
pub const UNKNOWN_AUTHOR_ID: i64 = -1;
pub const UNKNOWN_AUTHOR_NAME: &str = "An unauthenticated user";
pub const UNKNOWN_AUTHOR_CLASS: &str = "Gitlab::Audit::UnauthenticatedAuthor";

/// A validated event as a producer (or the service itself) submits it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewEvent {
    pub producer_id: Option<EventId>,
    pub event_type: String,
    pub entity_type: Option<EntityType>,
    pub entity_id: Option<i64>,
    pub entity_path: Option<String>,
    pub author_id: Option<i64>,
    pub author_name: Option<String>,
    pub ip_address: Option<String>,
    pub target_id: Option<i64>,
    pub target_type: Option<String>,
    pub target_details: Option<String>,
    pub details: Map<String, Value>,
    pub created_at: Option<Micros>,
}

impl NewEvent {
    pub fn entity_type(&self) -> EntityType {
        self.entity_type.unwrap_or(EntityType::InstanceScope)
    }

    /// Whether the event names an author other than this user: in `author_id`, `author_name`,
    /// or the `details` that GitLab fills with the author (`author_name`, `author_email`).
    /// Omitted fields claim nothing.
    pub fn claims_author_other_than(&self, id: i64, name: &str, email: &str) -> bool {
        let differs = |key: &str, own: &str| self.details.get(key).is_some_and(|v| v.as_str() != Some(own));
        self.author_id.is_some_and(|a| a != id)
            || self.author_name.as_deref().is_some_and(|n| n != name)
            || differs("author_name", name)
            || differs("author_email", email)
    }
}

/// Renders GitLab's streamed payload without its `id`, keys in GitLab's column order.
/// The `id` is prepended when the event is read or sent ([`payload_with_id`]), because the
/// service's own id is only known once the log writer has placed the event.
///
/// Where a producer omitted the author, GitLab's values for an unknown author are streamed
/// (author id `-1`, its name and class) instead of `null`, as GitLab always has an author.
pub fn render_payload(event: &NewEvent, entity_id: i64, entity_path: &str, created_at: Micros) -> String {
    let payload = Payload { event, entity_id, entity_path, created_at: format_micros(created_at) };
    // Serializing borrowed fields cannot fail (no maps with non-string keys, no I/O).
    serde_json::to_string(&payload).unwrap_or_default()
}

/// The streamed body, serialized from the event's own fields without copying them into a
/// `Value` first (a copy per field and per details entry was a tenth of ingest's instructions).
struct Payload<'a> {
    event: &'a NewEvent,
    entity_id: i64,
    entity_path: &'a str,
    created_at: String,
}

/// A details entry filled from the event where the producer's details lack it.
#[derive(Clone, Copy)]
enum Fill<'a> {
    Str(&'a str),
    Int(i64),
}

impl Serialize for Fill<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Fill::Str(s) => serializer.serialize_str(s),
            Fill::Int(n) => serializer.serialize_i64(*n),
        }
    }
}

impl<'a> Payload<'a> {
    /// `null` when the producer named an author id but no name.
    fn author_name(&self) -> Option<&'a str> {
        match (&self.event.author_name, self.event.author_id) {
            (Some(name), _) => Some(name),
            (None, None) => Some(UNKNOWN_AUTHOR_NAME),
            (None, Some(_)) => None,
        }
    }

    /// GitLab's details keys, in GitLab's order, after the producer's own (which win).
    fn fills(&self) -> [(&'static str, Option<Fill<'a>>); 8] {
        let e = self.event;
        let text = |v: &'a Option<String>| v.as_deref().map(Fill::Str);
        [
            ("event_name", Some(Fill::Str(&e.event_type))),
            ("author_name", self.author_name().map(Fill::Str)),
            ("author_class", e.author_id.is_none().then_some(Fill::Str(UNKNOWN_AUTHOR_CLASS))),
            ("target_id", e.target_id.map(Fill::Int)),
            ("target_type", text(&e.target_type)),
            ("target_details", text(&e.target_details)),
            ("ip_address", text(&e.ip_address)),
            ("entity_path", Some(Fill::Str(self.entity_path))),
        ]
    }
}

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let e = self.event;
        let mut body = serializer.serialize_map(Some(12))?;
        body.serialize_entry("author_id", &e.author_id.unwrap_or(UNKNOWN_AUTHOR_ID))?;
        body.serialize_entry("entity_id", &self.entity_id)?;
        body.serialize_entry("entity_type", e.entity_type().as_str())?;
        body.serialize_entry("details", &Details(self))?;
        body.serialize_entry("ip_address", &e.ip_address)?;
        body.serialize_entry("author_name", &self.author_name())?;
        body.serialize_entry("entity_path", self.entity_path)?;
        body.serialize_entry("target_details", &e.target_details)?;
        body.serialize_entry("created_at", &self.created_at)?;
        body.serialize_entry("target_type", &e.target_type)?;
        body.serialize_entry("target_id", &e.target_id)?;
        body.serialize_entry("event_type", &e.event_type)?;
        body.end()
    }
}

/// The producer's details as sent, then the fills they lack.
struct Details<'p, 'a>(&'p Payload<'a>);

impl Serialize for Details<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let details = &self.0.event.details;
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in details {
            map.serialize_entry(key, value)?;
        }
        for (key, fill) in self.0.fills() {
            if let Some(fill) = fill.filter(|_| !details.contains_key(key)) {
                map.serialize_entry(key, &fill)?;
            }
        }
        map.end()
    }
}

/// The complete GitLab payload: `{"id": <id>, ...payload}`.
pub fn payload_with_id(id: &EventId, payload_without_id: &str) -> String {
    let rest = payload_without_id.strip_prefix('{').unwrap_or(payload_without_id);
    let id = id.to_json();
    let mut out = String::with_capacity(payload_without_id.len() + id.len() + 8);
    out.push_str("{\"id\":");
    out.push_str(&id);
    if rest != "}" {
        out.push(',');
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    #[test]
    fn event_ids_keep_their_json_type() {
        assert_eq!(EventId::Int(7).to_json(), "7");
        assert_eq!(EventId::Str("7".into()).to_json(), "\"7\"");
        for id in [EventId::Int(-3), EventId::Str("a\"b".into())] {
            assert_eq!(EventId::from_json(&id.to_json()), Some(id));
        }
    }

    /// GitLab's documented `repository_git_operation` example event.
    fn git_operation() -> NewEvent {
        NewEvent {
            event_type: "repository_git_operation".into(),
            entity_type: Some(EntityType::Project),
            author_id: Some(-3),
            author_name: Some("deploy-key-name".into()),
            ip_address: Some("127.0.0.1".into()),
            target_id: Some(29),
            target_type: Some("Project".into()),
            target_details: Some("example-project".into()),
            ..NewEvent::default()
        }
    }

    #[test]
    fn payload_has_gitlab_keys_in_order() {
        let event = git_operation();
        let at = parse_timestamp("2022-07-26T05:43:53.662Z").unwrap();
        let payload = render_payload(&event, 29, "example-group/example-project", at);
        let full = payload_with_id(&EventId::Int(1), &payload);
        let value: Value = serde_json::from_str(&full).unwrap();
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "id",
                "author_id",
                "entity_id",
                "entity_type",
                "details",
                "ip_address",
                "author_name",
                "entity_path",
                "target_details",
                "created_at",
                "target_type",
                "target_id",
                "event_type"
            ]
        );
        assert_eq!(value["created_at"], "2022-07-26T05:43:53.662Z");
        assert_eq!(value["details"]["entity_path"], "example-group/example-project");
        assert_eq!(value["details"]["event_name"], "repository_git_operation");
        assert_eq!(value["id"], 1);
    }

    /// The bytes of the body, exactly: producers' details first and winning, GitLab's fills after.
    #[test]
    fn payload_bytes_are_gitlabs() {
        let mut details = Map::new();
        details.insert("custom_message".into(), serde_json::json!({"protocol": "ssh", "action": "git-receive-pack"}));
        details.insert("author_name".into(), "Other".into());
        details.insert("ip_address".into(), "10.0.0.1".into());
        let event = NewEvent { details, ..git_operation() };
        let at = parse_timestamp("2022-07-26T05:43:53.662Z").unwrap();
        let expected = concat!(
            r#"{"author_id":-3,"entity_id":29,"entity_type":"Project","details":{"custom_message":"#,
            r#"{"protocol":"ssh","action":"git-receive-pack"},"author_name":"Other","ip_address":"10.0.0.1","#,
            r#""event_name":"repository_git_operation","target_id":29,"target_type":"Project","#,
            r#""target_details":"example-project","entity_path":"g/p"},"ip_address":"127.0.0.1","#,
            r#""author_name":"deploy-key-name","entity_path":"g/p","target_details":"example-project","#,
            r#""created_at":"2022-07-26T05:43:53.662Z","target_type":"Project","target_id":29,"#,
            r#""event_type":"repository_git_operation"}"#
        );
        assert_eq!(render_payload(&event, 29, "g/p", at), expected);
        // An id without a name streams `null` and fills no name; escapes are JSON's.
        let nameless = NewEvent {
            event_type: "a\"b".into(),
            author_id: Some(7),
            author_name: None,
            target_details: Some("line\nbreak".into()),
            ..NewEvent::default()
        };
        let body = render_payload(&nameless, 1, "gitlab_instance", 0);
        let value: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["author_name"], Value::Null);
        assert!(value["details"].get("author_name").is_none() && value["details"].get("author_class").is_none());
        assert_eq!(value["details"]["event_name"], "a\"b");
        assert!(body.contains(r#""target_details":"line\nbreak""#), "{body}");
    }

    #[test]
    fn an_omitted_author_is_gitlabs_unknown_author() {
        let event = NewEvent { event_type: "x".into(), ..NewEvent::default() };
        let value: Value = serde_json::from_str(&render_payload(&event, 1, "gitlab_instance", 0)).unwrap();
        assert_eq!(value["author_id"], -1);
        assert_eq!(value["author_name"], UNKNOWN_AUTHOR_NAME);
        assert_eq!(value["details"]["author_name"], UNKNOWN_AUTHOR_NAME);
        assert_eq!(value["details"]["author_class"], UNKNOWN_AUTHOR_CLASS);
        let named = NewEvent { author_id: Some(7), ..event };
        let value: Value = serde_json::from_str(&render_payload(&named, 1, "gitlab_instance", 0)).unwrap();
        assert_eq!(value["author_id"], 7);
        assert!(value["details"].get("author_class").is_none());
    }

    #[test]
    fn author_claims_are_every_author_field() {
        let mine = NewEvent { author_id: Some(7), author_name: Some("Ann".into()), ..NewEvent::default() };
        assert!(!mine.claims_author_other_than(7, "Ann", "ann@x"));
        assert!(!NewEvent::default().claims_author_other_than(7, "Ann", "ann@x"), "omitted claims nothing");
        let other_id = NewEvent { author_id: Some(1), ..NewEvent::default() };
        assert!(other_id.claims_author_other_than(7, "Ann", "ann@x"));
        let other_name = NewEvent { author_name: Some("Administrator".into()), ..mine.clone() };
        assert!(other_name.claims_author_other_than(7, "Ann", "ann@x"));
        for details in [
            serde_json::json!({"author_name": "Administrator"}),
            serde_json::json!({"author_email": "admin@x"}),
            serde_json::json!({"author_name": 1}),
        ] {
            let event = NewEvent { details: details.as_object().unwrap().clone(), ..mine.clone() };
            assert!(event.claims_author_other_than(7, "Ann", "ann@x"), "{details}");
        }
        let own_details = serde_json::json!({"author_name": "Ann", "author_email": "ann@x", "change": "x"});
        let event = NewEvent { details: own_details.as_object().unwrap().clone(), ..mine };
        assert!(!event.claims_author_other_than(7, "Ann", "ann@x"));
    }

    #[test]
    fn payload_with_id_handles_empty_object() {
        assert_eq!(payload_with_id(&EventId::Str("x".into()), "{}"), "{\"id\":\"x\"}");
    }
}
