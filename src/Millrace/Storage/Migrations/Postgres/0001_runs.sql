CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL,
    target           TEXT NOT NULL,
    target_kind      TEXT NOT NULL,
    trigger_kind     TEXT NOT NULL,
    status           TEXT NOT NULL,
    parameters_json  TEXT NOT NULL,
    run_date         TEXT NOT NULL,
    definitions_hash TEXT NOT NULL,
    run_key          TEXT NULL,
    parent_run_id    TEXT NULL,
    created_at       TEXT NOT NULL,
    started_at       TEXT NULL,
    ended_at         TEXT NULL,
    error            TEXT NULL
);
CREATE UNIQUE INDEX runs_run_key ON runs (project_id, target, run_key) WHERE run_key IS NOT NULL;
CREATE INDEX runs_created ON runs (project_id, created_at);

CREATE TABLE step_runs (
    run_id       TEXT NOT NULL REFERENCES runs (id),
    workflow     TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   TEXT NULL,
    ended_at     TEXT NULL,
    row_count    BIGINT NULL,
    error        TEXT NULL,
    details_json TEXT NULL,
    PRIMARY KEY (run_id, workflow, step_id)
);

CREATE TABLE workflow_runs (
    run_id       TEXT NOT NULL REFERENCES runs (id),
    workflow     TEXT NOT NULL,
    position     BIGINT NOT NULL,
    status       TEXT NOT NULL,
    started_at   TEXT NULL,
    ended_at     TEXT NULL,
    committed_at TEXT NULL,
    PRIMARY KEY (run_id, workflow)
);

CREATE TABLE run_logs (
    run_id   TEXT NOT NULL REFERENCES runs (id),
    seq      BIGINT NOT NULL,
    at       TEXT NOT NULL,
    level    TEXT NOT NULL,
    workflow TEXT NULL,
    step_id  TEXT NULL,
    message  TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
