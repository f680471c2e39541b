-- 002_groups.sql, PostgreSQL form of schema/002_groups.sql.
ALTER TABLE sync_runs ADD COLUMN manager_changes bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN manager_warnings bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN manager_cycles bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN groups_read bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN groups_created bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN groups_updated bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN groups_deleted bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN members_ignored bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN memberships_joined bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN memberships_left bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN role_changes bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN groups_complete bigint;
