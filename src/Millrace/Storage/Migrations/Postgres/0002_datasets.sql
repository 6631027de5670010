CREATE TABLE dataset_versions (
    dataset      TEXT NOT NULL,
    version      BIGINT NOT NULL,
    run_id       TEXT NOT NULL,
    workflow     TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    row_count    BIGINT NOT NULL,
    files_json   TEXT NOT NULL,
    schema_json  TEXT NOT NULL,
    operation    TEXT NOT NULL,
    PRIMARY KEY (dataset, version)
);
CREATE INDEX dataset_versions_run ON dataset_versions (run_id);

CREATE TABLE published_files (
    run_id       TEXT NOT NULL,
    workflow     TEXT NOT NULL,
    staging_path TEXT NOT NULL,
    final_path   TEXT NOT NULL,
    published_at TEXT NULL,
    PRIMARY KEY (run_id, staging_path)
);
