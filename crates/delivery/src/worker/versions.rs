//! The routing in force at each event's `seq`. A destination change commits together with its
//! audit event and a routing version from that event's `seq` on (`auditrelay_store::route_versions`),
//! so the worker routes every event, its own change's audit event included, with the
//! configuration that was in force when the event was committed, without a restart.

use std::sync::Arc;

use crate::routing::RouteSpec;

/// The versions a worker has read, in `from_seq` order, complete up to `loaded_upto`.
#[derive(Debug)]
pub(super) struct RouteVersions {
    loaded_upto: i64,
    versions: Vec<(i64, Arc<RouteSpec>)>,
}

impl Default for RouteVersions {
    fn default() -> Self {
        RouteVersions { loaded_upto: -1, versions: Vec::new() }
    }
}

impl RouteVersions {
    /// Whether versions up to `seq` still have to be read (from `loaded_upto()` on).
    pub(super) fn needs(&self, seq: i64) -> bool {
        seq > self.loaded_upto
    }

    pub(super) fn loaded_upto(&self) -> i64 {
        self.loaded_upto
    }

    /// Adds the versions read with `from_seq` in `(loaded_upto, upto]`. A read that overlaps
    /// one already added (two reads racing) adds only what is new.
    pub(super) fn add(&mut self, upto: i64, read: Vec<(i64, RouteSpec)>) {
        for (from_seq, spec) in read {
            if from_seq > self.loaded_upto && self.versions.last().is_none_or(|(last, _)| from_seq > *last) {
                self.versions.push((from_seq, Arc::new(spec)));
            }
        }
        self.loaded_upto = self.loaded_upto.max(upto);
    }

    /// The version in force at `seq`: the latest from at most `seq`. `None` before the first
    /// (events older than the destination's first version: its current configuration applies).
    pub(super) fn at(&self, seq: i64) -> Option<Arc<RouteSpec>> {
        let after = self.versions.partition_point(|(from, _)| *from <= seq);
        after.checked_sub(1).map(|i| self.versions[i].1.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(types: &[&str]) -> RouteSpec {
        RouteSpec { active: true, event_types: types.iter().map(|t| (*t).to_owned()).collect(), ..RouteSpec::default() }
    }

    #[test]
    fn each_seq_gets_the_version_from_at_most_it() {
        let mut versions = RouteVersions::default();
        assert!(versions.needs(0));
        versions.add(100, vec![(10, spec(&[])), (50, spec(&["a"]))]);
        assert!(!versions.needs(100) && versions.needs(101));
        assert_eq!(versions.at(9), None, "before the first version");
        assert_eq!(versions.at(10).unwrap().event_types, Vec::<String>::new());
        assert_eq!(versions.at(49).unwrap().event_types, Vec::<String>::new());
        assert_eq!(versions.at(50).unwrap().event_types, vec!["a"], "the change's own event routes by it");
        assert_eq!(versions.at(1000).unwrap().event_types, vec!["a"]);
    }

    #[test]
    fn overlapping_reads_add_each_version_once() {
        let mut versions = RouteVersions::default();
        versions.add(60, vec![(10, spec(&[])), (50, spec(&["a"]))]);
        versions.add(80, vec![(50, spec(&["a"])), (70, spec(&["b"]))]);
        versions.add(70, vec![(70, spec(&["b"]))]);
        assert_eq!(versions.versions.len(), 3);
        assert_eq!(versions.loaded_upto(), 80);
        assert_eq!(versions.at(69).unwrap().event_types, vec!["a"]);
        assert_eq!(versions.at(70).unwrap().event_types, vec!["b"]);
    }
}
