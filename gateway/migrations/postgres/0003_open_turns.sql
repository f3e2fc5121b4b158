-- A user message whose turn has not finished yet names the replica
-- answering it (`open_by`); every replica keeps a heartbeat row in
-- `gateway_replicas`. A turn still open whose replica stopped beating (it
-- was killed or crashed) is marked failed by any replica, at its start and
-- periodically, so the client offers Retry and a retry reuses the message.
-- Turns of replicas that are alive are never touched, however long they run.

ALTER TABLE messages ADD COLUMN open_by TEXT COLLATE "C";

CREATE INDEX messages_open ON messages (open_by) WHERE open_by IS NOT NULL;

CREATE TABLE gateway_replicas (
    id      TEXT COLLATE "C" PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL
);

-- tz_finish_turn as before, now also closing the turn.
CREATE OR REPLACE FUNCTION tz_finish_turn(
    p_conversation_id          TEXT,
    p_at                       TIMESTAMPTZ,
    p_user_message_id          TEXT,
    p_user_status              TEXT,
    p_upstream_message_id      TEXT,
    p_reply_id                 TEXT,
    p_reply_content            TEXT,
    p_reply_status             TEXT,
    p_upstream_conversation_id TEXT
) RETURNS VOID
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(system_id || '/' || user_id, 0))
        FROM conversations WHERE id = p_conversation_id;

    -- A conversation deleted while its turn ran stays deleted.
    UPDATE conversations SET updated_at = p_at WHERE id = p_conversation_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    -- Upstream ids are recorded unless a sync already holds them for
    -- another row: then this turn keeps its rows without them.
    UPDATE messages SET status = p_user_status, updated_at = p_at, open_by = NULL,
        upstream_message_id = CASE WHEN p_upstream_message_id IS NULL OR EXISTS (
            SELECT 1 FROM messages m WHERE m.conversation_id = p_conversation_id
                AND m.upstream_message_id = p_upstream_message_id AND m.role = 'user')
            THEN upstream_message_id ELSE p_upstream_message_id END
    WHERE id = p_user_message_id;

    IF p_reply_id IS NOT NULL THEN
        INSERT INTO messages
            (id, conversation_id, role, content, status, upstream_message_id, created_at, updated_at)
        SELECT p_reply_id, p_conversation_id, 'assistant', p_reply_content, p_reply_status,
            CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = p_conversation_id
                AND m.upstream_message_id = p_upstream_message_id AND m.role = 'assistant')
                THEN NULL ELSE p_upstream_message_id END,
            p_at, p_at;
    END IF;

    IF p_upstream_conversation_id IS NOT NULL THEN
        UPDATE conversations SET upstream_conversation_id = p_upstream_conversation_id
        WHERE id = p_conversation_id AND upstream_conversation_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM conversations c
              WHERE c.upstream_conversation_id = p_upstream_conversation_id
                AND c.system_id = conversations.system_id
                AND c.user_id = conversations.user_id);
    END IF;
END;
$$;
