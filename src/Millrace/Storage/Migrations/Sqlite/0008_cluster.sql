-- The server nodes sharing this store, each with the time it last said it was alive. A node whose heartbeat is
-- older than the lease is dead: another node takes over its running runs (marks them interrupted and queues their
-- resumption, in one transaction) and removes its row.
CREATE TABLE cluster_nodes (
    node         TEXT PRIMARY KEY,
    started_at   TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
);

-- A cancel asked on one node for a run another node executes: the owner polls for it and stops the run.
ALTER TABLE runs ADD COLUMN cancel_requested TEXT NULL;
