-- A destination's strict arrival order (an auditrelay extension, off by default): with it on,
-- no event is sent while an earlier one is being retried; off, a failed request is retried
-- while the rest keep flowing (GitLab promises no order).

ALTER TABLE destinations ADD COLUMN strict_order BIGINT NOT NULL DEFAULT 0;
