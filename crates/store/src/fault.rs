//! Fault injection for the tests of units of work and of the log's commit; compiled only with
//! the `fault-injection` feature, which only the integration tests' build enables. `AUDITRELAY_FAULT_UNIT` (read at
//! each unit) makes every unit of work that records events, after its change's statements ran in the transaction
//! and before its audit events are appended, either `abort` the process (a crash between the
//! two steps) or `fail` (the transaction is rolled back and the caller gets an error).

use crate::Result;

/// A batch holding an event of this type fails in the database, as a commit refused by the
/// backend would.
#[cfg(feature = "fault-injection")]
const COMMIT_FAULT_EVENT_TYPE: &str = "auditrelay_test_commit_fault";

/// For a batch with these event types that is to fail: a statement the database itself refuses,
/// for the append to run inside its transaction, so the real failure path (aborted transaction,
/// rollback) runs on both backends.
#[cfg(feature = "fault-injection")]
pub(crate) fn refused_statement<'e>(mut event_types: impl Iterator<Item = &'e str>) -> Option<&'static str> {
    event_types.any(|t| t == COMMIT_FAULT_EVENT_TYPE).then_some("SELECT no_such_column FROM events")
}

#[cfg(feature = "fault-injection")]
pub(crate) fn between_change_and_audit() -> Result<()> {
    match std::env::var("AUDITRELAY_FAULT_UNIT").as_deref() {
        Ok("abort") => {
            eprintln!("fault injection: aborting between a change and its audit event");
            std::process::abort()
        }
        Ok("fail") => Err(crate::StoreError::Database(sqlx::Error::Protocol(
            "fault injection: failed between a change and its audit event".into(),
        ))),
        _ => Ok(()),
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn between_change_and_audit() -> Result<()> {
    Ok(())
}
