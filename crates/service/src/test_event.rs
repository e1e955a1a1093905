//! "Send test event": one sample event straight through a destination's sink, so an operator
//! sees the receiver's answer at once. It is not written to the log and moves no cursor.

use auditrelay_core::EventId;
use auditrelay_core::time::{format_micros, now_micros};
use auditrelay_delivery::Outgoing;
use auditrelay_delivery::sinks::Sink;
use serde_json::json;

use super::Service;
use super::access::{DestinationGrant, need};
use super::destinations::{Destination, Owner};
use super::secrets::random_string;
use crate::error::ServiceResult;

/// The event type of test events, so receivers can tell them apart.
pub const TEST_EVENT_TYPE: &str = "audit_events_streaming_test_event";

/// What the destination answered.
#[derive(Debug, Clone, PartialEq)]
pub struct TestEventOutcome {
    pub delivered: bool,
    pub message: String,
}

/// Test events: `service.test_events()`.
#[derive(Clone, Copy)]
pub struct TestEvents<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn test_events(&self) -> TestEvents<'_> {
        TestEvents { ctx: self }
    }
}

impl TestEvents<'_> {
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn send_test_event(&self, grant: &DestinationGrant<'_, need::Write>) -> ServiceResult<TestEventOutcome> {
        let destination = grant.destination();
        let allow_local = self.ctx.application_settings().await?.allow_local_requests_from_web_hooks_and_services;
        let endpoints = self.ctx.engine.as_ref().map(|e| e.config().endpoints.clone()).unwrap_or_default();
        let spec = super::delivery::spec(destination);
        let outcome = match Sink::build(&spec.target, allow_local, &endpoints) {
            Err(error) => TestEventOutcome { delivered: false, message: error.message },
            Ok(sink) => match sink.send(&[sample_event(destination, now_micros())]).await {
                Ok(()) => {
                    TestEventOutcome { delivered: true, message: "The destination accepted the test event.".into() }
                }
                Err(error) => TestEventOutcome { delivered: false, message: error.message },
            },
        };
        Ok(outcome)
    }
}

/// A GitLab-shaped event about the destination itself, with a fresh id.
fn sample_event(destination: &Destination, now: i64) -> Outgoing {
    let id = format!("test-{}", random_string(16));
    let (entity_type, entity_id, entity_path) = match &destination.owner {
        Owner::Instance => ("Gitlab::Audit::InstanceScope", 1, "gitlab_instance".to_owned()),
        Owner::Group(group) => ("Group", group.id.get(), group.full_path.clone()),
    };
    let body = json!({
        "id": id,
        "author_id": -1,
        "author_name": "auditrelay",
        "entity_id": entity_id,
        "entity_type": entity_type,
        "entity_path": entity_path,
        "event_type": TEST_EVENT_TYPE,
        "details": {"custom_message": format!("Test event for streaming destination {}", destination.name)},
        "created_at": format_micros(now),
        "target_type": "AuditEvents::Streaming::Destination",
        "target_id": destination.id,
        "target_details": destination.name,
    });
    Outgoing {
        seq: 0,
        id: EventId::Str(id),
        event_type: TEST_EVENT_TYPE.into(),
        entity_type: entity_type.into(),
        created_at: now,
        body: body.to_string(),
        stamp: None,
    }
}
