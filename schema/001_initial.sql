-- 001_initial.sql: the learning store's first schema.
-- Migrations are forward-only and applied in order inside one transaction;
-- PRAGMA user_version records the last one applied. Timestamps are UTC text,
-- RFC 3339 ("2026-11-21T12:00:03Z"). Nothing here deletes a training record:
-- assignments survive disable and archive; only an operator's remove purges.

-- People: one row per directory entry ever synced, keyed by the entry's stable
-- id (entryUUID, nsUniqueId, objectGUID) so renames and moves update in place.
CREATE TABLE people (
	id              INTEGER PRIMARY KEY,
	dir_id          TEXT NOT NULL UNIQUE,
	dn              TEXT NOT NULL,
	dn_norm         TEXT NOT NULL,
	username        TEXT NOT NULL COLLATE NOCASE UNIQUE,
	email           TEXT,
	given_name      TEXT,
	family_name     TEXT,
	display_name    TEXT,
	employee_number TEXT,
	department      TEXT,
	location        TEXT,
	title           TEXT,
	manager_dn      TEXT,             -- normalised DN as the directory says
	secondary_manager_dn TEXT,
	role            TEXT NOT NULL DEFAULT 'learner'
	                CHECK (role IN ('learner', 'manager', 'admin')),
	status          TEXT NOT NULL
	                CHECK (status IN ('invited', 'active', 'disabled', 'archived')),
	-- why the account is disabled: 'missing' (not in the directory),
	-- 'directory' (disabled there), 'operator', or a plugin's name
	status_reason   TEXT,
	-- the status to go back to on enable/restore ('invited' or 'active')
	prev_status     TEXT CHECK (prev_status IN ('invited', 'active')),
	dir_disabled    INTEGER NOT NULL DEFAULT 0 CHECK (dir_disabled IN (0, 1)),
	-- hash of what the directory said (DN, fields, custom fields, flag), so an
	-- unchanged entry is recognised without comparing every column
	src_hash        INTEGER NOT NULL DEFAULT 0,
	missing_since   TEXT,             -- first complete run that did not see it
	member_since    TEXT NOT NULL,
	status_changed_at TEXT NOT NULL,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
);
-- Manager DNs are resolved by normalised DN. Filters on status, location or
-- department scan: cheaper than keeping three more indexes on every write.
CREATE INDEX people_dn_norm ON people (dn_norm);

-- Custom fields (config ldap.attributes.custom): name -> value per person.
CREATE TABLE person_fields (
	person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	value     TEXT NOT NULL,
	PRIMARY KEY (person_id, name)
) WITHOUT ROWID;

-- Managers resolved from manager_dn / secondary_manager_dn.
CREATE TABLE person_managers (
	person_id  INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	kind       TEXT NOT NULL CHECK (kind IN ('primary', 'secondary')),
	manager_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	PRIMARY KEY (person_id, kind)
) WITHOUT ROWID;
CREATE INDEX person_managers_manager ON person_managers (manager_id);

-- Groups, keyed by their stable id like people.
CREATE TABLE groups (
	id          INTEGER PRIMARY KEY,
	dir_id      TEXT NOT NULL UNIQUE,
	dn          TEXT NOT NULL,
	dn_norm     TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT,
	present     INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0, 1)),
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
CREATE INDEX groups_dn_norm ON groups (dn_norm);
CREATE INDEX groups_name ON groups (name);

-- Direct membership edges as the directory states them: a person or a group.
CREATE TABLE group_members (
	group_id        INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	person_id       INTEGER REFERENCES people (id) ON DELETE CASCADE,
	member_group_id INTEGER REFERENCES groups (id) ON DELETE CASCADE,
	CHECK ((person_id IS NULL) != (member_group_id IS NULL))
);
CREATE UNIQUE INDEX group_members_person ON group_members (group_id, person_id)
	WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX group_members_group ON group_members (group_id, member_group_id)
	WHERE member_group_id IS NOT NULL;

-- Effective membership (nesting flattened), with the group it came through.
CREATE TABLE group_membership (
	group_id     INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	via_group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	since        TEXT NOT NULL,
	PRIMARY KEY (group_id, person_id)
) WITHOUT ROWID;
CREATE INDEX group_membership_person ON group_membership (person_id);

-- Courses and their licence pools (licence_limit NULL: unlimited).
CREATE TABLE courses (
	id            INTEGER PRIMARY KEY,
	code          TEXT NOT NULL UNIQUE,
	title         TEXT,
	licence_limit INTEGER CHECK (licence_limit IS NULL OR licence_limit >= 0),
	created_at    TEXT NOT NULL
);

-- Assignments: the training record. 'pending' waits for the person to become
-- active, 'waiting' for a licence; 'archived' is a finished cycle of a
-- recurring course. Rows are never deleted except by an operator's remove.
CREATE TABLE assignments (
	id           INTEGER PRIMARY KEY,
	person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	course_id    INTEGER NOT NULL REFERENCES courses (id),
	status       TEXT NOT NULL CHECK (status IN ('pending', 'waiting', 'enrolled',
	             'in_progress', 'completed', 'released', 'archived')),
	source       TEXT NOT NULL,       -- 'operator', 'plugin:<name>'
	assigned_at  TEXT NOT NULL,
	due          TEXT,
	started_at   TEXT,
	completed_at TEXT,
	progress     INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100)
);
CREATE INDEX assignments_person ON assignments (person_id);
CREATE INDEX assignments_course ON assignments (course_id, status);

-- Licences held: one row per enrolment that uses a course's licence.
CREATE TABLE licences (
	id            INTEGER PRIMARY KEY,
	course_id     INTEGER NOT NULL REFERENCES courses (id),
	assignment_id INTEGER NOT NULL UNIQUE REFERENCES assignments (id) ON DELETE CASCADE,
	granted_at    TEXT NOT NULL,
	released_at   TEXT
);
CREATE INDEX licences_course ON licences (course_id) WHERE released_at IS NULL;

-- One row per sync run.
CREATE TABLE sync_runs (
	id            INTEGER PRIMARY KEY,
	started_at    TEXT NOT NULL,
	finished_at   TEXT,
	duration      REAL,
	outcome       TEXT NOT NULL CHECK (outcome IN
	              ('running', 'ok', 'incomplete', 'held', 'failed')),
	directory_uri TEXT,
	entries_read  INTEGER NOT NULL DEFAULT 0,
	created       INTEGER NOT NULL DEFAULT 0,
	updated       INTEGER NOT NULL DEFAULT 0,
	renamed       INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0,
	enabled       INTEGER NOT NULL DEFAULT 0,
	unchanged     INTEGER NOT NULL DEFAULT 0,
	rejected      INTEGER NOT NULL DEFAULT 0,
	error         TEXT,
	plan_digest   TEXT,                -- of a held run's disables
	approved_at   TEXT,
	approved_by   TEXT,
	approval_used_by INTEGER REFERENCES sync_runs (id)
);

-- Entries a run could not take, and why (username collision, no username...).
CREATE TABLE run_rejects (
	run_id INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
	dn     TEXT NOT NULL,
	reason TEXT NOT NULL
);
CREATE INDEX run_rejects_run ON run_rejects (run_id);

-- Every change with who made it: 'sync', 'plugin:<name>', 'operator:<user>'.
CREATE TABLE audit_log (
	id        INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,
	run_id    INTEGER REFERENCES sync_runs (id),
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	person_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
	subject   TEXT NOT NULL,          -- username or DN at the time
	detail    TEXT
);
CREATE INDEX audit_log_person ON audit_log (person_id);
CREATE INDEX audit_log_run ON audit_log (run_id);

-- Small key/value state (sync cookies, schema notes).
CREATE TABLE state (
	key   TEXT PRIMARY KEY,
	value TEXT
) WITHOUT ROWID;
