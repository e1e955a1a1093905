//! Shared bits of the fuzz targets in `src/bin/` (one file per target).

/// Splits the fuzzer's input into a selector byte and the rest, so one target can try every
/// variant of an input (a flag, a category) without a structured-input dependency.
pub fn selector(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (0, data),
    }
}
