-- The run queue. (Stores made before the server had a store of its own also got the server's tables here: schedule
-- states, API tokens, the audit log and webhook deliveries. Those now come from the server's migration stream,
-- src/Millrace.Server/Storage/Migrations, whose first migration adopts the tables this file used to create.)

-- A run recorded as Queued has a request row: which attempt it is (automatic retries), the earliest time it may start
-- (retry backoff) and who asked for it.
CREATE TABLE run_requests (
    run_id       TEXT PRIMARY KEY REFERENCES runs (id),
    attempt      INTEGER NOT NULL,
    not_before   TEXT NULL,
    requested_by TEXT NULL,
    user_name    TEXT NULL
);
