//! AI audit events: a workflow's CloudEvents batch, validated whole, each event becoming an audit
//! event of the workflow's project, authored by the user the agent acts for, appended to the log
//! like any ingested event (so routing, filters, headers, breaker and replay apply unchanged).

use auditrelay_core::access::Need;
use auditrelay_core::ai_events::{AiBatchError, CloudEvent, parse_cloudevents_batch};
use auditrelay_core::{EntityType, EventId, NewEvent};
use auditrelay_store::PreparedEvent;
use auditrelay_store::namespaces::{Group, Project};
use auditrelay_store::workflows::Workflow;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::workflows::WORKFLOW_ACCESS;
use crate::error::{ServiceError, ServiceResult};
use crate::ingest::{EventLocation, prepared_event};
use crate::{Caller, Service};

/// GitLab's class name of a workflow, the target of its events.
pub const WORKFLOW_CLASS: &str = "Ai::DuoWorkflows::Workflow";

/// Everything an event of one workflow shares.
struct Context<'a> {
    workflow: &'a Workflow,
    project: &'a Project,
    group: &'a Group,
    author_name: String,
    ip: Option<String>,
}

impl Service {
    /// Ingests a workflow's CloudEvents batch. Answers the public ids, in order, once committed;
    /// a re-sent event answers its first id and is not stored again.
    pub async fn ingest_ai_events(
        &self,
        caller: &Caller,
        workflow_id: i64,
        body: &[u8],
    ) -> ServiceResult<Vec<EventId>> {
        caller.require(Need::Ingest)?;
        let (workflow, project, access) = self.workflow_with_access(caller, workflow_id).await?;
        if !access.can_see() {
            return Err(ServiceError::NotFound("Workflow"));
        }
        if !access.at_least(WORKFLOW_ACCESS) {
            return Err(ServiceError::Denied(
                "you need at least the Developer role in the workflow's project to send its events".into(),
            ));
        }
        let events = parse_cloudevents_batch(body).map_err(|e| match e {
            AiBatchError::Invalid(message) => ServiceError::BadInput(message),
            AiBatchError::TooLarge(message) => ServiceError::TooLarge(message),
        })?;
        check_against_workflow(&events, &workflow, &project)?;
        let group = self.store.group_by_id(project.namespace_id).await?.ok_or(ServiceError::NotFound("Workflow"))?;
        let author = self.store.user_by_id(workflow.user_id).await?;
        let context = Context {
            workflow: &workflow,
            project: &project,
            group: &group,
            author_name: author.map(|u| u.name).unwrap_or_default(),
            ip: caller.ip.map(|ip| ip.to_string()),
        };
        let prepared: Vec<PreparedEvent> = events.into_iter().map(|event| prepare(&context, event)).collect();
        let ids = self.log.append(prepared).await?;
        metrics::counter!("auditrelay_ingested_events_total").increment(ids.len() as u64);
        metrics::counter!("auditrelay_ai_events_ingested_total").increment(ids.len() as u64);
        Ok(ids)
    }
}

/// `data.workflow_id`, `data.user_id` and `data.project_path`, when sent, must name this workflow,
/// its user and its project. Every mismatch is named; one rejects the batch.
fn check_against_workflow(events: &[CloudEvent], workflow: &Workflow, project: &Project) -> ServiceResult<()> {
    let mut problems = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let mut found = Vec::new();
        let data = &event.data;
        if let Some(id) = data.get("workflow_id").and_then(Value::as_i64)
            && id != workflow.id
        {
            found.push(format!("data.workflow_id {id} is not the workflow of the URL ({})", workflow.id));
        }
        if let Some(id) = data.get("user_id").and_then(Value::as_i64)
            && id != workflow.user_id
        {
            found.push(format!("data.user_id {id} is not the workflow's user ({})", workflow.user_id));
        }
        if let Some(path) = data.get("project_path").and_then(Value::as_str)
            && path != project.full_path
        {
            found.push(format!("data.project_path {path:?} is not the workflow's project ({:?})", project.full_path));
        }
        if !found.is_empty() {
            problems.push(format!("event {index} (id {:?}): {}", event.id, found.join("; ")));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(ServiceError::BadInput(format!(
        "the batch was rejected and nothing was stored; {} of {} events are invalid: {}",
        problems.len(),
        events.len(),
        problems.join(" | ")
    )))
}

/// The public id of a workflow's CloudEvent: stable for the same workflow, `source` and `id`, so
/// a re-sent event is recognised by the log's producer-id dedupe.
pub fn public_id(workflow_id: i64, event: &CloudEvent) -> EventId {
    let digest = Sha256::digest(format!("{}\n{}", event.source, event.id).as_bytes());
    EventId::Str(format!("ai-{workflow_id}-{}", &hex::encode(digest)[..32]))
}

fn prepare(context: &Context<'_>, event: CloudEvent) -> PreparedEvent {
    let Context { workflow, project, group, .. } = context;
    let producer_id = public_id(workflow.id, &event);
    let session_id = event.data.get("session_id").cloned().unwrap_or(Value::Null);
    let mut details: Map<String, Value> = event.data;
    details.insert("workflow_id".into(), Value::from(workflow.id));
    details.insert("session_id".into(), session_id);
    details.insert("cloudevent_id".into(), Value::from(event.id));
    details.insert("cloudevent_source".into(), Value::from(event.source));
    details.insert("cloudevent_time".into(), Value::from(event.time_text));
    let new = NewEvent {
        producer_id: Some(producer_id),
        event_type: event.event_type,
        entity_type: Some(EntityType::Project),
        entity_id: Some(project.id),
        entity_path: Some(project.full_path.clone()),
        author_id: Some(workflow.user_id),
        author_name: Some(context.author_name.clone()),
        ip_address: context.ip.clone(),
        target_id: Some(workflow.id),
        target_type: Some(WORKFLOW_CLASS.to_owned()),
        target_details: Some(format!("Workflow {}", workflow.id)),
        details,
        created_at: Some(event.time),
    };
    let location = EventLocation {
        entity_id: project.id,
        entity_path: &project.full_path,
        group_id: Some(group.id),
        project_id: Some(project.id),
        root_group_id: Some(group.root_id),
    };
    prepared_event(new, location, event.time)
}
