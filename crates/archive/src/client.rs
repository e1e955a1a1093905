//! The archive's connection to ClickHouse: the URL checked and split into endpoint, database and
//! credentials, and the `clickhouse` crate's client set up for the oldest server we meet
//! (Debian's 18.16, which lacks `RowBinaryWithNamesAndTypes`, so the crate's schema validation is
//! off and rows travel as plain `RowBinary`). Every request is bounded by a timeout: a hung
//! ClickHouse holds a connection open without answering, and the crate sets no limit itself.

use clickhouse::query::Query;
use clickhouse::sql::Identifier;
use clickhouse::{RowOwned, RowRead, RowWrite};
use std::future::Future;
use std::time::Duration;
use url::Url;

use crate::{ArchiveError, Result};

/// One ClickHouse server and database, from a URL such as `http://user:pass@host:8123/audit`
/// (the path, or a `database` query parameter, names the database; default `default`).
#[derive(Clone)]
pub struct ClickHouse {
    /// The server without a database (for `CREATE DATABASE`, which must not name it first).
    server: clickhouse::Client,
    /// The same server with the archive's database.
    db: clickhouse::Client,
    endpoint: Url,
    database: String,
    timeout: Duration,
}

impl std::fmt::Debug for ClickHouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouse")
            .field("endpoint", &self.endpoint.as_str())
            .field("database", &self.database)
            .finish()
    }
}

/// The parts of a ClickHouse URL.
#[derive(Debug, PartialEq)]
struct Target {
    endpoint: Url,
    database: String,
    user: Option<String>,
    password: Option<String>,
}

impl ClickHouse {
    /// `timeout` bounds each request unless a call gives its own.
    pub fn new(url: &str, timeout: Duration) -> Result<ClickHouse> {
        let target = parse(url)?;
        let mut server = clickhouse::Client::default().with_url(target.endpoint.as_str()).with_validation(false);
        if let Some(user) = &target.user {
            server = server.with_user(user);
        }
        if let Some(password) = &target.password {
            server = server.with_password(password);
        }
        let db = server.clone().with_database(&target.database);
        Ok(ClickHouse { server, db, endpoint: target.endpoint, database: target.database, timeout })
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// Creates the database if it is missing.
    pub async fn create_database(&self) -> Result<()> {
        let query = self.server.query("CREATE DATABASE IF NOT EXISTS ?").bind(Identifier(&self.database));
        self.bounded(None, query.execute()).await
    }

    /// Runs a statement of fixed text that returns nothing (DDL) in the database.
    pub async fn execute(&self, sql: &str) -> Result<()> {
        self.bounded(None, self.db.query(sql).execute()).await
    }

    /// A query in the database; bind its `?` values, then run it with [`ClickHouse::fetch_all`].
    pub fn query(&self, sql: &str) -> Query {
        self.db.query(sql)
    }

    /// Runs a SELECT into rows; `timeout` overrides the client's for this query.
    pub async fn fetch_all<T>(&self, query: Query, timeout: Option<Duration>) -> Result<Vec<T>>
    where
        T: RowOwned + RowRead,
    {
        self.bounded(timeout, query.fetch_all::<T>()).await
    }

    /// Inserts rows in one `INSERT` request (one block on the server, so all or nothing).
    pub async fn insert<T>(&self, table: &str, rows: &[T]) -> Result<()>
    where
        T: RowOwned + RowWrite,
    {
        let work = async {
            let mut insert = self.db.insert::<T>(table).await?.with_timeouts(Some(self.timeout), Some(self.timeout));
            for row in rows {
                insert.write(row).await?;
            }
            insert.end().await
        };
        self.bounded(None, work).await
    }

    async fn bounded<T>(
        &self,
        timeout: Option<Duration>,
        work: impl Future<Output = clickhouse::error::Result<T>>,
    ) -> Result<T> {
        let limit = timeout.unwrap_or(self.timeout);
        match tokio::time::timeout(limit, work).await {
            Ok(Err(clickhouse::error::Error::TimedOut)) => Err(ArchiveError::TimedOut(self.timeout)),
            Ok(result) => result.map_err(ArchiveError::from_clickhouse),
            Err(_) => Err(ArchiveError::TimedOut(limit)),
        }
    }
}

fn parse(url: &str) -> Result<Target> {
    let bad = |reason: &str| ArchiveError::BadUrl { url: redacted(url), reason: reason.to_owned() };
    let parsed = Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https (ClickHouse's HTTP interface)"));
    }
    let from_query = parsed.query_pairs().find(|(k, _)| k == "database").map(|(_, v)| v.into_owned());
    let from_path = parsed.path().trim_matches('/').to_owned();
    let database = from_query.or((!from_path.is_empty()).then_some(from_path)).unwrap_or_else(|| "default".into());
    if !is_identifier(&database) {
        return Err(bad("the database name may only hold letters, digits and '_'"));
    }
    let user = (!parsed.username().is_empty()).then(|| parsed.username().to_owned());
    let password = parsed.password().map(str::to_owned);
    let mut endpoint = parsed;
    endpoint.set_path("/");
    endpoint.set_query(None);
    let _ = endpoint.set_username("");
    let _ = endpoint.set_password(None);
    Ok(Target { endpoint, database, user, password })
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> Result<ClickHouse> {
        ClickHouse::new(url, Duration::from_secs(1))
    }

    #[test]
    fn database_from_path_or_query() {
        assert_eq!(client("http://127.0.0.1:8123").unwrap().database(), "default");
        assert_eq!(client("http://127.0.0.1:8123/audit").unwrap().database(), "audit");
        assert_eq!(client("http://127.0.0.1:8123/?database=a_1").unwrap().database(), "a_1");
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        let error = client("tcp://127.0.0.1:9000").unwrap_err().to_string();
        assert!(error.contains("scheme must be http"), "{error}");
        let error = client("http://h/drop;table").unwrap_err().to_string();
        assert!(error.contains("database name"), "{error}");
        let error = client("http://u:secret@h/x;y").unwrap_err().to_string();
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn credentials_leave_the_endpoint() {
        let target = parse("http://u:p@127.0.0.1:8123/db").unwrap();
        assert_eq!(target.endpoint.as_str(), "http://127.0.0.1:8123/");
        assert_eq!((target.user.as_deref(), target.password.as_deref()), (Some("u"), Some("p")));
        assert_eq!(client("http://u:p@127.0.0.1:8123/db").unwrap().endpoint.as_str(), "http://127.0.0.1:8123/");
    }
}
