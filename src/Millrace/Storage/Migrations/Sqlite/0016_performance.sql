-- Realized performance (evaluate step): one row per model version, variant (champion or shadow) and score date.
-- metrics is a JSON object of metric name to value; a rerun of the evaluation replaces the row.
CREATE TABLE model_performance (
    project_id    TEXT NOT NULL,
    model         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    variant       TEXT NOT NULL,
    score_date    TEXT NOT NULL,
    metrics       TEXT NOT NULL,
    scored_rows   BIGINT NOT NULL,
    labelled_rows BIGINT NOT NULL,
    run_id        TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    PRIMARY KEY (project_id, model, version, variant, score_date)
);
CREATE INDEX model_performance_date ON model_performance (project_id, model, score_date);
