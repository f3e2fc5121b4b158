-- Idempotency keys of chat requests (`Idempotency-Key`): one row per
-- (caller, key). The primary key makes the first request the only winner
-- across replicas; `held_by` names the replica answering it while it runs,
-- so a key left running by a replica whose heartbeat stopped
-- (`gateway_replicas`, see 0003) is taken over by the next request. The
-- result is the turn's ids (the answer itself is the stored message) or the
-- refusal answered. Finished keys are purged after 24 hours.
CREATE TABLE idempotency_keys (
    scope           TEXT COLLATE "C" NOT NULL,
    key             TEXT COLLATE "C" NOT NULL,
    body_hash       TEXT NOT NULL,
    held_by         TEXT COLLATE "C",
    created_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    conversation_id TEXT COLLATE "C",
    user_message_id TEXT COLLATE "C",
    message_id      TEXT COLLATE "C",
    error_status    INTEGER,
    error_body      TEXT,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_finished ON idempotency_keys (finished_at)
    WHERE finished_at IS NOT NULL;
