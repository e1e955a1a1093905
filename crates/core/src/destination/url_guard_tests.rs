//! The SSRF guard against the IANA special-purpose registries, address by address.

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

/// One address from every special-purpose range (IANA IPv4 and IPv6 registries, multicast,
/// site local), with the reason it is refused; and public neighbours that must pass.
#[test]
fn special_purpose_registries_are_refused() {
    let table: &[(&str, Option<&str>)] = &[
        // IPv4 special-purpose registry
        ("0.0.0.0", Some(LOCALHOST)),
        ("0.1.2.3", Some(LOCALHOST)),
        ("10.255.0.1", Some(LOCAL_NETWORK)),
        ("100.64.0.1", Some(LOCAL_NETWORK)),
        ("100.127.255.254", Some(LOCAL_NETWORK)),
        ("127.8.9.10", Some(LOCALHOST)),
        ("169.254.169.254", Some(LINK_LOCAL)),
        ("172.16.0.1", Some(LOCAL_NETWORK)),
        ("172.31.255.255", Some(LOCAL_NETWORK)),
        ("192.0.0.1", Some(LOCAL_NETWORK)),
        ("192.0.0.9", Some(LOCAL_NETWORK)),
        ("192.0.0.170", Some(LOCAL_NETWORK)),
        ("192.0.2.1", Some(SPECIAL)),
        ("192.31.196.1", Some(SPECIAL)),
        ("192.52.193.1", Some(SPECIAL)),
        ("192.88.99.1", Some(SPECIAL)),
        ("192.168.1.1", Some(LOCAL_NETWORK)),
        ("192.175.48.1", Some(SPECIAL)),
        ("198.18.0.1", Some(LOCAL_NETWORK)),
        ("198.19.255.255", Some(LOCAL_NETWORK)),
        ("198.51.100.7", Some(SPECIAL)),
        ("203.0.113.9", Some(SPECIAL)),
        ("224.0.0.1", Some(MULTICAST)),
        ("239.255.255.250", Some(MULTICAST)),
        ("240.0.0.1", Some(SPECIAL)),
        ("255.255.255.254", Some(SPECIAL)),
        ("255.255.255.255", Some(BROADCAST)),
        // public IPv4 neighbours of those ranges
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("100.63.255.255", None),
        ("100.128.0.0", None),
        ("172.15.255.255", None),
        ("172.32.0.0", None),
        ("192.0.1.1", None),
        ("192.0.3.1", None),
        ("198.17.255.255", None),
        ("198.20.0.0", None),
        ("223.255.255.255", None),
        // IPv6 special-purpose registry
        ("::", Some(LOCALHOST)),
        ("::1", Some(LOCALHOST)),
        ("::ffff:127.0.0.1", Some(LOCALHOST)),
        ("::ffff:7f00:1", Some(LOCALHOST)),
        ("::ffff:10.0.0.1", Some(LOCAL_NETWORK)),
        ("::ffff:169.254.169.254", Some(LINK_LOCAL)),
        ("::ffff:0:127.0.0.1", Some(SPECIAL)),
        ("::127.0.0.1", Some(SPECIAL)),
        ("::8.8.8.8", Some(SPECIAL)),
        ("64:ff9b::127.0.0.1", Some(LOCALHOST)),
        ("64:ff9b::a9fe:a9fe", Some(LINK_LOCAL)),
        ("64:ff9b::192.168.0.1", Some(LOCAL_NETWORK)),
        ("64:ff9b:1::8.8.8.8", Some(LOCAL_NETWORK)),
        ("100::1", Some(SPECIAL)),
        ("100:0:0:1::1", Some(SPECIAL)),
        ("2001::1", Some(SPECIAL)),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Some(SPECIAL)),
        ("2001:1::1", Some(SPECIAL)),
        ("2001:2::1", Some(SPECIAL)),
        ("2001:3::1", Some(SPECIAL)),
        ("2001:4:112::1", Some(SPECIAL)),
        ("2001:10::1", Some(SPECIAL)),
        ("2001:20::1", Some(SPECIAL)),
        ("2001:30::1", Some(SPECIAL)),
        ("2001:1ff:ffff::1", Some(SPECIAL)),
        ("2001:db8::1", Some(SPECIAL)),
        ("2002:7f00:1::1", Some(LOCALHOST)),
        ("2002:a00:1::", Some(LOCAL_NETWORK)),
        ("2002:a9fe:a9fe::1", Some(LINK_LOCAL)),
        ("2620:4f:8000::1", Some(SPECIAL)),
        ("3fff::1", Some(SPECIAL)),
        ("3fff:fff::1", Some(SPECIAL)),
        ("5f00::1", Some(SPECIAL)),
        ("fc00::1", Some(LOCAL_NETWORK)),
        ("fd12:3456::1", Some(LOCAL_NETWORK)),
        ("fe80::1", Some(LINK_LOCAL)),
        ("febf::1", Some(LINK_LOCAL)),
        ("fec0::1", Some(LOCAL_NETWORK)),
        ("feff::1", Some(LOCAL_NETWORK)),
        ("ff02::1", Some(MULTICAST)),
        ("ff0e::1", Some(MULTICAST)),
        // public IPv6, and the embedded forms of public IPv4
        ("2606:4700:4700::1111", None),
        ("2001:200::1", None),
        ("2620:4f:8001::1", None),
        ("3fff:1000::1", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::8.8.8.8", None),
        ("2002:808:808::1", None),
    ];
    for (address, expected) in table {
        let ip: IpAddr = address.parse().unwrap();
        assert_eq!(blocked_reason(ip), *expected, "{address}");
        let url = match ip {
            IpAddr::V4(_) => format!("http://{address}/"),
            IpAddr::V6(_) => format!("http://[{address}]/"),
        };
        match expected {
            Some(reason) => {
                assert_eq!(check_destination_url(&url, false).unwrap_err(), format!("is blocked: {reason}"))
            }
            None => assert!(check_destination_url(&url, false).is_ok(), "{url}"),
        }
    }
}
