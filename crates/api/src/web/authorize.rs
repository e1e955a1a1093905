//! Which page a path names and who may open it. Pure; the service layer decides group access.

/// The tabs of an audit events page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Log,
    Streams,
}

impl Tab {
    pub fn parse(value: Option<&str>) -> Tab {
        if value == Some("streams") { Tab::Streams } else { Tab::Log }
    }
}

/// The group of `/groups/<full_path>/-/audit_events`, from the part after `/groups/`.
pub fn group_audit_events_path(rest: &str) -> Option<&str> {
    let path = rest.strip_suffix("/-/audit_events")?;
    let valid = !path.is_empty() && path.split('/').all(|segment| !segment.is_empty() && segment != "-");
    valid.then_some(path)
}

/// Admin pages exist only for administrators; everyone else gets "not found", as in GitLab.
pub fn admin_page_visible(is_admin: bool) -> bool {
    is_admin
}

/// Where to go after signing in: only a path on this site, never another host.
pub fn safe_redirect(target: Option<&str>) -> &str {
    match target {
        Some(t) if t.starts_with('/') && !t.starts_with("//") && !t.contains('\\') && !t.contains("://") => t,
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_pages_name_their_group() {
        assert_eq!(group_audit_events_path("acme/-/audit_events"), Some("acme"));
        assert_eq!(group_audit_events_path("acme/sub/-/audit_events"), Some("acme/sub"));
        assert_eq!(group_audit_events_path("/-/audit_events"), None);
        assert_eq!(group_audit_events_path("acme//x/-/audit_events"), None);
        assert_eq!(group_audit_events_path("acme/-/settings"), None);
        assert_eq!(group_audit_events_path("acme"), None);
    }

    #[test]
    fn only_admins_see_admin_pages() {
        assert!(admin_page_visible(true));
        assert!(!admin_page_visible(false));
    }

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(safe_redirect(Some("/admin/audit_logs?tab=streams")), "/admin/audit_logs?tab=streams");
        assert_eq!(safe_redirect(Some("//evil.example/x")), "/");
        assert_eq!(safe_redirect(Some("https://evil.example")), "/");
        assert_eq!(safe_redirect(Some("/\\evil.example")), "/");
        assert_eq!(safe_redirect(None), "/");
    }

    #[test]
    fn tabs_default_to_the_log() {
        assert_eq!(Tab::parse(Some("streams")), Tab::Streams);
        assert_eq!(Tab::parse(Some("other")), Tab::Log);
        assert_eq!(Tab::parse(None), Tab::Log);
    }
}
