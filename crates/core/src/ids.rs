//! Typed ids of the service's entities, so that a user's id cannot be passed where a group's is
//! meant. Each is a bare `i64` on the wire (serde transparent) and in the store.

/// Declares one id newtype: the same derives, `Display` as the bare number, `get`, `From<i64>`.
macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The bare number, for SQL parameters, log fields and wire formats.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }
    )+};
}

id_type!(
    /// A user's id (`users.id`).
    UserId,
    /// A group's id (`namespaces.id` of a group).
    GroupId,
    /// A project's id (`projects.id`).
    ProjectId,
    /// A streaming destination's id (`destinations.id`), of either API generation.
    DestinationId,
    /// An access token's id (`tokens.id`).
    TokenId,
    /// An AI agent workflow's id (`ai_workflows.id`).
    WorkflowId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bare_numbers_on_the_wire_and_in_text() {
        let id = DestinationId(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<DestinationId>("42").unwrap(), id);
        assert_eq!(id.to_string(), "42");
        assert_eq!(id.get(), 42);
        assert_eq!(UserId::from(7), UserId(7));
        assert_eq!(i64::from(GroupId(3)), 3);
        assert_eq!("12".parse::<ProjectId>().unwrap(), ProjectId(12));
        assert!("x".parse::<TokenId>().is_err());
        assert!(WorkflowId(1) < WorkflowId(2));
    }
}
