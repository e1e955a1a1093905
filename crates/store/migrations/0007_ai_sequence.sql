-- The producer's order of an AI event in its session (the CloudEvent `sequence`; NULL when sent
-- as null, and for every other event). With workflow_id it tells which numbers of a session
-- arrived, which are missing and which repeat.
ALTER TABLE events ADD COLUMN ai_sequence BIGINT;
