//! Fresh PostgreSQL databases for tests, on the server named by `AUDITRELAY_TEST_POSTGRES_URL`
//! (default: the local server, database `test`).

use sqlx::Connection;

pub fn postgres_admin_url() -> String {
    std::env::var("AUDITRELAY_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Creates an empty database `ar_test_<unix seconds>_<random>` and returns its URL. The time in the
/// name lets the test script drop only databases left over from earlier runs, not those of a run
/// still going on the same server. Panics (failing the test)
/// when PostgreSQL cannot be reached: a test that needs it must not pass without it.
pub async fn fresh_postgres_database() -> String {
    let admin_url = postgres_admin_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for this test but {admin_url} is not reachable: {e}"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let name = format!("ar_test_{now}_{}", crate::random_suffix());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create test database");
    let (prefix, _) = admin_url.rsplit_once('/').expect("the PostgreSQL URL names a database");
    format!("{prefix}/{name}")
}
