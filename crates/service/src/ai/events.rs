//! AI audit events: a workflow's CloudEvents batch, checked by its envelope, each event becoming
//! an audit event of the workflow's project, authored by the user the agent acts for, appended
//! to the log like any ingested event (so routing, filters, headers, breaker and replay apply
//! unchanged). `data` is the producer's and becomes `details` as sent; the service only adds the
//! envelope's keys (`cloudevent_*`) and, when `data` has none, `workflow_id`.

use auditrelay_core::WorkflowId;
use auditrelay_core::ai_events::{AiBatchError, CloudEvent, ContentFields, parse_workflow_batch, redact_content};
use auditrelay_core::{EntityType, EventId, NewEvent};
use auditrelay_store::PreparedEvent;
use auditrelay_store::namespaces::{Group, Project};
use auditrelay_store::workflows::Workflow;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::Ai;
use super::workflows::WORKFLOW_ACCESS;
use crate::Caller;
use crate::access::{Scoped, need};
use crate::error::{ServiceError, ServiceResult};
use crate::ingest::{EventLocation, prepared_event};

/// GitLab's class name of a workflow, the target of its events.
pub const WORKFLOW_CLASS: &str = "Ai::DuoWorkflows::Workflow";

/// Everything an event of one workflow shares.
struct Context<'a> {
    workflow: &'a Workflow,
    project: &'a Project,
    group: &'a Group,
    author_name: String,
    ip: Option<String>,
    /// Content fields hashed before storing (the admin's at-rest setting).
    hashed_at_rest: Option<ContentFields>,
}

impl Ai<'_> {
    /// Ingests a workflow's CloudEvents batch. Answers the public ids, in order, once committed;
    /// a re-sent event answers its first id and is not stored again. When the session has ended,
    /// its summary is appended after the batch.
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get(), workflow_id = workflow_id.get()))]
    pub async fn ingest_ai_events(
        &self,
        scoped: &Scoped<'_, need::Ingest>,
        workflow_id: WorkflowId,
        body: &[u8],
    ) -> ServiceResult<Vec<EventId>> {
        let caller = scoped.caller();
        let (workflow, project, access) = self.workflow_with_access(caller, workflow_id).await?;
        if !access.can_see() {
            return Err(ServiceError::NotFound("Workflow"));
        }
        may_post_for(caller, &workflow, access.at_least(WORKFLOW_ACCESS))?;
        let events = parse_workflow_batch(body, workflow.id.get()).map_err(|e| match e {
            AiBatchError::Invalid(message) => ServiceError::BadInput(message),
            AiBatchError::TooLarge(message) => ServiceError::TooLarge(message),
        })?;
        let group =
            self.ctx.store.group_by_id(project.namespace_id).await?.ok_or(ServiceError::NotFound("Workflow"))?;
        let author = self.ctx.store.user_by_id(workflow.user_id).await?;
        let context = Context {
            workflow: &workflow,
            project: &project,
            group: &group,
            author_name: author.map(|u| u.name).unwrap_or_default(),
            ip: caller.ip.map(|ip| ip.to_string()),
            hashed_at_rest: self.ctx.ai_fields_hashed_at_rest().await?,
        };
        let prepared: Vec<PreparedEvent> = events.into_iter().map(|event| prepare(&context, event)).collect();
        let ids = self.ctx.log.append(prepared).await?;
        metrics::counter!("auditrelay_ingested_events_total").increment(ids.len() as u64);
        metrics::counter!("auditrelay_ai_events_ingested_total").increment(ids.len() as u64);
        self.ctx.issue_session_summary(workflow.id).await?;
        Ok(ids)
    }
}

/// Only the user the workflow acts for (still a Developer of its project) or an administrator
/// may post its events: another Developer could otherwise write events in that user's name.
fn may_post_for(caller: &Caller, workflow: &Workflow, developer: bool) -> ServiceResult<()> {
    if caller.is_admin() {
        return Ok(());
    }
    if caller.user.id != workflow.user_id {
        return Err(ServiceError::Denied(
            "only the workflow's own user or an administrator may send its events".into(),
        ));
    }
    if !developer {
        return Err(ServiceError::Denied(
            "you need at least the Developer role in the workflow's project to send its events".into(),
        ));
    }
    Ok(())
}

/// The public id of a workflow's CloudEvent: stable for the same workflow, `source` and `id`, so
/// a re-sent event is recognised by the log's producer-id dedupe.
pub fn public_id(workflow_id: WorkflowId, event: &CloudEvent) -> EventId {
    let digest = Sha256::digest(format!("{}\n{}", event.source, event.id).as_bytes());
    EventId::Str(format!("ai-{workflow_id}-{}", &hex::encode(digest)[..32]))
}

fn prepare(context: &Context<'_>, event: CloudEvent) -> PreparedEvent {
    let Context { workflow, project, group, .. } = context;
    let producer_id = public_id(workflow.id, &event);
    let mut details: Map<String, Value> = event.data;
    if details.get("workflow_id").is_none_or(Value::is_null) {
        details.insert("workflow_id".into(), Value::from(workflow.id.get()));
    }
    details.insert("cloudevent_id".into(), Value::from(event.id));
    details.insert("cloudevent_source".into(), Value::from(event.source));
    details.insert("cloudevent_time".into(), Value::from(event.time_text));
    details.insert("cloudevent_sequence".into(), event.sequence.map_or(Value::Null, Value::from));
    if let Some(fields) = &context.hashed_at_rest {
        redact_content(&event.event_type, &mut details, fields);
    }
    let new = NewEvent {
        producer_id: Some(producer_id),
        event_type: event.event_type,
        entity_type: Some(EntityType::Project),
        entity_id: Some(project.id.get()),
        entity_path: Some(project.full_path.clone()),
        author_id: Some(workflow.user_id.get()),
        author_name: Some(context.author_name.clone()),
        ip_address: context.ip.clone(),
        target_id: Some(workflow.id.get()),
        target_type: Some(WORKFLOW_CLASS.to_owned()),
        target_details: Some(format!("Workflow {}", workflow.id)),
        details,
        created_at: Some(event.time),
    };
    let location = EventLocation {
        entity_id: project.id.get(),
        entity_path: &project.full_path,
        group_id: Some(group.id.get()),
        project_id: Some(project.id.get()),
        root_group_id: Some(group.root_id.get()),
    };
    prepared_event(new, location, event.time)
}
