-- Per-date status (millrace status, GET .../pipelines/{p}/dates, backfill --only) reads a target's runs by run date.
CREATE INDEX runs_target_date ON runs (project_id, target, run_date);
