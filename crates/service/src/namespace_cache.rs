//! Where an event sits in the namespace tree, cached: groups and projects are never moved or
//! deleted, so a resolved placement stays true and ingest needs no lookup per event.
//!
//! Kept compact because real instances have hundreds of thousands of namespaces: a path is held
//! once (the map's key and the placement share one `Arc<str>`), and lookups borrow the event's
//! path instead of copying it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// An event's place: the service's group/project ids used for routing and scoped reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The service's id of the entity (group or project).
    pub entity_id: i64,
    pub full_path: Arc<str>,
    pub group_id: i64,
    pub project_id: Option<i64>,
    pub root_group_id: i64,
}

/// How an event names its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    GroupPath(&'a str),
    GroupId(i64),
    ProjectPath(&'a str),
    ProjectId(i64),
}

/// Entries over all four maps (bounds its memory: about 130 bytes an entry).
const MAX_ENTRIES: usize = 200_000;
/// When full, one entry in this many is forgotten: an instance with more namespaces than the
/// cache holds still finds most of them here (starting over made every lookup miss at once).
const EVICT_ONE_IN: usize = 8;

#[derive(Default)]
struct Entries {
    group_paths: HashMap<Arc<str>, Placement>,
    project_paths: HashMap<Arc<str>, Placement>,
    group_ids: HashMap<i64, Placement>,
    project_ids: HashMap<i64, Placement>,
}

impl Entries {
    fn len(&self) -> usize {
        self.group_paths.len() + self.project_paths.len() + self.group_ids.len() + self.project_ids.len()
    }

    /// Forgets one entry in [`EVICT_ONE_IN`], spread over the maps (hash order, so arbitrary).
    fn evict_some(&mut self) {
        let mut n = 0usize;
        let mut keep = || {
            n += 1;
            !n.is_multiple_of(EVICT_ONE_IN)
        };
        self.group_paths.retain(|_, _| keep());
        self.project_paths.retain(|_, _| keep());
        self.group_ids.retain(|_, _| keep());
        self.project_ids.retain(|_, _| keep());
    }

    fn get(&self, key: Key<'_>) -> Option<&Placement> {
        match key {
            Key::GroupPath(path) => self.group_paths.get(path),
            Key::ProjectPath(path) => self.project_paths.get(path),
            Key::GroupId(id) => self.group_ids.get(&id),
            Key::ProjectId(id) => self.project_ids.get(&id),
        }
    }
}

#[derive(Default)]
pub struct NamespaceCache {
    entries: RwLock<Entries>,
}

impl NamespaceCache {
    pub fn get(&self, key: Key<'_>) -> Option<Placement> {
        self.entries.read().ok()?.get(key).cloned()
    }

    /// Whether a group path is known (a lookup, without copying its placement).
    pub fn knows_group_path(&self, path: &str) -> bool {
        self.entries.read().is_ok_and(|entries| entries.group_paths.contains_key(path))
    }

    pub fn put(&self, key: Key<'_>, placement: Placement) {
        let Ok(mut entries) = self.entries.write() else { return };
        if entries.len() >= MAX_ENTRIES {
            entries.evict_some();
        }
        match key {
            Key::GroupPath(path) => insert_by_path(&mut entries.group_paths, path, placement),
            Key::ProjectPath(path) => insert_by_path(&mut entries.project_paths, path, placement),
            Key::GroupId(id) => {
                entries.group_ids.insert(id, placement);
            }
            Key::ProjectId(id) => {
                entries.project_ids.insert(id, placement);
            }
        }
    }
}

/// The key shares the placement's path when they are the same text (they nearly always are).
fn insert_by_path(map: &mut HashMap<Arc<str>, Placement>, path: &str, placement: Placement) {
    let key = if *placement.full_path == *path { placement.full_path.clone() } else { Arc::from(path) };
    map.insert(key, placement);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(id: i64, path: &str) -> Placement {
        Placement { entity_id: id, full_path: Arc::from(path), group_id: id, project_id: None, root_group_id: 1 }
    }

    #[test]
    fn paths_and_ids_of_each_kind_are_kept_apart() {
        let cache = NamespaceCache::default();
        cache.put(Key::GroupPath("acme/web"), placement(7, "acme/web"));
        cache.put(Key::ProjectId(7), placement(9, "acme/web/app"));
        assert_eq!(cache.get(Key::GroupPath("acme/web")).map(|p| p.entity_id), Some(7));
        assert!(cache.knows_group_path("acme/web"));
        assert_eq!(cache.get(Key::ProjectPath("acme/web")), None, "a group's path is not a project's");
        assert_eq!(cache.get(Key::GroupId(7)), None, "a project's id is not a group's");
        assert_eq!(cache.get(Key::ProjectId(7)).map(|p| p.entity_id), Some(9));
    }

    #[test]
    fn the_key_shares_the_placements_path() {
        let cache = NamespaceCache::default();
        let p = placement(3, "ns/g-000001");
        let shared = p.full_path.clone();
        cache.put(Key::GroupPath("ns/g-000001"), p);
        // Ours, the placement's and the key's.
        assert_eq!(Arc::strong_count(&shared), 3);
    }

    #[test]
    fn a_full_cache_forgets_an_eighth_and_keeps_the_rest() {
        let cache = NamespaceCache::default();
        for id in 0..MAX_ENTRIES as i64 {
            cache.put(Key::GroupId(id), placement(id, "g"));
        }
        cache.put(Key::GroupId(-1), placement(-1, "g"));
        assert!(cache.get(Key::GroupId(-1)).is_some(), "the new entry is kept");
        let kept = (0..MAX_ENTRIES as i64).filter(|&id| cache.get(Key::GroupId(id)).is_some()).count();
        assert_eq!(kept, MAX_ENTRIES - MAX_ENTRIES / EVICT_ONE_IN);
    }
}
