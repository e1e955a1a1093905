//! GitLab access levels and personal-access-token scopes.

use std::fmt;
use std::str::FromStr;

/// A member's role in a group, with GitLab's numeric values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    Guest = 10,
    Reporter = 20,
    Developer = 30,
    Maintainer = 40,
    Owner = 50,
}

impl AccessLevel {
    pub fn from_value(value: i64) -> Option<Self> {
        Some(match value {
            10 => Self::Guest,
            20 => Self::Reporter,
            30 => Self::Developer,
            40 => Self::Maintainer,
            50 => Self::Owner,
            _ => return None,
        })
    }

    pub fn value(self) -> i64 {
        self as i64
    }
}

/// What a personal access token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Full read and write access to the API.
    Api,
    /// Read-only access to the API.
    ReadApi,
    /// May post audit events to the ingest endpoints, nothing else.
    IngestAuditEvents,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Api, Scope::ReadApi, Scope::IngestAuditEvents];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Api => "api",
            Scope::ReadApi => "read_api",
            Scope::IngestAuditEvents => "ingest_audit_events",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("scope '{s}' is not one of api, read_api, ingest_audit_events"))
    }
}

/// The kind of access a request needs, used to check a token's scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
    Ingest,
}

/// Whether a token holding `scopes` may perform an operation needing `need`.
/// `is_admin` matters for ingest: an admin's `api` token may ingest too.
pub fn scopes_allow(scopes: &[Scope], need: Need, is_admin: bool) -> bool {
    let has = |s| scopes.contains(&s);
    match need {
        Need::Read => has(Scope::Api) || has(Scope::ReadApi),
        Need::Write => has(Scope::Api),
        Need::Ingest => has(Scope::IngestAuditEvents) || (is_admin && has(Scope::Api)),
    }
}

/// The scope to name in an `insufficient_scope` error.
pub fn scope_needed(need: Need) -> Scope {
    match need {
        Need::Read | Need::Write => Scope::Api,
        Need::Ingest => Scope::IngestAuditEvents,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_levels_round_trip_and_order() {
        for v in [10, 20, 30, 40, 50] {
            assert_eq!(AccessLevel::from_value(v).unwrap().value(), v);
        }
        assert!(AccessLevel::from_value(0).is_none());
        assert!(AccessLevel::from_value(60).is_none());
        assert!(AccessLevel::Owner > AccessLevel::Maintainer);
    }

    #[test]
    fn scopes_gate_operations() {
        use Need::*;
        assert!(scopes_allow(&[Scope::ReadApi], Read, false));
        assert!(!scopes_allow(&[Scope::ReadApi], Write, false));
        assert!(!scopes_allow(&[Scope::ReadApi], Ingest, true));
        assert!(scopes_allow(&[Scope::Api], Ingest, true));
        assert!(!scopes_allow(&[Scope::Api], Ingest, false));
        assert!(scopes_allow(&[Scope::IngestAuditEvents], Ingest, false));
        assert!(!scopes_allow(&[Scope::IngestAuditEvents], Read, true));
        assert_eq!("read_api".parse::<Scope>(), Ok(Scope::ReadApi));
        assert!("sudo".parse::<Scope>().unwrap_err().contains("sudo"));
    }
}
