-- Delivery state. Each destination follows the event log with its own cursor: the highest seq
-- it has acknowledged (or parked). Nothing is copied per destination.

CREATE TABLE delivery_cursors (
    destination_id BIGINT PRIMARY KEY REFERENCES destinations (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Events that failed permanently past their retry budget: visible and re-sendable.
CREATE TABLE delivery_parked (
    destination_id BIGINT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    last_status BIGINT,
    parked_at BIGINT NOT NULL,
    resend BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (destination_id, seq)
);

-- Across processes sharing PostgreSQL, one holder per destination at a time.
CREATE TABLE delivery_leases (
    destination_id BIGINT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- What the worker last saw, for the API and UI of any node.
CREATE TABLE delivery_health (
    destination_id BIGINT PRIMARY KEY REFERENCES destinations (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    consecutive_failures BIGINT NOT NULL,
    last_success_at BIGINT,
    last_error TEXT,
    last_error_status BIGINT,
    last_error_at BIGINT,
    delivered BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- Re-sending a range of the log to one destination.
CREATE TABLE delivery_replays (
    id @ID@,
    destination_id BIGINT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    from_seq BIGINT NOT NULL,
    to_seq BIGINT NOT NULL,
    created_after BIGINT,
    created_before BIGINT,
    next_seq BIGINT NOT NULL,
    sent BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX delivery_replays_destination ON delivery_replays (destination_id, state);
