-- Operators (people who sign in to /admin), their sessions, failed logins,
-- scoped API keys and the audit log. Lists (systems, permissions) are
-- comma-separated; `systems` NULL means every system. Times are
-- milliseconds since the Unix epoch.
CREATE TABLE operators (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'analyst')),
    systems       TEXT,
    created_at    INTEGER NOT NULL
);

-- A session is found by the SHA-256 of its cookie value, so the table alone
-- cannot be replayed as cookies.
CREATE TABLE operator_sessions (
    id_hash      TEXT PRIMARY KEY,
    operator_id  TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);

CREATE TABLE login_failures (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX login_failures_by_account ON login_failures (account, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    digest       TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    systems      TEXT,
    permissions  TEXT NOT NULL,
    expires_at   INTEGER,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    address TEXT NOT NULL
);
