//! Typed ids read from a row: the store holds them as `BIGINT`, the Any driver reads `i64`, and
//! the callers see `UserId`, `GroupId` and the rest (binds go the other way through `.get()`).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Result;

/// The id in `column` as the id type the caller expects.
pub(crate) fn id<T: From<i64>>(row: &AnyRow, column: &str) -> Result<T> {
    Ok(T::from(row.try_get::<i64, _>(column)?))
}

/// The nullable id in `column` as the id type the caller expects.
pub(crate) fn opt_id<T: From<i64>>(row: &AnyRow, column: &str) -> Result<Option<T>> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(T::from))
}
