//! Positions and bodies are fixed at first routing: the same after an outage with retries, a
//! parked-then-re-sent event, a replay of a range, a `kill -9` mid-stream with a restart, and a
//! takeover by a second process on PostgreSQL. The receiver keeps every request; the stream it
//! rebuilds is gapless and its chain matches, with the parked positions accounted for by the
//! checkpoints.

use auditrelay_testkit::{Answer, Backend, Receiver};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::http::QUICK_CHECKPOINTS;
use super::{WAIT, assert_checkpoints, checkpoints, public_keys, stream_of, wait_for_checkpoint};
use crate::delivery::{fast_server, group_event, http_destination, ingest, wait_for_health, wait_for_ids};
use crate::{create_group, on_both_backends};

fn batch(prefix: &str, n: usize) -> Value {
    Value::Array((0..n).map(|i| group_event(&format!("{prefix}-{i}"))).collect())
}

async fn positions_survive_retries_parking_replay_and_kill_nine(backend: Backend) {
    let mut extra = QUICK_CHECKPOINTS.to_vec();
    extra.push(("AUDITRELAY_DELIVERY_IN_FLIGHT", "1"));
    let mut server = fast_server(backend, &extra).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    // Strict order: the poison event's three 400s must all go to it, not to the event after it.
    let id = crate::delivery::partial::destination_with_order(&root, &receiver.url("/"), true).await;
    // Without producer ids: the answer's ids are the log positions a replay is asked for by.
    let plain = json!({"event_type": "repository_git_operation", "entity_type": "Group", "entity_path": "acme"});
    let mut all = ingest(&root, Value::Array(vec![plain; 10])).await;
    wait_for_ids(&receiver, &all).await;

    // An outage: 500s, then recovery. Retried events keep their positions.
    receiver.answer_next(6, Answer::Status(500));
    let outage = ingest(&root, batch("outage", 10)).await;
    wait_for_ids(&receiver, &outage).await;
    all.extend(outage);

    // A parked event (400 three times), then re-sent.
    receiver.answer_next(3, Answer::Status(400));
    let parked = ingest(&root, json!([group_event("poison"), group_event("after-poison")])).await;
    wait_for_ids(&receiver, &parked[1..]).await;
    wait_for_health(&root, id, |h| h["parked"] == 1 && h["backlog"] == 0).await;
    let before_resend = stream_of(&receiver.received());
    let head = *before_resend.positions.keys().last().unwrap();
    let gap: Vec<u64> = (1..=head).filter(|p| !before_resend.positions.contains_key(p)).collect();
    assert_eq!(gap.len(), 1, "exactly the parked position is missing: {gap:?}");
    // The checkpoint covering it lists it as parked, with its body's digest.
    wait_for_checkpoint(&root, id, head).await;
    let listed = checkpoints(&root, id).await;
    let covering = listed.iter().find(|c| c.checkpoint.sequence >= gap[0]).expect("a checkpoint covers it");
    assert_eq!(covering.checkpoint.parked.iter().map(|p| p.sequence).collect::<Vec<_>>(), gap);
    let parked_digest = covering.checkpoint.parked[0].body_sha256.clone();
    root.post(&format!("/api/v4/streaming_destinations/{id}/resend_parked"), &json!({})).await.expect(200);
    wait_for_ids(&receiver, &parked).await;
    all.extend(parked);
    let resent = stream_of(&receiver.received());
    let (body, _) = &resent.positions[&gap[0]];
    assert_eq!(
        auditrelay_core::stream_proof::body_sha256(body.as_bytes()).to_hex(),
        parked_digest,
        "the re-sent body is the one the checkpoint accounted for"
    );

    // A replay of a range: the same positions, bodies and chains again.
    let (from, to) = (all[2].as_i64().unwrap(), all[8].as_i64().unwrap());
    let copies_before: usize = stream_of(&receiver.received()).copies.values().sum();
    root.post(&format!("/api/v4/streaming_destinations/{id}/replays"), &json!({"from_seq": from, "to_seq": to}))
        .await
        .expect(201);
    let deadline = Instant::now() + WAIT;
    while stream_of(&receiver.received()).copies.values().sum::<usize>() < copies_before + 7 {
        assert!(Instant::now() < deadline, "the replay did not arrive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // kill -9 mid-stream, then a restart: positions go on where they were, none repeats with
    // other bytes, none is skipped.
    receiver.answer(Answer::Hang(Duration::from_millis(5)));
    let mut acked = Vec::new();
    for round in 0..8 {
        acked.extend(ingest(&root, batch(&format!("k{round}"), 10)).await);
    }
    server.kill9();
    server.restart();
    receiver.answer(Answer::Ok);
    wait_for_ids(&receiver, &acked).await;
    let after = ingest(&server.root(), batch("after-restart", 5)).await;
    wait_for_ids(&receiver, &after).await;

    let stream = stream_of(&receiver.received());
    let chains = stream.assert_complete(&BTreeMap::new());
    let last = *chains.keys().last().unwrap();
    assert!(stream.copies.values().any(|&n| n > 1), "the replay re-sent positions");
    let root = server.root();
    wait_for_checkpoint(&root, id, last).await;
    assert_checkpoints(&checkpoints(&root, id).await, &public_keys(&root).await, &stream.id, &chains);
    let report = super::assert_verified(&receiver, &server.base, id);
    eprintln!("verify after outage, parking, replay and kill -9: {report}");
}

/// Two processes on one PostgreSQL database: the second takes the destination over after the
/// first is killed, and carries on the same stream (no position handed out twice or skipped).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_takeover_continues_the_stream() {
    let extra = [
        ("AUDITRELAY_DELIVERY_LEASE_SECONDS", "3"),
        ("AUDITRELAY_DELIVERY_IN_FLIGHT", "1"),
        ("AUDITRELAY_CHECKPOINT_POSITIONS", "10"),
        ("AUDITRELAY_CHECKPOINT_MS", "300"),
    ];
    let mut first = fast_server(Backend::Postgres, &extra).await;
    let mut builder = crate::builder(Backend::Postgres).database_url(first.database_url.as_deref().unwrap());
    for (key, value) in extra.iter().chain([("AUDITRELAY_RETRY_BASE_MS", "20")].iter()) {
        builder = builder.env(key, value);
    }
    let second = builder.start().await;
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Hang(Duration::from_millis(5)));
    create_group(&first.root(), "acme", None).await;
    let (id, _) = http_destination(&first.root(), Some("acme"), json!({"url": receiver.url("/")})).await;
    let mut acked = Vec::new();
    for round in 0..6 {
        acked.extend(ingest(&first.root(), batch(&format!("t{round}"), 10)).await);
    }
    first.kill9();
    let later = ingest(&second.root(), batch("after-takeover", 30)).await;
    wait_for_ids(&receiver, &acked).await;
    wait_for_ids(&receiver, &later).await;
    let stream = stream_of(&receiver.received());
    let chains = stream.assert_complete(&BTreeMap::new());
    let last = *chains.keys().last().unwrap();
    let root = second.root();
    wait_for_checkpoint(&root, id, last).await;
    assert_checkpoints(&checkpoints(&root, id).await, &public_keys(&root).await, &stream.id, &chains);
    super::assert_verified(&receiver, &second.base, id);
}

on_both_backends!(positions_survive_retries_parking_replay_and_kill_nine);
