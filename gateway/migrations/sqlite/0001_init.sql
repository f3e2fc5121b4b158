-- Conversations, messages and chat-page visitors.
-- Ids are UUID v7 text; timestamps are UTC milliseconds since the Unix epoch.

CREATE TABLE conversations (
    id                       TEXT PRIMARY KEY NOT NULL,
    system_id                TEXT NOT NULL,
    user_id                  TEXT NOT NULL,
    upstream_conversation_id TEXT,
    title                    TEXT NOT NULL DEFAULT '',
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL
);

-- A user's conversation list, most recently active first.
CREATE INDEX conversations_by_owner
    ON conversations (system_id, user_id, updated_at DESC, id DESC);

-- Operator search, newest first.
CREATE INDEX conversations_by_created ON conversations (created_at DESC, id DESC);

-- One row per upstream conversation: concurrent syncs cannot duplicate it.
CREATE UNIQUE INDEX conversations_upstream
    ON conversations (system_id, user_id, upstream_conversation_id)
    WHERE upstream_conversation_id IS NOT NULL;

CREATE TABLE messages (
    seq                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    conversation_id     TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role                TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content             TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('complete', 'incomplete', 'failed')),
    upstream_message_id TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE INDEX messages_by_conversation ON messages (conversation_id, seq);

-- One user and one assistant message per upstream turn: syncing twice, or
-- syncing a turn the gateway recorded live, adds nothing.
CREATE UNIQUE INDEX messages_upstream
    ON messages (conversation_id, upstream_message_id, role)
    WHERE upstream_message_id IS NOT NULL;

CREATE TABLE visitors (
    system_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (system_id, user_id)
);
