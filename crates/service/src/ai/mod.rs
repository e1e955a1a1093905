//! AI agent workflows and their audit events (CloudEvents from the AI workflow service).

pub mod events;
pub mod workflows;

pub use workflows::{CreateWorkflow, WorkflowView};
