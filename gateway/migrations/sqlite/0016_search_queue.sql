-- Search indexing off the writing path.
--
-- Until now every new message went into the trigram index inside the
-- transaction that stored it, which cost each turn about 0.2 ms and SQLite
-- two thirds of its write throughput (BENCHMARKS.md, experiment 67). Now a
-- new message only queues its `seq`; the gateway indexes the queue in small
-- batches in the background, and search scans the few queued messages
-- directly, so it still finds a message the moment it is stored.
--
-- A queue rather than a high-water mark: SQLite hands out the largest
-- rowid again after that row is deleted.
CREATE TABLE messages_to_index (seq INTEGER PRIMARY KEY NOT NULL);

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_to_index (seq) VALUES (new.seq);
END;

-- A queued message is not in the index yet: it leaves the queue only.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.seq, old.content
        WHERE NOT EXISTS (SELECT 1 FROM messages_to_index WHERE seq = old.seq);
    DELETE FROM messages_to_index WHERE seq = old.seq;
END;

-- A queued message is indexed with whatever content it has by then.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
    WHEN NOT EXISTS (SELECT 1 FROM messages_to_index WHERE seq = old.seq) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;
