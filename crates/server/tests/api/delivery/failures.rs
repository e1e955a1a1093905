//! Outages and recovery, Retry-After, auth pauses, parking and resending, replay, kill -9.

use auditrelay_testkit::{Answer, Backend, Receiver};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use super::*;
use crate::{create_group, on_both_backends};

async fn outage_is_isolated_and_recovers(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let (down, up) = (Receiver::start().await, Receiver::start().await);
    down.answer(Answer::Status(500));
    create_group(&root, "acme", None).await;
    let (down_id, _) = http_destination(&root, Some("acme"), json!({"url": down.url("/")})).await;
    let (up_id, _) = http_destination(&root, Some("acme"), json!({"url": up.url("/")})).await;

    let started = Instant::now();
    let events: Vec<Value> = (0..100).map(|i| group_event(&format!("e{i}"))).collect();
    let ids = ingest(&root, Value::Array(events)).await;
    wait_for_ids(&up, &ids).await;
    let healthy_took = started.elapsed();
    assert!(healthy_took < Duration::from_secs(5), "the healthy destination kept its pace: {healthy_took:?}");

    let h = wait_for_health(&root, down_id, |h| h["state"] == "open" || h["state"] == "half_open").await;
    assert_eq!(h["last_error_status"], 500);
    assert!(h["backlog"].as_i64().unwrap() > 0, "{h}");
    assert!(h["consecutive_failures"].as_i64().unwrap() >= 3);
    assert!(h["last_error"].as_str().unwrap().contains("HTTP 500"));
    assert_eq!(health(&root, up_id).await["state"], "closed");
    assert!(received_of(&down, &ids).is_empty());
    let metrics = server.root().get("/-/metrics").await.expect(200).text;
    assert!(
        metrics.contains(&format!("auditrelay_destination_state{{destination=\"{down_id}\",state=\"open\"}} 1"))
            || metrics
                .contains(&format!("auditrelay_destination_state{{destination=\"{down_id}\",state=\"half_open\"}} 1")),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("auditrelay_destination_backlog{{destination=\"{down_id}\"}}")));
    assert!(metrics.contains("auditrelay_delivery_failures_total"));

    // The destination comes back: everything arrives, nothing was dropped.
    down.answer(Answer::Ok);
    let got = wait_for_ids(&down, &ids).await;
    assert_eq!(got.len(), 100);
    let h = wait_for_health(&root, down_id, |h| h["state"] == "closed" && h["backlog"] == 0).await;
    assert_eq!(h["parked"], 0);
    assert!(h["last_delivered_at"].is_string());
}

async fn retry_after_is_honoured(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    receiver.answer_next(2, Answer::RetryAfter(429, 1));
    let started = Instant::now();
    let ids = ingest(&root, group_event("slow-down")).await;
    wait_for_ids(&receiver, &ids).await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "two Retry-After: 1 answers were honoured: {:?}",
        started.elapsed()
    );
    assert!(receiver.attempts() >= 3);
}

async fn auth_failures_pause_without_dropping(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Status(401));
    create_group(&root, "acme", None).await;
    let (id, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let ids = ingest(&root, Value::Array((0..5).map(|i| group_event(&format!("a{i}"))).collect())).await;
    let h = wait_for_health(&root, id, |h| h["state"] == "paused").await;
    assert_eq!(h["last_error_status"], 401);
    assert_eq!(h["parked"], 0, "auth failures park nothing");
    let attempts = receiver.attempts();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.attempts() <= attempts + 1, "a paused destination is not hammered");

    // The receiver is fixed and the token rotated: delivery resumes with every event.
    receiver.answer(Answer::Ok);
    let gid = format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{id}");
    let rotated = root
        .graphql("mutation($id: AuditEventsGroupExternalStreamingDestinationID!) { groupAuditEventStreamingDestinationsUpdate(input: { id: $id, secretToken: \"rotated-token-12345678\" }) { errors } }", json!({"id": gid}))
        .await
        .expect(200);
    assert_eq!(rotated.body["data"]["groupAuditEventStreamingDestinationsUpdate"]["errors"], json!([]));
    wait_for_ids(&receiver, &ids).await;
    let last = receiver.received().into_iter().rev().find(|r| ids.contains(&r.json()["id"])).unwrap();
    assert_eq!(last.header("x-gitlab-event-streaming-token"), Some("rotated-token-12345678"));
}

async fn permanent_failures_are_parked_and_resent(backend: Backend) {
    let server = fast_server(backend, &[("AUDITRELAY_DELIVERY_IN_FLIGHT", "1")]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    // Strict order, one request at a time: the three refusals all go to the first event (without
    // it, the next event would be sent while the first waits for its retry).
    let id = super::partial::destination_with_order(&root, &receiver.url("/"), true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = receiver.attempts();
    receiver.answer_next(3, Answer::Status(400));
    let ids = ingest(&root, json!([group_event("poison"), group_event("fine")])).await;
    wait_for_ids(&receiver, &ids[1..]).await;
    assert_eq!(received_of(&receiver, &ids), [json!("fine")], "the rejected event was parked and the stream moved on");
    assert!(receiver.attempts() >= base + 4);
    // Parking and the cursor step are recorded one after the other: wait for both.
    wait_for_health(&root, id, |h| h["parked"] == 1 && h["backlog"] == 0).await;
    let parked = root.get(&format!("/api/v4/streaming_destinations/{id}/parked")).await.expect(200);
    assert_eq!(parked.body[0]["attempts"], 3);
    assert_eq!(parked.body[0]["last_status"], 400);

    let resent = root.post(&format!("/api/v4/streaming_destinations/{id}/resend_parked"), &json!({})).await.expect(200);
    assert_eq!(resent.body["resent"], 1);
    wait_for_ids(&receiver, &ids).await;
    wait_for_health(&root, id, |h| h["parked"] == 0).await;
}

async fn replay_resends_a_range_with_the_same_ids(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    let (id, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let events: Vec<Value> = (0..10)
        .map(|i| json!({"event_type": "x", "entity_type": "Group", "entity_path": "acme", "details": {"n": i}}))
        .collect();
    let ids = ingest(&root, Value::Array(events)).await;
    wait_for_ids(&receiver, &ids).await;
    let (first, last) = (ids[0].as_i64().unwrap(), ids[9].as_i64().unwrap());
    let replay = root
        .post(&format!("/api/v4/streaming_destinations/{id}/replays"), &json!({"from_seq": first, "to_seq": last}))
        .await
        .expect(201);
    let replay_id = replay.body["id"].as_i64().unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let status = root.get(&format!("/api/v4/streaming_destinations/{id}/replays/{replay_id}")).await.expect(200);
        if status.body["state"] == "done" {
            assert_eq!(status.body["sent"], 10);
            break;
        }
        assert!(Instant::now() < deadline, "replay did not finish: {}", status.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = received_of(&receiver, &ids);
    assert_eq!(got.len(), 20, "every event twice, with the same ids");
    let mut replayed = got[10..].to_vec();
    replayed.sort_by_key(|id| id.as_i64());
    assert_eq!(replayed, ids, "the replay sent exactly the range (in order within the in-flight window)");
    // Another owner cannot replay this destination.
    let (_, stranger) = crate::user_with_token(&root, "stranger", &["api"]).await;
    stranger.post(&format!("/api/v4/streaming_destinations/{id}/replays"), &json!({})).await.expect(404);
}

async fn kill_nine_during_a_busy_stream_loses_nothing(backend: Backend) {
    let mut server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let mut acked: Vec<Value> = Vec::new();
    let mut n = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(700) {
        let batch: Vec<Value> = (0..20).map(|i| group_event(&format!("k{n}-{i}"))).collect();
        acked.extend(ingest(&root, Value::Array(batch)).await);
        n += 1;
    }
    server.kill9();
    let before_restart = received_of(&receiver, &acked).len();
    server.restart();
    let got = wait_for_ids(&receiver, &acked).await;
    let duplicates = got.len() - acked.len();
    eprintln!(
        "kill -9: {} acknowledged, {before_restart} delivered before the kill, {duplicates} duplicates after restart",
        acked.len()
    );
    assert!(got.len() >= acked.len());
}

on_both_backends!(
    outage_is_isolated_and_recovers,
    retry_after_is_honoured,
    auth_failures_pause_without_dropping,
    permanent_failures_are_parked_and_resent,
    replay_resends_a_range_with_the_same_ids,
    kill_nine_during_a_busy_stream_loses_nothing,
);
