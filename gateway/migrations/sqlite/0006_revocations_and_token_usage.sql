-- Revoked chat tokens, honoured by every replica: one token by its `jti`,
-- or every token of a user issued at or before a moment (Unix seconds). A
-- row may be deleted after keep_until, when no token it revokes can still
-- be valid.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL,
    keep_until INTEGER NOT NULL
);

CREATE TABLE revoked_users (
    system_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    issued_before INTEGER NOT NULL,
    keep_until    INTEGER NOT NULL,
    PRIMARY KEY (system_id, user_id)
);

-- Upstream tokens used per UTC day (YYYY-MM-DD) and user, for the daily
-- budgets; a system's use is the sum of its users'.
CREATE TABLE token_usage (
    day       TEXT NOT NULL,
    system_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    tokens    INTEGER NOT NULL,
    PRIMARY KEY (day, system_id, user_id)
);
