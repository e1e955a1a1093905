//! The catalogue of known audit event types: GitLab's (names and facts from its published
//! type definitions, in `gitlab_event_types.tsv`), the AI agent types, and the service's own.
//! Filters may name any of these, or a type already seen in ingested events.

use std::sync::OnceLock;

use crate::event_types::SERVICE_EVENT_TYPES;

/// The 11 AI agent event types of GitLab Duo workflows.
pub const AI_EVENT_TYPES: [&str; 11] = [
    "ai_agent_session_started",
    "ai_agent_session_ended",
    "ai_llm_input_sent",
    "ai_llm_response_received",
    "ai_llm_request_failed",
    "ai_tool_invoked",
    "ai_tool_response_received",
    "ai_tool_execution_failed",
    "ai_tool_execution_retried",
    "ai_user_input_received",
    "ai_user_output_displayed",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub name: String,
    pub description: String,
    pub feature_category: String,
    pub milestone: String,
    pub saved_to_database: bool,
    pub streamed: bool,
    pub scope: String,
}

const GITLAB_TYPES: &str = include_str!("gitlab_event_types.tsv");

/// Every defined type, sorted by name.
pub fn definitions() -> &'static [Definition] {
    static ALL: OnceLock<Vec<Definition>> = OnceLock::new();
    ALL.get_or_init(build)
}

pub fn is_defined(name: &str) -> bool {
    definitions().binary_search_by(|d| d.name.as_str().cmp(name)).is_ok()
}

fn build() -> Vec<Definition> {
    let mut all: Vec<Definition> = GITLAB_TYPES
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let (name, category, saved, milestone, scope) =
                (cols.next()?, cols.next()?, cols.next()?, cols.next()?, cols.next()?);
            Some(Definition {
                name: name.to_owned(),
                description: describe(name, category),
                feature_category: category.to_owned(),
                milestone: milestone.to_owned(),
                saved_to_database: saved == "true",
                streamed: true,
                scope: scope.to_owned(),
            })
        })
        .collect();
    let extra = AI_EVENT_TYPES
        .iter()
        .map(|n| (*n, "ai_abstraction_layer"))
        .chain(std::iter::once((crate::ai_events::SESSION_SUMMARY_TYPE, "ai_abstraction_layer")))
        .chain(SERVICE_EVENT_TYPES.iter().map(|n| (*n, "audit_events")));
    for (name, category) in extra {
        if !all.iter().any(|d| d.name == name) {
            all.push(Definition {
                name: name.to_owned(),
                description: describe(name, category),
                feature_category: category.to_owned(),
                milestone: String::new(),
                saved_to_database: true,
                streamed: true,
                scope: String::new(),
            });
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all.dedup_by(|a, b| a.name == b.name);
    all
}

/// A plain description made from the name (GitLab's own texts are not reproduced).
fn describe(name: &str, category: &str) -> String {
    let words = name.replace('_', " ");
    let category = category.replace('_', " ");
    format!("Audit event \"{words}\" ({category})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_gitlab_ai_and_own_types() {
        let all = definitions();
        assert!(all.len() > 500, "{}", all.len());
        assert!(all.windows(2).all(|w| w[0].name < w[1].name), "sorted and unique");
        for name in ["repository_git_operation", "user_created", "event_type_filters_created", "ai_tool_invoked"] {
            assert!(is_defined(name), "{name}");
        }
        for name in SERVICE_EVENT_TYPES.iter().chain(AI_EVENT_TYPES.iter()) {
            assert!(is_defined(name), "{name}");
        }
        assert!(is_defined(crate::ai_events::SESSION_SUMMARY_TYPE), "the service's session summary");
        assert!(!is_defined("not_a_real_event_type"));
    }
}
