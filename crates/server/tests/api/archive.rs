//! The ClickHouse archive against a real ClickHouse (Debian's 18.16) and the real binary: reads
//! answered from ClickHouse equal the operational store's answers, the store answers without
//! ClickHouse, an outage during ingest loses nothing and the archive catches up to exactly the
//! log, and the AI-events query by workflow, session, type and time on both sources.
//!
//! Every test needs ClickHouse, so all are `#[ignore]`d for plain `cargo test`; `scripts/test.sh`
//! installs ClickHouse and runs them, and a test fails when ClickHouse cannot start.

use auditrelay_testkit::{Api, Backend, ClickHouseServer, Reply, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::{all_event_ids, builder, event};

/// Runs each named `async fn(Backend)` on SQLite and PostgreSQL, both needing ClickHouse.
macro_rules! with_clickhouse {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "needs ClickHouse: scripts/test.sh runs it"]
                async fn sqlite() {
                    super::$name(auditrelay_testkit::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "needs ClickHouse and PostgreSQL: scripts/test.sh runs it"]
                async fn postgres() {
                    super::$name(auditrelay_testkit::Backend::Postgres).await
                }
            }
        )*
    };
}

with_clickhouse!(
    reads_from_clickhouse_equal_the_store,
    outage_during_ingest_loses_nothing_and_the_archive_catches_up,
    ai_queries_on_both_sources,
    a_hung_clickhouse_costs_one_slow_read
);

async fn archived_server(backend: Backend, clickhouse: &ClickHouseServer) -> TestServer {
    builder(backend).env("AUDITRELAY_CLICKHOUSE_URL", &clickhouse.url("auditrelay")).start().await
}

/// An AI agent event as the AI ingest stores it (see helpers/ai-event-shape.md).
fn ai_event(n: usize, workflow: i64, session: &str, event_type: &str, minute: usize) -> Value {
    json!({
        "id": format!("ce-{n}"), "event_type": event_type,
        "entity_type": "Project", "entity_path": "acme/web",
        "author_id": 7, "author_name": "Jane Doe",
        "target_type": "Ai::DuoWorkflows::Workflow", "target_id": workflow,
        "created_at": format!("2026-11-01T10:{minute:02}:00.000Z"),
        "details": {
            "workflow_id": workflow, "session_id": session, "cloudevent_id": format!("ce-{n}"),
            "cloudevent_source": "/duo-workflow-service", "cloudevent_time": format!("2026-11-01T10:{minute:02}:00Z"),
            "model": {"name": "claude", "provider": "anthropic"}, "prompt": format!("step {n} with 'quotes' and \\ backslash")
        }
    })
}

/// The AI sessions `fill` makes; the third holds a quote, a `?` and a backslash, which must reach
/// ClickHouse as a value (bound, not spliced into the SQL).
const SESSIONS: [&str; 3] = ["s-a", "s-b", r"s-c'?\"];
/// `SESSIONS[2]` in a query string.
const ODD_SESSION: &str = "s-c%27%3F%5C";

const AI_TYPES: [&str; 4] =
    ["ai_agent_session_started", "ai_llm_input_sent", "ai_tool_invoked", "ai_agent_session_ended"];

/// A log with groups, a subgroup, projects, producer ids of both kinds and none, and AI events
/// of two workflows and three sessions at known minutes.
async fn fill(root: &Api) {
    let mut events = Vec::new();
    for i in 0..30 {
        let mut e = match i % 5 {
            0 => event("group_settings_changed", "Group", "acme"),
            1 => event("project_created", "Project", "acme/web"),
            2 => event("repository_git_operation", "Project", "acme/sub/api"),
            3 => event("group_created", "Group", "acme/sub"),
            _ => json!({"event_type": "user_signed_in", "entity_type": "User", "entity_id": 7}),
        };
        e["created_at"] = json!(format!("2026-10-{:02}T08:00:00.000Z", 1 + i));
        e["author_id"] = json!(7 + (i % 2));
        match i % 3 {
            0 => e["id"] = json!(format!("evt-{i}")),
            1 => e["id"] = json!(100_000 + i),
            _ => {}
        }
        events.push(e);
    }
    for n in 0..24 {
        let workflow = 1 + (n % 2) as i64;
        let session = SESSIONS[n % 3];
        events.push(ai_event(n, workflow, session, AI_TYPES[n % 4], n));
    }
    root.post("/api/v4/audit_events", &Value::Array(events)).await.expect(201);
}

/// Waits until the archive holds the whole log (readiness detail), or fails after 90 s.
pub async fn wait_archived(api: &Api) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ready = api.get("/-/readiness").await.expect(200);
        let archive = ready.body["clickhouse_archive"].clone();
        if archive["status"] == "ok" && archive["backlog"] == 0 {
            return archive;
        }
        assert!(Instant::now() < deadline, "the archive did not catch up: {archive}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The reads compared between the two sources: every scope, both paginations, every filter.
fn read_urls() -> Vec<String> {
    let mut urls = vec![
        "/api/v4/audit_events".to_owned(),
        "/api/v4/audit_events?page=2&per_page=7".into(),
        "/api/v4/audit_events?page=9&per_page=7".into(),
        "/api/v4/audit_events?pagination=keyset&per_page=5".into(),
        "/api/v4/audit_events?pagination=keyset&per_page=9&sort=asc".into(),
        "/api/v4/audit_events?created_after=2026-10-05&created_before=2026-10-20T08:00:00Z".into(),
        "/api/v4/audit_events?entity_type=User&entity_id=7".into(),
        "/api/v4/audit_events?entity_type=Project".into(),
        "/api/v4/audit_events?event_type=repository_git_operation".into(),
        "/api/v4/groups/acme/audit_events?per_page=100".into(),
        "/api/v4/groups/acme%2Fsub/audit_events?per_page=100".into(),
        "/api/v4/projects/acme%2Fweb/audit_events?per_page=3&page=2".into(),
        "/api/v4/projects/acme%2Fsub%2Fapi/audit_events?pagination=keyset&per_page=2".into(),
        "/api/v4/projects/acme%2Fweb/audit_events?workflow_id=2&session_id=s-b".into(),
        "/api/v4/ai/audit_events?per_page=50".into(),
        "/api/v4/ai/audit_events?workflow_id=1".into(),
        format!("/api/v4/ai/audit_events?session_id={ODD_SESSION}&event_type=ai_tool_invoked"),
        "/api/v4/ai/audit_events?created_after=2026-11-01T10:05:00Z&created_before=2026-11-01T10:12:00Z".into(),
        "/api/v4/ai/audit_events?pagination=keyset&per_page=4&sort=asc&workflow_id=2".into(),
    ];
    urls.push("/api/v4/ai/audit_events?session_id=nobody'%20OR%201%3D1".into());
    urls
}

/// One read: its source, status, JSON body and pagination headers; keyset reads follow every
/// `next` link so the whole walk is compared.
async fn read(api: &Api, url: &str) -> (Vec<String>, Value) {
    let mut sources = Vec::new();
    let mut pages = Vec::new();
    let mut next = Some(url.to_owned());
    while let Some(url) = next.take() {
        let reply: Reply = api.get(&url).await;
        sources.push(reply.header("x-auditrelay-read-source").unwrap_or("").to_owned());
        let headers: Vec<Value> = ["x-total", "x-total-pages", "x-page", "x-next-page", "x-prev-page", "link"]
            .iter()
            .map(|h| json!(reply.header(h)))
            .collect();
        pages.push(json!({"status": reply.status, "headers": headers, "body": reply.body.clone()}));
        if url.contains("pagination=keyset") && pages.len() < 50 {
            next = reply.next_link();
        }
    }
    (sources, Value::Array(pages))
}

async fn read_all(api: &Api) -> (Vec<String>, Vec<Value>) {
    let mut sources = Vec::new();
    let mut answers = Vec::new();
    for url in read_urls() {
        let (s, answer) = read(api, &url).await;
        sources.extend(s);
        answers.push(answer);
    }
    (sources, answers)
}

async fn reads_from_clickhouse_equal_the_store(backend: Backend) {
    let mut clickhouse = ClickHouseServer::start();
    let server = archived_server(backend, &clickhouse).await;
    let root = server.root();
    fill(&root).await;
    wait_archived(&root).await;

    let (sources, from_clickhouse) = read_all(&root).await;
    assert!(sources.iter().all(|s| s == "clickhouse"), "every read should come from ClickHouse: {sources:?}");
    let first = &from_clickhouse[0][0]["body"];
    assert_eq!(first.as_array().unwrap().len(), 20, "{first}");

    // ClickHouse gone: the same reads come from the operational store, answer for answer.
    clickhouse.stop();
    let (sources, from_store) = read_all(&root).await;
    assert!(sources.iter().all(|s| s == "store"), "every read should fall back to the store: {sources:?}");
    for (url, (a, b)) in read_urls().iter().zip(from_clickhouse.iter().zip(&from_store)) {
        assert_eq!(a, b, "{url}: ClickHouse and the store answer differently");
    }
    let ready = root.get("/-/readiness").await.expect(200);
    assert_eq!(ready.body["clickhouse_archive"]["status"], "unreachable", "{}", ready.body);
    assert!(ready.body["clickhouse_archive"]["last_error"].as_str().is_some_and(|e| !e.is_empty()));

    // Back again: reads return to ClickHouse once the archiver has seen it.
    clickhouse.start_again();
    wait_archived(&root).await;
    let (sources, again) = read_all(&root).await;
    assert!(sources.iter().all(|s| s == "clickhouse"), "{sources:?}");
    assert_eq!(again, from_store);

    let text = root.get("/-/metrics").await.expect(200).text;
    assert!(text.contains("auditrelay_archive_seq"), "{text}");
    assert!(text.contains("auditrelay_archive_backlog"), "{text}");

    // Under steady ingest the archive trails by one insert; reads wait briefly for it rather
    // than always falling back, and each answer includes every event acknowledged before it.
    let producer = {
        let root = root.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                let e = json!({"id": format!("steady-{i}"), "event_type": "user_signed_in", "entity_type": "User", "entity_id": 7});
                root.post("/api/v4/audit_events", &e).await.expect(201);
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        })
    };
    let mut sources = Vec::new();
    for _ in 0..20 {
        let seen = root.get("/api/v4/audit_events?pagination=keyset&per_page=1").await.expect(200);
        let before = &seen.body[0]["id"];
        let listed = root.get("/api/v4/audit_events?per_page=100").await.expect(200);
        assert!(listed.body.as_array().unwrap().iter().any(|e| &e["id"] == before), "missing acknowledged {before}");
        sources.push(listed.header("x-auditrelay-read-source").unwrap_or("").to_owned());
    }
    producer.await.unwrap();
    let from_clickhouse = sources.iter().filter(|s| *s == "clickhouse").count();
    assert!(from_clickhouse >= sources.len() / 2, "reads during ingest mostly fell back: {sources:?}");
}

/// (count, distinct seqs, min seq, max seq) of the archive table, straight from ClickHouse.
fn archive_counts(clickhouse: &ClickHouseServer) -> (i64, i64, i64, i64) {
    let text = clickhouse
        .query("SELECT count(), uniqExact(seq), min(seq), max(seq) FROM auditrelay.audit_events FORMAT TabSeparated");
    let numbers: Vec<i64> = text.split_whitespace().map(|n| n.parse().unwrap()).collect();
    (numbers[0], numbers[1], numbers[2], numbers[3])
}

/// The public ids in the archive, in `seq` order, as the read API shows them.
fn archive_ids(clickhouse: &ClickHouseServer) -> Vec<String> {
    clickhouse
        .query("SELECT id FROM auditrelay.audit_events ORDER BY seq FORMAT TabSeparated")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn id_text(id: &Value) -> String {
    id.as_str().map(str::to_owned).unwrap_or_else(|| id.to_string())
}

async fn outage_during_ingest_loses_nothing_and_the_archive_catches_up(backend: Backend) {
    let mut clickhouse = ClickHouseServer::start();
    let mut server = archived_server(backend, &clickhouse).await;
    let root = server.root();

    let producer = {
        let root = root.clone();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for batch in 0..40 {
                let events: Vec<Value> = (0..25)
                    .map(|i| {
                        let mut e = event("repository_git_operation", "Project", "acme/web");
                        e["id"] = json!(format!("b{batch}-{i}"));
                        e
                    })
                    .collect();
                statuses.push(root.post("/api/v4/audit_events", &Value::Array(events)).await.status);
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    clickhouse.stop();
    // During the outage reads still answer, from the store.
    for _ in 0..5 {
        let reply = root.get("/api/v4/audit_events?per_page=5").await.expect(200);
        assert_eq!(reply.header("x-auditrelay-read-source"), Some("store"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let statuses = producer.await.unwrap();
    assert!(statuses.iter().all(|s| *s == 201), "ingest must not notice the outage: {statuses:?}");
    let ready = root.get("/-/readiness").await.expect(200);
    assert_ne!(ready.body["clickhouse_archive"]["status"], "ok", "{}", ready.body);

    clickhouse.start_again();
    let archive = wait_archived(&root).await;
    let head = archive["head_seq"].as_i64().unwrap();
    assert_eq!(archive_counts(&clickhouse), (head, head, 1, head), "exactly the log, no duplicates");
    let ids: Vec<String> = all_event_ids(&root).await.iter().map(id_text).collect();
    assert_eq!(ids.len() as i64, head);
    assert_eq!(archive_ids(&clickhouse), ids);
    assert!(ids.iter().filter(|id| id.starts_with('b')).count() == 1000);
    // The position recorded in the store (what other nodes and operators see) follows.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = root.get("/-/readiness").await.expect(200);
        if ready.body["clickhouse_archive"]["recorded_seq"] == head {
            break;
        }
        assert!(Instant::now() < deadline, "recorded position lags: {}", ready.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A crash of auditrelay itself, then more events: the archiver resumes from ClickHouse's
    // own position and still writes nothing twice.
    server.restart();
    let root = server.root();
    let more: Vec<Value> =
        (0..50).map(|i| json!({"event_type": "user_signed_in", "entity_type": "User", "entity_id": i + 1})).collect();
    root.post("/api/v4/audit_events", &Value::Array(more)).await.expect(201);
    let archive = wait_archived(&root).await;
    let head = archive["head_seq"].as_i64().unwrap();
    assert_eq!(archive_counts(&clickhouse), (head, head, 1, head));
    let ids: Vec<String> = all_event_ids(&root).await.iter().map(id_text).collect();
    assert_eq!(archive_ids(&clickhouse), ids);
}

async fn ai_queries_on_both_sources(backend: Backend) {
    // Without ClickHouse the store answers, with no archive detail in readiness.
    let plain = builder(backend).start().await;
    let root = plain.root();
    fill(&root).await;
    let ready = root.get("/-/readiness").await.expect(200);
    assert!(ready.body.get("clickhouse_archive").is_none(), "{}", ready.body);
    check_ai_queries(&root, "store").await;

    let mut clickhouse = ClickHouseServer::start();
    let server = archived_server(backend, &clickhouse).await;
    let root = server.root();
    fill(&root).await;
    wait_archived(&root).await;
    check_ai_queries(&root, "clickhouse").await;
    clickhouse.stop();
    check_ai_queries(&root, "store").await;

    // The AI-events query takes only AI event types, with a message naming them.
    let reply = root.get("/api/v4/ai/audit_events?event_type=user_signed_in").await.expect(400);
    assert!(reply.body.to_string().contains("event_type must be one of the AI event types"), "{}", reply.body);
    // Non-admins may not read the whole instance's AI events.
    let (_, user) = crate::user_with_token(&root, "reader", &["read_api"]).await;
    user.get("/api/v4/ai/audit_events").await.expect(403);
}

/// Ids of AI events `fill` made that match a predicate on (n, workflow, session, type, minute),
/// newest first as the API lists them.
fn expected(matches: impl Fn(usize, i64, &str, &str, usize) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = (0..24)
        .filter(|&n| matches(n, 1 + (n % 2) as i64, SESSIONS[n % 3], AI_TYPES[n % 4], n))
        .map(|n| format!("ce-{n}"))
        .collect();
    ids.reverse();
    ids
}

async fn check_ai_queries(root: &Api, source: &str) {
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("/api/v4/ai/audit_events?per_page=100", expected(|_, _, _, _, _| true)),
        ("/api/v4/ai/audit_events?per_page=100&workflow_id=2", expected(|_, w, _, _, _| w == 2)),
        ("/api/v4/ai/audit_events?per_page=100&session_id=s-b", expected(|_, _, s, _, _| s == "s-b")),
        (
            "/api/v4/ai/audit_events?per_page=100&event_type=ai_tool_invoked&workflow_id=1",
            expected(|_, w, _, t, _| t == "ai_tool_invoked" && w == 1),
        ),
        (
            "/api/v4/ai/audit_events?per_page=100&created_after=2026-11-01T10:05:00Z&created_before=2026-11-01T10:12:00Z",
            expected(|_, _, _, _, m| (5..=12).contains(&m)),
        ),
        (
            "/api/v4/projects/acme%2Fweb/audit_events?per_page=100&session_id=s-a&workflow_id=1",
            expected(|_, w, s, _, _| w == 1 && s == "s-a"),
        ),
        ("/api/v4/ai/audit_events?session_id=nobody'%20OR%20''%3D'", vec![]),
    ];
    let odd = format!("/api/v4/ai/audit_events?per_page=100&session_id={ODD_SESSION}");
    let cases = cases.into_iter().chain([(odd.as_str(), expected(|_, _, s, _, _| s == SESSIONS[2]))]);
    for (url, want) in cases {
        let reply = root.get(url).await.expect(200);
        assert_eq!(reply.header("x-auditrelay-read-source"), Some(source), "{url}");
        // The service's session summaries (appended when a session ends) are not `fill`'s.
        let ids: Vec<String> = reply
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event_name"] != "ai_agent_session_summary")
            .map(|e| id_text(&e["streamed_id"]))
            .collect();
        assert_eq!(ids, want, "{url} from {source}");
    }
    // The event is GitLab's shape, with the AI keys in details.
    let reply = root.get(&format!("/api/v4/ai/audit_events?session_id={ODD_SESSION}&per_page=1")).await.expect(200);
    let details = &reply.body[0]["details"];
    assert_eq!(details["session_id"], SESSIONS[2], "{}", reply.body);
    // REST details are strings (GitLab's entity), numbers as their JSON text.
    assert!(details["workflow_id"].as_str().is_some_and(|w| w.parse::<i64>().is_ok()), "{}", reply.body);
}

/// Two processes sharing PostgreSQL: one archives (the lease holder), the other only reads; when
/// the writer dies, the other takes the archive over, and nothing is archived twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs ClickHouse and PostgreSQL: scripts/test.sh runs it"]
async fn two_nodes_archive_once() {
    let clickhouse = ClickHouseServer::start();
    let node = |b: auditrelay_testkit::TestServerBuilder| {
        b.env("AUDITRELAY_CLICKHOUSE_URL", &clickhouse.url("auditrelay")).env("AUDITRELAY_DELIVERY_LEASE_SECONDS", "2")
    };
    let first = node(builder(Backend::Postgres)).start().await;
    let second = node(builder(Backend::Postgres).database_url(first.database_url.as_deref().unwrap())).start().await;
    for batch in 0..10 {
        let target = if batch % 2 == 0 { first.root() } else { second.root() };
        let events: Vec<Value> = (0..20)
            .map(|i| json!({"event_type": "user_signed_in", "entity_type": "User", "entity_id": batch * 100 + i}))
            .collect();
        target.post("/api/v4/audit_events", &Value::Array(events)).await.expect(201);
    }
    let a = wait_archived(&first.root()).await;
    let b = wait_archived(&second.root()).await;
    assert_ne!(a["writer"], b["writer"], "exactly one node writes: {a} {b}");
    let head = b["head_seq"].as_i64().unwrap();
    assert_eq!(archive_counts(&clickhouse), (head, head, 1, head));
    // Both nodes read from ClickHouse, and alike.
    let from_first = first.root().get("/api/v4/audit_events?per_page=100").await.expect(200);
    let from_second = second.root().get("/api/v4/audit_events?per_page=100").await.expect(200);
    assert_eq!(from_first.header("x-auditrelay-read-source"), Some("clickhouse"));
    assert_eq!(from_second.header("x-auditrelay-read-source"), Some("clickhouse"));
    assert_eq!(from_first.body, from_second.body);

    // The writer dies: after its lease expires the survivor archives what follows.
    let (mut writer, survivor) = if a["writer"] == true { (first, second) } else { (second, first) };
    writer.kill9();
    let events: Vec<Value> =
        (0..30).map(|i| json!({"event_type": "user_signed_in", "entity_type": "User", "entity_id": i + 1})).collect();
    survivor.root().post("/api/v4/audit_events", &Value::Array(events)).await.expect(201);
    let archive = wait_archived(&survivor.root()).await;
    assert_eq!(archive["writer"], true, "{archive}");
    let head = archive["head_seq"].as_i64().unwrap();
    assert_eq!(archive_counts(&clickhouse), (head, head, 1, head));
}

/// A `--clickhouse-url` that is not ClickHouse's HTTP interface stops the start with a message
/// naming the problem (needs no ClickHouse).
#[test]
fn a_bad_clickhouse_url_is_refused_at_start() {
    let dir = auditrelay_testkit::temp_dir("auditrelay-bad-ch");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_auditrelay"))
        .args(["serve", "--listen", "127.0.0.1:0", "--clickhouse-url", "tcp://127.0.0.1:9000", "--data-dir"])
        .arg(&dir)
        .env_remove("AUDITRELAY_DATABASE_URL")
        .output()
        .expect("run auditrelay");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("--clickhouse-url") && stderr.contains("scheme must be http or https"), "{stderr}");
}

/// A ClickHouse that accepts connections but never answers: ingest is unaffected, one read
/// waits for the read timeout (2 s) and falls back, and the following reads go straight to the
/// store until ClickHouse answers again.
async fn a_hung_clickhouse_costs_one_slow_read(backend: Backend) {
    let clickhouse = ClickHouseServer::start();
    let server = archived_server(backend, &clickhouse).await;
    let root = server.root();
    fill(&root).await;
    wait_archived(&root).await;

    clickhouse.pause();
    let started = Instant::now();
    let reply = root.get("/api/v4/audit_events").await.expect(200);
    assert_eq!(reply.header("x-auditrelay-read-source"), Some("store"));
    assert!(started.elapsed() < Duration::from_secs(4), "the fallback took {:?}", started.elapsed());
    let started = Instant::now();
    for i in 0..5 {
        let e = json!({"id": format!("during-hang-{i}"), "event_type": "user_signed_in", "entity_type": "User", "entity_id": 7});
        root.post("/api/v4/audit_events", &e).await.expect(201);
        let reply = root.get("/api/v4/audit_events?per_page=1").await.expect(200);
        assert_eq!(reply.header("x-auditrelay-read-source"), Some("store"));
        assert_eq!(reply.body[0]["streamed_id"], format!("during-hang-{i}"));
    }
    assert!(started.elapsed() < Duration::from_secs(2), "ingest and reads slowed: {:?}", started.elapsed());

    clickhouse.resume();
    wait_archived(&root).await;
    let reply = root.get("/api/v4/audit_events?per_page=1").await.expect(200);
    assert_eq!(reply.header("x-auditrelay-read-source"), Some("clickhouse"));
    assert_eq!(reply.body[0]["streamed_id"], "during-hang-4");
}
