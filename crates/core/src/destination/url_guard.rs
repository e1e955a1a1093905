//! The SSRF guard: which addresses a destination may not reach unless the admin allows local
//! requests. At creation only literal addresses and `localhost` names are refused (a name may
//! not resolve yet); at connection time every resolved address is checked (defeats rebinding).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

use super::MAX_URL_LEN;

/// Why an address is refused, in GitLab's words; `None` when it is a public address.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_reason(v4),
            None => v6_reason(v6),
        },
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() || ip.is_unspecified() {
        Some("Requests to localhost are not allowed")
    } else if ip.is_link_local() {
        // Includes the cloud metadata endpoint 169.254.169.254.
        Some("Requests to the link local network are not allowed")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) || ip.is_broadcast() || a == 0 || a >= 240 {
        Some("Requests to the local network are not allowed")
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() || ip.is_unspecified() {
        Some("Requests to localhost are not allowed")
    } else if first & 0xffc0 == 0xfe80 {
        Some("Requests to the link local network are not allowed")
    } else if first & 0xfe00 == 0xfc00 || ip.to_ipv4().is_some_and(|v4| v4_reason(v4).is_some()) {
        Some("Requests to the local network are not allowed")
    } else {
        None
    }
}

fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Validates a destination URL as GitLab does at creation: http(s), at most 255 characters, and
/// (unless `allow_local`) no literal local address or localhost name. Errors are the text after
/// the attribute name: `"is blocked: …"` or `"must be a valid URL"`.
pub fn check_destination_url(text: &str, allow_local: bool) -> Result<Url, String> {
    if text.chars().count() > MAX_URL_LEN {
        return Err(format!("is too long (maximum is {MAX_URL_LEN} characters)"));
    }
    let url = Url::parse(text).map_err(|_| "must be a valid URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("is blocked: Only allowed schemes are http, https".into());
    }
    let host = url.host().ok_or_else(|| "must be a valid URL".to_owned())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("is blocked: Credentials in the URL are not allowed".into());
    }
    if allow_local {
        return Ok(url);
    }
    let reason = match host {
        Host::Ipv4(ip) => blocked_reason(IpAddr::V4(ip)),
        Host::Ipv6(ip) => blocked_reason(IpAddr::V6(ip)),
        Host::Domain(name) if is_localhost_name(name) => Some("Requests to localhost are not allowed"),
        Host::Domain(_) => None,
    };
    match reason {
        Some(reason) => Err(format!("is blocked: {reason}")),
        None => Ok(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_local_literals_and_names() {
        for (url, reason) in [
            ("http://127.0.0.1/x", "localhost"),
            ("http://localhost:8080", "localhost"),
            ("http://api.localhost", "localhost"),
            ("http://[::1]/", "localhost"),
            ("http://0.0.0.0/", "localhost"),
            ("http://10.1.2.3/", "local network"),
            ("http://192.168.0.1/", "local network"),
            ("http://172.16.5.5/", "local network"),
            ("http://100.64.0.1/", "local network"),
            ("http://[fd00::1]/", "local network"),
            ("http://[::ffff:127.0.0.1]/", "localhost"),
            ("http://169.254.169.254/latest/meta-data", "link local"),
            ("http://[fe80::1]/", "link local"),
        ] {
            let error = check_destination_url(url, false).unwrap_err();
            assert!(error.starts_with("is blocked: ") && error.contains(reason), "{url}: {error}");
            assert!(check_destination_url(url, true).is_ok(), "{url} allowed when local requests are");
        }
    }

    #[test]
    fn accepts_public_urls_and_names() {
        assert!(check_destination_url("https://siem.example.com/ingest?x=1", false).is_ok());
        assert!(check_destination_url("http://8.8.8.8/", false).is_ok());
        assert!(check_destination_url("https://not-yet-resolving.example", false).is_ok());
    }

    #[test]
    fn refuses_malformed_and_other_schemes() {
        assert_eq!(check_destination_url("not a url", false).unwrap_err(), "must be a valid URL");
        assert!(check_destination_url("ftp://example.com", false).unwrap_err().contains("schemes"));
        assert!(check_destination_url("https://u:p@example.com", false).is_err());
        let long = format!("https://example.com/{}", "a".repeat(250));
        assert!(check_destination_url(&long, false).unwrap_err().contains("too long"));
    }
}
