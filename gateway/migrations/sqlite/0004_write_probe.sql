-- `/ready` proves the database still takes writes (disk not full, file not
-- read-only) by rewriting this one row.
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
);
