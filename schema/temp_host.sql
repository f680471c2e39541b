-- temp_host.sql: the temporary tables of the plugin host (plugin.c) and of
-- the actions it and the operators take (actions.c), in the connection's own
-- temporary database, made when first needed in a write transaction and
-- emptied by their users. Not a migration: nothing here is kept in the store.
-- Compiled in by scripts/sqlnames2c.sh, a section a C string (schema_NAME).

-- actions.c: the assignments act_settle() grants licences to, with the
-- status each had (was), while it works through a course's pool.
-- name: act_grant
CREATE TEMP TABLE IF NOT EXISTS act_grant (assignment_id INTEGER PRIMARY KEY,
	course_id INTEGER NOT NULL, person_id INTEGER NOT NULL, was TEXT NOT NULL);

-- plugin.c: the people a plugin's people_foreach() query matched, numbered
-- (n) in the order they are handed to it.
-- SQLite: an INTEGER PRIMARY KEY numbers the rows in the order inserted.
-- name: plugin_scan
CREATE TEMP TABLE IF NOT EXISTS plugin_scan (n INTEGER PRIMARY KEY,
	person_id INTEGER NOT NULL);
