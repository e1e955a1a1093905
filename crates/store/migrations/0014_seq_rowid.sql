-- SQLite only (PostgreSQL records the version and runs nothing). In SQLite a column declared
-- `BIGINT PRIMARY KEY` is not the table's rowid: every event was stored twice over, in the table
-- under a hidden rowid and in a separate unique index on seq, and each append paid both. As
-- `INTEGER PRIMARY KEY` seq is the rowid: the table's own B-tree is ordered by seq, a cursor's
-- read is one range scan of it, and appends at the end of the log touch only its right edge.
-- Rows, seq values and so every follower's cursor are unchanged.
CREATE TABLE events_v14 (
    seq INTEGER PRIMARY KEY,
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
INSERT INTO events_v14 (seq, producer_id, created_at, event_type, entity_type, entity_id, author_id,
                        group_id, project_id, root_group_id, payload, workflow_id, session_id, ai_sequence)
SELECT seq, producer_id, created_at, event_type, entity_type, entity_id, author_id,
       group_id, project_id, root_group_id, payload, workflow_id, session_id, ai_sequence
FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_v14 RENAME TO events;
CREATE UNIQUE INDEX events_producer_id ON events (producer_id, (COALESCE(root_group_id, 0)));
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX events_entity ON events (entity_type, entity_id, seq);
CREATE INDEX events_group ON events (group_id, seq);
CREATE INDEX events_project ON events (project_id, seq);
CREATE INDEX events_root_group ON events (root_group_id, seq);
CREATE INDEX events_workflow ON events (workflow_id, seq);
CREATE INDEX events_session ON events (session_id, seq);
CREATE INDEX events_type ON events (event_type, seq);
