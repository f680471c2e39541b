-- 004_resync.sql, PostgreSQL form of schema/004_resync.sql: the condition of
-- people_attention is the one the code says (schema_attention, taken from
-- the SQLite form), so that the planner may use the index.
CREATE INDEX people_attention ON people (dir_id)
	WHERE missing_since IS NOT NULL
	   OR (status = 'disabled' AND status_reason IN ('missing', 'directory'))
	   OR (dir_disabled = 1 AND status IN ('invited', 'active'));
CREATE INDEX people_status ON people (status);
