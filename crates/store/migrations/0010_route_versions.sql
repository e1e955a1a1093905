-- Each destination's filters (event-type allow-list, namespace filters) from a log position on.
-- A change commits together with its audit event and a new version whose from_seq is that
-- event's seq, so a worker routes every event with the filters in force when the event was
-- committed. Versions at from_seq 0 hold the filters of destinations that existed before
-- versions were kept. Deactivation is not versioned: it pauses the worker, which resumes from
-- its cursor. namespace_filters is a JSON array of [group_id, project_id].

CREATE TABLE destination_route_versions (
    destination_id BIGINT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    from_seq BIGINT NOT NULL,
    event_types TEXT NOT NULL,
    namespace_filters TEXT NOT NULL,
    PRIMARY KEY (destination_id, from_seq)
);
