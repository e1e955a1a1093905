use auditrelay_testkit::{Api, Backend};

use crate::on_both_backends;

async fn health_readiness_and_metrics(backend: Backend) {
    let server = crate::server(backend).await;
    let anonymous = Api::new(&server.base, None);
    anonymous.get("/-/health").await.expect(200);
    let ready = anonymous.get("/-/readiness").await.expect(200);
    assert_eq!(ready.body["status"], "ok");
    server.root().post("/api/v4/audit_events", &crate::event("x", "Group", "g")).await.expect(201);
    // Metrics need an admin's token or the metrics token (`hardening_secrets.rs`).
    anonymous.get("/-/metrics").await.expect(401);
    let metrics = server.root().get("/-/metrics").await.expect(200);
    assert!(metrics.text.contains("auditrelay_ingested_events_total 1"), "{}", metrics.text);
    assert!(metrics.text.contains("auditrelay_http_requests_total"), "{}", metrics.text);
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain"));
}

async fn unknown_paths_get_json_404(backend: Backend) {
    let server = crate::server(backend).await;
    let reply = server.root().get("/api/v4/nothing-here").await.expect(404);
    assert!(reply.body["message"].as_str().unwrap().starts_with("404"));
}

on_both_backends!(health_readiness_and_metrics, unknown_paths_get_json_404);

#[tokio::test]
async fn generated_root_credentials_are_written_once_and_work() {
    let dir = auditrelay_testkit::temp_dir("auditrelay-bootstrap");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_auditrelay"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .env_remove("AUDITRELAY_ROOT_TOKEN")
        .env_remove("AUDITRELAY_ROOT_PASSWORD")
        // The restart below uses the testkit's key; the secrets sealed now must open then.
        .env("AUDITRELAY_SECRET_KEY", auditrelay_testkit::SECRET_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = output;
    let credentials = dir.join("initial_root_credentials");
    for _ in 0..200 {
        if std::fs::read_to_string(&credentials).is_ok_and(|t| t.contains("Token: glpat-")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&credentials).expect("credentials file");
    let token = text.lines().find_map(|l| l.strip_prefix("Token: ")).unwrap().to_owned();
    assert!(text.lines().any(|l| l.starts_with("Password: ") && l.len() > 20), "{text}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&credentials).unwrap().permissions().mode() & 0o777, 0o600);
    child.kill().unwrap();
    child.wait().unwrap();

    // Restarting with given credentials keeps the first ones: bootstrap happens once.
    let mut server = crate::builder(Backend::Sqlite).data_dir(&dir).start().await;
    let me = server.api(Some(&token)).get("/api/v4/user").await.expect(200);
    assert_eq!(me.body["username"], "root");
    assert_eq!(me.body["is_admin"], true);
    server.root().get("/api/v4/user").await.expect(401);
    server.kill9();
}
