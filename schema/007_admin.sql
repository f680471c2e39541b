-- 007_admin.sql: what the learning platform's admins set by hand: access
-- that expires, and roles pinned by an operator. Forward-only, like every
-- migration. Nothing here deletes a training record: the assignments and
-- licences are copied, every row and id kept, into tables of the new shape.

-- Where a person's role comes from: 'directory' (the sync works it out
-- from the role groups and direct reports) or 'operator' (pinned with
-- rosterctl user role; no sync changes it until it is given back).
ALTER TABLE people ADD COLUMN role_source TEXT NOT NULL DEFAULT 'directory'
	CHECK (role_source IN ('directory', 'operator'));

-- Assignments gain expires (YYYY-MM-DD, the last day of access; NULL:
-- never) and the status 'expired': access ended while the training was
-- unfinished. An expired assignment is not current, like a released or an
-- archived one; its record is kept. A CHECK constraint cannot be altered in
-- place, so the table is made again with its rows and ids. licences refers
-- to it: with foreign keys on (they are, and cannot be turned off inside the
-- migration's transaction), dropping the old table would delete every
-- licence with it, and renaming it would take licences' reference along. So
-- licences is made again first, referring to the new table, and the old
-- licences go before the old assignments.
CREATE TABLE assignments_new (
	id           INTEGER PRIMARY KEY,
	person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	course_id    INTEGER NOT NULL REFERENCES courses (id),
	status       TEXT NOT NULL CHECK (status IN ('pending', 'waiting', 'enrolled',
	             'in_progress', 'completed', 'released', 'archived', 'expired')),
	source       TEXT NOT NULL,
	assigned_at  TEXT NOT NULL,
	due          TEXT,
	started_at   TEXT,
	completed_at TEXT,
	progress     INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
	recur_days   INTEGER CHECK (recur_days IS NULL OR recur_days > 0),
	ended_at     TEXT,
	expires      TEXT
);
INSERT INTO assignments_new (id, person_id, course_id, status, source, assigned_at, due,
	started_at, completed_at, progress, recur_days, ended_at)
	SELECT id, person_id, course_id, status, source, assigned_at, due, started_at,
	completed_at, progress, recur_days, ended_at FROM assignments;
CREATE TABLE licences_new (
	id            INTEGER PRIMARY KEY,
	course_id     INTEGER NOT NULL REFERENCES courses (id),
	assignment_id INTEGER NOT NULL UNIQUE REFERENCES assignments_new (id) ON DELETE CASCADE,
	granted_at    TEXT NOT NULL,
	released_at   TEXT
);
INSERT INTO licences_new (id, course_id, assignment_id, granted_at, released_at)
	SELECT id, course_id, assignment_id, granted_at, released_at FROM licences;
-- Its triggers go with the old licences (a dropped table's rows fire none).
DROP TABLE licences;
DROP TABLE assignments;
ALTER TABLE assignments_new RENAME TO assignments;
ALTER TABLE licences_new RENAME TO licences;

CREATE INDEX assignments_person ON assignments (person_id);
CREATE INDEX assignments_course ON assignments (course_id, status);
CREATE INDEX assignments_current ON assignments (person_id, course_id)
	WHERE status NOT IN ('released', 'archived', 'expired');
CREATE INDEX assignments_queue ON assignments (course_id, assigned_at, id)
	WHERE status IN ('pending', 'waiting');
-- What each run reads to expire access: the unfinished assignments that
-- have an end.
CREATE INDEX assignments_expiry ON assignments (expires)
	WHERE expires IS NOT NULL AND status IN ('pending', 'waiting', 'enrolled', 'in_progress');
CREATE INDEX licences_course ON licences (course_id) WHERE released_at IS NULL;

-- courses.licences_in_use, kept as migration 003 keeps it.
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
