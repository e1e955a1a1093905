//! Ingest: validate a producer's batch, place each event in the namespace tree, authorize it,
//! and append the whole batch to the log. Nothing of a rejected batch is stored.

use auditrelay_core::ai_events::{SESSION_SUMMARY_TYPE, ai_keys, is_ai_agent_event, redact_content};
use auditrelay_core::event::render_payload;
use auditrelay_core::time::{Micros, now_micros};
use auditrelay_core::{AccessLevel, EntityType, EventId, NewEvent, parse_ingest_body};
use auditrelay_core::{GroupId, ProjectId, UserId, WorkflowId};
use auditrelay_store::PreparedEvent;

use super::access::{Scoped, need};
use super::namespace_cache::{Key, Placement};
use super::{Caller, Service};
use crate::error::{ServiceError, ServiceResult};

/// Producers' batches: `service.ingest()`.
#[derive(Clone, Copy)]
pub struct Ingest<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn ingest(&self) -> Ingest<'_> {
        Ingest { ctx: self }
    }
}

impl Ingest<'_> {
    /// Ingests a request body. Answers the public ids, in order, once they are committed.
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn ingest(
        &self,
        scoped: &Scoped<'_, need::Ingest>,
        body: &[u8],
        ndjson: bool,
    ) -> ServiceResult<Vec<EventId>> {
        let caller = scoped.caller();
        let mut events = parse_ingest_body(body, ndjson, self.ctx.ingest_limits)?;
        self.hash_ai_content_at_rest(&mut events).await?;
        self.learn_group_paths(caller, &events).await?;
        let now = now_micros();
        let mut prepared = Vec::with_capacity(events.len());
        for (index, event) in events.into_iter().enumerate() {
            prepared.push(self.prepare(caller, index, event, now).await?);
        }
        let new_types = self.unobserved_types(&prepared);
        let ai_workflows = ai_workflows_of(&prepared);
        let ids = self.ctx.log.append(prepared).await?;
        metrics::counter!("auditrelay_ingested_events_total").increment(ids.len() as u64);
        for workflow_id in ai_workflows {
            self.ctx.issue_session_summary(WorkflowId(workflow_id)).await?;
        }
        if !new_types.is_empty() {
            self.ctx.store.note_event_types(&new_types).await?;
            if let Ok(mut seen) = self.ctx.observed_types.write() {
                seen.extend(new_types);
            }
        }
        Ok(ids)
    }

    /// AI agent events arriving here (e.g. from a GitLab instance streaming to this service) are
    /// AI events like those of the workflow endpoint: their content is hashed before storing
    /// when the admin asks for it. The session summary is the service's alone.
    async fn hash_ai_content_at_rest(&self, events: &mut [NewEvent]) -> ServiceResult<()> {
        if !events.iter().any(|e| is_ai_agent_event(&e.event_type)) {
            return Ok(());
        }
        if let Some(index) = events.iter().position(|e| e.event_type == SESSION_SUMMARY_TYPE) {
            return Err(ServiceError::BadInput(format!(
                "event {index}: {SESSION_SUMMARY_TYPE} is the service's own event and cannot be sent"
            )));
        }
        if let Some(fields) = self.ctx.ai_fields_hashed_at_rest().await? {
            for event in events.iter_mut() {
                redact_content(&event.event_type, &mut event.details, &fields);
            }
        }
        Ok(())
    }

    /// An administrator's batch teaches the service the group paths it names: every one the
    /// index does not hold yet is created in one transaction (one commit for the request and
    /// the others learning meanwhile, not one per namespace), and remembered. Per-event
    /// placement then finds them all; it also reports, with the event's index, a path that
    /// turns out to be a project's.
    async fn learn_group_paths(&self, caller: &Caller, events: &[NewEvent]) -> ServiceResult<()> {
        if !caller.is_admin() {
            return Ok(());
        }
        let mut unknown: Vec<&str> = events
            .iter()
            .filter(|e| e.entity_type() == EntityType::Group)
            .filter_map(|e| e.entity_path.as_deref())
            .filter(|path| !self.ctx.namespaces.knows_group_path(path))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        // A single path is learned by per-event placement at the same cost.
        if unknown.len() < 2 {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let learned = self.ctx.log.learn_group_paths(unknown.iter().map(|p| p.to_string()).collect()).await;
        metrics::histogram!("auditrelay_namespace_learn_seconds").record(started.elapsed().as_secs_f64());
        match learned {
            Ok(groups) => {
                for group in groups {
                    let placement = group_placement(group);
                    let path = placement.full_path.clone();
                    self.ctx.namespaces.put(Key::GroupPath(&path), placement);
                }
                Ok(())
            }
            Err(auditrelay_store::StoreError::Conflict(_)) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// Event types of a batch that are neither defined nor seen before: filters may name them
    /// once they have been ingested.
    fn unobserved_types(&self, events: &[PreparedEvent]) -> Vec<String> {
        let Ok(seen) = self.ctx.observed_types.read() else { return Vec::new() };
        let mut new: Vec<String> = events
            .iter()
            .map(|e| e.event_type.as_str())
            .filter(|t| !seen.contains(*t) && !auditrelay_core::event_catalogue::is_defined(t))
            .map(str::to_owned)
            .collect();
        new.sort_unstable();
        new.dedup();
        new
    }

    async fn prepare(&self, caller: &Caller, index: usize, event: NewEvent, now: i64) -> ServiceResult<PreparedEvent> {
        let placement = self.place(caller, index, &event).await?;
        let event = self.authored(caller, index, event, placement.as_ref()).await?;
        let entity_id = event.entity_id.or(placement.as_ref().map(|p| p.entity_id)).unwrap_or_default();
        let entity_path = event
            .entity_path
            .clone()
            .or_else(|| placement.as_ref().map(|p| p.full_path.to_string()))
            .unwrap_or_default();
        let entity_path = match (entity_path.is_empty(), event.entity_type(), event.entity_id) {
            // GitLab streams a user event with the user's path (their username).
            (true, EntityType::User, Some(id)) => {
                self.ctx.store.user_by_id(UserId(id)).await?.map(|u| u.username).unwrap_or_default()
            }
            _ => entity_path,
        };
        let created_at = event.created_at.unwrap_or(now);
        let location = EventLocation {
            entity_id,
            entity_path: &entity_path,
            group_id: placement.as_ref().map(|p| p.group_id),
            project_id: placement.as_ref().and_then(|p| p.project_id),
            root_group_id: placement.as_ref().map(|p| p.root_group_id),
        };
        Ok(prepared_event(event, location, created_at))
    }

    /// Places a group or project event. Admins' events teach the service new namespaces; other
    /// producers may only send events for existing namespaces they own.
    async fn place(&self, caller: &Caller, index: usize, event: &NewEvent) -> ServiceResult<Option<Placement>> {
        let entity_type = event.entity_type();
        if !entity_type.is_namespace() {
            let about_self = entity_type == EntityType::User && event.entity_id == Some(caller.user.id.get());
            if !(caller.is_admin() || about_self) {
                return Err(refused(index, "only an administrator may send events for this entity"));
            }
            return Ok(None);
        }
        let project = entity_type == EntityType::Project;
        let key = match (&event.entity_path, event.entity_id) {
            (Some(path), _) if project => Key::ProjectPath(path),
            (Some(path), _) => Key::GroupPath(path),
            (None, Some(id)) if project => Key::ProjectId(id),
            (None, Some(id)) => Key::GroupId(id),
            (None, None) => {
                return Err(ServiceError::BadInput(format!("event {index}: entity_id or entity_path is required")));
            }
        };
        let placement = match self.ctx.namespaces.get(key) {
            Some(found) => found,
            None => {
                let resolved = self.resolve(key, caller.is_admin()).await.map_err(|e| match e {
                    ServiceError::Conflict(_) => ServiceError::BadInput(format!(
                        "event {index}: entity_path {} is already taken by a {} of another kind",
                        describe(key),
                        if project { "group" } else { "project" }
                    )),
                    other => other,
                })?;
                let found = resolved.ok_or_else(|| {
                    ServiceError::BadInput(format!(
                        "event {index}: {} {} does not exist; send its entity_path so it can be created",
                        entity_type.as_str(),
                        describe(key)
                    ))
                })?;
                self.ctx.namespaces.put(key, found.clone());
                found
            }
        };
        if !caller.is_admin() && !self.owner_of(caller, placement.group_id).await?.1 {
            return Err(refused(index, "you must be an Owner of the event's group to send its events"));
        }
        Ok(Some(placement))
    }

    /// The author of an ingested event is what the token may claim (docs/integrity.md). An
    /// administrator, or an Owner of the event's top-level group (whose stream it is), may name
    /// any author. Everyone else, such as the Owner of a subgroup they created as a Maintainer,
    /// or a user sending events about themselves, authors events as themselves: an omitted
    /// author is them, and naming anyone else is refused.
    async fn authored(
        &self,
        caller: &Caller,
        index: usize,
        mut event: NewEvent,
        placement: Option<&Placement>,
    ) -> ServiceResult<NewEvent> {
        let me = &caller.user;
        if caller.is_admin() {
            return Ok(event);
        }
        if !event.claims_author_other_than(me.id.get(), &me.name, &me.email) {
            event.author_id.get_or_insert(me.id.get());
            event.author_name.get_or_insert_with(|| me.name.clone());
            return Ok(event);
        }
        let Some(placement) = placement else {
            return Err(refused(index, "only an administrator may send these events as another author"));
        };
        let (root, is_owner) = self.owner_of(caller, placement.root_group_id).await?;
        if is_owner {
            return Ok(event);
        }
        Err(refused(
            index,
            &format!(
                "only an Owner of the top-level group '{}' may send events authored by someone else; \
                 omit the author (or give your own) to author it yourself",
                root.full_path
            ),
        ))
    }

    /// The group with this id, and whether the caller is one of its Owners.
    async fn owner_of(
        &self,
        caller: &Caller,
        group_id: i64,
    ) -> ServiceResult<(auditrelay_store::namespaces::Group, bool)> {
        let group = self.ctx.store.group_by_id(GroupId(group_id)).await?.ok_or(ServiceError::NotFound("Group"))?;
        let is_owner = self.ctx.group_access(caller, &group).await?.at_least(AccessLevel::Owner);
        Ok((group, is_owner))
    }

    async fn resolve(&self, key: Key<'_>, learn: bool) -> ServiceResult<Option<Placement>> {
        let store = &self.ctx.store;
        Ok(match key {
            Key::GroupPath(path) if learn => Some(group_placement(store.ensure_group_path(path).await?)),
            Key::GroupPath(path) => store.group_by_path(path).await?.map(group_placement),
            Key::GroupId(id) => store.group_by_id(GroupId(id)).await?.map(group_placement),
            Key::ProjectPath(path) if learn => {
                let (project, group) = store.ensure_project_path(path).await?;
                Some(project_placement(project, &group))
            }
            Key::ProjectPath(path) => match store.project_by_path(path).await? {
                Some(project) => self.with_namespace(project).await?,
                None => None,
            },
            Key::ProjectId(id) => match store.project_by_id(ProjectId(id)).await? {
                Some(project) => self.with_namespace(project).await?,
                None => None,
            },
        })
    }

    async fn with_namespace(&self, project: auditrelay_store::namespaces::Project) -> ServiceResult<Option<Placement>> {
        let group = self.ctx.store.group_by_id(project.namespace_id).await?;
        Ok(group.map(|g| project_placement(project, &g)))
    }
}

fn group_placement(g: auditrelay_store::namespaces::Group) -> Placement {
    Placement {
        entity_id: g.id.get(),
        full_path: g.full_path.into(),
        group_id: g.id.get(),
        project_id: None,
        root_group_id: g.root_id.get(),
    }
}

fn project_placement(
    project: auditrelay_store::namespaces::Project,
    group: &auditrelay_store::namespaces::Group,
) -> Placement {
    Placement {
        entity_id: project.id.get(),
        full_path: project.full_path.into(),
        group_id: group.id.get(),
        project_id: Some(project.id.get()),
        root_group_id: group.root_id.get(),
    }
}

/// The workflows of a batch's AI agent events (their sessions may need a new summary).
fn ai_workflows_of(events: &[PreparedEvent]) -> Vec<i64> {
    let mut ids: Vec<i64> =
        events.iter().filter(|e| e.event_type != SESSION_SUMMARY_TYPE).filter_map(|e| e.workflow_id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn describe(key: Key<'_>) -> String {
    match key {
        Key::GroupPath(p) | Key::ProjectPath(p) => format!("'{p}'"),
        Key::GroupId(id) | Key::ProjectId(id) => format!("with id {id}"),
    }
}

fn refused(index: usize, why: &str) -> ServiceError {
    ServiceError::Denied(format!("event {index}: {why}"))
}

/// Where an event sits: its entity and the namespaces it belongs to.
pub(crate) struct EventLocation<'a> {
    pub entity_id: i64,
    pub entity_path: &'a str,
    pub group_id: Option<i64>,
    pub project_id: Option<i64>,
    pub root_group_id: Option<i64>,
}

/// The one way an event becomes a row for the log, for producers' events, AI events and the
/// service's own: GitLab's payload rendered, and an AI event's workflow and session taken from
/// its details here, outside the log writer's lock.
pub(crate) fn prepared_event(event: NewEvent, at: EventLocation<'_>, created_at: Micros) -> PreparedEvent {
    let ai = ai_keys(&event.event_type, &event.details);
    PreparedEvent {
        payload: render_payload(&event, at.entity_id, at.entity_path, created_at),
        entity_type: event.entity_type().as_str().to_owned(),
        producer_id: event.producer_id,
        created_at,
        event_type: event.event_type,
        entity_id: at.entity_id,
        author_id: event.author_id,
        group_id: at.group_id,
        project_id: at.project_id,
        root_group_id: at.root_group_id,
        workflow_id: ai.workflow_id,
        session_id: ai.session_id,
        ai_sequence: ai.sequence,
    }
}
