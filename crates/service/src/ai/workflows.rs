//! AI agent workflows (GitLab's Duo Workflows): created in a project by a Developer, for whom the
//! agent then acts. A workflow id names the project and author of its audit events.

use auditrelay_core::AccessLevel;
use auditrelay_core::access::Need;
use auditrelay_store::namespaces::Project;
use auditrelay_store::workflows::{NewWorkflow, Workflow};

use crate::error::{ServiceError, ServiceResult};
use crate::{Caller, Service};

/// Longest goal, in characters (GitLab's limit).
const MAX_GOAL_LEN: usize = 16_384;
const MAX_NAME_LEN: usize = 255;

/// The role a user needs in a workflow's project to run a workflow or post its events.
pub const WORKFLOW_ACCESS: AccessLevel = AccessLevel::Developer;

pub struct CreateWorkflow {
    /// Numeric id or full path.
    pub project: String,
    pub goal: String,
    pub workflow_definition: Option<String>,
    pub environment: Option<String>,
}

/// A workflow with its project, as the API shows it.
pub struct WorkflowView {
    pub workflow: Workflow,
    pub project: Project,
}

impl Service {
    #[tracing::instrument(skip_all, fields(caller = caller.user.id))]
    pub async fn create_workflow(&self, caller: &Caller, input: CreateWorkflow) -> ServiceResult<WorkflowView> {
        caller.require(Need::Write)?;
        let project = self.workflow_project(caller, &input.project).await?;
        if input.goal.trim().is_empty() {
            return Err(ServiceError::BadParam("goal is missing".into()));
        }
        if input.goal.chars().count() > MAX_GOAL_LEN {
            return Err(ServiceError::invalid("goal", format!("is too long (maximum is {MAX_GOAL_LEN} characters)")));
        }
        let definition = short("workflow_definition", input.workflow_definition, "software_development")?;
        let environment = short("environment", input.environment, "web")?;
        let workflow = self
            .store
            .create_workflow(&NewWorkflow {
                project_id: project.id,
                user_id: caller.user.id,
                goal: &input.goal,
                workflow_definition: &definition,
                environment: &environment,
            })
            .await?;
        Ok(WorkflowView { workflow, project })
    }

    /// A workflow whose project the caller can see; others are "not found".
    #[tracing::instrument(skip_all, fields(caller = caller.user.id, id = id))]
    pub async fn workflow(&self, caller: &Caller, id: i64) -> ServiceResult<WorkflowView> {
        caller.require(Need::Read)?;
        let (workflow, project, access) = self.workflow_with_access(caller, id).await?;
        if !access.can_see() {
            return Err(ServiceError::NotFound("Workflow"));
        }
        Ok(WorkflowView { workflow, project })
    }

    pub(super) async fn workflow_with_access(
        &self,
        caller: &Caller,
        id: i64,
    ) -> ServiceResult<(Workflow, Project, crate::access::Access)> {
        let workflow = self.store.workflow_by_id(id).await?.ok_or(ServiceError::NotFound("Workflow"))?;
        let project = self.store.project_by_id(workflow.project_id).await?.ok_or(ServiceError::NotFound("Workflow"))?;
        let access = self.project_access(caller, &project).await?;
        Ok((workflow, project, access))
    }

    /// The project to create a workflow in: visible to the caller, who is at least a Developer.
    async fn workflow_project(&self, caller: &Caller, id_or_path: &str) -> ServiceResult<Project> {
        let (project, access) = self.visible_project(caller, id_or_path).await?;
        if !access.at_least(WORKFLOW_ACCESS) {
            return Err(ServiceError::Denied("you need at least the Developer role in the project".into()));
        }
        Ok(project)
    }
}

fn short(name: &str, value: Option<String>, default: &str) -> ServiceResult<String> {
    let value = value.unwrap_or_else(|| default.to_owned());
    if value.is_empty() || value.chars().count() > MAX_NAME_LEN {
        return Err(ServiceError::invalid(name, format!("must be 1 to {MAX_NAME_LEN} characters")));
    }
    Ok(value)
}
