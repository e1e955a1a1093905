//! GitLab's JSON shapes of users, tokens, groups, projects, members and audit events.

use auditrelay_core::event::payload_with_id;
use auditrelay_core::time::format_micros;
use auditrelay_store::StoredEvent;
use auditrelay_store::identity::{Member, Token, User};
use auditrelay_store::namespaces::{Group, Project};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

pub fn user(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "name": u.name,
        "state": u.state,
        "email": u.email,
        "is_admin": u.is_admin,
        "avatar_url": null,
        "created_at": format_micros(u.created_at),
    })
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

pub fn group(g: &Group) -> Value {
    json!({
        "id": g.id,
        "name": g.name,
        "path": g.path,
        "description": "",
        "visibility": "private",
        "full_name": g.full_path.replace('/', " / "),
        "full_path": g.full_path,
        "parent_id": g.parent_id,
        "created_at": format_micros(g.created_at),
    })
}

pub fn project(p: &Project, namespace: &Group) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "path": p.path,
        "path_with_namespace": p.full_path,
        "name_with_namespace": format!("{} / {}", namespace.full_path.replace('/', " / "), p.name),
        "namespace": {
            "id": namespace.id,
            "name": namespace.name,
            "path": namespace.path,
            "kind": "group",
            "full_path": namespace.full_path,
            "parent_id": namespace.parent_id,
        },
        "created_at": format_micros(p.created_at),
    })
}

pub fn member(m: &Member) -> Value {
    json!({
        "id": m.user.id,
        "username": m.user.username,
        "name": m.user.name,
        "state": m.user.state,
        "access_level": m.access_level,
        "created_at": format_micros(m.created_at),
        "expires_at": null,
    })
}

/// GitLab's REST entity: `id, author_id, entity_id, entity_type, event_name, details, created_at`.
pub fn audit_event(e: &StoredEvent) -> Value {
    let payload: Value = serde_json::from_str(&payload_with_id(&e.id, &e.payload)).unwrap_or(Value::Null);
    json!({
        "id": e.id.to_value(),
        "author_id": e.author_id,
        "entity_id": e.entity_id,
        "entity_type": e.entity_type,
        "event_name": e.event_type,
        "details": payload.get("details").cloned().unwrap_or_else(|| json!({})),
        "created_at": format_micros(e.created_at),
    })
}
