-- The log's secondary indexes, chosen so that an append costs the same however many namespaces
-- and users an instance has. An index keyed by namespace takes each event at a random place, so
-- every event of a batch spread over many namespaces dirties a page of its own: with 10,000
-- groups the events_group and events_entity inserts cost twice the rest of the append together
-- (docs/benchmarks.md, "Ingest: many namespaces").
--
-- * events_group is dropped: a subgroup's events all lie in its top-level group's tree, so its
--   listing walks events_root_group (the tenant's index, kept) and filters on group_id.
-- * events_entity keeps only events about entities outside the namespace tree (users, the
--   instance); group and project entities are found through their scope's index.
-- * Indexes on columns most events leave empty hold only the events that fill them.
DROP INDEX events_group;
DROP INDEX events_entity;
DROP INDEX events_project;
DROP INDEX events_workflow;
DROP INDEX events_session;
CREATE INDEX events_entity ON events (entity_type, entity_id, seq) WHERE entity_type NOT IN ('Group', 'Project');
CREATE INDEX events_project ON events (project_id, seq) WHERE project_id IS NOT NULL;
CREATE INDEX events_workflow ON events (workflow_id, seq) WHERE workflow_id IS NOT NULL;
CREATE INDEX events_session ON events (session_id, seq) WHERE session_id IS NOT NULL;
