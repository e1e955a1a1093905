//! Streaming control: delivery health, replays, parked events and their re-send, the test
//! event; each for those who manage the destination (the destination itself is reached only
//! through the access module's `DestinationGrant`, see `destinations.rs`).

use auditrelay_core::Scope;
use auditrelay_core::states::{HealthState, ReplayState};
use auditrelay_service::ServiceError;
use auditrelay_service::access::need;
use auditrelay_service::delivery::ReplayRange;
use auditrelay_service::destinations::{Api, DestinationUpdate};
use auditrelay_testkit::Receiver;
use serde_json::{Map, json};

use crate::destinations::alpha_destination;
use crate::{Backend, Cast, assert_refused, on_both_backends};

#[tokio::test]
async fn health_reads_closed_when_active_and_inactive_when_not() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let (access, delivery) = (service.access(), service.delivery());
    let destination = alpha_destination(&cast, "https://example.com/health").await;
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    let producer = cast.world.caller_of(cast.owner.user.id, &["ingest_audit_events"]).await;
    let read = access.manages::<need::Read>(&reader, &destination).await.unwrap();
    let health = delivery.destination_health(&read).await.unwrap();
    assert_eq!(health.state, HealthState::Closed);
    assert_eq!((health.parked, health.consecutive_failures), (0, 0));
    assert!(health.backlog >= 1, "a new destination streams from its own creation event on");
    assert_refused!(
        access.manages::<need::Read>(&producer, &destination).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    // Events after the destination's creation are its backlog (no engine runs in this tier).
    let batch = json!([{"event_type": "x", "entity_type": "Group", "entity_path": "alpha"}]).to_string();
    service.ingest().ingest(&access.scoped(cast.root()).unwrap(), batch.as_bytes(), false).await.unwrap();
    let later = delivery.destination_health(&read).await.unwrap();
    assert_eq!(later.backlog, health.backlog + 1);
    let off = DestinationUpdate { active: Some(false), ..Default::default() };
    let managed = access.manages(&cast.owner, &destination).await.unwrap();
    let off = service.destinations().update_destination(&managed, Api::Consolidated, off).await.unwrap();
    let read = access.manages::<need::Read>(&reader, &off).await.unwrap();
    assert_eq!(delivery.destination_health(&read).await.unwrap().state, HealthState::Inactive);
}

async fn replays_are_ranges_of_the_log_read_back_by_their_destination(backend: Backend) {
    let cast = Cast::new(backend).await;
    let (access, delivery) = (cast.service().access(), cast.service().delivery());
    let destination = alpha_destination(&cast, "https://example.com/replay").await;
    let other = alpha_destination(&cast, "https://example.com/other").await;
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    let all = ReplayRange::default();
    // A replay takes a writing proof of the destination.
    assert_refused!(
        access.manages::<need::Write>(&reader, &destination).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    let managed = access.manages(&cast.owner, &destination).await.unwrap();
    let backwards = ReplayRange { created_after: Some(2_000_000), created_before: Some(1_000_000), ..all };
    assert_refused!(
        delivery.replay(&managed, backwards).await,
        ServiceError::BadParam(m) if m == "created_after must not be later than created_before"
    );
    let replay = delivery.replay(&managed, ReplayRange { from_seq: Some(2), ..all }).await.unwrap();
    assert_eq!((replay.destination_id, replay.from_seq), (destination.id, 2));
    assert!(replay.to_seq >= replay.from_seq, "up to the log head");
    assert_eq!(ReplayState::parse(&replay.state), Some(ReplayState::Pending));
    let read = access.manages::<need::Read>(&reader, &destination).await.unwrap();
    assert_eq!(delivery.replay_status(&read, replay.id).await.unwrap().id, replay.id);
    let read_other = access.manages::<need::Read>(&reader, &other).await.unwrap();
    assert_refused!(delivery.replay_status(&read_other, replay.id).await, ServiceError::NotFound("Replay"));
    assert_refused!(delivery.replay_status(&read, 9999).await, ServiceError::NotFound("Replay"));
}

#[tokio::test]
async fn parked_events_are_listed_and_resent_by_writers() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, delivery) = (cast.service().access(), cast.service().delivery());
    let destination = alpha_destination(&cast, "https://example.com/parked").await;
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    let read = access.manages::<need::Read>(&reader, &destination).await.unwrap();
    assert!(delivery.parked_events(&read).await.unwrap().is_empty());
    // Re-sending takes the writing scope, even of a destination proven managed for reading.
    assert_refused!(read.needing::<need::Write>(), ServiceError::InsufficientScope(Scope::Api));
    let managed = access.manages(&cast.owner, &destination).await.unwrap();
    assert_eq!(delivery.resend_parked(&managed).await.unwrap(), 0);
}

#[tokio::test]
async fn the_test_event_goes_straight_through_the_sink() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let access = service.access();
    let receiver = Receiver::start().await;
    let mut allow = Map::new();
    allow.insert("allow_local_requests_from_web_hooks_and_services".into(), json!(true));
    service.settings().update(&access.admin(cast.root()).unwrap(), allow).await.unwrap();
    let destination = alpha_destination(&cast, &receiver.url("/hook")).await;
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    assert_refused!(
        access.manages::<need::Write>(&reader, &destination).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    let managed = access.manages(&cast.owner, &destination).await.unwrap();
    let outcome = service.test_events().send_test_event(&managed).await.unwrap();
    assert!(outcome.delivered, "{}", outcome.message);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].json()["event_type"], "audit_events_streaming_test_event");
    assert_eq!(received[0].header("x-gitlab-event-streaming-token"), Some(destination.secret.as_str()));
}

on_both_backends!(replays_are_ranges_of_the_log_read_back_by_their_destination);
