//! AI agent workflows: the project each belongs to and the user it acts for.

use auditrelay_core::time::{Micros, now_micros};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store};

#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub id: i64,
    pub project_id: i64,
    /// The user the agent acts for (the workflow's creator).
    pub user_id: i64,
    pub goal: String,
    pub workflow_definition: String,
    pub environment: String,
    pub created_at: Micros,
}

/// What a new workflow is.
pub struct NewWorkflow<'a> {
    pub project_id: i64,
    pub user_id: i64,
    pub goal: &'a str,
    pub workflow_definition: &'a str,
    pub environment: &'a str,
}

const COLUMNS: &str = "id, project_id, user_id, goal, workflow_definition, environment, created_at";

fn workflow(row: &AnyRow) -> Result<Workflow> {
    Ok(Workflow {
        id: row.try_get("id")?,
        project_id: row.try_get("project_id")?,
        user_id: row.try_get("user_id")?,
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
            .bind(new.project_id)
            .bind(new.user_id)
            .bind(new.goal)
            .bind(new.workflow_definition)
            .bind(new.environment)
            .bind(now_micros())
            .fetch_one(&self.write)
            .await?;
        workflow(&row)
    }

    pub async fn workflow_by_id(&self, id: i64) -> Result<Option<Workflow>> {
        let sql = format!("SELECT {COLUMNS} FROM ai_workflows WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.read).await?.as_ref().map(workflow).transpose()
    }
}
