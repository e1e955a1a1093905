//! Every use case runs in a span naming its caller and what it acts on, so a log line says
//! which request it belongs to.
//!
//! A test binary of its own, holding this one test, so that it can install its capturing
//! subscriber as the global default. A thread-local one (`set_default`) lost its capture now and
//! then: another thread could compute a callsite's interest while it was not visible there and
//! cache "never" for it. A global dispatcher is always consulted when a callsite's interest is
//! computed, so no thread can cache "never" for it; and it is installed before the world starts.

// The service tier's world; this binary uses only part of it.
#[allow(dead_code)]
#[path = "service/world.rs"]
mod world;

use tracing_subscriber::fmt::format::FmtSpan;

use world::{Backend, World};

#[tokio::test]
async fn a_use_case_logs_under_a_span_with_its_caller_and_target() {
    let captured = auditrelay_testkit::captured_log::CapturedLog::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this binary");
    // The subscriber is in place before the world starts its threads (the store's workers), so
    // no callsite is first seen while there is none.
    let world = World::new(Backend::Sqlite).await;
    let alice = world.user("alice", &["api"]).await;
    let scoped = world.service.access().scoped(&alice).expect("a reading token");
    let _ = world.service.identity().user(&scoped, world.root.user.id).await;
    let text = captured.text();
    let expected = format!("user{{caller={} id={}}}", alice.user.id, world.root.user.id);
    assert!(text.contains(&expected), "{expected} in {text}");
    assert!(!text.contains("$argon2"), "no secret is logged");
}
