-- Revoked chat tokens, honoured by every replica: one token by its `jti`,
-- or every token of a user issued at or before a moment (Unix seconds). A
-- row may be deleted after keep_until, when no token it revokes can still
-- be valid.
CREATE TABLE revoked_tokens (
    jti        TEXT COLLATE "C" PRIMARY KEY,
    revoked_at BIGINT NOT NULL,
    keep_until BIGINT NOT NULL
);

CREATE TABLE revoked_users (
    system_id     TEXT COLLATE "C" NOT NULL,
    user_id       TEXT COLLATE "C" NOT NULL,
    issued_before BIGINT NOT NULL,
    keep_until    BIGINT NOT NULL,
    PRIMARY KEY (system_id, user_id)
);

-- Upstream tokens used per UTC day and user, for the daily budgets; a
-- system's use is the sum of its users'.
CREATE TABLE token_usage (
    day       DATE NOT NULL,
    system_id TEXT COLLATE "C" NOT NULL,
    user_id   TEXT COLLATE "C" NOT NULL,
    tokens    BIGINT NOT NULL,
    PRIMARY KEY (day, system_id, user_id)
);
