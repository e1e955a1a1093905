-- Web UI sign-in sessions. Only a SHA-256 digest of the cookie value is stored, so a copy of
-- the database cannot be replayed as a cookie. The CSRF token is per session.

CREATE TABLE web_sessions (
    id @ID@,
    token_digest TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
