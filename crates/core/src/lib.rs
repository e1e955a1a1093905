//! auditrelay's domain: audit events, identity rules and validation. Pure logic, no I/O.
//!
//! Every rule that more than one interface needs (REST, GraphQL, UI, CLI) lives here once.

pub mod access;
pub mod ai_events;
pub mod destination;
pub mod event;
pub mod event_catalogue;
pub mod event_types;
pub mod ids;
pub mod ingest;
pub mod json_kind;
pub mod names;
pub mod states;
pub mod storable;
pub mod stream_proof;
pub mod throttle;
pub mod time;

pub use access::{AccessLevel, Scope};
pub use event::{EntityType, EventId, NewEvent};
pub use ids::{DestinationId, GroupId, ProjectId, TokenId, UserId, WorkflowId};
pub use ingest::{IngestError, IngestLimits, parse_ingest_body};
