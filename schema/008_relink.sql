-- 008_relink.sql: an account deleted and created again in the directory (a
-- new stable id under the same username) is rejected by every run, as its
-- username belongs to the person of the old entry. A rejected entry now keeps
-- the id it came with (dir_id) and, when its username belongs to a person
-- whose entry the run did not find, that person (held_by), so that
-- `rosterctl user relink USERNAME` can bind the person to the new entry,
-- training records intact (daemon/actions.c: act_relink). Forward-only, like
-- every migration.

ALTER TABLE run_rejects ADD COLUMN dir_id TEXT;
ALTER TABLE run_rejects ADD COLUMN held_by INTEGER REFERENCES people (id) ON DELETE SET NULL;
CREATE INDEX run_rejects_held_by ON run_rejects (held_by);
