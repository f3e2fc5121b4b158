-- Housekeeping the console's status page shows: each retention purge,
-- written in the purge's transaction by the replica that held the purge
-- lock (the latest 1000 are kept). Sync rounds are in `sync_rounds`
-- (migration 0011), read newest round first.
CREATE TABLE retention_runs (
    id            BIGSERIAL PRIMARY KEY,
    replica       TEXT COLLATE "C" NOT NULL,
    ran_at        TIMESTAMPTZ NOT NULL,
    cutoff        TIMESTAMPTZ NOT NULL,
    conversations BIGINT NOT NULL,
    messages      BIGINT NOT NULL
);

