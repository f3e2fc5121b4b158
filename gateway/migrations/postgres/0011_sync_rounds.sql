-- Scheduled sync: one row per round (the interval's slot number since the
-- Unix epoch), inserted by the replica that runs it. A replica runs a round
-- only while it holds the sync advisory lock and only if it inserted the
-- round's row, so each round runs once however many replicas are up.
CREATE TABLE sync_rounds (
    round         BIGINT PRIMARY KEY,
    replica       TEXT COLLATE "C" NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    conversations BIGINT,
    messages      BIGINT,
    errors        BIGINT
);
