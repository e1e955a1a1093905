//! Which SQL dialect a store speaks; the few places where SQLite and PostgreSQL differ branch on it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}
