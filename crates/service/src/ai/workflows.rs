//! AI agent workflows (GitLab's Duo Workflows): created in a project by a Developer, for whom the
//! agent then acts. A workflow id names the project and author of its audit events.

use auditrelay_core::AccessLevel;
use auditrelay_core::WorkflowId;
use auditrelay_store::namespaces::Project;
use auditrelay_store::workflows::{NewWorkflow, Workflow};

use super::Ai;
use crate::Caller;
use crate::access::{Scoped, need, rules};
use crate::error::{ServiceError, ServiceResult};

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

impl Ai<'_> {
    /// A workflow in a project where the caller is at least a Developer, acting for them.
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn create_workflow(
        &self,
        scoped: &Scoped<'_, need::Write>,
        input: CreateWorkflow,
    ) -> ServiceResult<WorkflowView> {
        let caller = scoped.caller();
        let grant = self.ctx.access().project::<rules::RunWorkflows>(caller, &input.project).await?;
        let project = grant.project().clone();
        if input.goal.trim().is_empty() {
            return Err(ServiceError::BadParam("goal is missing".into()));
        }
        if input.goal.chars().count() > MAX_GOAL_LEN {
            return Err(ServiceError::invalid("goal", format!("is too long (maximum is {MAX_GOAL_LEN} characters)")));
        }
        let definition = short("workflow_definition", input.workflow_definition, "software_development")?;
        let environment = short("environment", input.environment, "web")?;
        let workflow = self
            .ctx
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
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get(), id = id.get()))]
    pub async fn workflow(&self, scoped: &Scoped<'_, need::Read>, id: WorkflowId) -> ServiceResult<WorkflowView> {
        let (workflow, project, access) = self.workflow_with_access(scoped.caller(), id).await?;
        if !access.can_see() {
            return Err(ServiceError::NotFound("Workflow"));
        }
        Ok(WorkflowView { workflow, project })
    }

    pub(super) async fn workflow_with_access(
        &self,
        caller: &Caller,
        id: WorkflowId,
    ) -> ServiceResult<(Workflow, Project, crate::access::Access)> {
        let workflow = self.ctx.store.workflow_by_id(id).await?.ok_or(ServiceError::NotFound("Workflow"))?;
        let project =
            self.ctx.store.project_by_id(workflow.project_id).await?.ok_or(ServiceError::NotFound("Workflow"))?;
        let access = self.ctx.project_access(caller, &project).await?;
        Ok((workflow, project, access))
    }
}

fn short(name: &str, value: Option<String>, default: &str) -> ServiceResult<String> {
    let value = value.unwrap_or_else(|| default.to_owned());
    if value.is_empty() || value.chars().count() > MAX_NAME_LEN {
        return Err(ServiceError::invalid(name, format!("must be 1 to {MAX_NAME_LEN} characters")));
    }
    Ok(value)
}
