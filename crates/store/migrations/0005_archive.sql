-- AI event keys as plain columns, so both dialects answer AI queries (by workflow, session) with
-- the same SQL and an index instead of dialect-specific JSON functions. Filled by append_events
-- from details.workflow_id / details.session_id of ai_* events; NULL for every other event.
ALTER TABLE events ADD COLUMN workflow_id BIGINT;
ALTER TABLE events ADD COLUMN session_id TEXT;
CREATE INDEX events_workflow ON events (workflow_id, seq);
CREATE INDEX events_session ON events (session_id, seq);
CREATE INDEX events_type ON events (event_type, seq);

-- Internal followers of the log (the ClickHouse archiver): the highest seq each has finished,
-- as shown in metrics and health. Destinations keep theirs in delivery_cursors.
CREATE TABLE log_followers (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
