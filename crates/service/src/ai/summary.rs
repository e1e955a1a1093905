//! A session's completeness (the core's `SessionSummary` over its stored events), for the
//! summary API, the web UI, and the `ai_agent_session_summary` event the service appends when a
//! session ends, and again whenever later events change the summary (missing ones arriving).

use auditrelay_core::ai_events::{SESSION_SUMMARY_TYPE, SequencedEvent, SessionSummary};
use auditrelay_core::time::now_micros;
use auditrelay_core::{EntityType, EventId, NewEvent};
use auditrelay_core::{ProjectId, WorkflowId};
use auditrelay_store::workflows::SequencedRow;
use auditrelay_store::{StoredEvent, ai_event_keys};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::Ai;
use crate::Service;
use crate::access::{Scoped, need, rules};
use crate::error::{ServiceError, ServiceResult};
use crate::events::author_limit;
use crate::ingest::{EventLocation, prepared_event};
use auditrelay_core::AccessLevel;

/// A session with its summary and its events in sequence order.
#[derive(Debug, Clone)]
pub struct SessionReport {
    pub workflow_id: WorkflowId,
    pub session_id: Option<String>,
    pub project_id: Option<ProjectId>,
    pub summary: SessionSummary,
    /// The producer's events in sequence order (those without one last, in arrival order),
    /// each with its sequence.
    pub events: Vec<(Option<i64>, StoredEvent)>,
    /// The service's summary events issued so far, oldest first.
    pub summaries: Vec<StoredEvent>,
}

impl SessionReport {
    /// The summary as the API shows it.
    pub fn summary_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("workflow_id".into(), Value::from(self.workflow_id.get()));
        out.insert("session_id".into(), self.session_id.clone().map_or(Value::Null, Value::from));
        out.insert("project_id".into(), self.project_id.map_or(Value::Null, |p| Value::from(p.get())));
        out.extend(self.summary.to_map());
        out
    }
}

/// The producer's event id of a stored AI event: its CloudEvent id, else its public id.
fn producer_event_id(event: &StoredEvent, details: Option<&Map<String, Value>>) -> String {
    match details.and_then(|d| d.get("cloudevent_id")).and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => match &event.id {
            EventId::Str(s) => s.clone(),
            EventId::Int(n) => n.to_string(),
        },
    }
}

fn details_of(event: &StoredEvent) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(&event.payload).ok()?.get_mut("details")?.take() {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The report of a workflow's stored events.
pub fn report_of(workflow_id: WorkflowId, rows: Vec<SequencedRow>) -> SessionReport {
    let mut sequenced = Vec::with_capacity(rows.len());
    let mut events = Vec::with_capacity(rows.len());
    let mut summaries = Vec::new();
    let mut session_id = None;
    let mut project_id = None;
    for row in rows {
        if row.event.event_type == SESSION_SUMMARY_TYPE {
            summaries.push(row.event);
            continue;
        }
        let details = details_of(&row.event);
        if session_id.is_none() {
            session_id = ai_event_keys(&row.event.event_type, &row.event.payload).1;
        }
        project_id = project_id.or(row.event.project_id.map(ProjectId));
        sequenced.push(SequencedEvent {
            event_id: producer_event_id(&row.event, details.as_ref()),
            event_type: row.event.event_type.clone(),
            sequence: row.ai_sequence,
        });
        events.push((row.ai_sequence, row.event));
    }
    events.sort_by_key(|(sequence, _)| (sequence.is_none(), *sequence));
    SessionReport { workflow_id, session_id, project_id, summary: SessionSummary::of(&sequenced), events, summaries }
}

impl Ai<'_> {
    /// A workflow's session report, for whoever may read its events: the project's Maintainers
    /// and Owners, the workflow's own user, admins. A workflow known only from general ingest
    /// (no workflow created here) is for those who read all of its project's events.
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get(), workflow_id = workflow_id.get()))]
    pub async fn session_report(
        &self,
        scoped: &Scoped<'_, need::Read>,
        workflow_id: WorkflowId,
    ) -> ServiceResult<SessionReport> {
        let caller = scoped.caller();
        let report = report_of(workflow_id, self.ctx.store.workflow_events(workflow_id).await?);
        if caller.is_admin() {
            return if report.events.is_empty() && self.ctx.store.workflow_by_id(workflow_id).await?.is_none() {
                Err(ServiceError::NotFound("Workflow"))
            } else {
                Ok(report)
            };
        }
        match self.ctx.store.workflow_by_id(workflow_id).await? {
            Some(workflow) => {
                let author = self.project_reader(caller, workflow.project_id).await?;
                if author.is_some_and(|a| a != workflow.user_id.get()) {
                    return Err(ServiceError::Forbidden);
                }
            }
            // Known from general ingest only: for those who read all of its project's events.
            None => {
                let project = report.project_id.ok_or(ServiceError::NotFound("Workflow"))?;
                let author = self.project_reader(caller, project).await?;
                if author.is_some() {
                    return Err(ServiceError::Forbidden);
                }
            }
        }
        Ok(report)
    }

    /// Whose events of a project the caller reads (`None`: all), as its event listing says.
    async fn project_reader(&self, caller: &crate::Caller, project_id: ProjectId) -> ServiceResult<Option<i64>> {
        let grant = self.ctx.access().project::<rules::ReadProjectEvents>(caller, &project_id.to_string()).await?;
        Ok(author_limit(caller.user.id.get(), grant.access(), AccessLevel::Maintainer))
    }
}

impl Service {
    /// Appends the session's summary event if the session has ended. Its public id is a digest of
    /// the summary, so an unchanged summary (a re-sent batch, a second node) is not stored again.
    pub(crate) async fn issue_session_summary(&self, workflow_id: WorkflowId) -> ServiceResult<()> {
        if !self.store.workflow_has_event(workflow_id, "ai_agent_session_ended").await? {
            return Ok(());
        }
        let report = report_of(workflow_id, self.store.workflow_events(workflow_id).await?);
        let Some((_, ended)) = report.events.iter().rev().find(|(_, e)| e.event_type == "ai_agent_session_ended")
        else {
            return Ok(());
        };
        let mut details = report.summary_json();
        details.remove("project_id");
        let digest = Sha256::digest(Value::Object(details.clone()).to_string().as_bytes());
        let payload: Value = serde_json::from_str(&ended.payload).unwrap_or(Value::Null);
        let text = |key: &str| payload.get(key).and_then(Value::as_str).map(str::to_owned);
        let entity_path = text("entity_path").unwrap_or_default();
        let now = now_micros();
        let summary = NewEvent {
            producer_id: Some(EventId::Str(format!("ai-{workflow_id}-summary-{}", &hex::encode(digest)[..32]))),
            event_type: SESSION_SUMMARY_TYPE.to_owned(),
            entity_type: EntityType::parse(&ended.entity_type),
            entity_id: Some(ended.entity_id),
            entity_path: Some(entity_path.clone()),
            author_id: ended.author_id,
            author_name: text("author_name"),
            ip_address: None,
            target_id: payload.get("target_id").and_then(Value::as_i64),
            target_type: text("target_type"),
            target_details: text("target_details"),
            details,
            created_at: Some(now),
        };
        let location = EventLocation {
            entity_id: ended.entity_id,
            entity_path: &entity_path,
            group_id: ended.group_id,
            project_id: ended.project_id,
            root_group_id: ended.root_group_id,
        };
        self.log.append(vec![prepared_event(summary, location, now)]).await?;
        Ok(())
    }
}
