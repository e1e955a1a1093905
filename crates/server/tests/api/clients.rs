//! GitLab's client libraries, as they drive the REST API: pages walked through `Link` and
//! `X-Next-Page` on every list endpoint, bounded pages, GitLab's filters, and the routes clients
//! call (`/version`, token self, subgroups, `members/all`). Events are in `clients_events.rs`.

use auditrelay_testkit::{Api, Backend, Reply};
use serde_json::{Value, json};
use std::collections::BTreeSet;

use crate::{create_group, on_both_backends, user_with_token};

/// What python-gitlab's `get_all=True` does: follow `Link: rel="next"` until there is none.
pub async fn walk_links(api: &Api, first: &str) -> (Vec<Value>, usize) {
    let (mut items, mut pages, mut url) = (Vec::new(), 0, first.to_owned());
    loop {
        let page = api.get(&url).await.expect(200);
        pages += 1;
        items.extend(page.body.as_array().expect("a list").iter().cloned());
        match page.next_link() {
            Some(next) => url = next,
            None => return (items, pages),
        }
        assert!(pages < 1000, "runaway pagination at {url}");
    }
}

/// What go-gitlab and gitbeaker do: read `X-Next-Page` and ask for that page, checking the
/// other offset headers on the way.
async fn walk_next_page(api: &Api, path: &str, per_page: usize) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (mut items, mut page) = (Vec::new(), 1);
    loop {
        let reply = api.get(&format!("{path}{sep}per_page={per_page}&page={page}")).await.expect(200);
        let total: usize = reply.header("x-total").unwrap().parse().unwrap();
        let total_pages: usize = reply.header("x-total-pages").unwrap().parse().unwrap();
        assert_eq!(total_pages, total.div_ceil(per_page).max(1), "{path}");
        assert_eq!(reply.header("x-page"), Some(page.to_string().as_str()));
        assert_eq!(reply.header("x-per-page"), Some(per_page.to_string().as_str()));
        let prev = if page > 1 { (page - 1).to_string() } else { String::new() };
        assert_eq!(reply.header("x-prev-page"), Some(prev.as_str()));
        let link = reply.header("link").unwrap();
        assert!(link.contains("rel=\"first\"") && link.contains("rel=\"last\""), "{link}");
        items.extend(reply.body.as_array().unwrap().iter().cloned());
        match reply.header("x-next-page").unwrap() {
            "" => {
                assert_eq!(items.len(), total, "{path}: every item once");
                return items;
            }
            next => page = next.parse().unwrap(),
        }
    }
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

fn assert_each_once(items: &[Value], expected: usize, what: &str) {
    let ids = ids(items);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "{what}: no repeats");
    assert_eq!(ids.len(), expected, "{what}: all of them");
}

async fn every_list_endpoint_pages_the_gitlab_way(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let top = create_group(&root, "top", None).await;
    for i in 0..44 {
        create_group(&root, &format!("g{i:02}"), Some(top)).await;
    }
    for i in 0..23 {
        root.post("/api/v4/projects", &json!({"name": format!("p{i}"), "namespace_id": top})).await.expect(201);
    }
    let mut users = Vec::new();
    for i in 0..22 {
        let (id, _) = user_with_token(&root, &format!("u{i:02}"), &["read_api"]).await;
        users.push(id);
    }
    for id in &users {
        root.post(&format!("/api/v4/groups/{top}/members"), &json!({"user_id": id, "access_level": 30}))
            .await
            .expect(201);
    }
    for i in 0..24 {
        root.post("/api/v4/users/1/personal_access_tokens", &json!({"name": format!("t{i}"), "scopes": ["api"]}))
            .await
            .expect(201);
    }
    // 45 groups, 23 projects, 23 users, 23 members (root is the Owner), 25 root tokens.
    let lists = [
        ("/api/v4/groups", 45),
        ("/api/v4/projects", 23),
        ("/api/v4/users", 23),
        (&*format!("/api/v4/groups/{top}/members"), 23),
        ("/api/v4/personal_access_tokens", 25),
        ("/api/v4/users/1/personal_access_tokens", 25),
    ];
    for (path, expected) in lists {
        let (items, pages) = walk_links(&root, path).await;
        assert_each_once(&items, expected, path);
        assert_eq!(pages, expected.div_ceil(20), "{path}: default pages of 20");
        assert_each_once(&walk_next_page(&root, path, 7).await, expected, path);
        let sep = if path.contains('?') { '&' } else { '?' };
        let keyset = format!("{path}{sep}pagination=keyset&order_by=id&sort=asc&per_page=6");
        let (items, pages) = walk_links(&root, &keyset).await;
        assert_each_once(&items, expected, &keyset);
        assert!(ids(&items).windows(2).all(|w| w[0] < w[1]), "{keyset}: ascending ids");
        assert_eq!(pages, expected.div_ceil(6));
        let (desc, _) = walk_links(&root, &keyset.replace("sort=asc", "sort=desc")).await;
        assert!(ids(&desc).windows(2).all(|w| w[0] > w[1]), "{path}: descending ids");
        assert_eq!(desc.len(), expected);
    }
    let members = root.get(&format!("/api/v4/groups/{top}/members?per_page=5")).await.expect(200);
    assert_eq!(members.body.as_array().unwrap().len(), 5, "members honour per_page");
    // The audit log, both ways (every action above is audited).
    let total: usize = root.get("/api/v4/audit_events").await.expect(200).header("x-total").unwrap().parse().unwrap();
    assert!(total > 150, "{total}");
    assert_each_once(&walk_next_page(&root, "/api/v4/audit_events", 50).await, total, "audit events");
    let (events, _) = walk_links(&root, "/api/v4/audit_events?per_page=100").await;
    assert_each_once(&events, total, "audit events by Link");
    let (events, _) = walk_links(&root, "/api/v4/audit_events?pagination=keyset&per_page=100&order_by=id").await;
    assert_each_once(&events, total, "audit events by keyset");
}

fn bad_request(reply: Reply, starts: &str) {
    let reply = reply.expect(400);
    let message = reply.body["error"].as_str().unwrap_or_default();
    assert!(message.starts_with(starts), "{message}");
}

async fn out_of_range_pages_are_clear_400s(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    for path in
        ["/api/v4/users", "/api/v4/groups", "/api/v4/projects", "/api/v4/audit_events", "/api/v4/groups/1/members"]
    {
        // A huge page must not wrap around into page 1 (SQLite) or a 503 (PostgreSQL).
        bad_request(root.get(&format!("{path}?page=9223372036854775807")).await, "page must be between 1 and");
        bad_request(root.get(&format!("{path}?page=0")).await, "page must be between 1 and");
        bad_request(root.get(&format!("{path}?page=99999999999999999999")).await, "page is invalid");
        bad_request(root.get(&format!("{path}?per_page=0")).await, "per_page must be at least 1");
        bad_request(root.get(&format!("{path}?per_page=-3")).await, "per_page must be at least 1");
        bad_request(root.get(&format!("{path}?pagination=keyset&order_by=name")).await, "order_by");
        // Past the end: an empty page, with GitLab's headers.
        let far = root.get(&format!("{path}?page=2147483647")).await.expect(200);
        assert_eq!(far.body, json!([]), "{path}");
        assert_eq!(far.header("x-next-page"), Some(""));
        // GitLab serves at most 100 per page.
        assert_eq!(root.get(&format!("{path}?per_page=1000")).await.expect(200).header("x-per-page"), Some("100"));
    }
}

async fn gitlab_filters_pick_what_clients_ask_for(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (alice, alice_api) = user_with_token(&root, "alice", &["api"]).await;
    let (bob, _) = user_with_token(&root, "bob", &["api"]).await;
    user_with_token(&root, "alicia", &["api"]).await;

    // `gl.users.list(username=x)[0]` is the user asked for, for admins and others alike.
    for api in [&root, &alice_api] {
        let only = api.get("/api/v4/users?username=alice").await.expect(200);
        assert_eq!(ids(only.body.as_array().unwrap()), [alice]);
        assert_eq!(only.header("x-total"), Some("1"));
    }
    assert_eq!(root.get("/api/v4/users?username=ALICE").await.expect(200).body[0]["id"], alice);
    let search: Vec<i64> = ids(root.get("/api/v4/users?search=ali").await.expect(200).body.as_array().unwrap());
    assert_eq!(search.len(), 2);
    assert!(!search.contains(&bob));
    assert_eq!(root.get("/api/v4/users?blocked=true").await.expect(200).body, json!([]));
    assert_eq!(root.get("/api/v4/users?external=true").await.expect(200).body, json!([]));
    assert_eq!(root.get("/api/v4/users?active=true").await.expect(200).header("x-total"), Some("4"));
    bad_request(root.get("/api/v4/users?active=maybe").await, "active is invalid");
    // Others see GitLab's basic user entity, without email.
    let basic = alice_api.get("/api/v4/users?username=bob").await.expect(200);
    assert!(basic.body[0].get("email").is_none() && basic.body[0]["username"] == "bob");
    assert_eq!(root.get("/api/v4/users?username=bob").await.expect(200).body[0]["email"], "bob@example.com");

    let acme = create_group(&root, "acme", None).await;
    let web = create_group(&root, "web-team", Some(acme)).await;
    let other = create_group(&root, "other", None).await;
    let mine = create_group(&alice_api, "alices", None).await;
    root.post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": alice, "access_level": 30}))
        .await
        .expect(201);
    let group_ids = |reply: Reply| ids(reply.expect(200).body.as_array().unwrap());
    assert_eq!(group_ids(root.get("/api/v4/groups?search=WEB").await), [web]);
    assert_eq!(group_ids(root.get("/api/v4/groups?top_level_only=true").await), [acme, other, mine]);
    assert_eq!(group_ids(alice_api.get("/api/v4/groups").await), [acme, web, mine]);
    assert_eq!(group_ids(alice_api.get("/api/v4/groups?owned=true").await), [mine]);
    assert_eq!(group_ids(alice_api.get("/api/v4/groups?min_access_level=40").await), [mine]);
    assert_eq!(group_ids(alice_api.get("/api/v4/groups?min_access_level=30").await), [acme, web, mine]);
    assert_eq!(group_ids(alice_api.get("/api/v4/groups?all_available=true").await), [acme, web, mine]);
    bad_request(
        alice_api.get("/api/v4/groups?min_access_level=35").await,
        "min_access_level does not have a valid value",
    );

    let project = |name: &str, ns: i64| {
        let root = root.clone();
        let name = name.to_owned();
        async move {
            let reply = root.post("/api/v4/projects", &json!({"name": name, "namespace_id": ns})).await.expect(201);
            reply.body["id"].as_i64().unwrap()
        }
    };
    let site = project("Site", web).await;
    let api_project = project("Api", acme).await;
    let elsewhere = project("Elsewhere", other).await;
    let own = project("Own", mine).await;
    assert_eq!(group_ids(root.get("/api/v4/projects?search=sit").await), [site]);
    assert_eq!(group_ids(alice_api.get("/api/v4/projects").await), [site, api_project, own]);
    assert_eq!(group_ids(alice_api.get("/api/v4/projects?owned=true").await), [own]);
    assert_eq!(group_ids(alice_api.get("/api/v4/projects?membership=true").await), [site, api_project, own]);
    // An admin sees every project, but `membership` means their own memberships.
    assert_eq!(group_ids(root.get("/api/v4/projects").await), [site, api_project, elsewhere, own]);
    assert_eq!(group_ids(root.get("/api/v4/projects?membership=true").await), [site, api_project, elsewhere]);
    let simple = root.get("/api/v4/projects?simple=true&search=site").await.expect(200);
    assert!(simple.body[0].get("visibility").is_none(), "simple=true answers the basic entity");
    assert_eq!(simple.body[0]["name_with_namespace"], "acme / web-team / Site");

    let members = |reply: Reply| ids(reply.expect(200).body.as_array().unwrap());
    assert_eq!(members(root.get(&format!("/api/v4/groups/{acme}/members?query=ali")).await), [alice]);
    assert_eq!(members(root.get(&format!("/api/v4/groups/{acme}/members?user_ids[]={alice}")).await), [alice]);
    assert_eq!(members(root.get(&format!("/api/v4/groups/{acme}/members?user_ids=1,{alice}")).await), [1, alice]);
    bad_request(root.get(&format!("/api/v4/groups/{acme}/members?user_ids=x")).await, "user_ids is invalid");
}

async fn the_routes_clients_call(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (alice, alice_api) = user_with_token(&root, "alice", &["read_api"]).await;
    let version = alice_api.get("/api/v4/version").await.expect(200);
    assert!(version.body["version"].as_str().unwrap().starts_with("18."), "{}", version.text);
    assert!(version.body["revision"].is_string());
    Api::new(root.base(), None).get("/api/v4/version").await.expect(401);

    let own = alice_api.get("/api/v4/personal_access_tokens/self").await.expect(200);
    assert_eq!(own.body["user_id"], alice);
    assert_eq!(own.body["scopes"], json!(["read_api"]));
    let token_id = own.body["id"].as_i64().unwrap();
    assert_eq!(
        alice_api.get(&format!("/api/v4/personal_access_tokens/{token_id}")).await.expect(200).body["id"],
        token_id
    );
    assert_eq!(
        root.get(&format!("/api/v4/personal_access_tokens/{token_id}")).await.expect(200).body["user_id"],
        alice
    );
    let roots_token = root.get("/api/v4/personal_access_tokens/self").await.expect(200).body["id"].as_i64().unwrap();
    alice_api.get(&format!("/api/v4/personal_access_tokens/{roots_token}")).await.expect(404);
    alice_api.get("/api/v4/users/1/personal_access_tokens").await.expect(404);

    // Group full names are built from names, not paths.
    let acme = root.post("/api/v4/groups", &json!({"name": "Acme Corp", "path": "acme"})).await.expect(201);
    assert_eq!(acme.body["full_name"], "Acme Corp");
    let acme = acme.body["id"].as_i64().unwrap();
    let web = root.post("/api/v4/groups", &json!({"name": "Web Team", "path": "web", "parent_id": acme})).await;
    let web = web.expect(201);
    assert_eq!(web.body["full_name"], "Acme Corp / Web Team");
    assert_eq!(web.body["full_path"], "acme/web");
    let web = web.body["id"].as_i64().unwrap();
    let deep = create_group(&root, "deep", Some(web)).await;
    let lone = root.post("/api/v4/projects", &json!({"name": "Lone", "namespace_id": acme})).await.expect(201);
    assert_eq!(lone.body["name_with_namespace"], "Acme Corp / Lone");
    let site = root.post("/api/v4/projects", &json!({"name": "Site", "namespace_id": web})).await.expect(201);
    let (lone, site) = (lone.body["id"].as_i64().unwrap(), site.body["id"].as_i64().unwrap());
    assert_eq!(
        root.get(&format!("/api/v4/groups/{deep}")).await.expect(200).body["full_name"],
        "Acme Corp / Web Team / deep"
    );

    let list = |reply: Reply| ids(reply.expect(200).body.as_array().unwrap());
    assert_eq!(list(root.get(&format!("/api/v4/groups/{acme}/subgroups")).await), [web]);
    assert_eq!(list(root.get("/api/v4/groups/acme/descendant_groups").await), [web, deep]);
    assert_eq!(list(root.get(&format!("/api/v4/groups/{acme}/projects")).await), [lone]);
    assert_eq!(list(root.get(&format!("/api/v4/groups/{acme}/projects?include_subgroups=true")).await), [lone, site]);

    // members/all: inherited members, each once at their highest level.
    let (bob, bob_api) = user_with_token(&root, "bob", &["read_api"]).await;
    root.post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": alice, "access_level": 20}))
        .await
        .expect(201);
    root.post(&format!("/api/v4/groups/{web}/members"), &json!({"user_id": alice, "access_level": 40}))
        .await
        .expect(201);
    root.post(&format!("/api/v4/groups/{web}/members"), &json!({"user_id": bob, "access_level": 30})).await.expect(201);
    assert_eq!(list(root.get(&format!("/api/v4/groups/{deep}/members")).await), [1], "only its creator directly");
    let all = root.get(&format!("/api/v4/groups/{deep}/members/all")).await.expect(200);
    let levels: Vec<(i64, i64)> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_i64().unwrap(), m["access_level"].as_i64().unwrap()))
        .collect();
    assert_eq!(levels, [(1, 50), (alice, 40), (bob, 30)]);
    assert_eq!(all.header("x-total"), Some("3"));
    let project_all = list(root.get(&format!("/api/v4/projects/{site}/members/all?user_ids={bob}")).await);
    assert_eq!(project_all, [bob]);
    assert_eq!(list(root.get(&format!("/api/v4/projects/{site}/members")).await), Vec::<i64>::new());
    // Authorization is the group's: a stranger sees none of it.
    let (_, stranger) = user_with_token(&root, "stranger", &["read_api"]).await;
    stranger.get(&format!("/api/v4/groups/{acme}/members/all")).await.expect(404);
    stranger.get(&format!("/api/v4/projects/{site}/members/all")).await.expect(404);
    stranger.get(&format!("/api/v4/groups/{acme}/subgroups")).await.expect(404);
    bob_api.get(&format!("/api/v4/groups/{acme}/descendant_groups")).await.expect(404);
    assert_eq!(list(bob_api.get(&format!("/api/v4/groups/{web}/subgroups")).await), [deep]);
}

on_both_backends!(
    every_list_endpoint_pages_the_gitlab_way,
    out_of_range_pages_are_clear_400s,
    gitlab_filters_pick_what_clients_ask_for,
    the_routes_clients_call,
);
