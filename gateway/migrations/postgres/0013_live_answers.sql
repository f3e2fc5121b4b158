-- Answers still being streamed: the text so far, written by the replica
-- generating it every so often, so a client that lost its connection can
-- reattach on any replica (see src/chat/live.rs). A row lives from the first
-- write of a turn's answer until the turn is stored as finished;
-- `updated_at` moves at least every few seconds while the turn is alive, so
-- a reader can tell a live answer from the leftover of a crashed replica.
CREATE TABLE live_answers (
    message_id      TEXT COLLATE "C" PRIMARY KEY,
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_message_id TEXT COLLATE "C" NOT NULL,
    content         TEXT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX live_answers_by_conversation ON live_answers (conversation_id);
