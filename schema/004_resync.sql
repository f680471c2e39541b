-- 004_resync.sql: indexes that let a run which changes nothing avoid reading
-- every person. Forward-only, like every migration.

-- The people whose state a run may change although the directory says the
-- same of them as last time: marked missing, disabled by the core for being
-- missing or disabled in the directory, or invited or active while the
-- directory's flag is set. The condition between the markers (comments, so
-- this is the SQL stores have run) is compiled into reconcile.c's queries as
-- well (scripts/sqlnames2c.sh: schema_attention): spelled the same way, it
-- lets SQLite use the index. Stores keep the index they were given: to change
-- the condition, drop and re-create the index in a new migration and move the
-- markers there.
CREATE INDEX people_attention ON people (dir_id)
	WHERE /*<attention>*/missing_since IS NOT NULL
	   OR (status = 'disabled' AND status_reason IN ('missing', 'directory'))
	   OR (dir_disabled = 1 AND status IN ('invited', 'active'))/*</attention>*/;

-- Counting the enabled people (the base of sync.max_disable_percent), and
-- rosterctl user list --status.
CREATE INDEX people_status ON people (status);
