//! Groups (nested, with full paths) and projects: created by the API or learned from events.

use auditrelay_core::time::{Micros, now_micros};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

use auditrelay_core::{GroupId, ProjectId};

use crate::connect::Dialect;
use crate::error::conflict_as;
use crate::id_columns::{id, opt_id};
use crate::{Result, Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub path: String,
    pub parent_id: Option<GroupId>,
    /// The top-level ancestor; the group's own id for a top-level group.
    pub root_id: GroupId,
    pub full_path: String,
    pub created_at: Micros,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub path: String,
    pub namespace_id: GroupId,
    pub full_path: String,
    pub created_at: Micros,
}

const GROUP_COLUMNS: &str = "id, name, path, parent_id, root_id, full_path, created_at";
const PROJECT_COLUMNS: &str = "id, name, path, namespace_id, full_path, created_at";

fn group(row: &AnyRow) -> Result<Group> {
    let id: GroupId = id(row, "id")?;
    let root: Option<GroupId> = opt_id(row, "root_id")?;
    Ok(Group {
        id,
        name: row.try_get("name")?,
        path: row.try_get("path")?,
        parent_id: opt_id(row, "parent_id")?,
        root_id: root.unwrap_or(id),
        full_path: row.try_get("full_path")?,
        created_at: row.try_get("created_at")?,
    })
}

fn project(row: &AnyRow) -> Result<Project> {
    Ok(Project {
        id: id(row, "id")?,
        name: row.try_get("name")?,
        path: row.try_get("path")?,
        namespace_id: id(row, "namespace_id")?,
        full_path: row.try_get("full_path")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Creates a group under `parent` (or top-level). Fails with a conflict if the path is taken.
    pub async fn create_group(&self, name: &str, path: &str, parent: Option<&Group>) -> Result<Group> {
        self.insert_group(&mut *self.write.acquire().await?, name, path, parent).await
    }

    async fn insert_group(
        &self,
        conn: &mut sqlx::AnyConnection,
        name: &str,
        path: &str,
        parent: Option<&Group>,
    ) -> Result<Group> {
        let full_path = match parent {
            Some(p) => format!("{}/{path}", p.full_path),
            None => path.to_owned(),
        };
        if self.project_by_path(&full_path).await?.is_some() {
            return Err(crate::StoreError::Conflict("Path".into()));
        }
        let sql = format!(
            "INSERT INTO namespaces (name, path, parent_id, root_id, full_path, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {GROUP_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .bind(path)
            .bind(parent.map(|p| p.id.get()))
            .bind(parent.map(|p| p.root_id.get()))
            .bind(&full_path)
            .bind(now_micros())
            .fetch_one(&mut *conn)
            .await
            .map_err(conflict_as("Path"))?;
        group(&row)
    }

    /// Returns the group at `full_path`, creating it and any missing ancestors (named after their
    /// paths). Safe against concurrent callers creating the same path.
    pub async fn ensure_group_path(&self, full_path: &str) -> Result<Group> {
        let mut parent: Option<Group> = None;
        for prefix in auditrelay_core::names::path_prefixes(full_path) {
            let current = match self.group_by_path(prefix).await? {
                Some(found) => found,
                None => {
                    let path = prefix.rsplit('/').next().unwrap_or(prefix);
                    match self.create_group(path, path, parent.as_ref()).await {
                        Ok(created) => created,
                        Err(crate::StoreError::Conflict(what)) => {
                            self.group_by_path(prefix).await?.ok_or(crate::StoreError::Conflict(what))?
                        }
                        Err(other) => return Err(other),
                    }
                }
            };
            parent = Some(current);
        }
        Ok(parent.expect("a path has at least one segment"))
    }

    pub async fn group_by_id(&self, id: GroupId) -> Result<Option<Group>> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM namespaces WHERE id = $1");
        sqlx::query(&sql).bind(id.get()).fetch_optional(&self.read).await?.as_ref().map(group).transpose()
    }

    pub async fn group_by_path(&self, full_path: &str) -> Result<Option<Group>> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM namespaces WHERE full_path = $1");
        sqlx::query(&sql).bind(full_path).fetch_optional(&self.read).await?.as_ref().map(group).transpose()
    }

    pub async fn list_groups(&self, offset: i64, limit: i64) -> Result<Vec<Group>> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM namespaces ORDER BY id LIMIT {limit} OFFSET {offset}");
        sqlx::query(&sql).fetch_all(&self.read).await?.iter().map(group).collect()
    }

    /// Ancestors of a group from the top down, ending with the group itself.
    pub async fn group_ancestry(&self, group: &Group) -> Result<Vec<Group>> {
        let mut chain = vec![group.clone()];
        let mut next = group.parent_id;
        while let Some(id) = next {
            let Some(parent) = self.group_by_id(id).await? else { break };
            next = parent.parent_id;
            chain.push(parent);
        }
        chain.reverse();
        Ok(chain)
    }

    pub async fn create_project(&self, name: &str, path: &str, namespace: &Group) -> Result<Project> {
        self.insert_project(&mut *self.write.acquire().await?, name, path, namespace).await
    }

    async fn insert_project(
        &self,
        conn: &mut sqlx::AnyConnection,
        name: &str,
        path: &str,
        namespace: &Group,
    ) -> Result<Project> {
        let full_path = format!("{}/{path}", namespace.full_path);
        if self.group_by_path(&full_path).await?.is_some() {
            return Err(crate::StoreError::Conflict("Path".into()));
        }
        let sql = format!(
            "INSERT INTO projects (name, path, namespace_id, full_path, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING {PROJECT_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .bind(path)
            .bind(namespace.id.get())
            .bind(&full_path)
            .bind(now_micros())
            .fetch_one(&mut *conn)
            .await
            .map_err(conflict_as("Path"))?;
        project(&row)
    }

    /// Returns the project at `full_path`, creating it and its groups if missing.
    pub async fn ensure_project_path(&self, full_path: &str) -> Result<(Project, Group)> {
        if let Some(found) = self.project_by_path(full_path).await? {
            let namespace =
                self.group_by_id(found.namespace_id).await?.ok_or(crate::StoreError::Conflict("Path".into()))?;
            return Ok((found, namespace));
        }
        let (group_path, path) = full_path.rsplit_once('/').unwrap_or(("", full_path));
        let namespace = self.ensure_group_path(group_path).await?;
        match self.create_project(path, path, &namespace).await {
            Ok(created) => Ok((created, namespace)),
            Err(crate::StoreError::Conflict(what)) => {
                let found = self.project_by_path(full_path).await?.ok_or(crate::StoreError::Conflict(what))?;
                Ok((found, namespace))
            }
            Err(other) => Err(other),
        }
    }

    pub async fn project_by_id(&self, id: ProjectId) -> Result<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1");
        sqlx::query(&sql).bind(id.get()).fetch_optional(&self.read).await?.as_ref().map(project).transpose()
    }

    pub async fn project_by_path(&self, full_path: &str) -> Result<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE full_path = $1");
        sqlx::query(&sql).bind(full_path).fetch_optional(&self.read).await?.as_ref().map(project).transpose()
    }

    pub async fn list_projects(&self, offset: i64, limit: i64) -> Result<Vec<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id LIMIT {limit} OFFSET {offset}");
        sqlx::query(&sql).fetch_all(&self.read).await?.iter().map(project).collect()
    }
}

/// Paths per `IN (...)` list of the bulk lookups.
const PATH_CHUNK: usize = 500;

impl Store {
    /// [`Store::ensure_group_path`] for many paths at once, in one transaction (one commit):
    /// how an ingest batch that names many new groups learns them. Returns every path's group
    /// (ancestors are created as needed, as by `ensure_group_path`). Fails with a conflict if
    /// a path is a project's; safe against concurrent callers creating the same paths.
    pub async fn ensure_group_paths(&self, full_paths: &[&str]) -> Result<Vec<Group>> {
        let mut wanted: Vec<&str> = full_paths.iter().flat_map(|p| auditrelay_core::names::path_prefixes(p)).collect();
        // Parents before children: fewer segments first.
        wanted.sort_unstable_by_key(|p| (p.matches('/').count(), *p));
        wanted.dedup();
        let known = match self.dialect {
            Dialect::Sqlite => {
                // To its end even if the caller (a request whose client hung up) is dropped:
                // sqlx does not know of this transaction, so nothing else would end it.
                let write = self.write.clone();
                let wanted: Vec<String> = wanted.iter().map(|p| p.to_string()).collect();
                crate::begin::detached(async move {
                    let mut conn = write.acquire().await?;
                    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
                    let learned = learn_on_sqlite(&mut conn, &wanted).await;
                    if learned.is_err() {
                        crate::sqlite_batch::roll_back_without_fsync(&mut conn).await;
                    }
                    learned
                })
                .await?
            }
            Dialect::Postgres => self.learn_on_postgres(&wanted).await?,
        };
        full_paths.iter().map(|p| known.get(*p).cloned().ok_or_else(|| StoreError::Conflict("Path".into()))).collect()
    }

    /// The groups at `wanted` (parents before children), created where missing, on PostgreSQL:
    /// another process may create some of them meanwhile.
    async fn learn_on_postgres(&self, wanted: &[&str]) -> Result<HashMap<String, Group>> {
        // Committed durably, unlike on SQLite (`learn_on_sqlite`): PostgreSQL can crash while
        // this process keeps the groups in its index, and would then place events in groups
        // that are gone.
        let mut tx = crate::begin::begin(&self.write).await?;
        let mut known: HashMap<String, Group> = HashMap::with_capacity(wanted.len());
        for found in groups_by_paths(&mut tx, Dialect::Postgres, wanted).await? {
            known.insert(found.full_path.clone(), found);
        }
        let missing: Vec<&str> = wanted.iter().copied().filter(|p| !known.contains_key(*p)).collect();
        if !missing.is_empty() && !project_paths_among(&mut tx, Dialect::Postgres, &missing).await?.is_empty() {
            return Err(StoreError::Conflict("Path".into()));
        }
        let now = now_micros();
        for chunk in level_chunks(&missing) {
            for created in insert_groups(&mut tx, Dialect::Postgres, chunk, &known, now, false).await? {
                known.insert(created.full_path.clone(), created);
            }
            // Paths another process created meanwhile are committed, so seen.
            let raced: Vec<&str> = chunk.iter().copied().filter(|p| !known.contains_key(*p)).collect();
            for found in groups_by_paths(&mut tx, Dialect::Postgres, &raced).await? {
                known.insert(found.full_path.clone(), found);
            }
        }
        tx.commit().await?;
        Ok(known)
    }
}

/// One insert per depth (a level's parents are known once the level above is in), in chunks.
fn level_chunks<'p>(missing: &'p [&'p str]) -> impl Iterator<Item = &'p [&'p str]> {
    missing.chunk_by(|a, b| a.matches('/').count() == b.matches('/').count()).flat_map(|level| level.chunks(PATH_CHUNK))
}

/// [`learn_on_postgres`](Store::learn_on_postgres) on SQLite's one write connection, as few
/// requests to its thread as it takes: the write lock with the lookups of groups and projects
/// (one text), then each level's insert, the last with `COMMIT`. Batches of new paths of one
/// depth (the usual ingest) take two requests instead of five. Nothing else writes meanwhile,
/// so no path can be created under it. The caller rolls back on failure.
///
/// The transaction commits with `synchronous = NORMAL`, without an fsync of its own, and the
/// connection is back at `FULL` in the same request. A group is needed durably only once an
/// event naming it is acknowledged, and that event's commit (with `FULL`) fsyncs the WAL,
/// which holds this transaction before it. A power loss in between loses groups no
/// acknowledged event names, and this process with its index of them (SQLite runs in it); a
/// producer sending the batch again learns them again. A crash of the process alone loses
/// nothing: the WAL is written, only not yet flushed to the disk. A failure
/// in between leaves `NORMAL` on: the caller's rollback restores `FULL` or replaces the
/// connection.
async fn learn_on_sqlite(conn: &mut AnyConnection, wanted: &[&str]) -> Result<HashMap<String, Group>> {
    let (first, rest) = wanted.split_at(wanted.len().min(PATH_CHUNK));
    // `$n` names the same bound path in both lookups (anonymous `?`s would number on).
    let numbers: Vec<String> = (1..=first.len()).map(|n| format!("${n}")).collect();
    let list = format!("({})", numbers.join(", "));
    let sql = format!(
        "{}; BEGIN IMMEDIATE; SELECT {GROUP_COLUMNS} FROM namespaces WHERE full_path IN {list}; \
         SELECT full_path FROM projects WHERE full_path IN {list}",
        crate::sqlite_batch::WITHOUT_FSYNC
    );
    let mut query = sqlx::query(&sql);
    for path in first {
        query = query.bind(*path);
    }
    let mut known: HashMap<String, Group> = HashMap::with_capacity(wanted.len());
    let mut projects: Vec<String> = Vec::new();
    for row in query.fetch_all(&mut *conn).await? {
        // A project's row has its path only.
        if row.columns().len() == 1 {
            projects.push(row.try_get(0)?);
        } else {
            let found = group(&row)?;
            known.insert(found.full_path.clone(), found);
        }
    }
    for found in groups_by_paths(conn, Dialect::Sqlite, rest).await? {
        known.insert(found.full_path.clone(), found);
    }
    projects.extend(project_paths_among(conn, Dialect::Sqlite, rest).await?);
    let missing: Vec<&str> = wanted.iter().copied().filter(|p| !known.contains_key(*p)).collect();
    if projects.iter().any(|p| missing.contains(&p.as_str())) {
        return Err(StoreError::Conflict("Path".into()));
    }
    let now = now_micros();
    let mut chunks = level_chunks(&missing).peekable();
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        for created in insert_groups(conn, Dialect::Sqlite, chunk, &known, now, last).await? {
            known.insert(created.full_path.clone(), created);
        }
    }
    if missing.is_empty() {
        sqlx::query(crate::sqlite_batch::COMMIT_AND_FSYNC_AGAIN).execute(&mut *conn).await?;
    }
    Ok(known)
}

async fn groups_by_paths(conn: &mut AnyConnection, dialect: Dialect, paths: &[&str]) -> Result<Vec<Group>> {
    let mut found = Vec::with_capacity(paths.len());
    for chunk in paths.chunks(PATH_CHUNK) {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM namespaces WHERE full_path IN {}", dialect.in_list(chunk.len()));
        let mut query = sqlx::query(&sql);
        for path in chunk {
            query = query.bind(*path);
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.push(group(&row)?);
        }
    }
    Ok(found)
}

async fn project_paths_among(conn: &mut AnyConnection, dialect: Dialect, paths: &[&str]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for chunk in paths.chunks(PATH_CHUNK) {
        let sql = format!("SELECT full_path FROM projects WHERE full_path IN {}", dialect.in_list(chunk.len()));
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for path in chunk {
            query = query.bind(*path);
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

/// Inserts groups at `paths` (all of one depth, their parents in `known`); returns those this
/// call created (a path another transaction holds is skipped). With `then_commit`, the same
/// request commits.
async fn insert_groups(
    conn: &mut AnyConnection,
    dialect: Dialect,
    paths: &[&str],
    known: &HashMap<String, Group>,
    now: Micros,
    then_commit: bool,
) -> Result<Vec<Group>> {
    let mut sql = format!(
        "INSERT INTO namespaces (name, path, parent_id, root_id, full_path, created_at) VALUES {} \
         ON CONFLICT (full_path) DO NOTHING RETURNING {GROUP_COLUMNS}",
        dialect.values_rows(paths.len(), 6)
    );
    if then_commit {
        sql.push_str("; ");
        sql.push_str(crate::sqlite_batch::COMMIT_AND_FSYNC_AGAIN);
    }
    let mut query = sqlx::query(&sql);
    for path in paths {
        let parent = match path.rsplit_once('/') {
            Some((parent, _)) => Some(known.get(parent).ok_or_else(|| StoreError::Conflict("Path".into()))?),
            None => None,
        };
        let name = path.rsplit('/').next().unwrap_or(path);
        query = query
            .bind(name)
            .bind(name)
            .bind(parent.map(|p| p.id.get()))
            .bind(parent.map(|p| p.root_id.get()))
            .bind(*path)
            .bind(now);
    }
    query.fetch_all(&mut *conn).await?.iter().map(group).collect()
}

/// Namespace changes inside a unit of work.
impl Tx {
    pub async fn create_group(&mut self, name: &str, path: &str, parent: Option<&Group>) -> Result<Group> {
        let store = self.store().clone();
        store.insert_group(self.conn(), name, path, parent).await
    }

    pub async fn create_project(&mut self, name: &str, path: &str, namespace: &Group) -> Result<Project> {
        let store = self.store().clone();
        store.insert_project(self.conn(), name, path, namespace).await
    }
}

#[cfg(test)]
#[path = "namespaces_tests.rs"]
mod tests;
