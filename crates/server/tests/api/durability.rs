//! An acknowledged event is never lost: not on `kill -9`, not on a graceful stop.

use auditrelay_testkit::{Api, Backend, TestServer};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

use crate::{all_event_ids, on_both_backends};

/// Producers post batches with their own ids until the server goes away; returns the ids
/// that were acknowledged with `201`.
fn start_producers(api: &Api, producers: usize) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
    (0..producers)
        .map(|p| {
            let api = api.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for r in 0.. {
                    let batch: Vec<Value> = (0..25)
                        .map(|i| json!({"id": format!("p{p}-r{r}-i{i}"), "event_type": "durable", "entity_type": "Group", "entity_path": "acme"}))
                        .collect();
                    let body = Value::Array(batch).to_string();
                    let request = reqwest::Client::new()
                        .post(format!("{}/api/v4/audit_events", api.base()))
                        .header("PRIVATE-TOKEN", auditrelay_testkit::ROOT_TOKEN)
                        .header("Content-Type", "application/json")
                        .body(body)
                        .send();
                    match request.await {
                        Ok(response) if response.status() == 201 => {
                            let body: Value = match response.json().await {
                                Ok(body) => body,
                                Err(_) => break,
                            };
                            acked.extend(body["ids"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()));
                        }
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect()
}

async fn collect(producers: Vec<tokio::task::JoinHandle<Vec<String>>>) -> Vec<String> {
    let mut acked = Vec::new();
    for producer in producers {
        acked.extend(producer.await.unwrap());
    }
    acked
}

async fn assert_all_present(server: &TestServer, acked: &[String]) {
    let stored: HashSet<String> =
        all_event_ids(&server.root()).await.into_iter().filter_map(|id| id.as_str().map(str::to_owned)).collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} acknowledged events lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
}

async fn kill_nine_loses_no_acknowledged_event(backend: Backend) {
    let mut server = crate::server(backend).await;
    for round in 0..3 {
        let producers = start_producers(&server.root(), 6);
        tokio::time::sleep(Duration::from_millis(300 + round * 150)).await;
        server.kill9();
        let acked = collect(producers).await;
        assert!(!acked.is_empty(), "round {round}: some requests were acknowledged before the kill");
        server.restart();
        assert_all_present(&server, &acked).await;
    }
}

async fn graceful_stop_finishes_in_flight_commits(backend: Backend) {
    let mut server = crate::server(backend).await;
    let producers = start_producers(&server.root(), 6);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let clean = tokio::task::block_in_place(|| server.terminate());
    assert!(clean, "SIGTERM ends the process with success; log:\n{}", server.log());
    let acked = collect(producers).await;
    assert!(!acked.is_empty());
    server.restart();
    assert_all_present(&server, &acked).await;
}

on_both_backends!(kill_nine_loses_no_acknowledged_event, graceful_stop_finishes_in_flight_commits);
