//! A small ClickHouse client over its HTTP interface: statements, `JSONEachRow` inserts and
//! selects. Written for the oldest server we meet (Debian's 18.16), which the `clickhouse` crate
//! only reaches with its type validation switched off; plain HTTP needs no extra dependency.

use serde_json::Value;
use std::time::Duration;
use url::Url;

use crate::{ArchiveError, Result};

/// One ClickHouse server and database, from a URL such as `http://user:pass@host:8123/audit`
/// (the path, or a `database` query parameter, names the database; default `default`).
#[derive(Clone)]
pub struct ClickHouse {
    http: reqwest::Client,
    endpoint: Url,
    database: String,
    user: Option<String>,
    password: Option<String>,
}

impl std::fmt::Debug for ClickHouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouse")
            .field("endpoint", &self.endpoint.as_str())
            .field("database", &self.database)
            .finish()
    }
}

impl ClickHouse {
    pub fn new(url: &str, timeout: Duration) -> Result<ClickHouse> {
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
        let mut endpoint = parsed.clone();
        endpoint.set_path("/");
        endpoint.set_query(None);
        let _ = endpoint.set_username("");
        let _ = endpoint.set_password(None);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .build()
            .map_err(ArchiveError::Unreachable)?;
        Ok(ClickHouse { http, endpoint, database, user, password })
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// Runs a statement that returns nothing (DDL). `in_database: false` for `CREATE DATABASE`.
    pub async fn execute(&self, sql: &str, in_database: bool) -> Result<()> {
        self.post(&[], sql.to_owned(), in_database).await.map(drop)
    }

    /// Inserts rows (one JSON object per line) in one request: one block, so all or nothing.
    pub async fn insert_json_rows(&self, table: &str, rows: String) -> Result<()> {
        let query = format!("INSERT INTO {table} FORMAT JSONEachRow");
        self.post(&[("query", &query)], rows, true).await.map(drop)
    }

    /// Runs a SELECT and returns its rows as JSON objects, with 64-bit integers as numbers.
    /// `timeout` overrides the client's for this query.
    pub async fn select(&self, sql: &str, timeout: Option<Duration>) -> Result<Vec<Value>> {
        let body = format!("{sql} FORMAT JSONEachRow");
        let params = [("output_format_json_quote_64bit_integers", "0")];
        let text = self.send(&params, body, true, timeout).await?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| serde_json::from_str(line).map_err(|e| ArchiveError::BadRow(format!("{e}: {line}"))))
            .collect()
    }

    async fn post(&self, params: &[(&str, &str)], body: String, in_database: bool) -> Result<String> {
        self.send(params, body, in_database, None).await
    }

    async fn send(
        &self,
        params: &[(&str, &str)],
        body: String,
        in_database: bool,
        timeout: Option<Duration>,
    ) -> Result<String> {
        let mut url = self.endpoint.clone();
        {
            let mut pairs = url.query_pairs_mut();
            if in_database {
                pairs.append_pair("database", &self.database);
            }
            for (k, v) in params {
                pairs.append_pair(k, v);
            }
        }
        let mut request = self.http.post(url).body(body);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        if let Some(user) = &self.user {
            request = request.header("X-ClickHouse-User", user);
        }
        if let Some(password) = &self.password {
            request = request.header("X-ClickHouse-Key", password);
        }
        let response = request.send().await.map_err(ArchiveError::Unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(ArchiveError::Unreachable)?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(ArchiveError::Server { status: status.as_u16(), message: first_line(&text) })
        }
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// ClickHouse errors are long (with a stack trace on old servers); the first line says it.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    line.chars().take(500).collect()
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
        let c = client("http://u:p@127.0.0.1:8123/db").unwrap();
        assert_eq!(c.endpoint.as_str(), "http://127.0.0.1:8123/");
        assert_eq!((c.user.as_deref(), c.password.as_deref()), (Some("u"), Some("p")));
    }
}
