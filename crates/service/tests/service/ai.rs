//! AI workflows: created by Developers of a project, their events posted only by the workflow's
//! own user (or an admin), session reports and the sessions listing for those who read them.

use auditrelay_core::Scope;
use auditrelay_service::ServiceError;
use auditrelay_service::ai::sessions::SessionFilter;
use auditrelay_service::ai::workflows::{CreateWorkflow, WorkflowView};
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
    let service = cast.service();
    let view = service.create_workflow(&cast.developer, workflow_in("alpha/app")).await.unwrap();
    let id = view.workflow.id;
    let batch = json!([
        cloud_event(id, "e1", "ai_agent_session_started", 1),
        cloud_event(id, "e2", "ai_agent_session_ended", 2),
    ]);
    let producer = cast.world.caller_of(cast.developer.user.id, &["ingest_audit_events"]).await;
    assert_eq!(service.ingest_ai_events(&producer, id, batch.to_string().as_bytes()).await.unwrap().len(), 2);
    view
}

#[tokio::test]
async fn workflows_are_created_by_developers_with_a_goal() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    assert_refused!(service.create_workflow(&cast.reporter, workflow_in("alpha/app")).await, ServiceError::Denied(_));
    assert_refused!(
        service.create_workflow(&cast.other_owner, workflow_in("alpha/app")).await,
        ServiceError::NotFound("Project")
    );
    let empty = CreateWorkflow { goal: " ".into(), ..workflow_in("alpha/app") };
    assert_refused!(service.create_workflow(&cast.developer, empty).await, ServiceError::BadParam(m) if m == "goal is missing");
    let long = CreateWorkflow { goal: "g".repeat(16_385), ..workflow_in("alpha/app") };
    assert_refused!(service.create_workflow(&cast.developer, long).await, ServiceError::Invalid { attribute, .. } if attribute == "goal");
    let blank = CreateWorkflow { environment: Some(String::new()), ..workflow_in("alpha/app") };
    assert_refused!(service.create_workflow(&cast.developer, blank).await, ServiceError::Invalid { attribute, .. } if attribute == "environment");
    let reader = cast.world.caller_of(cast.developer.user.id, &["read_api"]).await;
    assert_refused!(
        service.create_workflow(&reader, workflow_in("alpha/app")).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    let view = service.create_workflow(&cast.developer, workflow_in(&cast.app.id.to_string())).await.unwrap();
    assert_eq!((view.project.id, view.workflow.user_id), (cast.app.id, cast.developer.user.id));
    assert_eq!(view.workflow.workflow_definition, "software_development");
    assert_eq!(service.workflow(&cast.reporter, view.workflow.id).await.unwrap().workflow.id, view.workflow.id);
    assert_refused!(service.workflow(&cast.other_owner, view.workflow.id).await, ServiceError::NotFound("Workflow"));
    assert_refused!(service.workflow(&cast.developer, 9999).await, ServiceError::NotFound("Workflow"));
}

async fn only_the_workflows_user_or_an_admin_posts_its_events(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let view = service.create_workflow(&cast.developer, workflow_in("alpha/app")).await.unwrap();
    let id = view.workflow.id;
    let batch = json!([cloud_event(id, "e1", "ai_agent_session_started", 1)]).to_string();
    let maintainer = cast.world.caller_of(cast.maintainer.user.id, &["ingest_audit_events"]).await;
    assert_refused!(
        service.ingest_ai_events(&maintainer, id, batch.as_bytes()).await,
        ServiceError::Denied(m) if m.starts_with("only the workflow's own user")
    );
    let stranger = cast.world.caller_of(cast.other_owner.user.id, &["ingest_audit_events"]).await;
    assert_refused!(
        service.ingest_ai_events(&stranger, id, batch.as_bytes()).await,
        ServiceError::NotFound("Workflow")
    );
    assert_refused!(
        service.ingest_ai_events(&cast.developer, id, batch.as_bytes()).await,
        ServiceError::InsufficientScope(Scope::IngestAuditEvents)
    );
    let producer = cast.world.caller_of(cast.developer.user.id, &["ingest_audit_events"]).await;
    assert_refused!(service.ingest_ai_events(&producer, id, b"{}").await, ServiceError::BadInput(_));
    let wrong = json!([cloud_event(id + 1, "e1", "ai_agent_session_started", 1)]).to_string();
    assert_refused!(service.ingest_ai_events(&producer, id, wrong.as_bytes()).await, ServiceError::BadInput(m) if m.contains("not the workflow of the URL"));
    let first = service.ingest_ai_events(&producer, id, batch.as_bytes()).await.unwrap();
    assert_eq!(
        service.ingest_ai_events(&producer, id, batch.as_bytes()).await.unwrap(),
        first,
        "a re-sent event keeps its id"
    );
    assert_eq!(service.ingest_ai_events(cast.root(), id, batch.as_bytes()).await.unwrap(), first);
}

#[tokio::test]
async fn session_reports_are_for_readers_of_the_projects_events() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let view = developer_session(&cast).await;
    let id = view.workflow.id;
    let report = service.session_report(&cast.developer, id).await.unwrap();
    assert_eq!(report.events.len(), 2);
    assert_eq!(service.session_report(&cast.maintainer, id).await.unwrap().events.len(), 2);
    assert!(service.session_report(cast.root(), id).await.is_ok());
    assert_refused!(service.session_report(&cast.reporter, id).await, ServiceError::Forbidden);
    assert_refused!(service.session_report(&cast.other_owner, id).await, ServiceError::NotFound("Project"));
    assert_refused!(service.session_report(cast.root(), 9999).await, ServiceError::NotFound("Workflow"));
    // Another developer of the project may not read this developer's session.
    let colleague = cast.world.user("colleague", &["api"]).await;
    cast.world.member(&cast.owner, &cast.alpha, &colleague, auditrelay_core::AccessLevel::Developer).await;
    assert_refused!(service.session_report(&colleague, id).await, ServiceError::Forbidden);
}

#[tokio::test]
async fn sessions_are_listed_to_admins_and_group_owners() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    developer_session(&cast).await;
    let all = SessionFilter::default();
    assert_eq!(service.ai_sessions(cast.root(), None, &all).await.unwrap().len(), 1);
    assert_refused!(service.ai_sessions(&cast.owner, None, &all).await, ServiceError::Forbidden);
    let listed = service.ai_sessions(&cast.owner, Some("alpha"), &all).await.unwrap();
    assert_eq!(listed[0].project_path.as_deref(), Some("alpha/app"));
    assert_refused!(service.ai_sessions(&cast.developer, Some("alpha"), &all).await, ServiceError::Forbidden);
    assert_refused!(service.ai_sessions(&cast.other_owner, Some("alpha"), &all).await, ServiceError::NotFound("Group"));
    assert!(service.ai_sessions(&cast.other_owner, Some("beta"), &all).await.unwrap().is_empty());
    let elsewhere = SessionFilter { project: Some("alpha/app".into()), ..all };
    assert_refused!(
        service.ai_sessions(&cast.other_owner, Some("beta"), &elsewhere).await,
        ServiceError::NotFound("Project")
    );
}

on_both_backends!(only_the_workflows_user_or_an_admin_posts_its_events);
