//! The throttles' limits: web sign-in locks (GitLab's defaults) and GitLab's newer limit on
//! destination changes. Kept apart from the use cases that apply them so that the service's
//! context can build its throttles without importing those use cases.

/// Failed sign-ins of one username that lock it, and for how long (GitLab's defaults).
pub const SIGN_IN_FAILURE_LIMIT: u32 = 10;
/// Failed sign-ins from one client address (any usernames) that lock the address for as long.
pub const SIGN_IN_ADDRESS_FAILURE_LIMIT: u32 = 30;
pub const SIGN_IN_LOCK_MICROS: i64 = 10 * 60 * 1_000_000;

/// Destination creates and updates per user in [`MUTATION_WINDOW_MICROS`].
pub const MUTATIONS_PER_WINDOW: u32 = 10;
pub const MUTATION_WINDOW_MICROS: i64 = 60 * 1_000_000;
