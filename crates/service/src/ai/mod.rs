//! AI agent workflows and their audit events (CloudEvents from the AI workflow service), the
//! completeness of their sessions, and the sessions listing of the web UI.

pub mod events;
pub mod sessions;
pub mod summary;
pub mod workflows;

pub use summary::SessionReport;
pub use workflows::{CreateWorkflow, WorkflowView};

use crate::Service;

/// AI workflows, their events and sessions: `service.ai()`.
#[derive(Clone, Copy)]
pub struct Ai<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn ai(&self) -> Ai<'_> {
        Ai { ctx: self }
    }
}
