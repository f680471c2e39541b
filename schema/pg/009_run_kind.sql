-- 009_run_kind.sql, PostgreSQL form of schema/009_run_kind.sql (which explains
-- it): the same column, check and indexes.
ALTER TABLE sync_runs ADD COLUMN kind text NOT NULL DEFAULT 'full'
	CHECK (kind IN ('full', 'refresh', 'incremental'));
CREATE INDEX sync_runs_finished ON sync_runs (finished_at);
CREATE INDEX sync_runs_approved ON sync_runs (id) WHERE approved_at IS NOT NULL;
