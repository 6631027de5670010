-- Why a committed output could not be moved to its final path (the last attempt), and when an operator discarded it
-- ('millrace publish discard'). A discarded file also gets published_at, so nothing tries to publish it again.
ALTER TABLE published_files ADD COLUMN publish_error TEXT NULL;
ALTER TABLE published_files ADD COLUMN discarded_at TEXT NULL;
