-- auditrelay schema v1. `@ID@` is the dialect's auto-increment key (see migrate.rs).
-- Booleans are BIGINT 0/1 and times are BIGINT microseconds since the epoch, on both dialects.

CREATE TABLE users (
    id @ID@,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'active',
    created_at BIGINT NOT NULL
);

CREATE TABLE personal_access_tokens (
    id @ID@,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    expires_at BIGINT,
    revoked BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id);

-- Groups. root_id is the top-level ancestor (NULL for a top-level group itself).
CREATE TABLE namespaces (
    id @ID@,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    parent_id BIGINT REFERENCES namespaces (id),
    root_id BIGINT REFERENCES namespaces (id),
    full_path TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id @ID@,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    namespace_id BIGINT NOT NULL REFERENCES namespaces (id),
    full_path TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE members (
    group_id BIGINT NOT NULL REFERENCES namespaces (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    access_level BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The event log. seq is gapless and in commit order (assigned by the log writer under a lock).
-- group_id/project_id/root_group_id link the event to the service's namespaces for routing and
-- scoped reads; entity_id is the id as the producer gave it.
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    producer_id TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    author_id BIGINT,
    group_id BIGINT,
    project_id BIGINT,
    root_group_id BIGINT,
    payload TEXT NOT NULL
);
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX events_entity ON events (entity_type, entity_id, seq);
CREATE INDEX events_group ON events (group_id, seq);
CREATE INDEX events_project ON events (project_id, seq);
CREATE INDEX events_root_group ON events (root_group_id, seq);
