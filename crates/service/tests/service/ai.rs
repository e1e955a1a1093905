//! AI workflows: created by Developers of a project, their events posted only by the workflow's
//! own user (or an admin), session reports and the sessions listing for those who read them.

use auditrelay_core::Scope;
use auditrelay_core::WorkflowId;
use auditrelay_service::access::{need, rules};
use auditrelay_service::ai::sessions::SessionFilter;
use auditrelay_service::ai::workflows::{CreateWorkflow, WorkflowView};
use auditrelay_service::{Caller, ServiceError};
use serde_json::{Value, json};

use crate::{Backend, Cast, assert_refused, on_both_backends};

fn workflow_in(project: &str) -> CreateWorkflow {
    CreateWorkflow {
        project: project.into(),
        goal: "fix the build".into(),
        workflow_definition: None,
        environment: None,
    }
}

fn cloud_event(workflow: i64, id: &str, event_type: &str, sequence: i64) -> Value {
    json!({
        "specversion": "1.0",
        "id": id,
        "type": event_type,
        "source": "/duo_workflow_service",
        "subject": workflow.to_string(),
        "time": "2026-12-01T12:00:00.123456Z",
        "datacontenttype": "application/json",
        "sequence": sequence,
        "data": {"workflow_id": workflow.to_string()},
    })
}

/// The developer's workflow in `alpha/app`, with a session of two events posted by them.
async fn developer_session(cast: &Cast) -> WorkflowView {
    let (access, ai) = (cast.service().access(), cast.service().ai());
    let view = ai.create_workflow(&access.scoped(&cast.developer).unwrap(), workflow_in("alpha/app")).await.unwrap();
    let id = view.workflow.id;
    let batch = json!([
        cloud_event(id.get(), "e1", "ai_agent_session_started", 1),
        cloud_event(id.get(), "e2", "ai_agent_session_ended", 2),
    ]);
    let producer = cast.world.caller_of(cast.developer.user.id, &["ingest_audit_events"]).await;
    let producer = access.scoped(&producer).unwrap();
    assert_eq!(ai.ingest_ai_events(&producer, id, batch.to_string().as_bytes()).await.unwrap().len(), 2);
    view
}

#[tokio::test]
async fn workflows_are_created_by_developers_with_a_goal() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, ai) = (cast.service().access(), cast.service().ai());
    let create = async |caller: &Caller, input| ai.create_workflow(&access.scoped(caller)?, input).await;
    let workflow = async |caller: &Caller, id| ai.workflow(&access.scoped(caller)?, id).await;
    assert_refused!(create(&cast.reporter, workflow_in("alpha/app")).await, ServiceError::Denied(_));
    assert_refused!(create(&cast.other_owner, workflow_in("alpha/app")).await, ServiceError::NotFound("Project"));
    let empty = CreateWorkflow { goal: " ".into(), ..workflow_in("alpha/app") };
    assert_refused!(create(&cast.developer, empty).await, ServiceError::BadParam(m) if m == "goal is missing");
    let long = CreateWorkflow { goal: "g".repeat(16_385), ..workflow_in("alpha/app") };
    assert_refused!(create(&cast.developer, long).await, ServiceError::Invalid { attribute, .. } if attribute == "goal");
    let blank = CreateWorkflow { environment: Some(String::new()), ..workflow_in("alpha/app") };
    assert_refused!(create(&cast.developer, blank).await, ServiceError::Invalid { attribute, .. } if attribute == "environment");
    // Creating takes a writing token's proof.
    let reader = cast.world.caller_of(cast.developer.user.id, &["read_api"]).await;
    assert_refused!(access.scoped::<need::Write>(&reader), ServiceError::InsufficientScope(Scope::Api));
    let view = create(&cast.developer, workflow_in(&cast.app.id.to_string())).await.unwrap();
    assert_eq!((view.project.id, view.workflow.user_id), (cast.app.id, cast.developer.user.id));
    assert_eq!(view.workflow.workflow_definition, "software_development");
    assert_eq!(workflow(&cast.reporter, view.workflow.id).await.unwrap().workflow.id, view.workflow.id);
    assert_refused!(workflow(&cast.other_owner, view.workflow.id).await, ServiceError::NotFound("Workflow"));
    assert_refused!(workflow(&cast.developer, WorkflowId(9999)).await, ServiceError::NotFound("Workflow"));
}

async fn only_the_workflows_user_or_an_admin_posts_its_events(backend: Backend) {
    let cast = Cast::new(backend).await;
    let (access, ai) = (cast.service().access(), cast.service().ai());
    let view = ai.create_workflow(&access.scoped(&cast.developer).unwrap(), workflow_in("alpha/app")).await.unwrap();
    let id = view.workflow.id;
    let post = async |caller: &Caller, body: &[u8]| ai.ingest_ai_events(&access.scoped(caller)?, id, body).await;
    let batch = json!([cloud_event(id.get(), "e1", "ai_agent_session_started", 1)]).to_string();
    let maintainer = cast.world.caller_of(cast.maintainer.user.id, &["ingest_audit_events"]).await;
    assert_refused!(
        post(&maintainer, batch.as_bytes()).await,
        ServiceError::Denied(m) if m.starts_with("only the workflow's own user")
    );
    let stranger = cast.world.caller_of(cast.other_owner.user.id, &["ingest_audit_events"]).await;
    assert_refused!(post(&stranger, batch.as_bytes()).await, ServiceError::NotFound("Workflow"));
    assert_refused!(
        access.scoped::<need::Ingest>(&cast.developer),
        ServiceError::InsufficientScope(Scope::IngestAuditEvents)
    );
    let producer = cast.world.caller_of(cast.developer.user.id, &["ingest_audit_events"]).await;
    assert_refused!(post(&producer, b"{}").await, ServiceError::BadInput(_));
    let wrong = json!([cloud_event(id.get() + 1, "e1", "ai_agent_session_started", 1)]).to_string();
    assert_refused!(post(&producer, wrong.as_bytes()).await, ServiceError::BadInput(m) if m.contains("not the workflow of the URL"));
    let first = post(&producer, batch.as_bytes()).await.unwrap();
    assert_eq!(post(&producer, batch.as_bytes()).await.unwrap(), first, "a re-sent event keeps its id");
    assert_eq!(post(cast.root(), batch.as_bytes()).await.unwrap(), first);
}

#[tokio::test]
async fn session_reports_are_for_readers_of_the_projects_events() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, ai) = (cast.service().access(), cast.service().ai());
    let view = developer_session(&cast).await;
    let id = view.workflow.id;
    let report = async |caller: &Caller, id| ai.session_report(&access.scoped(caller)?, id).await;
    assert_eq!(report(&cast.developer, id).await.unwrap().events.len(), 2);
    assert_eq!(report(&cast.maintainer, id).await.unwrap().events.len(), 2);
    assert!(report(cast.root(), id).await.is_ok());
    assert_refused!(report(&cast.reporter, id).await, ServiceError::Forbidden);
    assert_refused!(report(&cast.other_owner, id).await, ServiceError::NotFound("Project"));
    assert_refused!(report(cast.root(), WorkflowId(9999)).await, ServiceError::NotFound("Workflow"));
    // Another developer of the project may not read this developer's session.
    let colleague = cast.world.user("colleague", &["api"]).await;
    cast.world.member(&cast.owner, &cast.alpha, &colleague, auditrelay_core::AccessLevel::Developer).await;
    assert_refused!(report(&colleague, id).await, ServiceError::Forbidden);
}

#[tokio::test]
async fn sessions_are_listed_to_admins_and_group_owners() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, ai) = (cast.service().access(), cast.service().ai());
    developer_session(&cast).await;
    let all = SessionFilter::default();
    let root = access.admin(cast.root()).unwrap();
    assert_eq!(ai.instance_ai_sessions(&root, &all).await.unwrap().len(), 1);
    assert_refused!(access.admin::<need::Read>(&cast.owner), ServiceError::Forbidden);
    let owner = access.group(&cast.owner, "alpha").await.unwrap();
    let listed = ai.group_ai_sessions(&owner, &all).await.unwrap();
    assert_eq!(listed[0].project_path.as_deref(), Some("alpha/app"));
    let grant = async |caller: &Caller| access.group::<rules::ReadGroupAiSessions>(caller, "alpha").await.map(|_| ());
    assert_refused!(grant(&cast.developer).await, ServiceError::Forbidden);
    assert_refused!(grant(&cast.other_owner).await, ServiceError::NotFound("Group"));
    let beta = access.group(&cast.other_owner, "beta").await.unwrap();
    assert!(ai.group_ai_sessions(&beta, &all).await.unwrap().is_empty());
    let elsewhere = SessionFilter { project: Some("alpha/app".into()), ..all };
    assert_refused!(ai.group_ai_sessions(&beta, &elsewhere).await, ServiceError::NotFound("Project"));
}

on_both_backends!(only_the_workflows_user_or_an_admin_posts_its_events);
