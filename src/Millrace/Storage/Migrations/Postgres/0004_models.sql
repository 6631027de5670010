-- The model registry: numbered versions with what they were trained on and how they scored, aliases
-- (champion, challenger, any name) and the history of every alias change, so a rollback is one command.
CREATE TABLE model_versions (
    name             TEXT NOT NULL,
    version          BIGINT NOT NULL,
    run_id           TEXT NOT NULL,
    workflow         TEXT NOT NULL,
    step_id          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    task             TEXT NOT NULL,
    algorithm        TEXT NOT NULL,
    label            TEXT NOT NULL,
    path             TEXT NOT NULL,
    metrics_json     TEXT NOT NULL,
    options_json     TEXT NOT NULL,
    features_json    TEXT NOT NULL,
    datasets_json    TEXT NOT NULL,
    importance_json  TEXT NOT NULL,
    definitions_hash TEXT NOT NULL,
    train_rows       BIGINT NOT NULL,
    holdout_rows     BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE model_aliases (
    name       TEXT NOT NULL,
    alias      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (name, alias)
);

CREATE TABLE model_alias_history (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    alias            TEXT NOT NULL,
    version          BIGINT NULL,
    previous_version BIGINT NULL,
    at               TEXT NOT NULL,
    run_id           TEXT NULL,
    actor            TEXT NOT NULL,
    reason           TEXT NOT NULL
);
CREATE INDEX model_alias_history_name ON model_alias_history (name, at);

CREATE TABLE model_tags (
    name    TEXT NOT NULL,
    version BIGINT NOT NULL,
    tag     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (name, version, tag)
);
