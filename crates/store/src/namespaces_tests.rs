//! Learning many group paths at once (`ensure_group_paths`), on SQLite (its few-request
//! transaction) and on PostgreSQL: levels and chunks, what exists already, a project's path.

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

#[tokio::test]
async fn learns_every_level_once_on_sqlite() {
    let (store, dir) = sqlite("learn-levels").await;
    learns_every_level_once(&store).await;
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
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn refuses_a_projects_path_and_creates_nothing_on_postgres() {
    refuses_a_projects_path_and_creates_nothing(&postgres().await).await;
}
