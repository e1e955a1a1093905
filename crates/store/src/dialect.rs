//! Which SQL dialect a store speaks; the few places where SQLite and PostgreSQL differ branch on it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Positional parameter `n` (1-based). SQLite gets anonymous `?`: sqlx looks up every
    /// parameter's name, and SQLite finds a named one (`$N`) by a linear scan, which makes binding
    /// a statement with a thousand parameters quadratic.
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".to_owned(),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// `(p1, p2, …), (…)`: the `VALUES` list of a multi-row insert, its parameters numbered
    /// from 1.
    pub(crate) fn values_rows(self, rows: usize, columns: usize) -> String {
        let mut sql = String::with_capacity(rows * columns * 4);
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..columns {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&self.placeholder(1 + row * columns + column));
            }
            sql.push(')');
        }
        sql
    }

    /// `(p1, …, pn)`: the list of an `IN` with `n` parameters.
    pub(crate) fn in_list(self, n: usize) -> String {
        self.values_rows(1, n)
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;

    #[test]
    fn values_rows_number_postgres_parameters_and_leave_sqlite_anonymous() {
        assert_eq!(Dialect::Postgres.values_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(Dialect::Postgres.in_list(2), "($1, $2)");
        assert_eq!(Dialect::Sqlite.values_rows(2, 2), "(?, ?), (?, ?)");
        assert_eq!(Dialect::Sqlite.values_rows(0, 2), "");
    }
}
