-- Provable streams (docs/completeness.md). Every event routed to a destination gets the next
-- position of that destination's stream when it is first routed; the row keeps what makes
-- every later send of it (retry, re-send, replay, another node) byte-identical: the body's
-- digest, the chain value, and the body itself when it is not the event's plain rendering
-- (AI content redacted at the time). One multi-row insert per routed batch, in the same
-- transaction as the stream head.

CREATE TABLE stream_positions (
    destination_id BIGINT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    body_sha256 TEXT NOT NULL,
    chain TEXT NOT NULL,
    body TEXT,
    PRIMARY KEY (destination_id, position)
);
CREATE UNIQUE INDEX stream_positions_by_seq ON stream_positions (destination_id, seq);

-- The last position handed out, its chain value and its event's seq. started_seq is the
-- destination's cursor when the stream began: events at or before it were routed before
-- positions were kept (they are replayed without position headers).
CREATE TABLE stream_heads (
    destination_id BIGINT PRIMARY KEY REFERENCES destinations (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    chain TEXT NOT NULL,
    last_seq BIGINT NOT NULL,
    started_seq BIGINT NOT NULL
);

-- Per-destination stream options (an auditrelay extension): HTTP destinations may receive
-- checkpoints in-band as their own POST.
CREATE TABLE stream_options (
    destination_id BIGINT PRIMARY KEY REFERENCES destinations (id) ON DELETE CASCADE,
    in_band_checkpoints BIGINT NOT NULL DEFAULT 0
);

-- Signed checkpoints, the SignedCheckpoint JSON as listed and sent.
CREATE TABLE stream_checkpoints (
    destination_id BIGINT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    sequence BIGINT NOT NULL,
    signed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (destination_id, sequence)
);

-- The instance's Ed25519 signing keys: the secret sealed by the service's secret box; the
-- current key has no valid_until, retired ones stay listed with their validity.
CREATE TABLE stream_signing_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT
);
