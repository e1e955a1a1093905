//! GitLab's newer destination limits (18.10): at most 50 destinations per group in total, and
//! at most 10 destination creates or updates per user per minute. Off by default; the admin
//! turns them on with the `audit_event_streaming_newer_limits_enabled` application setting
//! (`Settings::audit_event_streaming_newer_limits_enabled`).

use auditrelay_core::time::now_micros;

use super::{Owner, invalid};
use crate::error::ServiceResult;
use crate::{Caller, Service};

/// Destinations of every category a group may have, active or not.
pub const GROUP_DESTINATION_LIMIT: usize = 50;
pub use crate::limits::{MUTATION_WINDOW_MICROS, MUTATIONS_PER_WINDOW};

impl Service {
    /// Checks the newer limits before a destination create (`existing` = the owner's
    /// destinations today) or update (`existing` = `None`), and counts the mutation.
    pub(super) async fn check_newer_limits(
        &self,
        caller: &Caller,
        owner: &Owner,
        existing: Option<usize>,
    ) -> ServiceResult<()> {
        if !self.application_settings().await?.audit_event_streaming_newer_limits_enabled {
            return Ok(());
        }
        if let (Owner::Group(_), Some(count)) = (owner, existing)
            && count >= GROUP_DESTINATION_LIMIT
        {
            return Err(invalid(format!(
                "Maximum number of audit event streaming destinations per group ({GROUP_DESTINATION_LIMIT}) exceeded"
            )));
        }
        let key = caller.user.id.to_string();
        let now = now_micros();
        let mut mutations = self.destination_mutations.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if mutations.is_blocked(&key, now) {
            return Err(invalid(format!(
                "Too many destination changes: at most {MUTATIONS_PER_WINDOW} creates or updates per minute. Try again later."
            )));
        }
        mutations.record_failure(&key, now);
        Ok(())
    }
}
