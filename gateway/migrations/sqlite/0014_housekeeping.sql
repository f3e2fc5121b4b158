-- Housekeeping the console's status page shows.
--
-- Each retention purge, written in the purge's transaction (the latest
-- 1000 are kept). Times are milliseconds since the Unix epoch.
CREATE TABLE retention_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    replica       TEXT NOT NULL,
    ran_at        INTEGER NOT NULL,
    cutoff        INTEGER NOT NULL,
    conversations INTEGER NOT NULL,
    messages      INTEGER NOT NULL
);

-- Each scheduled sync round, as PostgreSQL records them (migration 0011
-- there): the round's slot number since the epoch, who ran it, and what it
-- did once finished. A row left without `finished_at` stopped early.
CREATE TABLE sync_rounds (
    round         INTEGER PRIMARY KEY,
    replica       TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    conversations INTEGER,
    messages      INTEGER,
    errors        INTEGER
);
