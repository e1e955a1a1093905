-- Streaming destinations: one model behind GitLab's legacy and consolidated APIs.
-- group_id NULL means an instance destination. config is the category's JSON without headers
-- (headers are rows, so the legacy API can address each by id). secret is AES-256-GCM ciphertext.

CREATE TABLE destinations (
    id @ID@,
    group_id BIGINT REFERENCES namespaces (id),
    category TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX destinations_owner_category_name ON destinations (COALESCE(group_id, 0), category, name);

CREATE TABLE destination_headers (
    id @ID@,
    destination_id BIGINT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    header_key TEXT NOT NULL,
    header_value TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    UNIQUE (destination_id, header_key)
);

CREATE TABLE destination_event_types (
    destination_id BIGINT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    PRIMARY KEY (destination_id, event_type)
);

-- A filter names a group (covers its subgroups and projects) or exactly one project.
-- legacy marks the single filter of GitLab's legacy HTTP API.
CREATE TABLE destination_namespace_filters (
    id @ID@,
    destination_id BIGINT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    group_id BIGINT REFERENCES namespaces (id),
    project_id BIGINT REFERENCES projects (id),
    legacy BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX destination_namespace_filters_destination ON destination_namespace_filters (destination_id);

-- Event types seen in ingested events, so filters may name them even when no built-in
-- definition exists.
CREATE TABLE observed_event_types (
    name TEXT PRIMARY KEY,
    first_seen BIGINT NOT NULL
);
