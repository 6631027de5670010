-- Landing triggers: one row per pipeline and date, as the last poll saw the date's feeds (waiting, settling, started,
-- late, ...). The fileset hash identifies the files of every feed; run_hash is the fileset the date's last run was
-- for. revision makes each save conditional on what was read, so two nodes polling at once never overwrite each other.
CREATE TABLE landing_dates (
    project_id      TEXT NOT NULL,
    pipeline        TEXT NOT NULL,
    date            TEXT NOT NULL,
    state           TEXT NOT NULL,
    missing_json    TEXT NOT NULL,
    fileset_hash    TEXT NULL,
    files_json      TEXT NOT NULL,
    changed_at      TEXT NULL,
    unsettled_since TEXT NULL,
    run_id          TEXT NULL,
    run_hash        TEXT NULL,
    updated_at      TEXT NOT NULL,
    note            TEXT NULL,
    revision        BIGINT NOT NULL,
    PRIMARY KEY (project_id, pipeline, date)
);

CREATE INDEX landing_dates_open ON landing_dates (project_id, pipeline, state);
