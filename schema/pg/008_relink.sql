-- 008_relink.sql, PostgreSQL form of schema/008_relink.sql (which explains
-- it): the same columns, in the same order.
ALTER TABLE run_rejects ADD COLUMN dir_id text;
ALTER TABLE run_rejects ADD COLUMN held_by bigint REFERENCES people (id) ON DELETE SET NULL;
CREATE INDEX run_rejects_held_by ON run_rejects (held_by);
