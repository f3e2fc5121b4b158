-- Answers still being streamed: the text so far, written by the process
-- generating it every so often, so a client that lost its connection can
-- reattach (see src/chat/live.rs). A row lives from the first write of a
-- turn's answer until the turn is stored as finished; `updated_at` moves at
-- least every few seconds while the turn is alive, so a reader can tell a
-- live answer from the leftover of a crash.
CREATE TABLE live_answers (
    message_id      TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_message_id TEXT NOT NULL,
    content         TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE INDEX live_answers_by_conversation ON live_answers (conversation_id);
