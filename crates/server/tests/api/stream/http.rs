//! An HTTP destination's stream: the three headers on every request beside GitLab's own,
//! gapless positions whose chain the receiver rebuilds, signed checkpoints listed over REST and
//! sent in-band when the destination opts in, the public key endpoint and key rotation.

use auditrelay_core::stream_proof::SignedCheckpoint;
use auditrelay_testkit::receiver::Answer;
use auditrelay_testkit::{Backend, Receiver};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::{assert_checkpoints, checkpoints, public_keys, stream_of, wait_for_checkpoint};
use crate::delivery::{fast_server, group_event, http_destination, ingest, wait_for_ids};
use crate::{create_group, on_both_backends};

pub const QUICK_CHECKPOINTS: [(&str, &str); 2] =
    [("AUDITRELAY_CHECKPOINT_POSITIONS", "10"), ("AUDITRELAY_CHECKPOINT_MS", "300")];

async fn headers_chain_and_checkpoints(backend: Backend) {
    let server = fast_server(backend, &QUICK_CHECKPOINTS).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    let (id, token) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let opted = root
        .put(&format!("/api/v4/streaming_destinations/{id}/stream"), &json!({"in_band_checkpoints": true}))
        .await
        .expect(200);
    assert_eq!(opted.body["in_band_checkpoints"], true);
    let ids = ingest(&root, Value::Array((0..35).map(|i| group_event(&format!("h{i}"))).collect())).await;
    wait_for_ids(&receiver, &ids).await;

    let received = receiver.received();
    let events: Vec<_> = received.iter().filter(|r| r.header("x-auditrelay-checkpoint").is_none()).collect();
    for request in &events {
        // GitLab's headers are all still there, unchanged.
        assert_eq!(request.header("x-gitlab-event-streaming-token"), Some(token.as_str()));
        assert!(request.header("x-gitlab-audit-event-type").is_some());
        assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"));
    }
    let stream = stream_of(&received);
    assert_eq!(stream.id, format!("gid://gitlab/AuditEvents::ExternalAuditEventDestination/{id}"));
    let chains = stream.assert_complete(&BTreeMap::new());
    let last = *chains.keys().last().unwrap();
    assert!(last as usize >= ids.len(), "every event has a position (and the service's own events too)");

    let shown = wait_for_checkpoint(&root, id, last).await;
    assert_eq!(shown["id"], stream.id);
    assert_eq!(shown["position"], last);
    assert_eq!(shown["delivered_through"], last);
    let keys = public_keys(&root).await;
    let listed = checkpoints(&root, id).await;
    assert_checkpoints(&listed, &keys, &stream.id, &chains);
    assert!(listed.len() >= 3, "at least one per 10 positions: {}", listed.len());

    // In-band: their own POSTs, without the event-type header, each a SignedCheckpoint.
    let in_band = stream_of(&receiver.received()).checkpoints;
    assert!(!in_band.is_empty(), "in-band checkpoints arrived");
    for post in &in_band {
        assert!(post.header("x-gitlab-audit-event-type").is_none());
        assert!(post.header("x-auditrelay-sequence").is_none());
        let signed: SignedCheckpoint = serde_json::from_str(&post.body).expect("a SignedCheckpoint");
        assert!(listed.contains(&signed), "the in-band checkpoint is a listed one");
    }
    // Recorded right after the POST was answered.
    let deadline = std::time::Instant::now() + super::WAIT;
    loop {
        let state = wait_for_checkpoint(&root, id, last).await;
        if state["last_checkpoint_delivered"] == true {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the in-band checkpoint never counted as delivered: {state}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // GraphQL shows the same stream on the destination types.
    let document = "query { group(fullPath: \"acme\") { externalAuditEventDestinations { nodes { id auditrelayStream { id position deliveredThrough lastCheckpoint { sequence chain createdAt delivered } } } } } }";
    let reply = root.graphql(document, json!({})).await.expect(200);
    let node = &reply.body["data"]["group"]["externalAuditEventDestinations"]["nodes"][0]["auditrelayStream"];
    assert_eq!(node["id"], stream.id, "{}", reply.text);
    assert_eq!(node["position"], last);
    assert_eq!(node["deliveredThrough"], last);
    assert_eq!(node["lastCheckpoint"]["chain"], chains[&last].to_hex(), "{}", reply.text);

    // Rotation: a new current key, the old one still listed with its validity.
    let old_keys = keys;
    let rotated = root.post("/api/v4/streaming/public_key/rotate", &json!({})).await.expect(201);
    let keys = public_keys(&root).await;
    assert_eq!(keys.len(), old_keys.len() + 1);
    assert!(keys.contains_key(rotated.body["key_id"].as_str().unwrap()));
    let more =
        ingest(&root, Value::Array((0..12).map(|i| group_event(&format!("after-rotation-{i}"))).collect())).await;
    wait_for_ids(&receiver, &more).await;
    let stream = stream_of(&receiver.received());
    let chains = stream.assert_complete(&BTreeMap::new());
    let last = *chains.keys().last().unwrap();
    wait_for_checkpoint(&root, id, last).await;
    let listed = checkpoints(&root, id).await;
    assert_checkpoints(&listed, &keys, &stream.id, &chains);
    assert_eq!(listed.last().unwrap().key_id, rotated.body["key_id"], "signed with the new key");
    // The independent check: `auditrelay verify` on what the receiver kept (both keys listed).
    super::assert_verified(&receiver, &server.base, id);

    // Who may not read the destination may not read its checkpoints; only admins rotate.
    let (_, stranger) = crate::user_with_token(&root, "stranger", &["api"]).await;
    stranger.get(&format!("/api/v4/streaming_destinations/{id}/checkpoints")).await.expect(404);
    stranger.post("/api/v4/streaming/public_key/rotate", &json!({})).await.expect(403);
    root.get(&format!("/api/v4/streaming_destinations/{id}/checkpoints?after_sequence=-1")).await.expect(400);
}

on_both_backends!(headers_chain_and_checkpoints);

/// A server making checkpoints often, and an HTTP destination of group `acme` to a receiver.
async fn quick_http_stream(backend: Backend) -> (auditrelay_testkit::TestServer, Receiver, i64) {
    let server = fast_server(backend, &QUICK_CHECKPOINTS).await;
    let receiver = Receiver::start().await;
    create_group(&server.root(), "acme", None).await;
    let (id, _) = http_destination(&server.root(), Some("acme"), json!({"url": receiver.url("/")})).await;
    (server, receiver, id)
}

/// The in-band option over GraphQL: `auditrelayStreamUpdate` turns it on and off (either id
/// generation), the destination's `auditrelayStream` and REST show it, only a manager may change
/// it (a non-HTTP destination is refused: `cloud.rs`).
async fn in_band_checkpoints_over_graphql(backend: Backend) {
    let (server, receiver, id) = quick_http_stream(backend).await;
    let root = server.root();
    let update = "mutation($id: ID!, $on: Boolean!) { auditrelayStreamUpdate(input: {destinationId: $id, inBandCheckpoints: $on}) { errors stream { id inBandCheckpoints } } }";
    let legacy = format!("gid://gitlab/AuditEvents::ExternalAuditEventDestination/{id}");
    let reply = root.graphql(update, json!({"id": legacy, "on": true})).await.expect(200);
    let payload = &reply.body["data"]["auditrelayStreamUpdate"];
    assert_eq!(payload["errors"], json!([]), "{}", reply.text);
    assert_eq!(payload["stream"], json!({"id": legacy, "inBandCheckpoints": true}), "{}", reply.text);
    let shown = root.get(&format!("/api/v4/streaming_destinations/{id}")).await.expect(200);
    assert_eq!(shown.body["stream"]["in_band_checkpoints"], true, "{}", shown.text);

    let ids = ingest(&root, Value::Array((0..12).map(|i| group_event(&format!("g{i}"))).collect())).await;
    wait_for_ids(&receiver, &ids).await;
    let deadline = std::time::Instant::now() + super::WAIT;
    while stream_of(&receiver.received()).checkpoints.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no in-band checkpoint arrived");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let (_, stranger) = crate::user_with_token(&root, "stranger", &["api"]).await;
    let refused = stranger.graphql(update, json!({"id": legacy, "on": false})).await.expect(200);
    assert!(refused.body["errors"].is_array(), "a stranger cannot change it: {}", refused.text);
    let consolidated = format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{id}");
    let off = root.graphql(update, json!({"id": consolidated, "on": false})).await.expect(200);
    assert_eq!(off.body["data"]["auditrelayStreamUpdate"]["stream"]["inBandCheckpoints"], false, "{}", off.text);
    let shown = root.get(&format!("/api/v4/streaming_destinations/{id}")).await.expect(200);
    assert_eq!(shown.body["stream"]["in_band_checkpoints"], false, "{}", shown.text);
}

on_both_backends!(in_band_checkpoints_over_graphql);

/// An in-band checkpoint the destination refused is sent again (after a growing wait) until it
/// arrives, and only then counts as delivered; no newer checkpoint is needed for that.
async fn a_refused_in_band_checkpoint_is_sent_again(backend: Backend) {
    let (server, receiver, id) = quick_http_stream(backend).await;
    let root = server.root();
    root.put(&format!("/api/v4/streaming_destinations/{id}/stream"), &json!({"in_band_checkpoints": true}))
        .await
        .expect(200);
    receiver.answer(Answer::FailCheckpoints(503));
    let ids = ingest(&root, Value::Array((0..4).map(|i| group_event(&format!("r{i}"))).collect())).await;
    wait_for_ids(&receiver, &ids).await;
    let last = *stream_of(&receiver.received()).assert_complete(&BTreeMap::new()).keys().last().unwrap();
    let state = wait_for_checkpoint(&root, id, last).await;
    assert_eq!(state["last_checkpoint_delivered"], false, "refused, so not delivered: {state}");
    let deadline = std::time::Instant::now() + super::WAIT;
    while receiver.attempts() <= receiver.received().len() {
        assert!(std::time::Instant::now() < deadline, "no checkpoint POST was refused");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    receiver.answer(Answer::Ok);
    let deadline = std::time::Instant::now() + super::WAIT;
    loop {
        let state = wait_for_checkpoint(&root, id, last).await;
        if state["last_checkpoint_delivered"] == true {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the refused checkpoint was never sent again: {state}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let in_band = stream_of(&receiver.received()).checkpoints;
    let signed: Vec<SignedCheckpoint> = in_band.iter().map(|p| serde_json::from_str(&p.body).unwrap()).collect();
    assert!(signed.iter().any(|c| c.checkpoint.sequence == last), "the checkpoint at {last} arrived: {signed:?}");
}

on_both_backends!(a_refused_in_band_checkpoint_is_sent_again);
