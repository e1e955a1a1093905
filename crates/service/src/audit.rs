//! The service's own administrative actions, recorded as audit events in the same log.

use auditrelay_core::event::{INSTANCE_SCOPE_ID, INSTANCE_SCOPE_PATH};
use auditrelay_core::time::now_micros;
use auditrelay_core::{EntityType, NewEvent};
use auditrelay_store::identity::User;
use auditrelay_store::namespaces::Group;
use auditrelay_store::{PreparedEvent, StoreError, Tx, UnitFuture};
use serde_json::{Map, Value};

use super::ingest::{EventLocation, prepared_event};
use super::{Caller, Service};

/// What an administrative event is about.
pub struct AdminEvent<'a> {
    pub event_type: &'a str,
    pub entity_type: EntityType,
    pub entity_id: i64,
    pub entity_path: &'a str,
    /// The service's group and project the entity belongs to, for routing.
    pub group_id: Option<i64>,
    pub project_id: Option<i64>,
    pub root_group_id: Option<i64>,
    pub target_type: &'a str,
    pub target_id: i64,
    pub target_details: &'a str,
    pub message: String,
}

/// What an event is about: `(class name, id, description)`.
pub type Target<'a> = (&'a str, i64, &'a str);

impl<'a> AdminEvent<'a> {
    /// An event about a group (routed to its top-level group's destinations).
    pub fn for_group(event_type: &'a str, group: &'a Group, target: Target<'a>, message: String) -> Self {
        let (target_type, target_id, target_details) = target;
        AdminEvent {
            event_type,
            entity_type: EntityType::Group,
            entity_id: group.id.get(),
            entity_path: &group.full_path,
            group_id: Some(group.id.get()),
            project_id: None,
            root_group_id: Some(group.root_id.get()),
            target_type,
            target_id,
            target_details,
            message,
        }
    }

    /// An event about the instance (routed to instance destinations only).
    pub fn for_instance(event_type: &'a str, target: Target<'a>, message: String) -> Self {
        let (target_type, target_id, target_details) = target;
        AdminEvent {
            event_type,
            entity_type: EntityType::InstanceScope,
            entity_id: INSTANCE_SCOPE_ID,
            entity_path: INSTANCE_SCOPE_PATH,
            group_id: None,
            project_id: None,
            root_group_id: None,
            target_type,
            target_id,
            target_details,
            message,
        }
    }

    /// An event about a user.
    pub fn for_user(event_type: &'a str, user: &'a User, target: Target<'a>, message: String) -> Self {
        let (target_type, target_id, target_details) = target;
        AdminEvent {
            event_type,
            entity_type: EntityType::User,
            entity_id: user.id.get(),
            entity_path: &user.username,
            group_id: None,
            project_id: None,
            root_group_id: None,
            target_type,
            target_id,
            target_details,
            message,
        }
    }
}

/// Who makes a change, owned: a unit of work runs on the log writer's task.
#[derive(Debug, Clone)]
pub struct Author {
    pub id: i64,
    pub name: String,
    pub ip: Option<String>,
}

impl Author {
    pub fn of(caller: &Caller) -> Author {
        Author { id: caller.user.id.get(), name: caller.user.name.clone(), ip: caller.ip.map(|ip| ip.to_string()) }
    }

    /// The log row of an administrative event authored by this author.
    pub fn event(&self, event: AdminEvent<'_>) -> PreparedEvent {
        let mut details = Map::new();
        details.insert("custom_message".into(), Value::from(event.message));
        details.insert("author_class".into(), Value::from("User"));
        let new = NewEvent {
            event_type: event.event_type.to_owned(),
            entity_type: Some(event.entity_type),
            entity_id: Some(event.entity_id),
            entity_path: Some(event.entity_path.to_owned()),
            author_id: Some(self.id),
            author_name: Some(self.name.clone()),
            ip_address: self.ip.clone(),
            target_id: Some(event.target_id),
            target_type: Some(event.target_type.to_owned()),
            target_details: Some(event.target_details.to_owned()),
            details,
            ..NewEvent::default()
        };
        let location = EventLocation {
            entity_id: event.entity_id,
            entity_path: event.entity_path,
            group_id: event.group_id,
            project_id: event.project_id,
            root_group_id: event.root_group_id,
        };
        prepared_event(new, location, now_micros())
    }
}

impl Service {
    /// Runs a use case's statements and appends the audit events they return in one
    /// transaction (see `auditrelay_store::unit_of_work`): both are stored, or neither.
    /// Errors are the store's, for the caller to word (a conflict names what was taken).
    pub(crate) async fn change<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Tx) -> UnitFuture<'c, T> + Send + 'static,
    {
        self.log.commit_unit(work).await
    }
}
