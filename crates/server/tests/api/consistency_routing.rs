//! Configuration changes take effect in log order: a destination change commits with its audit
//! event, and every event is routed with the configuration in force when it was committed. So
//! no destination receives the audit event of a filter change that excludes it (GitLab never
//! sends it), and a running worker applies the change exactly at that event, without a restart.

use auditrelay_testkit::{Api, Backend, Receiver};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::delivery::{fast_server, health, http_destination, ingest};
use crate::{create_group, on_both_backends};

on_both_backends!(filter_changes_take_effect_at_their_audit_event);

const GROUPS: usize = 4;
/// GitLab's limit of active destinations per group.
const PER_GROUP: usize = 5;
const WAIT: Duration = Duration::from_secs(60);

struct Dest {
    id: i64,
    group: String,
    path: String,
    /// The seq of its creation event: it streams from there on.
    created: i64,
    /// The seq of its `event_type_filters_created` event.
    changed: i64,
    wanted_type: String,
}

/// A group's events, oldest first, as `(seq, event_name)`; events without a producer id have
/// their seq as id.
async fn group_log(root: &Api, group: &str) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut url = format!("/api/v4/groups/{group}/audit_events?pagination=keyset&sort=asc&per_page=100");
    loop {
        let page = root.get(&url).await.expect(200);
        for event in page.body.as_array().unwrap() {
            out.push((event["id"].as_i64().unwrap(), event["event_name"].as_str().unwrap().to_owned()));
        }
        match page.next_link() {
            Some(next) => url = next,
            None => return out,
        }
    }
}

async fn last_event(root: &Api, group: &str) -> (i64, String) {
    group_log(root, group).await.pop().unwrap()
}

fn group_event(event_type: &str, group: &str) -> Value {
    json!({"event_type": event_type, "entity_type": "Group", "entity_path": group})
}

async fn filter_changes_take_effect_at_their_audit_event(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    // Custom types become valid filters once seen; seen here where no destination listens.
    create_group(&root, "elsewhere", None).await;
    let types: Vec<Value> =
        (0..GROUPS * PER_GROUP).map(|i| group_event(&format!("wanted_type_{i}"), "elsewhere")).collect();
    ingest(&root, json!(types)).await;

    let mut dests = Vec::new();
    for g in 0..GROUPS {
        let group = format!("tenant{g}");
        create_group(&root, &group, None).await;
        for d in 0..PER_GROUP {
            let i = g * PER_GROUP + d;
            let path = format!("/d{i}");
            let (id, _) = http_destination(&root, Some(&group), json!({"url": receiver.url(&path)})).await;
            let (created, kind) = last_event(&root, &group).await;
            assert!(kind.contains("create"), "{kind}");
            dests.push(Dest {
                id,
                group: group.clone(),
                path,
                created,
                changed: 0,
                wanted_type: format!("wanted_type_{i}"),
            });
        }
    }
    // Each destination in turn gets a filter for its own type while events keep coming: its
    // filter's audit event and everything after it is routed by the new filter.
    for dest in &mut dests {
        let (id, group, wanted) = (dest.id, dest.group.clone(), dest.wanted_type.clone());
        ingest(&root, json!([group_event("before_change", &group)])).await;
        let gid = format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{id}");
        let reply = root
            .graphql(
                "mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $types: [String!]!) { auditEventsGroupDestinationEventsAdd(input: { destinationId: $id, eventTypeFilters: $types }) { errors } }",
                json!({"id": gid, "types": [wanted]}),
            )
            .await
            .expect(200);
        assert_eq!(reply.body["data"]["auditEventsGroupDestinationEventsAdd"]["errors"], json!([]), "{}", reply.text);
        let (changed, kind) = last_event(&root, &group).await;
        assert_eq!(kind, "event_type_filters_created");
        dest.changed = changed;
        ingest(&root, json!([group_event("after_change", &group), group_event(&wanted, &group)])).await;
    }

    // Everything committed has an outcome at every destination: their cursors reached the head.
    let logs: Vec<(String, Vec<(i64, String)>)> = {
        let mut logs = Vec::new();
        for g in 0..GROUPS {
            let group = format!("tenant{g}");
            let log = group_log(&root, &group).await;
            logs.push((group, log));
        }
        logs
    };
    let head = logs.iter().flat_map(|(_, log)| log.iter().map(|(seq, _)| *seq)).max().unwrap();
    let deadline = Instant::now() + WAIT;
    for dest in &dests {
        while health(&root, dest.id).await["cursor"].as_i64().unwrap() < head {
            assert!(Instant::now() < deadline, "destination {} did not catch up to {head}", dest.id);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    let received = receiver.received();
    for dest in &dests {
        let got: BTreeSet<i64> =
            received.iter().filter(|r| r.path == dest.path).map(|r| r.json()["id"].as_i64().unwrap()).collect();
        let log = &logs.iter().find(|(g, _)| *g == dest.group).unwrap().1;
        let expected: BTreeSet<i64> = log
            .iter()
            .filter(|(seq, kind)| *seq >= dest.created && (*seq < dest.changed || *kind == dest.wanted_type))
            .map(|(seq, _)| *seq)
            .collect();
        assert!(!got.contains(&dest.changed), "destination {} received its own filter change's event", dest.id);
        assert_eq!(
            got, expected,
            "destination {} (created at {}, filtered at {})",
            dest.id, dest.created, dest.changed
        );
    }
}
