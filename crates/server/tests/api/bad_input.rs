//! Bad input at scale: deeply nested and oversized JSON, invalid UTF-8, huge strings in every
//! field, slow-loris clients, many connections at once, other users' tokens and malformed
//! GraphQL. Each is refused with a clear 4xx (never a 5xx or a crash), and afterwards the service
//! is up and answers normally.

use auditrelay_testkit::{Api, Backend, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{create_group, on_both_backends, user_with_token};

/// The read timeout the slow-loris test gives the server.
const READ_TIMEOUT_SECONDS: u64 = 4;

/// The service still works: health, and an event is ingested and read back.
async fn still_serving(server: &TestServer, tag: &str) {
    server.api(None).get("/-/health").await.expect(200);
    let root = server.root();
    let id = format!("still-serving-{tag}");
    root.post(
        "/api/v4/audit_events",
        &json!({"id": id, "event_type": "x", "entity_type": "Group", "entity_path": "acme"}),
    )
    .await
    .expect(201);
    root.get(&format!("/api/v4/audit_events/{id}")).await.expect(200);
}

fn message(reply: &auditrelay_testkit::Reply) -> String {
    match &reply.body["message"] {
        Value::String(s) => s.clone(),
        Value::Null => reply.body["errors"][0]["message"].as_str().unwrap_or(&reply.text).to_owned(),
        other => other.to_string(),
    }
}

/// Asserts a 4xx whose message contains `expected`.
fn refused(reply: auditrelay_testkit::Reply, expected: &str, what: &str) {
    assert!((400..500).contains(&reply.status), "{what}: status {} ({})", reply.status, reply.text);
    assert!(message(&reply).contains(expected), "{what}: message '{}' lacks '{expected}'", message(&reply));
}

async fn nested_oversized_and_invalid_bodies() {
    let server = crate::server(Backend::Sqlite).await;
    let root = server.root();
    root.post("/api/v4/audit_events", &crate::event("seed", "Group", "acme")).await.expect(201);
    let stored = crate::all_event_ids(&root).await.len();

    let deep_arrays = "[".repeat(100_000);
    let deep_objects = "{\"a\":".repeat(100_000);
    let deep_details = format!(
        "{{\"event_type\":\"x\",\"entity_type\":\"Group\",\"entity_path\":\"acme\",\"details\":{}1{}}}",
        "{\"d\":".repeat(1_000),
        "}".repeat(1_000)
    );
    for (what, body) in [("100k [", &deep_arrays), ("100k {\"a\":", &deep_objects), ("details 1k deep", &deep_details)]
    {
        let reply = root.post_raw("/api/v4/audit_events", "application/json", body.clone()).await;
        refused(reply, "not valid JSON", what);
        let line = format!("{body}\n");
        let reply = root.post_raw("/api/v4/audit_events", "application/x-ndjson", line).await;
        refused(reply, "line 1", &format!("NDJSON {what}"));
    }
    still_serving(&server, "nested").await;

    // Oversized: far past the limit, as one JSON document and as NDJSON.
    let big = vec![b' '; 12 * 1024 * 1024];
    refused(root.post_raw("/api/v4/audit_events", "application/json", big.clone()).await, "limit", "12 MiB JSON");
    refused(root.post_raw("/api/v4/audit_events", "application/x-ndjson", big).await, "limit", "12 MiB NDJSON");
    let graphql = vec![b' '; 2 * 1024 * 1024];
    refused(root.post_raw("/api/graphql", "application/json", graphql).await, "limit", "2 MiB GraphQL");
    refused(
        root.post_raw("/api/v4/groups", "application/json", vec![b' '; 4 * 1024 * 1024]).await,
        "limit",
        "4 MiB params",
    );

    // Invalid UTF-8 inside strings, in NDJSON, in form parameters and in the token header.
    let mut inside = br#"{"event_type":"x","entity_type":"Group","entity_path":"acme","author_name":""#.to_vec();
    inside.extend_from_slice(&[0xc3, 0x28, 0xff]);
    inside.extend_from_slice(b"\"}");
    refused(root.post_raw("/api/v4/audit_events", "application/json", inside.clone()).await, "", "UTF-8 in JSON");
    refused(root.post_raw("/api/v4/audit_events", "application/x-ndjson", inside).await, "UTF-8", "UTF-8 in NDJSON");
    let form = b"name=caf\xe9&path=cafe".to_vec();
    let reply = root.post_raw("/api/v4/groups", "application/x-www-form-urlencoded", form).await;
    assert!((400..500).contains(&reply.status), "form with invalid UTF-8: {} {}", reply.status, reply.text);
    let status = reqwest::Client::new()
        .get(format!("{}/api/v4/audit_events", server.base))
        .header("PRIVATE-TOKEN", reqwest::header::HeaderValue::from_bytes(b"glpat-\xff\xfe").unwrap())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "a token that is not UTF-8 is simply wrong");
    let status = reqwest::get(format!("{}/api/v4/projects/%FF%FE/audit_events", server.base)).await.unwrap().status();
    assert!(status.is_client_error(), "a path that is not UTF-8: {status}");

    // The seed and the check's own event, nothing else.
    assert_eq!(crate::all_event_ids(&root).await.len(), stored + 1, "nothing of a refused request is stored");
    still_serving(&server, "oversized").await;
}

/// A string far past every field's limit (within the body limit), in each field in turn.
async fn huge_strings_in_every_field() {
    let server = crate::server(Backend::Sqlite).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let huge = "é".repeat(1024 * 1024);
    let base = json!({"id": "h", "event_type": "x", "entity_type": "Group", "entity_path": "acme", "author_id": 1,
        "author_name": "a", "ip_address": "192.0.2.1", "target_type": "t", "target_id": 1, "target_details": "d",
        "created_at": "2024-05-01T10:00:00Z", "entity_id": 5});
    for field in base.as_object().unwrap().keys() {
        let mut event = base.clone();
        event[field.as_str()] = json!(huge);
        let reply = root.post("/api/v4/audit_events", &event).await;
        refused(reply, field, &format!("a huge {field}"));
    }
    let mut in_details = base.clone();
    in_details["details"] = json!({ huge.clone(): 1 });
    let reply = root.post("/api/v4/audit_events", &in_details).await;
    assert!(reply.status == 201 || (400..500).contains(&reply.status), "a huge details key: {}", reply.status);

    // The same in a GraphQL mutation's inputs and in query strings and headers.
    let reply = root
        .graphql(
            "mutation($name: String, $url: String!) { groupAuditEventStreamingDestinationsCreate(input: { groupPath: \"acme\", name: $name, category: \"http\", config: { url: $url } }) { errors } }",
            json!({"name": "n".repeat(300_000), "url": format!("https://example.com/{}", "u".repeat(300_000))}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let errors = &reply.body["data"]["groupAuditEventStreamingDestinationsCreate"]["errors"];
    assert!(errors.as_array().is_some_and(|e| !e.is_empty()) || !reply.body["errors"].is_null(), "{}", reply.text);
    let long_line = format!("GET /api/v4/audit_events?entity_type={} HTTP/1.1\r\nHost: x\r\n\r\n", "G".repeat(200_000));
    let answer = raw_exchange(&server.base, long_line.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 4"), "a 200 kB request line: {}", &answer[..answer.len().min(200)]);
    let status = reqwest::Client::new()
        .get(format!("{}/api/v4/audit_events", server.base))
        .header("X-Huge", "h".repeat(1024 * 1024))
        .header("PRIVATE-TOKEN", auditrelay_testkit::ROOT_TOKEN)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert!(status == 0 || (400..500).contains(&status), "a 1 MiB header: {status}");
    still_serving(&server, "huge").await;
}

/// Sends raw bytes on a fresh connection; returns what the server answered before closing (or
/// within five seconds).
async fn raw_exchange(base: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Connects and sends `head`, then trickles `trickled` a byte every `pace` until the server
/// answers or closes. Returns how long the connection was held and what the server answered.
async fn trickle(base: &str, head: String, trickled: &'static [u8], pace: Duration) -> (Duration, String) {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut buffer, mut answer) = ([0u8; 4096], Vec::new());
    for byte in trickled.iter().cycle() {
        if stream.write_all(&[*byte]).await.is_err() || started.elapsed() > Duration::from_secs(30) {
            break;
        }
        match tokio::time::timeout(pace, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
            Err(_) => {}
        }
    }
    (started.elapsed(), String::from_utf8_lossy(&answer).into_owned())
}

/// Clients that trickle their headers or body are cut off after the read timeout, and the
/// service keeps answering everyone else meanwhile.
async fn slow_loris_clients_are_cut_off() {
    let timeout = READ_TIMEOUT_SECONDS.to_string();
    let server = crate::builder(Backend::Sqlite).env("AUDITRELAY_REQUEST_READ_TIMEOUT_SECONDS", &timeout).start().await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let pace = Duration::from_millis(300);
    let body_head = format!(
        "POST /api/v4/audit_events HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
        auditrelay_testkit::ROOT_TOKEN
    );
    let slow: Vec<_> = (0..60)
        .map(|i| {
            let base = server.base.clone();
            // Endless headers, or a complete head whose declared body then trickles in.
            let (head, trickled): (String, &'static [u8]) = if i % 2 == 0 {
                (
                    "POST /api/v4/audit_events HTTP/1.1\r\nHost: x\r\nX-Slow: ".into(),
                    b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                )
            } else {
                (body_head.clone(), b"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
            };
            tokio::spawn(async move { trickle(&base, head, trickled, pace).await })
        })
        .collect();
    // Everyone else is served at once while the slow clients hang on.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..20 {
        let started = Instant::now();
        root.post("/api/v4/audit_events", &crate::event(&format!("meanwhile-{i}"), "Group", "acme")).await.expect(201);
        // Well under the read timeout: nobody waited for the slow clients to be cut off.
        assert!(started.elapsed() < Duration::from_secs(2), "a normal request waited {:?}", started.elapsed());
    }
    let mut longest = Duration::ZERO;
    for (i, client) in slow.into_iter().enumerate() {
        let (held, answer) = client.await.unwrap();
        longest = longest.max(held);
        assert!(held < Duration::from_secs(READ_TIMEOUT_SECONDS + 4), "slow client {i} was held {held:?}");
        if !answer.is_empty() {
            assert!(answer.contains("did not arrive"), "slow client {i} got: {answer}");
        }
    }
    eprintln!("slow-loris: 60 slow clients, each cut off within {longest:?} (read timeout {READ_TIMEOUT_SECONDS} s)");
    still_serving(&server, "slow-loris").await;
}

/// Hundreds of idle connections and hundreds of concurrent requests at once.
async fn many_concurrent_connections() {
    let server = crate::server(Backend::Sqlite).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(&address).await.expect("the server accepts many connections"));
    }
    let started = Instant::now();
    let requests: Vec<_> = (0..200)
        .map(|i| {
            // A client each: a connection each.
            let api = Api::new(&server.base, Some(auditrelay_testkit::ROOT_TOKEN));
            tokio::spawn(async move {
                let event =
                    json!({"id": format!("c{i}"), "event_type": "x", "entity_type": "Group", "entity_path": "acme"});
                api.post("/api/v4/audit_events", &event).await.status
            })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), 201);
    }
    eprintln!("200 idle connections open; 200 concurrent requests answered in {:?}", started.elapsed());
    assert_eq!(
        crate::all_event_ids(&root).await.iter().filter(|id| id.as_str().is_some_and(|s| s.starts_with('c'))).count(),
        200
    );
    drop(idle);
    still_serving(&server, "connections").await;
}

/// Each user's token reaches only what that user may see: not another owner's events,
/// namespaces, destinations or tokens.
async fn tokens_of_other_users(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (alice_id, alice) = user_with_token(&root, "alice", &["api"]).await;
    let (bob_id, bob) = user_with_token(&root, "bob", &["api"]).await;
    create_group(&alice, "alpha", None).await;
    create_group(&bob, "beta", None).await;
    root.post("/api/v4/audit_events", &json!({"id": "beta-secret", "event_type": "x", "entity_type": "Group", "entity_path": "beta", "details": {"secret": "s3cr3t"}})).await.expect(201);
    crate::delivery::allow_local(&root).await;
    let (bob_destination, _) =
        crate::delivery::http_destination(&bob, Some("beta"), json!({"url": "http://127.0.0.1:9/bob"})).await;

    // Reads.
    alice.get("/api/v4/groups/beta/audit_events").await.expect(404);
    alice.get("/api/v4/groups/beta/audit_events/beta-secret").await.expect(404);
    assert!(alice.get("/api/v4/audit_events").await.status >= 403, "only admins read the instance log");
    let leaked = alice.get("/api/v4/audit_events/beta-secret").await;
    assert!(!leaked.text.contains("s3cr3t"), "{}", leaked.text);
    alice.get(&format!("/api/v4/streaming_destinations/{bob_destination}")).await.expect(404);
    alice.get(&format!("/api/v4/streaming_destinations/{bob_destination}/parked")).await.expect(404);
    alice
        .post(&format!("/api/v4/streaming_destinations/{bob_destination}/resend_parked"), &json!({}))
        .await
        .expect(404);
    let listed = alice
        .graphql(
            "{ group(fullPath: \"beta\") { externalAuditEventStreamingDestinations { nodes { id config } } } }",
            json!({}),
        )
        .await
        .expect(200);
    assert!(listed.body["data"]["group"].is_null(), "{}", listed.text);

    // Writes: events, destinations, members, tokens.
    alice.post("/api/v4/audit_events", &crate::event("x", "Group", "beta")).await.expect(403);
    let created = alice
        .graphql(
            "mutation { groupAuditEventStreamingDestinationsCreate(input: { groupPath: \"beta\", category: \"http\", config: { url: \"http://127.0.0.1:9/alice\" } }) { errors externalAuditEventDestination { id } } }",
            json!({}),
        )
        .await
        .expect(200);
    assert!(
        created.body["data"]["groupAuditEventStreamingDestinationsCreate"].is_null()
            || created.body["errors"].is_array(),
        "{}",
        created.text
    );
    let gid = format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{bob_destination}");
    let deleted = alice
        .graphql("mutation($id: AuditEventsGroupExternalStreamingDestinationID!) { groupAuditEventStreamingDestinationsDelete(input: { id: $id }) { errors } }", json!({"id": gid}))
        .await
        .expect(200);
    assert!(deleted.body["errors"].is_array(), "{}", deleted.text);
    bob.get(&format!("/api/v4/streaming_destinations/{bob_destination}")).await.expect(200);
    let beta_destinations = bob
        .graphql(
            "{ group(fullPath: \"beta\") { externalAuditEventStreamingDestinations { nodes { id } } } }",
            json!({}),
        )
        .await
        .expect(200);
    let nodes = &beta_destinations.body["data"]["group"]["externalAuditEventStreamingDestinations"]["nodes"];
    assert_eq!(nodes.as_array().map(Vec::len), Some(1), "alice added or removed nothing: {}", beta_destinations.text);
    let beta = bob.get("/api/v4/groups/beta").await.expect(200).body["id"].as_i64().unwrap();
    alice
        .post(&format!("/api/v4/groups/{beta}/members"), &json!({"user_id": alice_id, "access_level": 50}))
        .await
        .expect(404);
    let token = alice
        .post(&format!("/api/v4/users/{bob_id}/personal_access_tokens"), &json!({"name": "mine", "scopes": ["api"]}))
        .await;
    assert!(token.status == 403 || token.status == 404, "{}", token.text);
    still_serving(&server, "tokens").await;
}

/// GraphQL documents that are too deep, too big, too many or malformed get errors; the
/// service keeps answering.
async fn malformed_graphql() {
    let server = crate::server(Backend::Sqlite).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let post = |body: String| {
        let root = root.clone();
        async move { root.post_raw("/api/graphql", "application/json", body).await }
    };
    let deep_selection = format!("{}{}", "{ a ".repeat(100_000), "}".repeat(100_000));
    let deep_list = format!("{{ group(fullPath: {}\"x\"{}) {{ id }} }}", "[".repeat(100_000), "]".repeat(100_000));
    let valid_but_deep = "{ group(fullPath: \"acme\") { externalAuditEventStreamingDestinations { nodes { group { externalAuditEventStreamingDestinations { nodes { group { externalAuditEventStreamingDestinations { nodes { group { externalAuditEventStreamingDestinations { nodes { group { externalAuditEventStreamingDestinations { nodes { group { id } } } } } } } } } } } } } } } }";
    let aliases: String = (0..20_000).map(|i| format!("a{i}: group(fullPath: \"acme\") {{ id }} ")).collect();
    let many_fields = format!("{{ {aliases} }}");
    let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned();
    let deep_variables = format!(
        "{{\"query\":\"{{ __typename }}\",\"variables\":{{\"v\":{}1{}}}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    for (what, query) in [
        ("100k nested selections", deep_selection),
        ("100k nested list values", deep_list),
        ("nesting past the depth limit", valid_but_deep.to_owned()),
        ("20k aliases, past the complexity limit", many_fields),
        ("a fragment cycle", cycle),
        ("no document", String::new()),
        ("not GraphQL", "mutation { ] }".to_owned()),
    ] {
        let reply = post(json!({"query": query}).to_string()).await;
        assert!(reply.status < 500, "{what}: {}", reply.status);
        assert!(
            reply.body["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{what}: {}",
            &reply.text[..reply.text.len().min(500)]
        );
        assert!(
            reply.body["data"].is_null() || reply.body["data"].as_object().is_some_and(|d| d.is_empty()),
            "{what}: no data"
        );
    }
    for (what, body) in [
        ("deeply nested variables", deep_variables),
        ("not JSON", "{\"query\": ".to_owned()),
        ("a JSON string", "\"{ __typename }\"".to_owned()),
        ("invalid UTF-8", String::from_utf8_lossy(b"{\"query\":\"{ \xff }\"}").into_owned()),
    ] {
        let reply = post(body).await;
        assert!((200..500).contains(&reply.status), "{what}: {}", reply.status);
        assert!(!reply.body["errors"].is_null(), "{what}: {}", reply.text);
    }
    // A batch of many operations is one request, bounded like any other.
    let batch: Vec<Value> = (0..2_000).map(|_| json!({"query": "{ __typename }"})).collect();
    let reply = post(Value::Array(batch).to_string()).await;
    assert!(reply.status < 500, "a batch of 2,000: {}", reply.status);
    still_serving(&server, "graphql").await;
    let started = Instant::now();
    root.graphql("{ __typename }", json!({})).await.expect(200);
    assert!(started.elapsed() < Duration::from_secs(2));
}

macro_rules! on_sqlite {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name().await
                }
            }
        )*
    };
}

// Transport and parsing do not depend on the store: these run on SQLite only.
on_sqlite!(
    nested_oversized_and_invalid_bodies,
    huge_strings_in_every_field,
    slow_loris_clients_are_cut_off,
    many_concurrent_connections,
    malformed_graphql
);
on_both_backends!(tokens_of_other_users);
