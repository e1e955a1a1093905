use auditrelay_testkit::{Api, Backend};
use serde_json::json;

use crate::{create_group, on_both_backends, user_with_token};

async fn users_and_validation(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let alice = json!({"username": "alice", "name": "Alice", "email": "alice@example.com", "password": "password-123"});
    let created = root.post("/api/v4/users", &alice).await.expect(201);
    assert_eq!(created.body["username"], "alice");
    assert_eq!(created.body["is_admin"], false);
    assert!(created.body.get("password_hash").is_none());

    let again = root.post("/api/v4/users", &alice).await.expect(409);
    assert_eq!(again.body["message"], "Email has already been taken");
    let missing = root.post("/api/v4/users", &json!({"username": "bob"})).await.expect(400);
    assert_eq!(missing.body["error"], "email is missing");
    let bad_email = root
        .post("/api/v4/users", &json!({"username": "bob", "name": "B", "email": "nope", "password": "password-123"}))
        .await
        .expect(400);
    assert_eq!(bad_email.body["message"]["email"][0], "is invalid");
    let short = root
        .post("/api/v4/users", &json!({"username": "bob", "name": "B", "email": "b@example.com", "password": "x"}))
        .await
        .expect(400);
    assert!(short.body["message"]["password"][0].as_str().unwrap().contains("too short"));

    // Form-encoded parameters work like GitLab's API.
    let form = root
        .send(
            reqwest::Method::POST,
            "/api/v4/users",
            Some("application/x-www-form-urlencoded"),
            Some(b"username=carol&name=Carol&email=carol%40example.com&password=password-123".to_vec()),
        )
        .await
        .expect(201);
    assert_eq!(form.body["email"], "carol@example.com");

    let id = created.body["id"].as_i64().unwrap();
    root.get(&format!("/api/v4/users/{id}")).await.expect(200);
    root.get("/api/v4/users/99999").await.expect(404);
}

async fn tokens_scopes_and_revocation(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (alice_id, alice) = user_with_token(&root, "alice", &["read_api"]).await;

    // read_api reads but does not write.
    assert_eq!(alice.get("/api/v4/user").await.expect(200).body["id"], alice_id);
    let denied = alice.post("/api/v4/groups", &json!({"name": "g", "path": "g"})).await.expect(403);
    assert_eq!(denied.body["error"], "insufficient_scope");

    // Bearer works like PRIVATE-TOKEN.
    let tokens = root.get(&format!("/api/v4/personal_access_tokens?user_id={alice_id}")).await.expect(200);
    let token_id = tokens.body[0]["id"].as_i64().unwrap();
    assert!(tokens.body[0].get("token").is_none(), "the token text is shown only once");

    // Non-admins cannot create users or tokens.
    alice
        .post(
            "/api/v4/users",
            &json!({"username": "x", "name": "x", "email": "x@example.com", "password": "password-123"}),
        )
        .await
        .expect(403);

    let bad_scope = root
        .post(&format!("/api/v4/users/{alice_id}/personal_access_tokens"), &json!({"name": "t", "scopes": ["sudo"]}))
        .await
        .expect(400);
    assert!(bad_scope.body["error"].as_str().unwrap().contains("sudo"));
    let past = root
        .post(
            &format!("/api/v4/users/{alice_id}/personal_access_tokens"),
            &json!({"name": "t", "scopes": ["api"], "expires_at": "2001-01-01"}),
        )
        .await
        .expect(400);
    assert_eq!(past.body["message"]["expires_at"][0], "must be in the future");

    root.delete(&format!("/api/v4/personal_access_tokens/{token_id}")).await.expect(204);
    alice.get("/api/v4/user").await.expect(401);

    // Unknown and malformed tokens.
    assert_eq!(
        server.api(Some("glpat-nope")).get("/api/v4/user").await.expect(401).body["message"],
        "401 Unauthorized"
    );
    server.api(None).get("/api/v4/user").await.expect(401);
    let bearer = reqwest::Client::new()
        .get(format!("{}/api/v4/user", server.base))
        .header("Authorization", format!("Bearer {}", auditrelay_testkit::ROOT_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
}

async fn groups_projects_and_members(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (alice_id, alice) = user_with_token(&root, "alice", &["api"]).await;
    let (bob_id, bob) = user_with_token(&root, "bob", &["api"]).await;

    // Alice creates a group and becomes its Owner; Bob cannot see it.
    let acme = create_group(&alice, "acme", None).await;
    let sub = create_group(&alice, "platform", Some(acme)).await;
    let group = alice.get("/api/v4/groups/acme%2Fplatform").await.expect(200);
    assert_eq!(group.body["id"], sub);
    assert_eq!(group.body["full_path"], "acme/platform");
    assert_eq!(group.body["parent_id"], acme);
    bob.get(&format!("/api/v4/groups/{acme}")).await.expect(404);
    assert_eq!(bob.get("/api/v4/groups").await.expect(200).body, json!([]));
    bob.post("/api/v4/groups", &json!({"name": "x", "path": "x", "parent_id": acme})).await.expect(404);

    let taken = alice.post("/api/v4/groups", &json!({"name": "acme", "path": "acme"})).await.expect(400);
    assert_eq!(taken.body["message"]["path"][0], "has already been taken");
    let bad_path = alice.post("/api/v4/groups", &json!({"name": "x", "path": "-bad"})).await.expect(400);
    assert!(bad_path.body["message"]["path"][0].as_str().unwrap().contains("letters"));

    // Members: Owner adds Bob as Developer; he sees the group but cannot add members.
    let member = alice
        .post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": bob_id, "access_level": 30}))
        .await
        .expect(201);
    assert_eq!(member.body["access_level"], 30);
    alice
        .post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": bob_id, "access_level": 30}))
        .await
        .expect(409);
    alice
        .post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": alice_id, "access_level": 35}))
        .await
        .expect(400);
    bob.get("/api/v4/groups/acme%2Fplatform").await.expect(200);
    bob.post(&format!("/api/v4/groups/{sub}/members"), &json!({"user_id": alice_id, "access_level": 10}))
        .await
        .expect(403);
    let members = alice.get(&format!("/api/v4/groups/{acme}/members")).await.expect(200);
    assert_eq!(members.body.as_array().unwrap().len(), 2);

    // Projects: Developers cannot create them, Owners can; path lookups work URL-encoded.
    bob.post("/api/v4/projects", &json!({"name": "api", "namespace_id": sub})).await.expect(403);
    let project =
        alice.post("/api/v4/projects", &json!({"name": "api", "path": "api", "namespace_id": sub})).await.expect(201);
    assert_eq!(project.body["path_with_namespace"], "acme/platform/api");
    let by_path = bob.get("/api/v4/projects/acme%2Fplatform%2Fapi").await.expect(200);
    assert_eq!(by_path.body["id"], project.body["id"]);
    let outsider = Api::new(&server.base, None);
    outsider.get("/api/v4/projects").await.expect(401);
    let (_, carol) = user_with_token(&root, "carol", &["api"]).await;
    carol.get("/api/v4/projects/acme%2Fplatform%2Fapi").await.expect(404);
    assert_eq!(carol.get("/api/v4/projects").await.expect(200).body, json!([]));
}

async fn administrative_actions_are_audited(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (bob_id, _) = user_with_token(&root, "bob", &["api"]).await;
    let acme = create_group(&root, "acme", None).await;
    root.post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": bob_id, "access_level": 50}))
        .await
        .expect(201);
    root.post("/api/v4/projects", &json!({"name": "web", "namespace_id": acme})).await.expect(201);

    let events = root.get("/api/v4/audit_events?per_page=100").await.expect(200);
    let names: Vec<&str> = events.body.as_array().unwrap().iter().map(|e| e["event_name"].as_str().unwrap()).collect();
    for expected in
        ["user_created", "personal_access_token_created", "group_created", "member_created", "project_created"]
    {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let member_event = events.body.as_array().unwrap().iter().find(|e| e["event_name"] == "member_created").unwrap();
    assert_eq!(member_event["entity_type"], "Group");
    assert_eq!(member_event["entity_id"], acme);
    assert_eq!(member_event["author_id"], 1);
    assert_eq!(member_event["details"]["target_details"], "bob");
    // The group's Owner sees it in the group's log.
    let group_log = root.get(&format!("/api/v4/groups/{acme}/audit_events")).await.expect(200);
    assert!(group_log.body.as_array().unwrap().iter().any(|e| e["event_name"] == "project_created"));
}

on_both_backends!(
    users_and_validation,
    tokens_scopes_and_revocation,
    groups_projects_and_members,
    administrative_actions_are_audited
);
