-- temp_recon.sql: the temporary tables of a sync run (reconcile.c and
-- hierarchy.c), in the connection's own temporary database. Not a migration:
-- nothing here is kept in the store. daemon/recon_priv.h says who writes and
-- who reads each table and what its columns mean. Compiled in by
-- scripts/sqlnames2c.sh, a section a C string (schema_NAME).

-- Every table, made anew by recon_stage_begin() before the directory is read
-- (dropping those of the run before, if the connection still has them).
-- name: recon_tables
DROP TABLE IF EXISTS temp.stage_people;
DROP TABLE IF EXISTS temp.stage_fields;
DROP TABLE IF EXISTS temp.stage_seen;
DROP TABLE IF EXISTS temp.stage_gone;
DROP TABLE IF EXISTS temp.stage_rejects;
DROP TABLE IF EXISTS temp.stage_member_of;
DROP TABLE IF EXISTS temp.stage_primary;
DROP TABLE IF EXISTS temp.stage_groups;
DROP TABLE IF EXISTS temp.stage_member_lists;
DROP TABLE IF EXISTS temp.stage_members;
DROP TABLE IF EXISTS temp.held;
DROP TABLE IF EXISTS temp.unseen;
DROP TABLE IF EXISTS temp.plan;
DROP TABLE IF EXISTS temp.pre_events;
DROP TABLE IF EXISTS temp.hier;
DROP TABLE IF EXISTS temp.want_mgr;
DROP TABLE IF EXISTS temp.resolved;
DROP TABLE IF EXISTS temp.nest;
DROP TABLE IF EXISTS temp.want_edges;
DROP TABLE IF EXISTS temp.want_eff;
DROP TABLE IF EXISTS temp.role_groups;
DROP TABLE IF EXISTS temp.events;

-- staging: what the directory read gave
CREATE TEMP TABLE stage_people (
	seq INTEGER PRIMARY KEY, dir_id TEXT NOT NULL UNIQUE, dn TEXT NOT NULL,
	dn_norm TEXT NOT NULL, username TEXT NOT NULL, username_key TEXT UNIQUE,
	email TEXT, given_name TEXT, family_name TEXT, display_name TEXT,
	employee_number TEXT, department TEXT, location TEXT, title TEXT,
	manager_dn TEXT, secondary_manager_dn TEXT, dir_disabled INTEGER NOT NULL,
	hash INTEGER NOT NULL);
CREATE TEMP TABLE stage_fields (dir_id TEXT NOT NULL, name TEXT NOT NULL,
	value TEXT NOT NULL, PRIMARY KEY (dir_id, name)) WITHOUT ROWID;
CREATE TEMP TABLE stage_seen (dir_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TEMP TABLE stage_gone (dir_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TEMP TABLE stage_rejects (seq INTEGER PRIMARY KEY, dn TEXT NOT NULL,
	reason TEXT NOT NULL, dir_id TEXT, held_by INTEGER);
CREATE TEMP TABLE stage_member_of (dir_id TEXT NOT NULL, group_dn TEXT NOT NULL);
CREATE TEMP TABLE stage_primary (dir_id TEXT NOT NULL, token TEXT NOT NULL,
	is_group INTEGER NOT NULL);
CREATE TEMP TABLE stage_groups (seq INTEGER PRIMARY KEY, dir_id TEXT NOT NULL UNIQUE,
	dn TEXT NOT NULL, dn_norm TEXT NOT NULL, name TEXT NOT NULL, description TEXT,
	partial INTEGER NOT NULL);
CREATE TEMP TABLE stage_member_lists (seq INTEGER PRIMARY KEY, group_dir_id TEXT NOT NULL,
	list BLOB NOT NULL);

-- the plan of the people
CREATE TEMP TABLE stage_members (group_dir_id TEXT NOT NULL, value TEXT NOT NULL);
CREATE TEMP TABLE held (seq INTEGER NOT NULL, dir_id TEXT NOT NULL, dn TEXT NOT NULL,
	reason TEXT NOT NULL, held_by INTEGER);
CREATE TEMP TABLE unseen (person_id INTEGER PRIMARY KEY);
CREATE TEMP TABLE plan (seq INTEGER PRIMARY KEY, action TEXT NOT NULL,
	person_id INTEGER, dir_id TEXT, username TEXT, dn TEXT, reason TEXT, code TEXT,
	fields INTEGER NOT NULL DEFAULT 0, links INTEGER NOT NULL DEFAULT 0);
CREATE TEMP TABLE pre_events (kind INTEGER NOT NULL, person_id INTEGER NOT NULL,
	flags INTEGER NOT NULL DEFAULT 0);

-- managers, groups, memberships and roles
CREATE TEMP TABLE hier (seq INTEGER PRIMARY KEY, action TEXT NOT NULL,
	person_id INTEGER, group_id INTEGER, kind TEXT, old_id INTEGER, new_id INTEGER,
	subject TEXT NOT NULL, detail TEXT);
CREATE TEMP TABLE want_mgr (person_id INTEGER NOT NULL, kind TEXT NOT NULL,
	manager_id INTEGER, dn TEXT NOT NULL, problem TEXT,
	PRIMARY KEY (person_id, kind)) WITHOUT ROWID;
CREATE TEMP TABLE resolved (group_id INTEGER NOT NULL, person_id INTEGER,
	member_group_id INTEGER, from_member_of INTEGER NOT NULL DEFAULT 0);
CREATE TEMP TABLE nest (anc INTEGER NOT NULL, des INTEGER NOT NULL,
	PRIMARY KEY (anc, des)) WITHOUT ROWID;
CREATE TEMP TABLE want_edges (group_id INTEGER NOT NULL, person_id INTEGER,
	member_group_id INTEGER);
CREATE TEMP TABLE want_eff (group_id INTEGER NOT NULL, person_id INTEGER NOT NULL,
	via INTEGER NOT NULL, PRIMARY KEY (group_id, person_id)) WITHOUT ROWID;
CREATE TEMP TABLE role_groups (group_id INTEGER NOT NULL, rank INTEGER NOT NULL);

-- the events for the plugins
CREATE TEMP TABLE events (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL,
	person_id INTEGER, changed TEXT, group_id INTEGER, old_id INTEGER, flags INTEGER,
	via INTEGER);

-- Indexes built only once their table is filled, by the runs that need them
-- (a bulk load and then one sort, rather than a B-tree insert a row).

-- name: recon_members_index
-- stage_members by value, to resolve the values in their own order
CREATE INDEX IF NOT EXISTS temp.stage_members_value ON stage_members (value, group_dir_id);

-- name: recon_member_of_index
-- stage_member_of by person, to find whose memberOf the run read
CREATE INDEX IF NOT EXISTS temp.stage_member_of_id ON stage_member_of (dir_id);

-- name: recon_resolved_index
-- resolved person by person, to find memberOf values nesting explains
CREATE INDEX IF NOT EXISTS temp.resolved_person ON resolved (person_id, group_id);

-- name: recon_edges_index
CREATE INDEX IF NOT EXISTS temp.want_edges_p ON want_edges (group_id, person_id);
CREATE INDEX IF NOT EXISTS temp.want_edges_g ON want_edges (group_id, member_group_id);

-- name: recon_eff_index
-- want_eff person by person (sync_membership)
CREATE INDEX IF NOT EXISTS temp.want_eff_person ON want_eff (person_id, group_id, via);
