//! The SSRF guard: which addresses a destination may not reach unless the admin allows local
//! requests. At creation only literal addresses and `localhost` names are refused (a name may
//! not resolve yet); at connection time every resolved address is checked (defeats rebinding).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

use super::MAX_URL_LEN;

const LOCALHOST: &str = "Requests to localhost are not allowed";
const LOCAL_NETWORK: &str = "Requests to the local network are not allowed";
const LINK_LOCAL: &str = "Requests to the link local network are not allowed";
const BROADCAST: &str = "Requests to the limited broadcast address are not allowed";
const MULTICAST: &str = "Requests to multicast addresses are not allowed";
const SPECIAL: &str = "Requests to special-purpose addresses are not allowed";

/// Why an address is refused, in GitLab's words; `None` when it is a public address. Every
/// range of the IANA IPv4 and IPv6 special-purpose address registries is refused (and
/// multicast, and the deprecated site-local `fec0::/10`), including those the registry marks
/// globally reachable (anycast services, AS112): no destination is ever one of them. IPv6
/// forms that carry an IPv4 address (mapped, NAT64 `64:ff9b::/96`, 6to4) are judged by it.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

/// `ip` lies in `net/len`.
fn in_v4(ip: Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in_v6(ip: Ipv6Addr, net: u128, len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
    u128::from(ip) & mask == net & mask
}

/// The IPv4 special-purpose registry, plus multicast (224.0.0.0/4), most specific first.
const V4_RANGES: &[([u8; 4], u32, &str)] = &[
    ([255, 255, 255, 255], 32, BROADCAST),
    ([0, 0, 0, 0], 8, LOCALHOST),   // "this network" (0.0.0.0 is the unspecified address)
    ([127, 0, 0, 0], 8, LOCALHOST), // loopback
    ([169, 254, 0, 0], 16, LINK_LOCAL), // link local, cloud metadata 169.254.169.254
    ([10, 0, 0, 0], 8, LOCAL_NETWORK), // RFC 1918
    ([172, 16, 0, 0], 12, LOCAL_NETWORK), // RFC 1918
    ([192, 168, 0, 0], 16, LOCAL_NETWORK), // RFC 1918
    ([100, 64, 0, 0], 10, LOCAL_NETWORK), // shared address space (carrier-grade NAT)
    ([192, 0, 0, 0], 24, LOCAL_NETWORK), // IETF protocol assignments (DS-Lite, NAT64 discovery, anycast)
    ([192, 0, 2, 0], 24, SPECIAL),  // TEST-NET-1
    ([198, 51, 100, 0], 24, SPECIAL), // TEST-NET-2
    ([203, 0, 113, 0], 24, SPECIAL), // TEST-NET-3
    ([198, 18, 0, 0], 15, LOCAL_NETWORK), // benchmarking
    ([192, 31, 196, 0], 24, SPECIAL), // AS112-v4
    ([192, 52, 193, 0], 24, SPECIAL), // AMT
    ([192, 88, 99, 0], 24, SPECIAL), // deprecated 6to4 relay anycast
    ([192, 175, 48, 0], 24, SPECIAL), // direct delegation AS112
    ([224, 0, 0, 0], 4, MULTICAST),
    ([240, 0, 0, 0], 4, SPECIAL), // reserved
];

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    V4_RANGES.iter().find(|(net, len, _)| in_v4(ip, *net, *len)).map(|(_, _, reason)| *reason)
}

/// The IPv6 special-purpose registry and the other non-unicast ranges, most specific first.
/// Ranges that embed an IPv4 address are handled before this table.
const V6_RANGES: &[(u128, u32, &str)] = &[
    (0, 128, LOCALHOST),                         // unspecified
    (1, 128, LOCALHOST),                         // loopback
    (0x0064_ff9b_0001 << 80, 48, LOCAL_NETWORK), // local-use IPv4/IPv6 translation
    (0x0100 << 112, 64, SPECIAL),                // discard-only
    (0x0100_0000_0000_0001 << 64, 64, SPECIAL),  // dummy IPv6 prefix
    (0x2001_0db8 << 96, 32, SPECIAL),            // documentation
    (0x2001 << 112, 23, SPECIAL),                // IETF protocol assignments: Teredo, benchmarking, ORCHID, AMT, AS112
    (0x2620_004f_8000 << 80, 48, SPECIAL),       // direct delegation AS112
    (0x3fff << 112, 20, SPECIAL),                // documentation
    (0x5f00 << 112, 16, SPECIAL),                // segment routing SIDs
    (0xfc00 << 112, 7, LOCAL_NETWORK),           // unique local
    (0xfe80 << 112, 10, LINK_LOCAL),
    (0xfec0 << 112, 10, LOCAL_NETWORK), // deprecated site local
    (0xff00 << 112, 8, MULTICAST),
    // Reserved by the IETF (after 64:ff9b:1::/48, which lies inside): IPv4-compatible ::/96,
    // SIIT ::ffff:0:0:0/96, …
    (0, 8, SPECIAL),
];

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    // IPv4-mapped ::ffff:a.b.c.d, the well-known NAT64 prefix 64:ff9b::a.b.c.d: the low 32 bits.
    if in_v6(ip, 0xffff << 32, 96) || in_v6(ip, 0x0064_ff9b << 96, 96) {
        return v4_reason(Ipv4Addr::from(bits as u32));
    }
    // 6to4 2002:aabb:ccdd::/48 routes to a.b.c.d.
    if in_v6(ip, 0x2002 << 112, 16) {
        return v4_reason(Ipv4Addr::from((bits >> 80) as u32));
    }
    v6_table(ip)
}

fn v6_table(ip: Ipv6Addr) -> Option<&'static str> {
    V6_RANGES.iter().find(|(net, len, _)| in_v6(ip, *net, *len)).map(|(_, _, reason)| *reason)
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
#[path = "url_guard_tests.rs"]
mod tests;
