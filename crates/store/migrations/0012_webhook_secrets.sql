-- Standard Webhooks signing secrets of HTTP destinations. A destination signs while it has at
-- least one row; during a rotation it has two (the newer first when signing) until the older
-- is removed. `secret` is sealed by the service's secret box (never stored in plain text);
-- `last_four` is the last four characters of the `whsec_` text, kept so the API can tell the
-- secrets apart without opening them.

CREATE TABLE destination_webhook_secrets (
    id @ID@,
    destination_id BIGINT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    last_four TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX destination_webhook_secrets_destination ON destination_webhook_secrets (destination_id, id);
