-- The console: what each answer cost (recorded when the turn ends) and a
-- trigram index over message content for operator search.
--
-- Metrics sit on the assistant message of a turn: milliseconds from the
-- moment the gateway asked the upstream to the end of the answer, to its
-- first text, and the tokens the upstream reported (NULL when it did not).
ALTER TABLE messages
    ADD COLUMN latency_ms INTEGER,
    ADD COLUMN ttft_ms INTEGER,
    ADD COLUMN prompt_tokens BIGINT,
    ADD COLUMN completion_tokens BIGINT;

-- Trigrams find any substring of three characters or more, so Korean,
-- Chinese and Japanese (no spaces between words) are searchable like Latin
-- text; `ILIKE '%…%'` uses this index. pg_trgm is a trusted extension (the
-- database owner may create it). It counts only letters and digits of the
-- database's locale as trigram characters: use a UTF-8 locale (C.UTF-8,
-- en_US.UTF-8, …) so CJK text is indexed; under the plain "C" locale the
-- search is still right, only slower.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX messages_content_trgm ON messages USING gin (content gin_trgm_ops);

-- tz_finish_turn as before, now also recording the answer's metrics.
DROP FUNCTION tz_finish_turn(TEXT, TIMESTAMPTZ, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT);

CREATE FUNCTION tz_finish_turn(
    p_conversation_id          TEXT,
    p_at                       TIMESTAMPTZ,
    p_user_message_id          TEXT,
    p_user_status              TEXT,
    p_upstream_message_id      TEXT,
    p_reply_id                 TEXT,
    p_reply_content            TEXT,
    p_reply_status             TEXT,
    p_upstream_conversation_id TEXT,
    p_latency_ms               INTEGER,
    p_ttft_ms                  INTEGER,
    p_prompt_tokens            BIGINT,
    p_completion_tokens        BIGINT
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
            (id, conversation_id, role, content, status, upstream_message_id, created_at, updated_at,
             latency_ms, ttft_ms, prompt_tokens, completion_tokens)
        SELECT p_reply_id, p_conversation_id, 'assistant', p_reply_content, p_reply_status,
            CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = p_conversation_id
                AND m.upstream_message_id = p_upstream_message_id AND m.role = 'assistant')
                THEN NULL ELSE p_upstream_message_id END,
            p_at, p_at, p_latency_ms, p_ttft_ms, p_prompt_tokens, p_completion_tokens;
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
