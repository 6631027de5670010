-- Whether every file of a version has exactly the version's columns: readers then skip DuckDB's union_by_name, which
-- opens every file's footer to bind a query. Versions recorded before this migration are treated as mixed.
ALTER TABLE dataset_versions ADD COLUMN uniform_schema INTEGER NOT NULL DEFAULT 0;
