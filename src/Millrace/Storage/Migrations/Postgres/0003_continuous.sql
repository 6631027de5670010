-- Files each incremental read step has committed: the watermark is this set, not a timestamp, so a file that lands
-- late in an old partition is still new, and a file rewritten in place (other size or time) is noticed.
CREATE TABLE watermark_files (
    workflow     TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    path         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    modified     TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    committed_at TEXT NOT NULL,
    PRIMARY KEY (workflow, step_id, path)
);

CREATE TABLE anomalies (
    id           TEXT PRIMARY KEY,
    run_id       TEXT NOT NULL,
    workflow     TEXT NULL,
    step_id      TEXT NULL,
    kind         TEXT NOT NULL,
    severity     TEXT NOT NULL,
    policy       TEXT NOT NULL,
    message      TEXT NOT NULL,
    details_json TEXT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX anomalies_run ON anomalies (run_id);
CREATE INDEX anomalies_created ON anomalies (created_at);

-- Which process runs a run (host:pid:start), so a run whose process died can be recognised and marked interrupted.
ALTER TABLE runs ADD COLUMN owner TEXT NULL;
CREATE INDEX runs_status ON runs (status);
