//! Every delivery attempt runs under a span naming its destination, its attempt number and the
//! unit's first and last `seq`, so a line the sink logs says which attempt it belongs to.
//!
//! A test binary of its own, holding this one test, so that it can install its capturing
//! subscriber as the global default. A thread-local one (`set_default`) lost its capture now and
//! then: another thread could compute a callsite's interest while it was not visible there and
//! cache "never" for it. A global dispatcher is always consulted when a callsite's interest is
//! computed, so no thread can cache "never" for it.

use auditrelay_core::EventId;
use auditrelay_core::stream_proof::WebhookSecret;
use auditrelay_delivery::Outgoing;
use auditrelay_delivery::sinks::http::HttpSpec;
use auditrelay_delivery::sinks::{CloudEndpoints, Sink, Target};
use auditrelay_testkit::receiver::Receiver;

fn event(seq: i64, id: EventId) -> Outgoing {
    Outgoing {
        seq,
        id: id.clone(),
        event_type: "repository_git_operation".into(),
        entity_type: "Project".into(),
        created_at: 1_658_814_233_662_000,
        body: format!(r#"{{"id":{},"event_type":"repository_git_operation"}}"#, serde_json::json!(id.to_string())),
        stamp: None,
    }
}

#[tokio::test]
async fn a_warning_inside_an_attempt_names_the_destination_attempt_and_seq_range() {
    let receiver = Receiver::start().await;
    let signing = vec![WebhookSecret::from_bytes(vec![7; 32]).expect("secret")];
    let spec = HttpSpec { url: receiver.url("/events"), token: "verification-token".into(), headers: vec![], signing };
    let sink = Sink::build(&Target::Http(spec), true, &CloudEndpoints::default()).expect("sink");
    // An id no header can carry: the signing headers are left off, with a warning.
    let unit = [event(41, EventId::Int(41)), event(42, EventId::Str("bad\nid".into()))];

    let captured = auditrelay_testkit::captured_log::CapturedLog::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this binary");
    sink.send_attempt(auditrelay_core::DestinationId(7), 3, &unit).await.expect("delivered");
    tracing::warn!("after the attempt");

    let text = captured.text();
    let warning =
        text.lines().find(|line| line.contains("event id is not a valid header value")).unwrap_or_else(|| {
            panic!("the sink's warning in {text}");
        });
    assert!(warning.contains("WARN"), "{warning}");
    assert!(
        warning.contains("delivery_attempt{destination=7 attempt=3 first_seq=41 last_seq=42}"),
        "the attempt's span on {warning}"
    );
    let after = text.lines().find(|line| line.contains("after the attempt")).expect("the later line");
    assert!(!after.contains("delivery_attempt"), "the span ends with its attempt: {after}");
    assert_eq!(receiver.received().len(), 2, "both events were sent");
}
