//! Rules for names and paths of users, groups and projects (GitLab's path rules).

/// The deepest namespace nesting GitLab allows.
pub const MAX_NAMESPACE_DEPTH: usize = 20;
pub const MAX_PATH_LEN: usize = 255;
pub const MAX_NAME_LEN: usize = 255;

/// Checks one path segment (a group, project or user path). Returns GitLab's message on failure.
pub fn validate_path_segment(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("can't be blank".into());
    }
    if path.len() > MAX_PATH_LEN {
        return Err(format!("is too long (maximum is {MAX_PATH_LEN} characters)"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if !path.chars().all(allowed) || path.starts_with(['-', '.']) || path.ends_with('.') {
        return Err(
            "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or '.', or end in '.'".into()
        );
    }
    if path.ends_with(".git") || path.ends_with(".atom") {
        return Err("cannot end in '.git' or '.atom'".into());
    }
    Ok(())
}

/// Checks a full path `a/b/c`: every segment valid, at most [`MAX_NAMESPACE_DEPTH`] deep.
pub fn validate_full_path(full_path: &str) -> Result<(), String> {
    let segments: Vec<&str> = full_path.split('/').collect();
    if segments.len() > MAX_NAMESPACE_DEPTH {
        return Err(format!("is nested too deeply (at most {MAX_NAMESPACE_DEPTH} levels)"));
    }
    for segment in segments {
        validate_path_segment(segment).map_err(|e| format!("segment '{segment}' {e}"))?;
    }
    Ok(())
}

/// Checks a display name (group, project or user).
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("can't be blank".into());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("is too long (maximum is {MAX_NAME_LEN} characters)"));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// Checks an email address loosely: one `@` with text on both sides and no spaces.
pub fn validate_email(email: &str) -> Result<(), String> {
    let ok = email.len() <= 255
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if ok { Ok(()) } else { Err("is invalid".into()) }
}

/// Minimum password length, as in GitLab's default settings.
pub const MIN_PASSWORD_LEN: usize = 8;

pub fn validate_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(format!("is too short (minimum is {MIN_PASSWORD_LEN} characters)"));
    }
    if len > 128 {
        return Err("is too long (maximum is 128 characters)".into());
    }
    Ok(())
}

/// Splits `a/b/c` into its ancestors' paths and itself: `a`, `a/b`, `a/b/c`.
pub fn path_prefixes(full_path: &str) -> impl Iterator<Item = &str> {
    full_path.match_indices('/').map(|(i, _)| &full_path[..i]).chain(std::iter::once(full_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_follow_gitlab_rules() {
        assert!(validate_path_segment("my-group_1.x").is_ok());
        for bad in ["", "-lead", ".dot", "trail.", "a b", "repo.git", "feed.atom", "ü"] {
            assert!(validate_path_segment(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(validate_path_segment(&"a".repeat(256)).is_err());
    }

    #[test]
    fn full_paths_are_checked_segment_by_segment() {
        assert!(validate_full_path("a/b/c").is_ok());
        assert!(validate_full_path("a//c").unwrap_err().contains("segment ''"));
        assert!(validate_full_path("/a").is_err());
        let deep = vec!["x"; MAX_NAMESPACE_DEPTH + 1].join("/");
        assert!(validate_full_path(&deep).unwrap_err().contains("deeply"));
    }

    #[test]
    fn prefixes_walk_down_the_tree() {
        assert_eq!(path_prefixes("a/b/c").collect::<Vec<_>>(), ["a", "a/b", "a/b/c"]);
        assert_eq!(path_prefixes("a").collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn emails_names_and_passwords() {
        assert!(validate_email("a@b.example").is_ok());
        for bad in ["a", "@b.c", "a@b", "a b@c.d", "a@b@c.d"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        assert!(validate_name("  ").is_err());
        assert!(validate_name("Group\n").is_err());
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough").is_ok());
    }
}
