//! The `auditrelay` binary's library: the command line, the wiring of a serving process (store →
//! log writer → service → api → listener), first-start bootstrap, the bench's launcher, and the
//! CLI clients (`replay`, `ai-session`).

pub mod ai_session_cli;
pub mod app;
pub mod bench_launcher;
pub mod bootstrap;
pub mod cli;
pub mod http_server;
pub mod replay_cli;
pub mod verify_cli;
