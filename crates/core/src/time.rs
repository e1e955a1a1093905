//! Timestamps: stored as microseconds since the Unix epoch, shown as GitLab's ISO-8601 UTC.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// Microseconds since the Unix epoch.
pub type Micros = i64;

pub fn now_micros() -> Micros {
    Utc::now().timestamp_micros()
}

/// Formats like GitLab: `2022-07-26T05:43:53.662Z` (UTC, milliseconds).
pub fn format_micros(micros: Micros) -> String {
    Utc.timestamp_micros(micros).single().unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an ISO-8601 timestamp as GitLab's API accepts it: a full RFC 3339 date-time,
/// a date-time without zone (taken as UTC) or a bare date (midnight UTC). Years outside
/// 0000–9999 are refused: RFC 3339 cannot write them, so their events would be streamed with
/// a `created_at` that consumers (and this parser) cannot read back.
pub fn parse_timestamp(text: &str) -> Option<Micros> {
    parse_any_year(text)
        .filter(|micros| Utc.timestamp_micros(*micros).single().is_some_and(|at| (0..=9999).contains(&at.year())))
}

fn parse_any_year(text: &str) -> Option<Micros> {
    let text = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc).timestamp_micros());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|naive| naive.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        let micros = parse_timestamp("2022-07-26T05:43:53.662Z").unwrap();
        assert_eq!(format_micros(micros), "2022-07-26T05:43:53.662Z");
    }

    #[test]
    fn parses_the_forms_gitlab_accepts() {
        let base = parse_timestamp("2024-01-02T00:00:00Z").unwrap();
        assert_eq!(parse_timestamp("2024-01-02"), Some(base));
        assert_eq!(parse_timestamp("2024-01-02T00:00:00"), Some(base));
        assert_eq!(parse_timestamp("2024-01-02T01:00:00+01:00"), Some(base));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2024-13-40"), None);
    }

    /// Found by the `names_and_times` fuzz target: a five-digit year was accepted and then
    /// formatted as `-52024-05-01T10:00:00.123Z`, which nothing parses.
    #[test]
    fn years_outside_rfc3339_are_refused() {
        for text in ["-52024-05-01T10:00:00.12345", "+12345-01-01", "12345-01-01 00:00:00", "-0001-12-31"] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        for text in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"] {
            let micros = parse_timestamp(text).unwrap();
            assert_eq!(format_micros(micros), text.replace("00Z", "00.000Z"));
            assert_eq!(parse_timestamp(&format_micros(micros)), Some(micros));
        }
    }
}
