-- Deadline and freshness misses (deadline:, freshness: of a pipeline). The primary key makes each miss recorded once,
-- whichever node sees it first and however often it restarts; feed is '' for a deadline (a key column cannot be NULL).
CREATE TABLE deadline_misses (
    project_id  TEXT NOT NULL,
    pipeline    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    run_date    TEXT NOT NULL,
    feed        TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    due_text    TEXT NOT NULL,
    missing     TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    node        TEXT NOT NULL,
    anomaly_id  TEXT NOT NULL,
    met_at      TEXT NULL,
    notified_at TEXT NULL,
    PRIMARY KEY (project_id, pipeline, kind, run_date, feed)
);
CREATE INDEX deadline_misses_date ON deadline_misses (project_id, run_date);
