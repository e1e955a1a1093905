//! The auditrelay service: the service layer every interface calls, the HTTP APIs over it, and
//! the process around them (configuration, bootstrap, serve, bench).

pub mod ai_session_cli;
pub mod api;
pub mod app;
pub mod bench;
pub mod bootstrap;
pub mod cli;
pub mod error;
pub mod http_server;
pub mod replay_cli;
pub mod service;
pub mod web;

pub use error::ServiceError;
