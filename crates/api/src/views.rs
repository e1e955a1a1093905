//! GitLab's JSON shapes of users, tokens, groups, projects, members and audit events.

use auditrelay_core::event::{UNKNOWN_AUTHOR_ID, payload_with_id};
use auditrelay_core::time::format_micros;
use auditrelay_store::StoredEvent;
use auditrelay_store::identity::{Member, Token, User};
use auditrelay_store::namespaces::Project;
use chrono::{TimeZone, Utc};
use serde_json::{Map, Value, json};

use auditrelay_service::directory::NamedGroup;

/// GitLab's `UserBasic`: what any signed-in user sees of another.
pub fn user_basic(u: &User, base: &str) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "name": u.name,
        "state": u.state,
        "locked": false,
        "avatar_url": null,
        "web_url": format!("{base}/{}", u.username),
    })
}

/// GitLab's `UserPublic` with admin fields: for admins and for the user themself.
pub fn user(u: &User, base: &str) -> Value {
    let mut value = user_basic(u, base);
    if let Value::Object(fields) = &mut value {
        fields.insert("email".into(), Value::from(u.email.as_str()));
        fields.insert("is_admin".into(), Value::from(u.is_admin));
        fields.insert("external".into(), Value::from(false));
        fields.insert("created_at".into(), Value::from(format_micros(u.created_at)));
    }
    value
}

/// GitLab shows token expiry as a date.
fn date(micros: i64) -> String {
    Utc.timestamp_micros(micros).single().map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

pub fn token(t: &Token, plain: Option<&str>) -> Value {
    let active = !t.revoked && t.expires_at.is_none_or(|at| at > auditrelay_core::time::now_micros());
    let mut value = json!({
        "id": t.id,
        "name": t.name,
        "revoked": t.revoked,
        "created_at": format_micros(t.created_at),
        "description": null,
        "scopes": t.scopes,
        "user_id": t.user_id,
        "last_used_at": t.last_used_at.map(format_micros),
        "active": active,
        "expires_at": t.expires_at.map(date),
    });
    if let Some(plain) = plain {
        value["token"] = Value::from(plain);
    }
    value
}

pub fn group(g: &NamedGroup, base: &str) -> Value {
    let group = &g.group;
    json!({
        "id": group.id,
        "web_url": format!("{base}/groups/{}", group.full_path),
        "name": group.name,
        "path": group.path,
        "description": "",
        "visibility": "private",
        "full_name": g.full_name,
        "full_path": group.full_path,
        "parent_id": group.parent_id,
        "created_at": format_micros(group.created_at),
    })
}

/// GitLab's `BasicProjectDetails` (what `simple=true` answers).
pub fn project_simple(p: &Project, namespace: &NamedGroup, base: &str) -> Value {
    let ns = &namespace.group;
    json!({
        "id": p.id,
        "description": null,
        "name": p.name,
        "name_with_namespace": format!("{} / {}", namespace.full_name, p.name),
        "path": p.path,
        "path_with_namespace": p.full_path,
        "created_at": format_micros(p.created_at),
        "web_url": format!("{base}/{}", p.full_path),
        "avatar_url": null,
        "namespace": {
            "id": ns.id,
            "name": ns.name,
            "path": ns.path,
            "kind": "group",
            "full_path": ns.full_path,
            "parent_id": ns.parent_id,
            "web_url": format!("{base}/groups/{}", ns.full_path),
        },
    })
}

pub fn project(p: &Project, namespace: &NamedGroup, base: &str) -> Value {
    let mut value = project_simple(p, namespace, base);
    value["visibility"] = Value::from("private");
    value["archived"] = Value::from(false);
    value
}

pub fn member(m: &Member, base: &str) -> Value {
    let mut value = user_basic(&m.user, base);
    value["access_level"] = Value::from(m.access_level);
    value["created_at"] = Value::from(format_micros(m.created_at));
    value["expires_at"] = Value::Null;
    value["membership_state"] = Value::from("active");
    value
}

/// GitLab's `formatted_details`: `from`/`to` as strings and `author_email` added. Beyond
/// GitLab, every other non-string value (an object `custom_message`, a number, a boolean) is
/// rendered as its JSON text, so typed clients (go-gitlab's all-string `AuditEventDetails`)
/// decode every event; `target_id` stays as GitLab has it, an integer.
pub fn rest_details(details: Map<String, Value>, author_email: Option<&str>) -> Map<String, Value> {
    let mut out: Map<String, Value> = details
        .into_iter()
        .map(|(key, value)| {
            let value = match (key.as_str(), value) {
                ("target_id", value) => value,
                ("from" | "to", Value::Null) => Value::from(""),
                (_, value @ (Value::String(_) | Value::Null)) => value,
                (_, other) => Value::String(other.to_string()),
            };
            (key, value)
        })
        .collect();
    out.insert("author_email".into(), author_email.map_or(Value::Null, Value::from));
    out
}

/// GitLab's REST entity: `id, author_id, entity_id, entity_type, event_name, details, created_at`.
/// `id` is the service's own integer id; `streamed_id` is the `id` the stream carries (the
/// producer's id as given, string or integer, or the service's id when the producer gave none).
pub fn audit_event(e: &StoredEvent, author_email: Option<&str>) -> Value {
    let payload: Value = serde_json::from_str(&payload_with_id(&e.id, &e.payload)).unwrap_or(Value::Null);
    let details = match payload.get("details") {
        Some(Value::Object(details)) => details.clone(),
        _ => Map::new(),
    };
    json!({
        "id": e.seq,
        "author_id": e.author_id.unwrap_or(UNKNOWN_AUTHOR_ID),
        "entity_id": e.entity_id,
        "entity_type": e.entity_type,
        "event_name": e.event_type,
        "details": rest_details(details, author_email),
        "created_at": format_micros(e.created_at),
        "streamed_id": e.id.to_value(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_formatted_as_gitlab_and_for_typed_clients() {
        let details = json!({
            "from": false, "to": 5, "change": "x", "custom_message": {"protocol": "ssh"},
            "target_id": 29, "entity_path": null, "weights": [1, 2]
        });
        let Value::Object(map) = details else { unreachable!() };
        let out = Value::Object(rest_details(map, Some("a@b.c")));
        assert_eq!(out["from"], "false");
        assert_eq!(out["to"], "5");
        assert_eq!(out["change"], "x");
        assert_eq!(out["custom_message"], "{\"protocol\":\"ssh\"}");
        assert_eq!(out["target_id"], 29);
        assert_eq!(out["entity_path"], Value::Null);
        assert_eq!(out["weights"], "[1,2]");
        assert_eq!(out["author_email"], "a@b.c");
        let Value::Object(none) = json!({"from": null}) else { unreachable!() };
        let out = rest_details(none, None);
        assert_eq!(out["from"], "");
        assert_eq!(out["author_email"], Value::Null);
    }
}
