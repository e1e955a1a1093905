//! Timestamps: stored as microseconds since the Unix epoch, shown as GitLab's ISO-8601 UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};

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
/// a date-time without zone (taken as UTC) or a bare date (midnight UTC).
pub fn parse_timestamp(text: &str) -> Option<Micros> {
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
}
