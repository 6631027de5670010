-- The server's own tables: schedule state that survives restarts, API tokens (salted hashes only), the audit log of
-- state-changing calls, and webhook deliveries. Recorded in server_schema_migrations, apart from the library's
-- schema_migrations.
--
-- IF NOT EXISTS: stores made by earlier versions already have these tables, exactly as below (the library's
-- migration 0005 created them); this migration adopts them with their rows.

CREATE TABLE IF NOT EXISTS schedule_states (
    project_id   TEXT NOT NULL,
    pipeline     TEXT NOT NULL,
    paused       INTEGER NOT NULL DEFAULT 0,
    changed_by   TEXT NULL,
    changed_at   TEXT NULL,
    last_fire_at TEXT NULL,
    checked_at   TEXT NULL,
    PRIMARY KEY (project_id, pipeline)
);

CREATE TABLE IF NOT EXISTS api_tokens (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL,
    role         TEXT NOT NULL,
    name         TEXT NULL,
    salt         TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NULL,
    revoked_at   TEXT NULL,
    last_used_at TEXT NULL
);

CREATE TABLE IF NOT EXISTS audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    project_id     TEXT NULL,
    actor          TEXT NOT NULL,
    user_name      TEXT NULL,
    action         TEXT NOT NULL,
    target         TEXT NULL,
    outcome        INTEGER NOT NULL,
    details_json   TEXT NULL,
    remote_address TEXT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);

CREATE TABLE IF NOT EXISTS notification_deliveries (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL,
    run_id           TEXT NULL,
    event            TEXT NOT NULL,
    url              TEXT NOT NULL,
    secret_ref       TEXT NOT NULL,
    payload_json     TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT NULL,
    last_attempt_at  TEXT NULL,
    last_status_code INTEGER NULL,
    last_error       TEXT NULL,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT NULL
);
CREATE INDEX IF NOT EXISTS notification_deliveries_due ON notification_deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS notification_deliveries_run ON notification_deliveries (run_id);
