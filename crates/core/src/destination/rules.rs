//! Field rules of destinations, headers and filters. Each returns GitLab's full message
//! (attribute name and complaint, as ActiveRecord words it).

use super::*;

fn too_long(attribute: &str, max: usize) -> String {
    format!("{attribute} is too long (maximum is {max} characters)")
}

fn too_short(attribute: &str, min: usize) -> String {
    format!("{attribute} is too short (minimum is {min} characters)")
}

fn blank(attribute: &str) -> String {
    format!("{attribute} can't be blank")
}

fn length(attribute: &str, text: &str, min: usize, max: usize) -> Result<(), String> {
    let n = text.chars().count();
    if n == 0 && min > 0 {
        Err(blank(attribute))
    } else if n < min {
        Err(too_short(attribute, min))
    } else if n > max {
        Err(too_long(attribute, max))
    } else {
        Ok(())
    }
}

/// Destination names: at most 72 characters (not trimmed, as in GitLab).
pub fn name(name: &str) -> Result<(), String> {
    length("Name", name, 1, MAX_NAME_LEN)
}

/// Legacy `verificationToken`: 16 to 24 characters.
pub fn verification_token(token: &str) -> Result<(), String> {
    length("Verification token", token, TOKEN_MIN_LEN, TOKEN_MAX_LEN)
}

/// Consolidated HTTP `secretToken`: 16 to 24 characters.
pub fn http_secret_token(token: &str) -> Result<(), String> {
    let n = token.chars().count();
    if (TOKEN_MIN_LEN..=TOKEN_MAX_LEN).contains(&n) {
        Ok(())
    } else {
        Err("Secret token should have length between 16 to 24 characters.".into())
    }
}

/// GCP private keys and AWS secret keys: present, at most 4096 characters.
pub fn secret(attribute: &str, secret: &str) -> Result<(), String> {
    length(attribute, secret, 1, MAX_SECRET_LEN)
}

pub fn header_key(key: &str) -> Result<(), String> {
    length("Key", key, 1, MAX_HEADER_KEY_LEN)?;
    if key.eq_ignore_ascii_case(TOKEN_HEADER) {
        return Err(format!("Key cannot be {TOKEN_HEADER}"));
    }
    if !key.chars().all(is_token_char) {
        return Err("Key must be a valid HTTP header name".into());
    }
    if let Some(reserved) = reserved_header(key) {
        return Err(format!("Key cannot be {reserved}"));
    }
    Ok(())
}

/// Headers that belong to the connection or the message framing, never to a destination's
/// configuration: letting a custom header set them would smuggle requests (`Content-Length`,
/// `Transfer-Encoding`), redirect them past the SSRF guard (`Host`) or tamper with a proxy hop.
const RESERVED_HEADERS: &[&str] = &[
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "Upgrade",
    "TE",
    "Trailer",
    "Expect",
    "Proxy-Connection",
];

/// The canonical name of a header a custom header may not set (any `Proxy-*` header, the
/// hop-by-hop headers of RFC 9110 §7.6.1, and the framing headers), or `None`.
pub fn reserved_header(key: &str) -> Option<&str> {
    if let Some(name) = RESERVED_HEADERS.iter().find(|name| name.eq_ignore_ascii_case(key)) {
        return Some(name);
    }
    let proxy = key.get(..6).is_some_and(|prefix| prefix.eq_ignore_ascii_case("Proxy-"));
    proxy.then_some(key)
}

pub fn header_value(value: &str) -> Result<(), String> {
    length("Value", value, 1, MAX_HEADER_VALUE_LEN)?;
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err("Value must not contain control characters".into());
    }
    Ok(())
}

/// RFC 7230 `tchar`: the characters of an HTTP header name.
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+.^_`|~-".contains(c)
}

/// GCP project ids: 6–30 of lowercase letters, digits and hyphens, starting with a letter and
/// ending with a letter or digit.
pub fn google_project_id_name(id: &str) -> Result<(), String> {
    let attribute = "Google project id name";
    length(attribute, id, 6, 30)?;
    let shape_ok = id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if shape_ok {
        Ok(())
    } else {
        Err(format!(
            "{attribute} must only contain lowercase letters, digits, or hyphens, and must start with a letter and end with a letter or a digit"
        ))
    }
}

pub fn log_id_name(log: &str) -> Result<(), String> {
    let attribute = "Log id name";
    length(attribute, log, 1, 511)?;
    if log.chars().all(|c| c.is_alphanumeric() || "_/.-".contains(c)) {
        Ok(())
    } else {
        Err(format!("{attribute} must only contain letters, digits, forward-slash, underscore, hyphen or period"))
    }
}

pub fn client_email(email: &str) -> Result<(), String> {
    let attribute = "Client email";
    length(attribute, email, 1, 254)?;
    crate::names::validate_email(email).map_err(|e| format!("{attribute} {e}"))
}

pub fn access_key_xid(key: &str) -> Result<(), String> {
    let attribute = "Access key xid";
    length(attribute, key, 16, 128)?;
    if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("{attribute} must only contain letters, digits or underscore"))
    }
}

pub fn bucket_name(bucket: &str) -> Result<(), String> {
    let attribute = "Bucket name";
    length(attribute, bucket, 1, 63)?;
    let shape_ok = bucket.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if shape_ok {
        Ok(())
    } else {
        Err(format!(
            "{attribute} must only contain lowercase letters, digits, hyphens or periods, and must start with a letter or digit"
        ))
    }
}

pub fn aws_region(region: &str) -> Result<(), String> {
    length("Aws region", region, 1, 50)
}

/// One event-type filter value (known-ness is checked against the catalogue by the caller).
pub fn event_type_filter(event_type: &str) -> Result<(), String> {
    length("Audit event type", event_type, 1, MAX_EVENT_TYPE_FILTER_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tokens() {
        assert!(name(&"n".repeat(72)).is_ok());
        assert_eq!(name(&"n".repeat(73)).unwrap_err(), "Name is too long (maximum is 72 characters)");
        assert_eq!(
            verification_token("short").unwrap_err(),
            "Verification token is too short (minimum is 16 characters)"
        );
        assert!(verification_token(&"t".repeat(24)).is_ok());
        assert!(verification_token(&"t".repeat(25)).unwrap_err().contains("maximum is 24"));
        assert_eq!(http_secret_token("x").unwrap_err(), "Secret token should have length between 16 to 24 characters.");
    }

    #[test]
    fn headers() {
        assert_eq!(
            header_key("x-gitlab-event-streaming-token").unwrap_err(),
            "Key cannot be X-Gitlab-Event-Streaming-Token"
        );
        assert_eq!(header_key("").unwrap_err(), "Key can't be blank");
        assert!(header_key(&"k".repeat(256)).unwrap_err().contains("255"));
        assert!(header_key("Bad Header").is_err());
        assert!(header_key("X-Custom_1").is_ok());
        assert!(header_value(&"v".repeat(2001)).unwrap_err().contains("2000"));
        assert!(header_value("line\nbreak").is_err());
    }

    #[test]
    fn hop_by_hop_and_framing_headers_are_refused() {
        for (key, message) in [
            ("Host", Some("Key cannot be Host")),
            ("host", Some("Key cannot be Host")),
            ("Content-Length", Some("Key cannot be Content-Length")),
            ("transfer-encoding", Some("Key cannot be Transfer-Encoding")),
            ("Connection", Some("Key cannot be Connection")),
            ("KEEP-ALIVE", Some("Key cannot be Keep-Alive")),
            ("Upgrade", Some("Key cannot be Upgrade")),
            ("te", Some("Key cannot be TE")),
            ("Trailer", Some("Key cannot be Trailer")),
            ("Expect", Some("Key cannot be Expect")),
            ("Proxy-Authorization", Some("Key cannot be Proxy-Authorization")),
            ("proxy-connection", Some("Key cannot be Proxy-Connection")),
            ("Proxy-Foo", Some("Key cannot be Proxy-Foo")),
            ("Authorization", None),
            ("Content-Type", None),
            ("X-Host", None),
            ("Hosts", None),
            ("Proxy", None),
            ("Trailers", None),
        ] {
            assert_eq!(header_key(key).err().as_deref(), message, "{key}");
        }
    }

    #[test]
    fn gcp_and_aws_fields() {
        assert!(google_project_id_name("my-project-1").is_ok());
        for bad in ["1project", "Project-x", "proj-", "ab"] {
            assert!(google_project_id_name(bad).is_err(), "{bad}");
        }
        assert!(log_id_name("audit_events/x.y-z").is_ok());
        assert!(log_id_name("audit events").is_err());
        assert!(client_email("sa@proj.iam.gserviceaccount.com").is_ok());
        assert!(client_email("nope").is_err());
        assert!(access_key_xid("AKIAIOSFODNN7EXAMPLE").is_ok());
        assert!(access_key_xid("AKIA-SHORT").is_err());
        assert!(bucket_name("audit-logs.2024").is_ok());
        assert!(bucket_name("Audit").is_err());
        assert!(aws_region(&"r".repeat(51)).is_err());
    }
}
