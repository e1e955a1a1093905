//! AI agent workflows: the project each belongs to and the user it acts for.

use auditrelay_core::time::{Micros, now_micros};
use sqlx::Row;
use sqlx::any::AnyRow;

use auditrelay_core::{ProjectId, UserId, WorkflowId};

use crate::id_columns::{id, opt_id};
use crate::log::{EVENT_COLUMNS, Where, stored_event};
use crate::{EventFilter, Result, Store, StoredEvent};

#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub id: WorkflowId,
    pub project_id: ProjectId,
    /// The user the agent acts for (the workflow's creator).
    pub user_id: UserId,
    pub goal: String,
    pub workflow_definition: String,
    pub environment: String,
    pub created_at: Micros,
}

/// What a new workflow is.
pub struct NewWorkflow<'a> {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub goal: &'a str,
    pub workflow_definition: &'a str,
    pub environment: &'a str,
}

const COLUMNS: &str = "id, project_id, user_id, goal, workflow_definition, environment, created_at";

fn workflow(row: &AnyRow) -> Result<Workflow> {
    Ok(Workflow {
        id: id(row, "id")?,
        project_id: id(row, "project_id")?,
        user_id: id(row, "user_id")?,
        goal: row.try_get("goal")?,
        workflow_definition: row.try_get("workflow_definition")?,
        environment: row.try_get("environment")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    pub async fn create_workflow(&self, new: &NewWorkflow<'_>) -> Result<Workflow> {
        let sql = format!(
            "INSERT INTO ai_workflows (project_id, user_id, goal, workflow_definition, environment, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.project_id.get())
            .bind(new.user_id.get())
            .bind(new.goal)
            .bind(new.workflow_definition)
            .bind(new.environment)
            .bind(now_micros())
            .fetch_one(&self.write)
            .await?;
        workflow(&row)
    }

    pub async fn workflow_by_id(&self, id: WorkflowId) -> Result<Option<Workflow>> {
        let sql = format!("SELECT {COLUMNS} FROM ai_workflows WHERE id = $1");
        sqlx::query(&sql).bind(id.get()).fetch_optional(&self.read).await?.as_ref().map(workflow).transpose()
    }
}

/// A stored AI event of a workflow with the producer's `sequence`.
#[derive(Debug, Clone)]
pub struct SequencedRow {
    pub event: StoredEvent,
    pub ai_sequence: Option<i64>,
}

/// One AI session (a workflow) in a listing: its project and the span of its events.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub workflow_id: WorkflowId,
    pub project_id: Option<ProjectId>,
    pub events: i64,
    pub first_at: Micros,
    pub last_at: Micros,
}

impl Store {
    /// Every AI event of a workflow, in log order.
    pub async fn workflow_events(&self, workflow_id: WorkflowId) -> Result<Vec<SequencedRow>> {
        let sql = format!("SELECT {EVENT_COLUMNS}, ai_sequence FROM events WHERE workflow_id = $1 ORDER BY seq");
        let rows = sqlx::query(&sql).bind(workflow_id.get()).fetch_all(&self.read).await?;
        rows.iter()
            .map(|row| Ok(SequencedRow { event: stored_event(row)?, ai_sequence: row.try_get("ai_sequence")? }))
            .collect()
    }

    /// Whether a workflow's session has an event of `event_type`.
    pub async fn workflow_has_event(&self, workflow_id: WorkflowId, event_type: &str) -> Result<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM events WHERE workflow_id = $1 AND event_type = $2 LIMIT 1")
                .bind(workflow_id.get())
                .bind(event_type)
                .fetch_optional(&self.read)
                .await?;
        Ok(found.is_some())
    }

    /// The AI sessions with events matching `filter` (scope, times), most recently active first.
    pub async fn ai_sessions(&self, filter: &EventFilter, limit: i64) -> Result<Vec<SessionRow>> {
        let w = Where::from_filter(filter);
        let sql = format!(
            "SELECT workflow_id, MAX(project_id) AS project_id, COUNT(*) AS events, MIN(created_at) AS first_at, \
             MAX(created_at) AS last_at FROM events WHERE {} AND workflow_id IS NOT NULL \
             GROUP BY workflow_id ORDER BY MAX(seq) DESC LIMIT {limit}",
            w.sql
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.read).await?;
        rows.iter()
            .map(|row| {
                Ok(SessionRow {
                    workflow_id: id(row, "workflow_id")?,
                    project_id: opt_id(row, "project_id")?,
                    events: row.try_get("events")?,
                    first_at: row.try_get("first_at")?,
                    last_at: row.try_get("last_at")?,
                })
            })
            .collect()
    }
}
