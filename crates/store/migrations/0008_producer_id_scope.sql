-- A producer id names one event within its scope (its top-level group, or the instance for
-- events outside any group), never across scopes. The instance-wide UNIQUE on producer_id
-- becomes a unique index on (producer_id, scope); the scope is COALESCE(root_group_id, 0)
-- (group ids start at 1). SQLite cannot drop a column's UNIQUE constraint, so the table is
-- rebuilt with the same columns (0007's ai_sequence included) and rows (seq, and so every
-- follower's cursor, unchanged).
CREATE TABLE events_v8 (
    seq BIGINT PRIMARY KEY,
    producer_id TEXT,
    created_at BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    author_id BIGINT,
    group_id BIGINT,
    project_id BIGINT,
    root_group_id BIGINT,
    payload TEXT NOT NULL,
    workflow_id BIGINT,
    session_id TEXT,
    ai_sequence BIGINT
);
INSERT INTO events_v8 (seq, producer_id, created_at, event_type, entity_type, entity_id, author_id,
                       group_id, project_id, root_group_id, payload, workflow_id, session_id, ai_sequence)
SELECT seq, producer_id, created_at, event_type, entity_type, entity_id, author_id,
       group_id, project_id, root_group_id, payload, workflow_id, session_id, ai_sequence
FROM events;
DROP TABLE events;
ALTER TABLE events_v8 RENAME TO events;
CREATE UNIQUE INDEX events_producer_id ON events (producer_id, (COALESCE(root_group_id, 0)));
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX events_entity ON events (entity_type, entity_id, seq);
CREATE INDEX events_group ON events (group_id, seq);
CREATE INDEX events_project ON events (project_id, seq);
CREATE INDEX events_root_group ON events (root_group_id, seq);
CREATE INDEX events_workflow ON events (workflow_id, seq);
CREATE INDEX events_session ON events (session_id, seq);
CREATE INDEX events_type ON events (event_type, seq);
