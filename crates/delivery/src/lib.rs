//! Delivery: every accepted event to every destination that should get it, in order, at least
//! once. One worker per destination follows the event log from its cursor; failures are
//! classified, retried with backoff and guarded by a circuit breaker; nothing is dropped.

mod ack_tracker;
pub mod breaker;
pub mod engine;
pub mod failure;
mod health;
pub mod history;
mod log_cache;
pub mod outgoing;
pub mod retry;
pub mod routing;
pub mod sinks;
pub mod spec;
pub mod stream;
mod worker;

pub use engine::Engine;
pub use failure::{DeliveryError, FailureKind};
pub use outgoing::Outgoing;
pub use spec::{DeliverySettings, DestinationSpec, EngineConfig};
