//! The AI sessions of the instance (admins) or of a group (its Owners), GitLab's "AI audit event
//! report": each session with its project and completeness, filtered by project, date and status.

use auditrelay_core::time::Micros;
use auditrelay_store::workflows::SessionRow;
use auditrelay_store::{EventFilter, EventScope};

use super::Ai;
use super::summary::{SessionReport, report_of};
use crate::access::{Admin, GroupGrant, need, rules};
use crate::error::{ServiceError, ServiceResult};

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

impl Ai<'_> {
    /// The sessions of the instance (admins).
    #[tracing::instrument(skip_all, fields(caller = admin.caller().user.id.get()))]
    pub async fn instance_ai_sessions(
        &self,
        admin: &Admin<'_, need::Read>,
        filter: &SessionFilter,
    ) -> ServiceResult<Vec<SessionListing>> {
        self.sessions_in(admin.caller(), EventScope::All, filter).await
    }

    /// The sessions of a group and its subgroups (its Owners and admins).
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = grant.group().id.get()))]
    pub async fn group_ai_sessions(
        &self,
        grant: &GroupGrant<'_, rules::ReadGroupAiSessions>,
        filter: &SessionFilter,
    ) -> ServiceResult<Vec<SessionListing>> {
        let group = grant.group();
        let scope = EventScope::GroupTree {
            group_id: group.id.get(),
            is_root: group.parent_id.is_none(),
            full_path: group.full_path.clone(),
        };
        self.sessions_in(grant.caller(), scope, filter).await
    }

    async fn sessions_in(
        &self,
        caller: &crate::Caller,
        mut scope: EventScope,
        filter: &SessionFilter,
    ) -> ServiceResult<Vec<SessionListing>> {
        if let Some(project) = &filter.project {
            let grant = self.ctx.access().project::<rules::SeeProject>(caller, project).await?;
            let project = grant.project();
            if let EventScope::GroupTree { full_path, .. } = &scope
                && !project.full_path.starts_with(&format!("{full_path}/"))
            {
                return Err(ServiceError::BadParam(format!("project {} is not in the group", project.full_path)));
            }
            scope = EventScope::Project(project.id.get());
        }
        let mut events = EventFilter::all();
        events.scope = scope;
        events.created_after = filter.created_after;
        events.created_before = filter.created_before;
        let mut listed = Vec::new();
        for row in self.ctx.store.ai_sessions(&events, MAX_SESSIONS).await? {
            let report = report_of(row.workflow_id, self.ctx.store.workflow_events(row.workflow_id).await?);
            let status = SessionStatus::of(&report);
            if filter.status.is_some_and(|wanted| wanted != status) {
                continue;
            }
            let project_path = match row.project_id {
                Some(id) => self.ctx.store.project_by_id(id).await?.map(|p| p.full_path),
                None => None,
            };
            listed.push(SessionListing { row, project_path, report, status });
        }
        Ok(listed)
    }
}
