-- 007_admin.sql, PostgreSQL form of schema/007_admin.sql (which explains
-- it): PostgreSQL changes a CHECK constraint and adds the column in place,
-- so no table is made again; the same columns, in the same order.
ALTER TABLE people ADD COLUMN role_source text NOT NULL DEFAULT 'directory'
	CHECK (role_source IN ('directory', 'operator'));

ALTER TABLE assignments DROP CONSTRAINT assignments_status_check;
ALTER TABLE assignments ADD CONSTRAINT assignments_status_check CHECK (status IN ('pending',
	'waiting', 'enrolled', 'in_progress', 'completed', 'released', 'archived', 'expired'));
ALTER TABLE assignments ADD COLUMN expires text;

DROP INDEX assignments_current;
CREATE INDEX assignments_current ON assignments (person_id, course_id)
	WHERE status NOT IN ('released', 'archived', 'expired');
CREATE INDEX assignments_expiry ON assignments (expires)
	WHERE expires IS NOT NULL AND status IN ('pending', 'waiting', 'enrolled', 'in_progress');
