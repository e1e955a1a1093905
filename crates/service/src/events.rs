//! Reading the audit log: instance, group (with subgroups and projects) and project scopes,
//! with GitLab's filters and offset or keyset pagination, plus the AI-events query.
//!
//! Listings are answered from the ClickHouse archive when it is configured and caught up, and
//! from the operational store otherwise. "Caught up" means the archive holds every event up to
//! the log head read at the start of the query (and ClickHouse answered last time); the archive
//! is then read up to its own position, so an answer never misses an acknowledged event. When
//! this process's archiver is one insert behind, the read waits up to 100 ms for it. A
//! ClickHouse error during the read falls back to the store for that read. Single events by id
//! are always read from the store (one indexed lookup).

use auditrelay_core::ai_events::{SESSION_SUMMARY_TYPE, is_ai_agent_event};
use auditrelay_core::event_catalogue::AI_EVENT_TYPES;
use auditrelay_core::{AccessLevel, EntityType};
use auditrelay_core::{GroupId, UserId};
use auditrelay_store::{EventFilter, EventScope, IdScope, SeqOrder, StoredEvent};

use std::collections::HashMap;

use super::Service;
use super::access::{Access, Admin, GroupGrant, ProjectGrant, need, rules};
use crate::error::{ServiceError, ServiceResult};

/// How long a read waits for a close-behind archive before reading the operational store.
const ARCHIVE_PATIENCE: std::time::Duration = std::time::Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Page {
    Offset {
        page: i64,
        per_page: i64,
    },
    /// From a keyset position; GitLab offers newest first, oldest first is for followers.
    Keyset {
        order: SeqOrder,
        per_page: i64,
    },
}

/// The read API's filters, as the caller gave them.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub created_after: Option<i64>,
    pub created_before: Option<i64>,
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    /// Only events by this author (the web UI's filter; GitLab's REST API has none).
    pub author_id: Option<i64>,
    /// Extensions for AI (and other) events: one event type, a workflow, an agent session.
    pub event_type: Option<String>,
    pub workflow_id: Option<i64>,
    pub session_id: Option<String>,
}

/// How `GET …/audit_events/:id` names an event: by the service's own integer id (what REST
/// listings show as `id`), or by the id the stream carries (`streamed_id`: the producer's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKey<'a> {
    Service(i64),
    Streamed(&'a str),
}

impl<'a> EventKey<'a> {
    /// A number is the service's id unless `streamed` asks for the streamed id; anything else
    /// can only be a producer's id.
    pub fn parse(id: &'a str, streamed: bool) -> EventKey<'a> {
        match id.parse::<i64>() {
            Ok(seq) if !streamed => EventKey::Service(seq),
            _ => EventKey::Streamed(id),
        }
    }
}

/// Which store answered a listing (the REST API shows it in `X-Auditrelay-Read-Source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSource {
    Store,
    ClickHouse,
}

impl ReadSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadSource::Store => "store",
            ReadSource::ClickHouse => "clickhouse",
        }
    }
}

/// Where a listing is read from: the operational store, or the archive up to `upto`.
enum Source<'a> {
    Store,
    Archive { archive: &'a auditrelay_archive::Archive, upto: i64, group_ids: Vec<i64> },
}

pub struct EventPage {
    pub events: Vec<StoredEvent>,
    /// Offset pagination only.
    pub total: Option<i64>,
    /// Keyset pagination: the `seq` to continue from, if there is a next page.
    pub next_seq: Option<i64>,
    pub source: ReadSource,
}

/// The scope of a read, after authorization.
enum Scoped {
    All,
    Group(auditrelay_store::namespaces::Group),
    Project(i64),
}

/// Reads of the audit log: `service.events()`.
#[derive(Clone, Copy)]
pub struct Events<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn events(&self) -> Events<'_> {
        Events { ctx: self }
    }
}

impl Events<'_> {
    #[tracing::instrument(skip_all, fields(caller = admin.caller().user.id.get()))]
    pub async fn instance_events(
        &self,
        admin: &Admin<'_, need::Read>,
        query: &EventQuery,
        page: Page,
    ) -> ServiceResult<EventPage> {
        self.read_events(Scoped::All, None, query, page).await
    }

    /// The AI-events query: AI agent events of the whole instance (admins), by workflow,
    /// session, type and time range. Group and project AI queries use the ordinary listings
    /// with the same filters.
    #[tracing::instrument(skip_all, fields(caller = admin.caller().user.id.get()))]
    pub async fn ai_events(
        &self,
        admin: &Admin<'_, need::Read>,
        query: &EventQuery,
        page: Page,
    ) -> ServiceResult<EventPage> {
        if let Some(event_type) = &query.event_type
            && !is_ai_agent_event(event_type)
        {
            return Err(ServiceError::BadParam(format!(
                "event_type must be one of the AI event types ({}, {SESSION_SUMMARY_TYPE})",
                AI_EVENT_TYPES.join(", ")
            )));
        }
        let mut query = query.clone();
        let types: Vec<String> = match query.event_type.take() {
            Some(t) => vec![t],
            None => AI_EVENT_TYPES.iter().chain([&SESSION_SUMMARY_TYPE]).map(|t| (*t).to_owned()).collect(),
        };
        self.read_events_of(Scoped::All, None, &query, types, page).await
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = grant.group().id.get()))]
    pub async fn group_events(
        &self,
        grant: &GroupGrant<'_, rules::ReadGroupEvents>,
        query: &EventQuery,
        page: Page,
    ) -> ServiceResult<EventPage> {
        let author = author_limit(grant.caller().user.id.get(), grant.access(), AccessLevel::Owner);
        self.read_events(Scoped::Group(grant.group().clone()), author, query, page).await
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), project = grant.project().id.get()))]
    pub async fn project_events(
        &self,
        grant: &ProjectGrant<'_, rules::ReadProjectEvents>,
        query: &EventQuery,
        page: Page,
    ) -> ServiceResult<EventPage> {
        let author = author_limit(grant.caller().user.id.get(), grant.access(), AccessLevel::Maintainer);
        self.read_events(Scoped::Project(grant.project().id.get()), author, query, page).await
    }

    /// One event by either of its ids. A producer's id names an event only within its scope
    /// (a top-level group, or the instance); at the instance, an id that exactly one group's
    /// events carry names that event too.
    async fn event_by_key(&self, scope: IdScope, key: EventKey<'_>) -> ServiceResult<StoredEvent> {
        let not_found = || ServiceError::NotFound("Audit Event");
        match key {
            EventKey::Service(seq) => self.ctx.store.event_by_seq(seq).await?.ok_or_else(not_found),
            EventKey::Streamed(id) => {
                if let Some(event) = self.ctx.store.event_by_producer_id(scope, id).await? {
                    return Ok(event);
                }
                if scope != IdScope::Instance {
                    return Err(not_found());
                }
                let mut carriers = self.ctx.store.events_by_producer_id(id, 2).await?;
                if carriers.len() > 1 {
                    return Err(ServiceError::Conflict(format!(
                        "events of several top-level groups have the id '{id}'; read it at its group's \
                         audit events, or by the service's own id"
                    )));
                }
                carriers.pop().ok_or_else(not_found)
            }
        }
    }

    /// The emails of the events' authors, for GitLab's `details.author_email`.
    pub async fn author_emails(&self, events: &[StoredEvent]) -> ServiceResult<HashMap<i64, String>> {
        let mut emails = HashMap::new();
        for author in events.iter().filter_map(|e| e.author_id).filter(|a| *a > 0) {
            if let std::collections::hash_map::Entry::Vacant(slot) = emails.entry(author)
                && let Some(user) = self.ctx.store.user_by_id(UserId(author)).await?
            {
                slot.insert(user.email);
            }
        }
        Ok(emails)
    }

    #[tracing::instrument(skip_all, fields(caller = admin.caller().user.id.get()))]
    pub async fn instance_event(&self, admin: &Admin<'_, need::Read>, id: EventKey<'_>) -> ServiceResult<StoredEvent> {
        self.event_by_key(IdScope::Instance, id).await
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = grant.group().id.get()))]
    pub async fn group_event(
        &self,
        grant: &GroupGrant<'_, rules::ReadGroupEvents>,
        id: EventKey<'_>,
    ) -> ServiceResult<StoredEvent> {
        let group = grant.group();
        let author = author_limit(grant.caller().user.id.get(), grant.access(), AccessLevel::Owner);
        let event = self.event_by_key(IdScope::TopLevelGroup(group.root_id.get()), id).await?;
        let in_tree = match event.group_id {
            Some(gid) if event.root_group_id == Some(group.root_id.get()) => {
                gid == group.id.get()
                    || self
                        .ctx
                        .store
                        .group_by_id(GroupId(gid))
                        .await?
                        .is_some_and(|g| g.full_path.starts_with(&format!("{}/", group.full_path)))
            }
            _ => false,
        };
        visible(event, in_tree, author)
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), project = grant.project().id.get()))]
    pub async fn project_event(
        &self,
        grant: &ProjectGrant<'_, rules::ReadProjectEvents>,
        id: EventKey<'_>,
    ) -> ServiceResult<StoredEvent> {
        let project = grant.project();
        let author = author_limit(grant.caller().user.id.get(), grant.access(), AccessLevel::Maintainer);
        let root =
            self.ctx.store.group_by_id(project.namespace_id).await?.ok_or(ServiceError::NotFound("Project"))?.root_id;
        let event = self.event_by_key(IdScope::TopLevelGroup(root.get()), id).await?;
        let in_project = event.project_id == Some(project.id.get());
        visible(event, in_project, author)
    }

    async fn read_events(
        &self,
        scope: Scoped,
        author: Option<i64>,
        query: &EventQuery,
        page: Page,
    ) -> ServiceResult<EventPage> {
        let types = query.event_type.iter().cloned().collect();
        self.read_events_of(scope, author, query, types, page).await
    }

    async fn read_events_of(
        &self,
        scope: Scoped,
        author: Option<i64>,
        query: &EventQuery,
        event_types: Vec<String>,
        page: Page,
    ) -> ServiceResult<EventPage> {
        if let Some(entity_type) = &query.entity_type
            && EntityType::parse(entity_type).is_none()
        {
            return Err(ServiceError::BadParam("entity_type does not have a valid value".into()));
        }
        if query.entity_id.is_some() && query.entity_type.is_none() {
            return Err(ServiceError::BadParam("entity_id requires entity_type".into()));
        }
        let filter = EventFilter {
            scope: match scope {
                Scoped::All => EventScope::All,
                Scoped::Project(id) => EventScope::Project(id),
                Scoped::Group(g) => EventScope::GroupTree {
                    group_id: g.id.get(),
                    is_root: g.parent_id.is_none(),
                    full_path: g.full_path,
                },
            },
            created_after: query.created_after,
            created_before: query.created_before,
            entity_type: query.entity_type.clone(),
            entity_id: query.entity_id,
            author_id: author.or(query.author_id),
            event_types,
            workflow_id: query.workflow_id,
            session_id: query.session_id.clone(),
        };
        // A reader limited to their own events who asks for someone else's gets none.
        if author.is_some() && query.author_id.is_some_and(|a| Some(a) != author) {
            let total = matches!(page, Page::Offset { .. }).then_some(0);
            return Ok(EventPage { events: Vec::new(), total, next_seq: None, source: ReadSource::Store });
        }
        if let Some(source) = self.archive_source(&filter).await? {
            match self.paginate(&source, &filter, page).await {
                Ok(result) => return Ok(result),
                Err(error) => tracing::warn!(%error, "ClickHouse read failed; answering from the operational store"),
            }
        }
        self.paginate(&Source::Store, &filter, page).await
    }

    /// The archive, when it holds every event up to the log head as of now.
    async fn archive_source(&self, filter: &EventFilter) -> ServiceResult<Option<Source<'_>>> {
        let Some(archive) = &self.ctx.archive else { return Ok(None) };
        let head = self.ctx.store.head_seq().await?;
        let Some(upto) = archive.answers_up_to(head, ARCHIVE_PATIENCE).await else { return Ok(None) };
        let group_ids = match &filter.scope {
            EventScope::GroupTree { group_id, full_path, is_root: false } => {
                self.ctx.store.group_tree_ids(*group_id, full_path).await?
            }
            _ => Vec::new(),
        };
        Ok(Some(Source::Archive { archive, upto, group_ids }))
    }

    async fn paginate(&self, source: &Source<'_>, filter: &EventFilter, page: Page) -> ServiceResult<EventPage> {
        let source_name = match source {
            Source::Store => ReadSource::Store,
            Source::Archive { .. } => ReadSource::ClickHouse,
        };
        match page {
            Page::Offset { page, per_page } => {
                let newest_first = SeqOrder::NewestFirst { before: None };
                let events = self.list(source, filter, newest_first, (page - 1) * per_page, per_page).await?;
                let total = self.count(source, filter).await?;
                Ok(EventPage { events, total: Some(total), next_seq: None, source: source_name })
            }
            Page::Keyset { order, per_page } => {
                let mut events = self.list(source, filter, order, 0, per_page + 1).await?;
                let more = events.len() as i64 > per_page;
                events.truncate(per_page as usize);
                // Oldest first is how a follower tails the log: every non-empty page links on,
                // because newer events may arrive; an empty page means "caught up for now".
                let tailing = matches!(order, SeqOrder::OldestFirst { .. });
                let next = if more || tailing { events.last().map(|e| e.seq) } else { None };
                Ok(EventPage { events, total: None, next_seq: next, source: source_name })
            }
        }
    }

    async fn list(
        &self,
        source: &Source<'_>,
        filter: &EventFilter,
        order: SeqOrder,
        offset: i64,
        limit: i64,
    ) -> ServiceResult<Vec<StoredEvent>> {
        Ok(match source {
            Source::Store => self.ctx.store.list_events(filter, order, offset, limit).await?,
            Source::Archive { archive, upto, group_ids } => {
                archive.list_events(filter, group_ids, *upto, order, offset, limit).await?
            }
        })
    }

    async fn count(&self, source: &Source<'_>, filter: &EventFilter) -> ServiceResult<i64> {
        Ok(match source {
            Source::Store => self.ctx.store.count_events(filter).await?,
            Source::Archive { archive, upto, group_ids } => archive.count_events(filter, group_ids, *upto).await?,
        })
    }
}

/// Whose events a reader reads: all of them from `sees_all` up, else only their own (the
/// rule's least role, Developer, is proven by the grant).
pub(crate) fn author_limit(reader: i64, access: Access, sees_all: AccessLevel) -> Option<i64> {
    if access.at_least(sees_all) { None } else { Some(reader) }
}

fn visible(event: StoredEvent, in_scope: bool, author: Option<i64>) -> ServiceResult<StoredEvent> {
    let authored = author.is_none_or(|a| event.author_id == Some(a));
    if in_scope && authored { Ok(event) } else { Err(ServiceError::NotFound("Audit Event")) }
}
