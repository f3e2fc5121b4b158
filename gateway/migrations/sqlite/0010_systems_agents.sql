-- Systems and agents managed at runtime through /v1/admin (the ones from
-- the environment and the configuration file are not stored here).
CREATE TABLE systems (
    id TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    -- JSON array of normalised origins (scheme://host[:port]).
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    enabled INTEGER NOT NULL DEFAULT 1,
    -- The agent answering messages that name none (NULL: the only agent,
    -- or the shared upstream).
    default_agent TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE agents (
    system_id TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    -- The credential sealed with CHAT_GATEWAY_SECRET_KEY (never plain), and
    -- its last characters for display.
    credential_sealed TEXT,
    credential_hint TEXT,
    model TEXT,
    system_prompt TEXT,
    -- JSON object of kind-specific options (temperature, max_tokens, …).
    options TEXT NOT NULL DEFAULT '{}',
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (system_id, id)
);

-- Bumped by every change to the two tables above, in the same transaction:
-- replicas poll this one row and reload only when it moved.
CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
