-- 002_groups.sql: what a run did to the reporting tree, the groups and the
-- roles, counted in its record.
ALTER TABLE sync_runs ADD COLUMN manager_changes INTEGER NOT NULL DEFAULT 0;
-- manager values that gave no manager: matching nobody, outside the synced
-- people, or the person themself
ALTER TABLE sync_runs ADD COLUMN manager_warnings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN manager_cycles INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN groups_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN groups_created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN groups_updated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN groups_deleted INTEGER NOT NULL DEFAULT 0;
-- member values that are not synced people or groups (contacts, other OUs)
ALTER TABLE sync_runs ADD COLUMN members_ignored INTEGER NOT NULL DEFAULT 0;
-- effective membership: joins and leaves
ALTER TABLE sync_runs ADD COLUMN memberships_joined INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN memberships_left INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN role_changes INTEGER NOT NULL DEFAULT 0;
-- whether the group search was complete (NULL: groups not synced)
ALTER TABLE sync_runs ADD COLUMN groups_complete INTEGER;
