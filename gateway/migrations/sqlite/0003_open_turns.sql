-- A user message whose turn has not finished yet names the process answering
-- it. A turn still open when its process is gone (killed, crashed) is
-- marked failed when the store is next opened, so the client offers Retry
-- and a retry reuses the message. SQLite serves one process, so every turn
-- still open at start-up was left by a process that is gone.
ALTER TABLE messages ADD COLUMN open_by TEXT;

CREATE INDEX messages_open ON messages (open_by) WHERE open_by IS NOT NULL;
