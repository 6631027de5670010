-- The retry that resumes a failed or cancelled run. It is set once, in the write transaction that records the retry
-- (UPDATE ... WHERE retried_by IS NULL), so a run is resumed at most once: a second retry, concurrent or later, gets
-- the first one's run. Runs retried before this migration point at their first retry.
ALTER TABLE runs ADD COLUMN retried_by TEXT;
UPDATE runs SET retried_by = (
    SELECT c.id FROM runs c
    WHERE c.parent_run_id = runs.id AND c.trigger_kind = 'Retry' AND c.status <> 'Skipped'
    ORDER BY c.created_at, c.id LIMIT 1);
