//! The service side of delivery: every change hands the engine the active destinations and the
//! settings (`refresh_delivery`), and `/-/metrics` gets each destination's gauges
//! (`record_delivery_gauges`). Here the engine runs, as `serve` wires it, against a receiver.

use auditrelay_core::states::HealthState;
use auditrelay_delivery::EngineConfig;
use auditrelay_service::access::need;
use auditrelay_service::destinations::{Api, Destination, DestinationUpdate};
use auditrelay_testkit::Receiver;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use serde_json::{Map, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::destinations::alpha_destination;
use crate::{Backend, Cast, World};

/// A cast whose service runs the delivery engine, local addresses allowed (the receiver's).
async fn delivering_cast() -> Cast {
    let config = EngineConfig { poll_every: Duration::from_millis(50), ..EngineConfig::default() };
    let cast = Cast::in_world(World::delivering(Backend::Sqlite, config).await).await;
    let mut allow = Map::new();
    allow.insert("allow_local_requests_from_web_hooks_and_services".into(), json!(true));
    let admin = cast.service().access().admin(cast.root()).unwrap();
    cast.service().settings().update(&admin, allow).await.unwrap();
    cast
}

async fn ingest(cast: &Cast, event_type: &str) {
    let batch = json!([{"event_type": event_type, "entity_type": "Group", "entity_path": "alpha"}]);
    let root = cast.service().access().scoped(cast.root()).unwrap();
    cast.service().ingest().ingest(&root, batch.to_string().as_bytes(), false).await.unwrap();
}

/// Switches the destination off, as its group's owner.
async fn switch_off(cast: &Cast, destination: &Destination) {
    let managed = cast.service().access().manages(&cast.owner, destination).await.unwrap();
    let off = DestinationUpdate { active: Some(false), ..Default::default() };
    cast.service().destinations().update_destination(&managed, Api::Consolidated, off).await.unwrap();
}

fn types(receiver: &Receiver) -> Vec<String> {
    receiver.received().iter().map(|r| r.json()["event_type"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn a_new_destination_is_handed_to_the_engine_and_delivered_to() {
    let cast = delivering_cast().await;
    let receiver = Receiver::start().await;
    alpha_destination(&cast, &receiver.url("/new")).await;
    ingest(&cast, "after_creation").await;
    receiver.wait_for(2, Duration::from_secs(10)).await;
    let received = types(&receiver);
    assert!(received.contains(&"after_creation".to_owned()), "{received:?}");
}

#[tokio::test]
async fn a_destination_switched_off_is_taken_from_the_engine() {
    let cast = delivering_cast().await;
    let receiver = Receiver::start().await;
    let destination = alpha_destination(&cast, &receiver.url("/off")).await;
    ingest(&cast, "while_on").await;
    receiver.wait_for(2, Duration::from_secs(10)).await;
    switch_off(&cast, &destination).await;
    ingest(&cast, "while_off").await;
    // A running worker would have sent it well within this.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!types(&receiver).contains(&"while_off".to_owned()), "{:?}", types(&receiver));
}

/// Gauges set while it is installed, by name and labels.
#[derive(Default)]
struct Gauges(Mutex<HashMap<String, f64>>);

struct OneGauge(Arc<Gauges>, String);

impl metrics::GaugeFn for OneGauge {
    fn increment(&self, value: f64) {
        *self.0.0.lock().unwrap().entry(self.1.clone()).or_default() += value;
    }

    fn decrement(&self, value: f64) {
        self.increment(-value);
    }

    fn set(&self, value: f64) {
        self.0.0.lock().unwrap().insert(self.1.clone(), value);
    }
}

struct GaugeRecorder(Arc<Gauges>);

impl Recorder for GaugeRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        Gauge::from_arc(Arc::new(OneGauge(self.0.clone(), name)))
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[tokio::test]
async fn gauges_report_each_destinations_backlog_failures_parked_and_state() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let destination = alpha_destination(&cast, "https://example.com/gauged").await;
    ingest(&cast, "waiting").await;
    let managed = service.access().manages::<need::Read>(&cast.owner, &destination).await.unwrap();
    let health = service.delivery().destination_health(&managed).await.unwrap();
    let gauges = Arc::new(Gauges::default());
    let recorder = GaugeRecorder(gauges.clone());
    {
        let _installed = metrics::set_default_local_recorder(&recorder);
        service.delivery().record_delivery_gauges().await.unwrap();
    }
    let read = |name: &str| gauges.0.lock().unwrap().get(name).copied();
    let id = destination.id;
    assert_eq!(read(&format!("auditrelay_destination_backlog{{destination={id}}}")), Some(health.backlog as f64));
    assert_eq!(read(&format!("auditrelay_destination_consecutive_failures{{destination={id}}}")), Some(0.0));
    assert_eq!(read(&format!("auditrelay_destination_parked{{destination={id}}}")), Some(0.0));
    for state in HealthState::ALL {
        let value = if *state == HealthState::Closed { 1.0 } else { 0.0 };
        let name = format!("auditrelay_destination_state{{destination={id},state={}}}", state.as_str());
        assert_eq!(read(&name), Some(value), "{name}");
    }
}

#[tokio::test]
async fn a_switched_off_destination_gauges_as_inactive() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let destination = alpha_destination(&cast, "https://example.com/gauged-off").await;
    switch_off(&cast, &destination).await;
    let gauges = Arc::new(Gauges::default());
    let recorder = GaugeRecorder(gauges.clone());
    {
        let _installed = metrics::set_default_local_recorder(&recorder);
        service.delivery().record_delivery_gauges().await.unwrap();
    }
    let id = destination.id;
    let state = |s: HealthState| format!("auditrelay_destination_state{{destination={id},state={}}}", s.as_str());
    let gauges = gauges.0.lock().unwrap();
    assert_eq!(gauges.get(&state(HealthState::Inactive)), Some(&1.0));
    assert_eq!(gauges.get(&state(HealthState::Closed)), Some(&0.0));
}
