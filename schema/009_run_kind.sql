-- 009_run_kind.sql: what each run read, and the sliding window of persist
-- mode. kind: 'full' (every entry: a paged search, or an RFC 4533 refresh
-- from nothing), 'refresh' (what changed since a cookie: a refreshOnly run,
-- or the refresh stage with which a persistent search starts) or
-- 'incremental' (one batch of the changes a persistent search pushed).
-- The runs recorded before were all full or refresh runs; they are taken as
-- 'full' (a refresh run did not say which it was).
-- sync_runs_finished finds the runs of the last sync.threshold_window
-- seconds, whose disables count against the thresholds in persist mode;
-- sync_runs_approved the latest approval, where that window starts again.
-- Forward-only, like every migration.

ALTER TABLE sync_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'full'
	CHECK (kind IN ('full', 'refresh', 'incremental'));
CREATE INDEX sync_runs_finished ON sync_runs (finished_at);
CREATE INDEX sync_runs_approved ON sync_runs (id) WHERE approved_at IS NOT NULL;
