-- The console: what each answer cost (recorded when the turn ends) and a
-- full-text index over message content for operator search.
--
-- Metrics sit on the assistant message of a turn: milliseconds from the
-- moment the gateway asked the upstream to the end of the answer, to its
-- first text, and the tokens the upstream reported (NULL when it did not).
ALTER TABLE messages ADD COLUMN latency_ms INTEGER;
ALTER TABLE messages ADD COLUMN ttft_ms INTEGER;
ALTER TABLE messages ADD COLUMN prompt_tokens INTEGER;
ALTER TABLE messages ADD COLUMN completion_tokens INTEGER;

-- Trigrams instead of words: Korean, Chinese and Japanese text has no
-- spaces to split words at, and a trigram index finds any substring of
-- three characters or more in any script. The index holds no copy of the
-- text (external content); triggers keep it in step with `messages`,
-- including rows removed by the cascade from `conversations`.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content = 'messages', content_rowid = 'seq', tokenize = 'trigram'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;

INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
