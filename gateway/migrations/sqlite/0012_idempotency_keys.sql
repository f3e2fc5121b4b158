-- Idempotency keys of chat requests (`Idempotency-Key`): one row per
-- (caller, key). The primary key makes the first request the only winner;
-- `held_by` names the process answering it while it runs, so a key left
-- running by a process that is gone is taken over (one process serves a
-- SQLite database, so that is any other process). The result is the turn's
-- ids (the answer itself is the stored message) or the refusal answered.
-- Times are Unix milliseconds; finished keys are purged after 24 hours.
CREATE TABLE idempotency_keys (
    scope           TEXT NOT NULL,
    key             TEXT NOT NULL,
    body_hash       TEXT NOT NULL,
    held_by         TEXT,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    conversation_id TEXT,
    user_message_id TEXT,
    message_id      TEXT,
    error_status    INTEGER,
    error_body      TEXT,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;

CREATE INDEX idempotency_keys_finished ON idempotency_keys (finished_at)
    WHERE finished_at IS NOT NULL;
