//! States the service keeps and shows, as enums with their wire names (the strings the store
//! holds and the REST and GraphQL APIs answer): a destination's delivery health, a replay's
//! progress, a user account's state.

use std::fmt;

/// Declares a state enum with its wire names, `as_str`, `parse`, `ALL`, `Display` and a
/// `Serialize` as the wire name.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// The state a wire name names; `None` for any other text.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// A destination's delivery health.
    HealthState {
        /// Delivering.
        Closed => "closed",
        /// Resting after failures.
        Open => "open",
        /// Probing after a rest.
        HalfOpen => "half_open",
        /// Credentials or configuration refused; probed now and then.
        Paused => "paused",
        /// Another node holds the destination's lease.
        Standby => "standby",
        /// Switched off by its owner.
        Inactive => "inactive",
    }
}

wire_enum! {
    /// A replay's progress.
    ReplayState {
        Pending => "pending",
        Running => "running",
        Done => "done",
    }
}

wire_enum! {
    /// A user account's state (GitLab's names).
    UserState {
        Active => "active",
        Blocked => "blocked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_serialize_as_text() {
        for state in HealthState::ALL {
            assert_eq!(HealthState::parse(state.as_str()), Some(*state));
            assert_eq!(serde_json::to_value(state).unwrap(), serde_json::Value::from(state.as_str()));
        }
        for state in ReplayState::ALL {
            assert_eq!(ReplayState::parse(&state.to_string()), Some(*state));
        }
        assert_eq!(UserState::parse("blocked"), Some(UserState::Blocked));
        assert_eq!(HealthState::HalfOpen.as_str(), "half_open");
        assert_eq!(HealthState::parse("half-open"), None);
        assert_eq!(UserState::parse("Active"), None, "wire names are exact");
    }
}
