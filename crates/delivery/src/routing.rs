//! Which destinations get which events, as GitLab routes them: instance destinations get every
//! event; a top-level group's destinations get the events of the group, its subgroups and their
//! projects; then the event-type allow-list and the namespace filters; AI agent events only
//! while the admin setting allows streaming them.

use auditrelay_core::ai_events::is_ai_agent_event;

/// A namespace filter: a group covers itself, its subgroups and their projects; a project
/// covers only itself.
#[derive(Debug, Clone, PartialEq)]
pub enum NamespaceMatch {
    Group { full_path: String },
    Project { id: i64 },
}

/// What routing needs to know about a destination.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteSpec {
    /// The owning top-level group; `None` for an instance destination.
    pub group_id: Option<i64>,
    pub active: bool,
    /// Allow-list; empty means every type.
    pub event_types: Vec<String>,
    /// Empty means every namespace.
    pub namespace_filters: Vec<NamespaceMatch>,
}

/// Where an event sits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventPlace<'a> {
    pub event_type: &'a str,
    pub root_group_id: Option<i64>,
    /// Full path of the event's group (for a project event: the project's group).
    pub group_path: Option<&'a str>,
    pub project_id: Option<i64>,
}

/// Whether `event` goes to the destination `spec`.
pub fn routes(spec: &RouteSpec, event: &EventPlace<'_>, ai_streaming_enabled: bool) -> bool {
    if !spec.active {
        return false;
    }
    if !ai_streaming_enabled && is_ai_agent_event(event.event_type) {
        return false;
    }
    if let Some(owner) = spec.group_id
        && event.root_group_id != Some(owner)
    {
        return false;
    }
    let type_allowed = spec.event_types.is_empty()
        || event.event_type.is_empty()
        || spec.event_types.iter().any(|t| t == event.event_type);
    type_allowed && namespace_allowed(&spec.namespace_filters, event)
}

fn namespace_allowed(filters: &[NamespaceMatch], event: &EventPlace<'_>) -> bool {
    let Some(group_path) = event.group_path else {
        // Events with no namespace (users, the instance) pass, as in GitLab.
        return true;
    };
    filters.is_empty()
        || filters.iter().any(|filter| match filter {
            NamespaceMatch::Project { id } => event.project_id == Some(*id),
            NamespaceMatch::Group { full_path } => {
                group_path == full_path
                    || (group_path.starts_with(full_path.as_str()) && group_path[full_path.len()..].starts_with('/'))
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group_dest(group: i64) -> RouteSpec {
        RouteSpec { group_id: Some(group), active: true, ..RouteSpec::default() }
    }

    fn at<'a>(event_type: &'a str, root: Option<i64>, path: Option<&'a str>, project: Option<i64>) -> EventPlace<'a> {
        EventPlace { event_type, root_group_id: root, group_path: path, project_id: project }
    }

    #[test]
    fn instance_destinations_get_everything() {
        let spec = RouteSpec { active: true, ..RouteSpec::default() };
        assert!(routes(&spec, &at("x", None, None, None), false));
        assert!(routes(&spec, &at("x", Some(3), Some("a/b"), Some(9)), false));
    }

    #[test]
    fn group_destinations_get_their_tree_only() {
        let spec = group_dest(1);
        assert!(routes(&spec, &at("x", Some(1), Some("acme"), None), false));
        assert!(routes(&spec, &at("x", Some(1), Some("acme/sub"), Some(4)), false));
        assert!(!routes(&spec, &at("x", Some(2), Some("other"), None), false));
        assert!(!routes(&spec, &at("x", None, None, None), false), "user and instance events never reach groups");
    }

    #[test]
    fn inactive_destinations_get_nothing() {
        let spec = RouteSpec { active: false, ..group_dest(1) };
        assert!(!routes(&spec, &at("x", Some(1), Some("acme"), None), false));
    }

    #[test]
    fn event_type_allow_list() {
        let spec = RouteSpec { event_types: vec!["a".into(), "b".into()], ..group_dest(1) };
        assert!(routes(&spec, &at("a", Some(1), Some("acme"), None), false));
        assert!(!routes(&spec, &at("c", Some(1), Some("acme"), None), false));
    }

    #[test]
    fn namespace_filters_cover_descendants_or_one_project() {
        let spec = RouteSpec {
            namespace_filters: vec![
                NamespaceMatch::Group { full_path: "acme/sub".into() },
                NamespaceMatch::Project { id: 7 },
            ],
            ..group_dest(1)
        };
        assert!(routes(&spec, &at("x", Some(1), Some("acme/sub"), None), false));
        assert!(routes(&spec, &at("x", Some(1), Some("acme/sub/deeper"), Some(3)), false));
        assert!(
            !routes(&spec, &at("x", Some(1), Some("acme/subway"), None), false),
            "a path prefix is not an ancestor"
        );
        assert!(!routes(&spec, &at("x", Some(1), Some("acme"), None), false));
        assert!(routes(&spec, &at("x", Some(1), Some("acme/other"), Some(7)), false));
        assert!(!routes(&spec, &at("x", Some(1), Some("acme/other"), Some(8)), false));
        let instance = RouteSpec {
            active: true,
            namespace_filters: vec![NamespaceMatch::Project { id: 7 }],
            ..RouteSpec::default()
        };
        assert!(routes(&instance, &at("x", None, None, None), false), "user events pass namespace filters");
    }

    #[test]
    fn ai_events_need_the_admin_setting() {
        let spec = group_dest(1);
        assert!(!routes(&spec, &at("ai_tool_invoked", Some(1), Some("acme"), Some(2)), false));
        assert!(routes(&spec, &at("ai_tool_invoked", Some(1), Some("acme"), Some(2)), true));
        assert!(
            routes(&spec, &at("ai_setting_updated", Some(1), Some("acme"), None), false),
            "only the agent types are gated"
        );
    }
}
