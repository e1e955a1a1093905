//! Where an event sits in the namespace tree, cached: groups and projects are never moved or
//! deleted, so a resolved placement stays true and ingest needs no lookup per event.

use std::collections::HashMap;
use std::sync::RwLock;

/// An event's place: the service's group/project ids used for routing and scoped reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The service's id of the entity (group or project).
    pub entity_id: i64,
    pub full_path: String,
    pub group_id: i64,
    pub project_id: Option<i64>,
    pub root_group_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    GroupPath(String),
    GroupId(i64),
    ProjectPath(String),
    ProjectId(i64),
}

const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct NamespaceCache {
    entries: RwLock<HashMap<Key, Placement>>,
}

impl NamespaceCache {
    pub fn get(&self, key: &Key) -> Option<Placement> {
        self.entries.read().ok()?.get(key).cloned()
    }

    /// Whether a group path is known (a lookup, without copying its placement).
    pub fn knows_group_path(&self, path: &str) -> bool {
        self.entries.read().is_ok_and(|entries| entries.contains_key(&Key::GroupPath(path.to_owned())))
    }

    pub fn put(&self, key: Key, placement: Placement) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, placement);
        }
    }
}
