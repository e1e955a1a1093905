//! Several processes sharing the work (leases), replay from the command line, refused and
//! hanging destinations.

use auditrelay_testkit::{Answer, Backend, Receiver};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use super::*;
use crate::{create_group, on_both_backends};

/// On PostgreSQL two processes share the work through leases: a destination is delivered by one
/// process at a time, and a killed process's destinations are taken over once its lease expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn two_processes_deliver_one_destination_one_at_a_time() {
    let extra = [("AUDITRELAY_DELIVERY_LEASE_SECONDS", "3"), ("AUDITRELAY_DELIVERY_IN_FLIGHT", "1")];
    let mut first = fast_server(Backend::Postgres, &extra).await;
    let mut builder = crate::builder(Backend::Postgres).database_url(first.database_url.as_deref().unwrap());
    for (key, value) in
        extra.iter().chain([("AUDITRELAY_RETRY_BASE_MS", "20"), ("AUDITRELAY_BREAKER_OPEN_SECONDS", "1")].iter())
    {
        builder = builder.env(key, value);
    }
    let second = builder.start().await;
    let receiver = Receiver::start().await;
    // Slow answers: two processes delivering at once would show as two requests in flight.
    receiver.answer(Answer::Hang(Duration::from_millis(15)));
    create_group(&first.root(), "acme", None).await;
    http_destination(&first.root(), Some("acme"), json!({"url": receiver.url("/")})).await;
    tokio::time::sleep(Duration::from_secs(6)).await; // both processes have picked the destination up

    let mut acked = Vec::new();
    for round in 0..10 {
        let api = if round % 2 == 0 { first.root() } else { second.root() };
        let batch: Vec<Value> = (0..20).map(|i| group_event(&format!("r{round}-{i}"))).collect();
        acked.extend(ingest(&api, Value::Array(batch)).await);
    }
    wait_for_ids(&receiver, &acked).await;
    assert_eq!(receiver.max_in_flight(), 1, "one process at a time delivers a destination");

    // Whichever process held the lease, the other carries on once the first is gone.
    first.kill9();
    let later: Vec<Value> = (0..40).map(|i| group_event(&format!("after-kill-{i}"))).collect();
    let later = ingest(&second.root(), Value::Array(later)).await;
    wait_for_ids(&receiver, &later).await;
    assert_eq!(receiver.max_in_flight(), 1);
}

async fn replay_from_the_command_line(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    let (id, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let ids = ingest(&root, Value::Array((0..5).map(|i| group_event(&format!("cli-{i}"))).collect())).await;
    wait_for_ids(&receiver, &ids).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_auditrelay"))
        .args(["replay", "--url", &server.base, "--destination", &id.to_string(), "--created-after", "2000-01-01"])
        .env("AUDITRELAY_TOKEN", auditrelay_testkit::ROOT_TOKEN)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("done"), "{stdout}");
    let deadline = Instant::now() + WAIT;
    while received_of(&receiver, &ids).len() < 10 {
        assert!(Instant::now() < deadline, "the replay did not re-send every event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_auditrelay"))
        .args(["replay", "--url", &server.base, "--destination", &id.to_string(), "--token", "glpat-wrong"])
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"));
}

on_both_backends!(replay_from_the_command_line);

/// Refused connections and answers that never come are outages too: their breakers open,
/// a healthy destination keeps its pace, and everything arrives once they are back.
async fn refused_and_hanging_destinations_are_isolated(backend: Backend) {
    let server = fast_server(backend, &[("AUDITRELAY_HTTP_TIMEOUT_SECONDS", "1")]).await;
    let root = server.root();
    let port = Receiver::closed_port();
    let (hanging, healthy) = (Receiver::start().await, Receiver::start().await);
    hanging.answer(Answer::Hang(Duration::from_secs(30)));
    create_group(&root, "acme", None).await;
    let (refused_id, _) =
        http_destination(&root, Some("acme"), json!({"url": format!("http://127.0.0.1:{port}/")})).await;
    let (hanging_id, _) = http_destination(&root, Some("acme"), json!({"url": hanging.url("/")})).await;
    http_destination(&root, Some("acme"), json!({"url": healthy.url("/")})).await;

    let started = Instant::now();
    let ids = ingest(&root, Value::Array((0..50).map(|i| group_event(&format!("o{i}"))).collect())).await;
    wait_for_ids(&healthy, &ids).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the healthy destination was not held up: {:?}",
        started.elapsed()
    );
    let refused = wait_for_health(&root, refused_id, |h| h["consecutive_failures"].as_i64() >= Some(3)).await;
    assert!(refused["last_error"].as_str().unwrap().contains("could not connect"), "{refused}");
    let hung = wait_for_health(&root, hanging_id, |h| h["consecutive_failures"].as_i64() >= Some(1)).await;
    assert!(hung["last_error"].as_str().unwrap().contains("timed out"), "{hung}");

    // Both come back; nothing was dropped.
    hanging.answer(Answer::Ok);
    let revived = Receiver::start_on(port).await;
    wait_for_ids(&hanging, &ids).await;
    wait_for_ids(&revived, &ids).await;
}

on_both_backends!(refused_and_hanging_destinations_are_isolated);
