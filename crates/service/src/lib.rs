//! The service layer: every operation of the product, with its authorization and rules, called
//! alike by the REST API, GraphQL, the web UI and the CLI.

pub mod access;
pub mod ai;
pub mod archive;
pub mod audit;
pub mod auth;
mod context;
pub mod delivery;
pub mod destinations;
pub mod directory;
pub mod error;
pub mod events;
pub mod files;
pub mod identity;
pub mod ingest;
pub mod limits;
pub mod namespace_cache;
pub mod secret_box;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod settings_model;
pub mod stream_signer;
pub mod streams;
pub mod test_event;
pub mod token_cache;

pub use auth::{Account, Caller};
pub use context::Service;
pub use error::{ServiceError, ServiceResult};
