-- Drift per run, per feature; and the reference profile a model was trained on (for drift against the champion).
CREATE TABLE drift_results (
    run_id     TEXT NOT NULL,
    workflow   TEXT NOT NULL,
    step_id    TEXT NOT NULL,
    feature    TEXT NOT NULL,
    psi        DOUBLE PRECISION NOT NULL,
    reference  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, workflow, step_id, feature)
);

ALTER TABLE model_versions ADD COLUMN profile_json TEXT NULL;
