//! GitLab's audit-event-streaming GraphQL API (spec §1.5–§1.7): the consolidated group and
//! instance destinations with their event-type and namespace filters, the legacy Google Cloud
//! Logging and Amazon S3 configurations, one model behind both generations, secrets at rest and
//! the audit events the mutations record.

mod audit_events;
mod documents;
mod filters;
mod group_http;
mod group_rules;
mod helpers;
mod instance;
mod legacy_gcp;
mod legacy_s3;
mod one_model;
mod secrets;
