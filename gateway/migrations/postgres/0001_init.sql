-- Conversations, messages and chat-page visitors, shared by every gateway
-- replica. Ids are UUID v7 text; timestamps are TIMESTAMPTZ holding UTC
-- instants with millisecond precision (the gateway truncates them, as the
-- SQLite store does). Text ids use the "C" collation so that ordering and
-- paging are byte order, whatever the database's default collation is.

CREATE TABLE conversations (
    id                       TEXT COLLATE "C" PRIMARY KEY,
    system_id                TEXT COLLATE "C" NOT NULL,
    user_id                  TEXT COLLATE "C" NOT NULL,
    upstream_conversation_id TEXT COLLATE "C",
    title                    TEXT NOT NULL DEFAULT '',
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL
);

-- A user's conversation list, most recently active first.
CREATE INDEX conversations_by_owner
    ON conversations (system_id, user_id, updated_at DESC, id DESC);

-- Operator search, newest first.
CREATE INDEX conversations_by_created ON conversations (created_at DESC, id DESC);

-- One row per upstream conversation: concurrent syncs, on one replica or on
-- several, cannot duplicate it.
CREATE UNIQUE INDEX conversations_upstream
    ON conversations (system_id, user_id, upstream_conversation_id)
    WHERE upstream_conversation_id IS NOT NULL;

CREATE TABLE messages (
    -- Order of the messages. Every insert into a conversation holds that
    -- conversation's row lock, so within one conversation `seq` order is
    -- also commit order.
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT COLLATE "C" NOT NULL UNIQUE,
    conversation_id     TEXT COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role                TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content             TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('complete', 'incomplete', 'failed')),
    upstream_message_id TEXT COLLATE "C",
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX messages_by_conversation ON messages (conversation_id, seq);

-- One user and one assistant message per upstream turn: syncing twice, or
-- syncing a turn a replica recorded live, adds nothing.
CREATE UNIQUE INDEX messages_upstream
    ON messages (conversation_id, upstream_message_id, role)
    WHERE upstream_message_id IS NOT NULL;

CREATE TABLE visitors (
    system_id     TEXT COLLATE "C" NOT NULL,
    user_id       TEXT COLLATE "C" NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (system_id, user_id)
);
