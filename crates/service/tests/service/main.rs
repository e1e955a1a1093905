//! The service tier: every use case of `auditrelay-service`, in process, against a real store
//! (SQLite in a temp dir; PostgreSQL where the case depends on the store). Each module is one
//! capability; each test proves a rule (what is refused, with which `ServiceError`) or who may
//! and may not call a use case (admin, group owner, maintainer, developer, reporter, another
//! tenant, a user in no group, a token without the scope); `access` proves the proofs
//! themselves: each constructor's refusals, in order, and passes.

mod world;

mod access;
mod ai;
mod archive;
mod blocked_users;
mod cloud_destinations;
mod delivery;
mod destinations;
mod directory;
mod events;
mod identity;
mod ingest;
mod newer_limits;
mod sessions;
mod settings;
mod streaming;

pub use world::{Backend, Cast, PASSWORD, World, logged_types};

/// Asserts that a use case was refused with the error the pattern names.
#[macro_export]
macro_rules! assert_refused {
    ($result:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {
        match $result {
            Err($pattern) $(if $guard)? => {}
            Err(other) => panic!("expected {}, got {other:?}", stringify!($pattern)),
            Ok(_) => panic!("expected {}, but it was allowed", stringify!($pattern)),
        }
    };
}

/// Runs a scenario `async fn name(Backend)` on SQLite and, when available, on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(backend) = $crate::Backend::postgres() {
                        super::$name(backend).await
                    }
                }
            }
        )*
    };
}
