//! Learning many group paths at once (`ensure_group_paths`), on SQLite (its few-request
//! transaction) and on PostgreSQL: levels and chunks, what exists already, a project's path,
//! and on SQLite the write connection left as it was (durable, outside any transaction).

use crate::{Store, StoreError};

async fn sqlite(test: &str) -> (Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("auditrelay-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    (Store::open_sqlite(&dir).await.unwrap(), dir)
}

async fn postgres() -> Store {
    Store::open_postgres(&auditrelay_testkit::fresh_postgres_database().await).await.unwrap()
}

/// More paths than one lookup or insert takes, over three depths, some known already.
async fn learns_every_level_once(store: &Store) {
    let known = store.ensure_group_path("org/known").await.unwrap();
    let paths: Vec<String> =
        (0..700).map(|k| format!("org/team-{}/g-{k}", k % 7)).chain(["org/known".into()]).collect();
    let wanted: Vec<&str> = paths.iter().map(String::as_str).collect();
    let groups = store.ensure_group_paths(&wanted).await.unwrap();
    assert_eq!(groups.len(), wanted.len());
    let org = store.group_by_path("org").await.unwrap().unwrap();
    for (path, group) in wanted.iter().zip(&groups) {
        assert_eq!(group.full_path, *path);
        assert_eq!(group.root_id, org.id, "{path} is under org");
        let parent = store.group_by_id(group.parent_id.unwrap()).await.unwrap().unwrap();
        assert_eq!(Some(parent.full_path.as_str()), path.rsplit_once('/').map(|(p, _)| p));
    }
    assert_eq!(groups.last(), Some(&known), "a known path keeps its group");
    let again = store.ensure_group_paths(&wanted).await.unwrap();
    assert_eq!(again, groups, "learning the same paths again creates nothing");
    assert_eq!(store.list_groups(0, 1000).await.unwrap().len(), 1 + 7 + 700 + 1);
}

/// A batch naming a project's path creates none of its groups, and the store goes on.
async fn refuses_a_projects_path_and_creates_nothing(store: &Store) {
    let root = store.ensure_group_path("p").await.unwrap();
    store.create_project("app", "app", &root).await.unwrap();
    let refused = store.ensure_group_paths(&["p/new-1", "p/app", "p/new-2"]).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(store.group_by_path("p/new-1").await.unwrap(), None, "rolled back");
    let learned = store.ensure_group_paths(&["p/new-1", "p/new-2"]).await.unwrap();
    assert_eq!(learned.len(), 2);
    assert!(store.group_by_path("p/new-2").await.unwrap().is_some());
}

/// The write connection's `synchronous` (2 is `FULL`, every commit fsynced).
async fn write_synchronous(store: &Store) -> i64 {
    sqlx::query_scalar("PRAGMA synchronous").fetch_one(&store.write).await.unwrap()
}

#[tokio::test]
async fn learns_every_level_once_on_sqlite() {
    let (store, dir) = sqlite("learn-levels").await;
    learns_every_level_once(&store).await;
    assert_eq!(write_synchronous(&store).await, 2, "commits after learning are fsynced again");
    let _ = std::fs::remove_dir_all(dir);
}

/// A caller dropped at any point of learning (a client hanging up) leaves the write connection
/// outside a transaction and fsyncing: a later write commits, and other connections see it.
#[tokio::test]
async fn a_learn_dropped_midway_leaves_the_write_connection_as_it_was_on_sqlite() {
    let (store, dir) = sqlite("learn-dropped").await;
    for times in 1..=12 {
        let paths: Vec<String> = (0..50).map(|k| format!("drop-{times}/g-{k}")).collect();
        let wanted: Vec<&str> = paths.iter().map(String::as_str).collect();
        crate::begin::tests::poll_and_drop(store.ensure_group_paths(&wanted), times).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let path = format!("after-{times}");
        store.create_group(&path, &path, None).await.unwrap();
        assert!(
            store.group_by_path(&path).await.unwrap().is_some(),
            "a learn dropped after {times} polls left a transaction open on the write connection"
        );
        assert_eq!(write_synchronous(&store).await, 2, "dropped after {times} polls");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn learns_every_level_once_on_postgres() {
    learns_every_level_once(&postgres().await).await;
}

#[tokio::test]
async fn refuses_a_projects_path_and_creates_nothing_on_sqlite() {
    let (store, dir) = sqlite("learn-project").await;
    refuses_a_projects_path_and_creates_nothing(&store).await;
    assert_eq!(write_synchronous(&store).await, 2, "a refused learn restores fsyncing commits");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn refuses_a_projects_path_and_creates_nothing_on_postgres() {
    refuses_a_projects_path_and_creates_nothing(&postgres().await).await;
}
