-- What a pipeline run published (dataset versions, output files, reports) is stale when a late or corrected file
-- landed for its date, or an operator said so ('millrace stale mark'). One row per marked run; the mark is open until
-- a later run of the same pipeline and date succeeds (cleared_by_run_id, cleared_at). At most one open mark a run.
CREATE TABLE stale_marks (
    id                TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL,
    pipeline          TEXT NOT NULL,
    run_date          TEXT NOT NULL,
    run_id            TEXT NOT NULL,
    reason            TEXT NOT NULL,
    marked_at         TEXT NOT NULL,
    cleared_by_run_id TEXT NULL,
    cleared_at        TEXT NULL
);
CREATE INDEX stale_marks_date ON stale_marks (project_id, pipeline, run_date);
CREATE UNIQUE INDEX stale_marks_open ON stale_marks (run_id) WHERE cleared_at IS NULL;

-- The inputs of each workflow run that succeeded or was up to date (dataset versions, lake files its reads match,
-- models, its definition, the parameters it uses), as they stand after its commit: a later run of the workflow that
-- finds the same fingerprint is up to date. same_as_run_id: the run whose outputs an up-to-date run reused.
CREATE TABLE workflow_fingerprints (
    run_id         TEXT NOT NULL,
    workflow       TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    inputs_json    TEXT NOT NULL,
    same_as_run_id TEXT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (run_id, workflow)
);
CREATE INDEX workflow_fingerprints_latest ON workflow_fingerprints (workflow, created_at);

-- What a model version was trained on (a hash of the training rows, options, features and label): a train step
-- whose training inputs have the same fingerprint as the model's latest version registers nothing.
ALTER TABLE model_versions ADD COLUMN training_fingerprint TEXT NULL;
