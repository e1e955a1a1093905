//! The AI sessions of the instance (admins) or of a group (its Owners), GitLab's "AI audit event
//! report": each session with its project and completeness, filtered by project, date and status.

use auditrelay_core::time::Micros;
use auditrelay_store::workflows::SessionRow;
use auditrelay_store::{EventFilter, EventScope};

use super::summary::{SessionReport, report_of};
use crate::error::{ServiceError, ServiceResult};
use crate::{Caller, Service};

/// Most sessions one listing shows (most recently active first).
pub const MAX_SESSIONS: i64 = 100;

/// A session's state from its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Not ended yet.
    Open,
    /// Ended with numbers missing or repeated, or without a start.
    Incomplete,
    Complete,
}

impl SessionStatus {
    pub fn parse(text: &str) -> Option<SessionStatus> {
        match text {
            "open" => Some(SessionStatus::Open),
            "incomplete" => Some(SessionStatus::Incomplete),
            "complete" => Some(SessionStatus::Complete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Open => "open",
            SessionStatus::Incomplete => "incomplete",
            SessionStatus::Complete => "complete",
        }
    }

    pub fn of(report: &SessionReport) -> SessionStatus {
        match (report.summary.ended, report.summary.complete) {
            (false, _) => SessionStatus::Open,
            (true, false) => SessionStatus::Incomplete,
            (true, true) => SessionStatus::Complete,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// A project (id or full path); inside the group when listing a group's sessions.
    pub project: Option<String>,
    pub created_after: Option<Micros>,
    pub created_before: Option<Micros>,
    pub status: Option<SessionStatus>,
}

/// One listed session.
#[derive(Debug, Clone)]
pub struct SessionListing {
    pub row: SessionRow,
    pub project_path: Option<String>,
    pub report: SessionReport,
    pub status: SessionStatus,
}

impl Service {
    /// The sessions of the instance (`group` none: admins) or of a group and its subgroups (its
    /// Owners and admins).
    #[tracing::instrument(skip_all, fields(caller = caller.user.id, group = ?group))]
    pub async fn ai_sessions(
        &self,
        caller: &Caller,
        group: Option<&str>,
        filter: &SessionFilter,
    ) -> ServiceResult<Vec<SessionListing>> {
        caller.require(auditrelay_core::access::Need::Read)?;
        let mut scope = match group {
            None => {
                caller.require_admin()?;
                EventScope::All
            }
            Some(path) => {
                let (group, author) = self.group_read_scope(caller, path).await?;
                if author.is_some() {
                    return Err(ServiceError::Forbidden);
                }
                EventScope::GroupTree {
                    group_id: group.id,
                    is_root: group.parent_id.is_none(),
                    full_path: group.full_path,
                }
            }
        };
        if let Some(project) = &filter.project {
            let (project, _) = self.visible_project(caller, project).await?;
            if let EventScope::GroupTree { full_path, .. } = &scope
                && !project.full_path.starts_with(&format!("{full_path}/"))
            {
                return Err(ServiceError::BadParam(format!("project {} is not in the group", project.full_path)));
            }
            scope = EventScope::Project(project.id);
        }
        let mut events = EventFilter::all();
        events.scope = scope;
        events.created_after = filter.created_after;
        events.created_before = filter.created_before;
        let mut listed = Vec::new();
        for row in self.store.ai_sessions(&events, MAX_SESSIONS).await? {
            let report = report_of(row.workflow_id, self.store.workflow_events(row.workflow_id).await?);
            let status = SessionStatus::of(&report);
            if filter.status.is_some_and(|wanted| wanted != status) {
                continue;
            }
            let project_path = match row.project_id {
                Some(id) => self.store.project_by_id(id).await?.map(|p| p.full_path),
                None => None,
            };
            listed.push(SessionListing { row, project_path, report, status });
        }
        Ok(listed)
    }
}
