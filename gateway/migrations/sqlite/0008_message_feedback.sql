-- A user's rating of an assistant message: one row per message (a new
-- rating replaces it, clearing deletes it), gone with its message.
CREATE TABLE message_feedback (
    message_id TEXT PRIMARY KEY NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    rating     TEXT NOT NULL CHECK (rating IN ('like', 'dislike')),
    comment    TEXT,
    updated_at INTEGER NOT NULL
);
