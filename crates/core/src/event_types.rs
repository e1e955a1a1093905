//! Event types the service itself records for its administrative actions.

pub const USER_CREATED: &str = "user_created";
pub const PERSONAL_ACCESS_TOKEN_CREATED: &str = "personal_access_token_created";
pub const PERSONAL_ACCESS_TOKEN_REVOKED: &str = "personal_access_token_revoked";
pub const GROUP_CREATED: &str = "group_created";
pub const PROJECT_CREATED: &str = "project_created";
pub const MEMBER_CREATED: &str = "member_created";
pub const APPLICATION_SETTING_UPDATED: &str = "application_setting_updated";

/// All event types the service emits on its own.
pub const SERVICE_EVENT_TYPES: [&str; 7] = [
    USER_CREATED,
    PERSONAL_ACCESS_TOKEN_CREATED,
    PERSONAL_ACCESS_TOKEN_REVOKED,
    GROUP_CREATED,
    PROJECT_CREATED,
    MEMBER_CREATED,
    APPLICATION_SETTING_UPDATED,
];
