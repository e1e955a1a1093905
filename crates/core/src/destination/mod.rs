//! Streaming destinations: categories, limits and GitLab's validation rules with its exact
//! messages. Pure: the service layer applies these and stores the result.

pub mod config;
pub mod rules;
pub mod url_guard;

use std::fmt;

/// Where a destination sends events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Http,
    Gcp,
    Aws,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::Http, Category::Gcp, Category::Aws];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Http => "http",
            Category::Gcp => "gcp",
            Category::Aws => "aws",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Active destinations an owner (a top-level group, or the instance) may have per category.
pub const MAX_ACTIVE_DESTINATIONS: usize = 5;
pub const MAX_HEADERS: usize = 20;
pub const MAX_NAMESPACE_FILTERS: usize = 5;
pub const MAX_NAME_LEN: usize = 72;
pub const MAX_URL_LEN: usize = 255;
pub const MAX_HEADER_KEY_LEN: usize = 255;
pub const MAX_HEADER_VALUE_LEN: usize = 2000;
pub const MAX_EVENT_TYPE_FILTER_LEN: usize = 255;
pub const MAX_SECRET_LEN: usize = 4096;
/// HTTP verification tokens (GitLab: `secretToken` / `verificationToken`).
pub const TOKEN_MIN_LEN: usize = 16;
pub const TOKEN_MAX_LEN: usize = 24;

/// The header carrying the verification token; custom headers may not set it.
pub const TOKEN_HEADER: &str = "X-Gitlab-Event-Streaming-Token";
pub const EVENT_TYPE_HEADER: &str = "X-Gitlab-Audit-Event-Type";

/// Default log names: the legacy GCP API and the consolidated API differ (underscore vs hyphen).
pub const LEGACY_GCP_LOG_ID: &str = "audit_events";
pub const CONSOLIDATED_GCP_LOG_ID: &str = "audit-events";

/// `"Maximum number of external audit event destinations (5) exceeded"`, per category wording.
pub fn limit_exceeded_message(category: Category) -> String {
    format!("Maximum number of {} ({MAX_ACTIVE_DESTINATIONS}) exceeded", limit_name(category))
}

/// `"Cannot activate: Maximum number of … (5) exceeded"`.
pub fn activation_limit_message(category: Category) -> String {
    format!("Cannot activate: {}", limit_exceeded_message(category))
}

fn limit_name(category: Category) -> &'static str {
    match category {
        Category::Http => "external audit event destinations",
        Category::Gcp => "google cloud logging configurations",
        Category::Aws => "audit events amazon s3 configurations",
    }
}
