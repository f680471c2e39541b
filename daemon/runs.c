/*
 * runs.c: the record of each sync run (the sync_runs table) and the
 * approvals of held runs, through the store's statement API. It logs nothing.
 */
#include "runs.h"
#include "util.h"

#include <errno.h>

static const char *const outcome_names[] = {
	[RUN_RUNNING] = "running",
	[RUN_OK] = "ok",
	[RUN_INCOMPLETE] = "incomplete",
	[RUN_HELD] = "held",
	[RUN_FAILED] = "failed",
};

const char *
run_outcome_name(enum run_outcome o)
{
	return outcome_names[o];
}

int
store_run_start(struct store *st, const char *now, long long *id)
{
	struct stmt *s;
	int r = -EIO;

	if (store_prepare(st, "INSERT INTO sync_runs (started_at, outcome) "
			  "VALUES (?, 'running')", &s) < 0)
		return -EIO;
	stmt_bind_text(s, 1, now);
	if (stmt_run(s) == 1) {
		*id = store_last_id(st);
		r = 0;
	}
	stmt_done(s);
	return r;
}

int
store_run_start_id(struct store *st, const char *now, long long id)
{
	struct stmt *s;
	int r;

	if (store_prepare(st, "INSERT INTO sync_runs (id, started_at, outcome) "
			  "VALUES (?, ?, 'running')", &s) < 0)
		return -EIO;
	stmt_bind_int(s, 1, id);
	stmt_bind_text(s, 2, now);
	r = stmt_run(s) == 1 ? 0 : -EIO;
	stmt_done(s);
	return r;
}

int
store_run_finish(struct store *st, const struct run_rec *rr)
{
	static const char sql[] =
		"UPDATE sync_runs SET finished_at = ?2, duration = ?3, outcome = ?4, "
		"directory_uri = ?5, error = ?6, plan_digest = ?7, groups_complete = ?8, "
		"entries_read = ?9, created = ?10, updated = ?11, renamed = ?12, disabled = ?13, "
		"enabled = ?14, unchanged = ?15, rejected = ?16, manager_changes = ?17, "
		"manager_warnings = ?18, manager_cycles = ?19, groups_read = ?20, "
		"groups_created = ?21, groups_updated = ?22, groups_deleted = ?23, "
		"members_ignored = ?24, memberships_joined = ?25, memberships_left = ?26, "
		"role_changes = ?27, plugin_disabled = ?28, plugin_enabled = ?29, "
		"plugin_archived = ?30, plugin_assigned = ?31, plugin_unassigned = ?32, "
		"kind = ?33 WHERE id = ?1";
	/* The counts, in the order of their parameters from ?9 on. */
	const long long counts[] = {
		rr->entries_read, rr->c.created, rr->c.updated, rr->c.renamed, rr->c.disabled,
		rr->c.enabled, rr->c.unchanged, rr->c.rejected, rr->h.manager_changes,
		rr->h.manager_warnings, rr->h.manager_cycles, rr->h.groups_read,
		rr->h.groups_created, rr->h.groups_updated, rr->h.groups_deleted,
		rr->h.members_ignored, rr->h.joins, rr->h.leaves, rr->h.role_changes,
		rr->pl.disabled, rr->pl.enabled, rr->pl.archived, rr->pl.assigned,
		rr->pl.unassigned,
	};
	_Static_assert(sizeof(counts) / sizeof(counts[0]) == 32 - 9 + 1,
		       "a count for each of ?9 to ?32");
	struct stmt *s;
	char now[21];
	int r;

	time_now_iso(now);
	if (store_prepare(st, sql, &s) < 0)
		return -EIO;
	stmt_bind_int(s, 1, rr->id);
	stmt_bind_text(s, 2, now);
	stmt_bind_double(s, 3, rr->duration);
	stmt_bind_text(s, 4, run_outcome_name(rr->outcome));
	stmt_bind_text(s, 5, rr->uri);
	stmt_bind_text(s, 6, rr->error);
	stmt_bind_text(s, 7, rr->digest);
	if (rr->groups_complete >= 0)
		stmt_bind_int(s, 8, rr->groups_complete);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		stmt_bind_int(s, 9 + (int)i, counts[i]);
	stmt_bind_text(s, 33, rr->kind != NULL ? rr->kind : "full");
	r = stmt_run(s) == 1 ? 0 : -EIO;
	stmt_done(s);
	return r;
}

int
store_run_use_approval(struct store *st, const char *digest, long long run_id)
{
	/* Only the latest held run's approval counts, and only while no run
	 * has succeeded since: an old approval never lets a later plan through. */
	static const char pick[] =
		"SELECT id FROM (SELECT * FROM sync_runs WHERE outcome = 'held' "
		" ORDER BY id DESC LIMIT 1) h WHERE h.plan_digest = ?1 "
		" AND h.approved_at IS NOT NULL AND h.approval_used_by IS NULL "
		" AND NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.id > h.id "
		"  AND r.outcome IN ('ok', 'incomplete'))";
	struct stmt *s;
	long long held = 0;
	int r;

	if (store_prepare(st, pick, &s) < 0)
		return -EIO;
	stmt_bind_text(s, 1, digest);
	r = stmt_step(s);
	if (r == 1)
		held = stmt_int(s, 0);
	stmt_done(s);
	if (r != 1)
		return r == 0 ? 0 : -EIO;
	if (run_id <= 0)
		return 1;
	if (store_prepare(st, "UPDATE sync_runs SET approval_used_by = ?2 WHERE id = ?1", &s) < 0)
		return -EIO;
	stmt_bind_int(s, 1, held);
	stmt_bind_int(s, 2, run_id);
	r = stmt_run(s) < 0 ? -EIO : 1;
	stmt_done(s);
	return r;
}

int
store_runs_window_disables(struct store *st, const char *since, long long *n)
{
	static const char sql[] =
		"SELECT coalesce(sum(disabled + plugin_disabled + plugin_archived), 0) "
		"FROM sync_runs WHERE finished_at >= ?1 AND outcome IN ('ok', 'incomplete') "
		"AND id > coalesce((SELECT max(id) FROM sync_runs "
		"WHERE approved_at IS NOT NULL), 0)";
	struct stmt *s;
	int r;

	if (store_prepare(st, sql, &s) < 0)
		return -EIO;
	stmt_bind_text(s, 1, since);
	if ((r = stmt_step(s)) == 1)
		*n = stmt_int(s, 0);
	stmt_done(s);
	return r == 1 ? 0 : -EIO;
}

int
store_run_approved(struct store *st, long long id)
{
	struct stmt *s;
	int r;

	if (store_prepare(st, "SELECT approved_at IS NOT NULL FROM sync_runs WHERE id = ?1 "
			  "AND outcome = 'held'", &s) < 0)
		return -EIO;
	stmt_bind_int(s, 1, id);
	r = stmt_step(s);
	if (r == 1)
		r = stmt_int(s, 0) != 0;
	stmt_done(s);
	return r;
}

int
store_runs_mark_crashed(struct store *st)
{
	return store_exec(st, "UPDATE sync_runs SET outcome = 'failed', "
			  "error = 'the run did not finish: the process ended, or could not "
			  "record its outcome' WHERE outcome = 'running'");
}
