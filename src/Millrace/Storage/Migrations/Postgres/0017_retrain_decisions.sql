-- The retrain decision of each run of a pipeline with retrain_when (RetrainPolicy): asked or not and why, the signals
-- it was taken on, and the training run it asked for. The last asked decision per retrain pipeline is the history
-- the cooldown and the no-repeat rule read.
CREATE TABLE retrain_decisions (
    run_id           TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL,
    pipeline         TEXT NOT NULL,
    retrain_pipeline TEXT NOT NULL,
    asked            INTEGER NOT NULL,
    asked_by         TEXT,
    reason           TEXT NOT NULL,
    triggered_run_id TEXT,
    psi              DOUBLE PRECISION,
    worst_feature    TEXT,
    drift_rows       BIGINT NOT NULL,
    metric           DOUBLE PRECISION,
    champion_version INTEGER,
    decided_at       TEXT NOT NULL
);
CREATE INDEX retrain_decisions_asked ON retrain_decisions (project_id, retrain_pipeline, asked, decided_at);
