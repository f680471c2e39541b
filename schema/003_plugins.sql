-- 003_plugins.sql: what the plugin host and the operator's actions need.
-- Forward-only, like every migration. Nothing here deletes a training record.

-- Assignments: recurring training and when a row stopped being current.
-- A person has at most one current assignment of a course: one whose status
-- is not 'released' (never started, given back: unassigned, or the person was
-- archived) or 'archived' (a finished cycle of a recurring course).
ALTER TABLE assignments ADD COLUMN recur_days INTEGER
	CHECK (recur_days IS NULL OR recur_days > 0);
ALTER TABLE assignments ADD COLUMN ended_at TEXT;
CREATE INDEX assignments_current ON assignments (person_id, course_id)
	WHERE status NOT IN ('released', 'archived');
-- The queue of each course: pending and waiting assignments, in the order
-- licences go to them.
CREATE INDEX assignments_queue ON assignments (course_id, assigned_at, id)
	WHERE status IN ('pending', 'waiting');

-- Who defined a course: 'operator:<user>' or 'plugin:<name>' (from its config).
ALTER TABLE courses ADD COLUMN source TEXT;

-- Licences in use per course (licences not released), kept by triggers
-- whoever writes licences, so that deciding whether one is free costs the
-- same however large the pool.
ALTER TABLE courses ADD COLUMN licences_in_use INTEGER NOT NULL DEFAULT 0
	CHECK (licences_in_use >= 0);
UPDATE courses SET licences_in_use = (SELECT count(*) FROM licences l
	WHERE l.course_id = courses.id AND l.released_at IS NULL);
CREATE TRIGGER licence_taken AFTER INSERT ON licences WHEN new.released_at IS NULL
BEGIN
	UPDATE courses SET licences_in_use = licences_in_use + 1 WHERE id = new.course_id;
END;
CREATE TRIGGER licence_released AFTER UPDATE OF released_at ON licences
	WHEN old.released_at IS NULL AND new.released_at IS NOT NULL
BEGIN
	UPDATE courses SET licences_in_use = licences_in_use - 1 WHERE id = old.course_id;
END;
CREATE TRIGGER licence_retaken AFTER UPDATE OF released_at ON licences
	WHEN old.released_at IS NOT NULL AND new.released_at IS NULL
BEGIN
	UPDATE courses SET licences_in_use = licences_in_use + 1 WHERE id = new.course_id;
END;
CREATE TRIGGER licence_deleted AFTER DELETE ON licences WHEN old.released_at IS NULL
BEGIN
	UPDATE courses SET licences_in_use = licences_in_use - 1 WHERE id = old.course_id;
END;

-- Custom fields set by a plugin or an operator carry who set them; the
-- directory's own fields have source NULL and are the only ones a sync
-- replaces.
ALTER TABLE person_fields ADD COLUMN source TEXT;

-- Notifications for the learning platform's mailer: rosterd only queues;
-- the mailer sends and sets sent_at. kind: 'invite', 'disabled',
-- 'assigned', or a plugin's own word.
CREATE TABLE outbox (
	id          INTEGER PRIMARY KEY,
	created_at  TEXT NOT NULL,
	run_id      INTEGER REFERENCES sync_runs (id),
	source      TEXT NOT NULL,        -- 'sync', 'operator:<user>', 'plugin:<name>'
	kind        TEXT NOT NULL,
	person_id   INTEGER REFERENCES people (id) ON DELETE CASCADE,
	username    TEXT NOT NULL,        -- at the time
	email       TEXT,                 -- at the time; NULL when the person has none
	course      TEXT,                 -- course code, for 'assigned'
	due         TEXT,
	message     TEXT,
	sent_at     TEXT
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- What the plugins did in each run (their actions are in the audit log as
-- plugin:<name>).
ALTER TABLE sync_runs ADD COLUMN plugin_disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN plugin_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN plugin_archived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN plugin_assigned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN plugin_unassigned INTEGER NOT NULL DEFAULT 0;

-- The run that first missed a person (set with missing_since; NULL when a
-- dry run or a store older than this migration set it). Grace periods count
-- the complete runs from this one: run ids, unlike timestamps of one-second
-- resolution, tell runs of the same second apart. Older marks take the
-- latest run that started at that second: never more runs than there were.
ALTER TABLE people ADD COLUMN missing_run INTEGER;
UPDATE people SET missing_run = (SELECT max(r.id) FROM sync_runs r
	WHERE r.started_at = people.missing_since) WHERE missing_since IS NOT NULL;
