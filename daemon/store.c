/*
 * store.c: the learning store, an SQLite file shared with the learning
 * platform: opening it (WAL, foreign keys, busy timeout), the numbered schema
 * migrations compiled in from schema/NNN_*.sql, transactions, and the record of
 * each sync run. This file knows SQL and nothing of LDAP; it logs nothing.
 */
#include "rosterd.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const char *const schema_migrations[];
extern const int schema_count;

struct store {
	sqlite3 *db;
	int busy_timeout;   /* ms */
	char errbuf[1024];
};

/* How long the checkpoint after a run may wait for readers to leave the WAL;
 * the platform's writers wait as long (they need the write lock it holds). */
#define CHECKPOINT_WAIT_MS 250

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

const char *
store_errmsg(struct store *st)
{
	const char *path = sqlite3_db_filename(st->db, "main");

	if (path == NULL || path[0] == '\0')
		return sqlite3_errmsg(st->db);
	snprintf(st->errbuf, sizeof(st->errbuf), "%s: %s", path, sqlite3_errmsg(st->db));
	return st->errbuf;
}

int
store_latest_version(void)
{
	return schema_count;
}

int
store_exec(struct store *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *s = NULL;
	int r = -EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		r = 0;
	}
	sqlite3_finalize(s);
	return r;
}

int
store_schema_version(struct store *st)
{
	int v = -1;

	user_version(st->db, &v);
	return v;
}

int
store_migrate(struct store *st, char *err, size_t errlen)
{
	bool own_txn = !store_in_txn(st);
	char sql[64];
	int v, r;

	if (user_version(st->db, &v) < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", store_errmsg(st));
		return -EIO;
	}
	if (v > schema_count) {
		snprintf(err, errlen, "the store has schema version %d, newer than this rosterd "
			 "knows (%d): use a newer rosterd", v, schema_count);
		return -EPROTO;
	}
	if (v == schema_count)
		return 0;
	if (own_txn && (r = store_begin(st)) < 0) {
		snprintf(err, errlen, "cannot lock the store to migrate it: %s", store_errmsg(st));
		return r;
	}
	/* Another process may have migrated it while we waited for the lock. */
	if (user_version(st->db, &v) < 0)
		goto fail;
	for (int i = v; i < schema_count; i++) {
		char *msg = NULL;
		if (sqlite3_exec(st->db, schema_migrations[i], NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "schema migration %03d failed: %s", i + 1,
				 msg ? msg : store_errmsg(st));
			sqlite3_free(msg);
			if (own_txn)
				store_rollback(st);
			return -EIO;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", schema_count);
	if (store_exec(st, sql) < 0 || (own_txn && store_commit(st) < 0))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "schema migration failed: %s", store_errmsg(st));
	if (own_txn)
		store_rollback(st);
	return -EIO;
}

int
store_open(const char *path, int busy_timeout_ms, int flags, struct store **out,
	   char *err, size_t errlen)
{
	struct store *st;
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int r;

	if (sqlite3_libversion_number() < 3033000) {
		snprintf(err, errlen, "SQLite %s is too old: 3.33 or newer is needed",
			 sqlite3_libversion());
		return -ENOTSUP;
	}
	if ((flags & STORE_NOCREATE) && access(path, F_OK) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (!(flags & STORE_NOCREATE))
		oflags |= SQLITE_OPEN_CREATE;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "cannot open");
		r = -EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, busy_timeout_ms);
	st->busy_timeout = busy_timeout_ms;
	/* FULL costs one fsync per run (one transaction a run) and keeps the
	 * last run even across a power cut. The caches bound memory: 6 MiB for
	 * the store, which is also what a sort may hold before it spills to a
	 * file, and 4 MiB for the staging tables (temp; SQLite's default is 2).
	 * At 100k people with groups this is 28 MiB peak instead of 32 with
	 * 8 + 2, in the same time. */
	if (store_exec(st, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
		       "PRAGMA cache_size = -6144; PRAGMA temp.cache_size = -4096;"
		       "PRAGMA temp_store = FILE;"
		       /* a WAL reset by a writer after a full checkpoint is cut back to 4 MiB */
		       "PRAGMA journal_size_limit = 4194304") < 0) {
		snprintf(err, errlen, "%s: %s", path, store_errmsg(st));
		r = -EIO;
		goto fail;
	}
	/* A no-op on a store that is already in WAL mode. */
	if (store_exec(st, "PRAGMA journal_mode = WAL") < 0) {
		snprintf(err, errlen, "%s: cannot use WAL mode: %s", path, store_errmsg(st));
		r = -EIO;
		goto fail;
	}
	if (flags & STORE_SAMESCHEMA) {
		int v = store_schema_version(st);
		if (v != schema_count) {
			snprintf(err, errlen, "%s: schema version %d, this program knows %d%s", path,
				 v, schema_count, v < schema_count ?
				 " (the next run of rosterd migrates it)" : ": use a newer one");
			r = -EPROTO;
			goto fail;
		}
	} else if (!(flags & STORE_NOMIGRATE)) {
		if ((r = store_migrate(st, err, errlen)) < 0)
			goto fail;
	} else if (store_schema_version(st) > schema_count) {
		snprintf(err, errlen, "%s: schema version %d is newer than this rosterd "
			 "knows (%d)", path, store_schema_version(st), schema_count);
		r = -EPROTO;
		goto fail;
	}
	*out = st;
	return 0;
fail:
	sqlite3_close(st->db);
	free(st);
	return r;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close_v2(st->db);
	free(st);
}

int
store_begin(struct store *st)
{
	return store_exec(st, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *st)
{
	return store_exec(st, "COMMIT");
}

int
store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;
	return store_exec(st, "ROLLBACK");
}

int
store_checkpoint(struct store *st)
{
	int rc;

	/* Short readers come and go: a few tries find a moment with none. */
	sqlite3_busy_timeout(st->db, CHECKPOINT_WAIT_MS);
	for (int i = 0; i < 4; i++) {
		rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY)
			break;
	}
	sqlite3_busy_timeout(st->db, st->busy_timeout);
	return rc == SQLITE_OK ? 0 : (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
}

bool
store_in_txn(struct store *st)
{
	return !sqlite3_get_autocommit(st->db);
}

/* ---- runs --------------------------------------------------------------- */

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
	sqlite3_stmt *s = NULL;
	int r = -EIO;

	if (sqlite3_prepare_v2(st->db, "INSERT INTO sync_runs (started_at, outcome) "
			       "VALUES (?, 'running')", -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_DONE) {
		*id = sqlite3_last_insert_rowid(st->db);
		r = 0;
	}
	sqlite3_finalize(s);
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
		"plugin_archived = ?30, plugin_assigned = ?31, plugin_unassigned = ?32 "
		"WHERE id = ?1";
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
	sqlite3_stmt *s = NULL;
	char now[21];
	int r = -EIO;

	time_now_iso(now);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, rr->id);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(s, 3, rr->duration);
	sqlite3_bind_text(s, 4, run_outcome_name(rr->outcome), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, rr->uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, rr->error, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, rr->digest, -1, SQLITE_STATIC);
	if (rr->groups_complete >= 0)
		sqlite3_bind_int(s, 8, rr->groups_complete);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		sqlite3_bind_int64(s, 9 + (int)i, counts[i]);
	if (sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(st->db) == 1)
		r = 0;
	sqlite3_finalize(s);
	return r;
}

int
store_run_use_approval(struct store *st, const char *digest, long long run_id)
{
	sqlite3_stmt *s = NULL;
	int r = -EIO;

	/* Only the latest held run's approval counts, and only while no run
	 * has succeeded since: an old approval never lets a later plan through. */
	static const char pick[] =
		"SELECT id FROM (SELECT * FROM sync_runs WHERE outcome = 'held' "
		" ORDER BY id DESC LIMIT 1) h WHERE h.plan_digest = ?1 "
		" AND h.approved_at IS NOT NULL AND h.approval_used_by IS NULL "
		" AND NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.id > h.id "
		"  AND r.outcome IN ('ok', 'incomplete'))";
	long long held;

	if (sqlite3_prepare_v2(st->db, pick, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, digest, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	held = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	s = NULL;
	if (r != SQLITE_ROW)
		return r == SQLITE_DONE ? 0 : -EIO;
	if (run_id <= 0)
		return 1;
	if (sqlite3_prepare_v2(st->db, "UPDATE sync_runs SET approval_used_by = ?2 WHERE id = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, held);
	sqlite3_bind_int64(s, 2, run_id);
	r = sqlite3_step(s) == SQLITE_DONE ? 1 : -EIO;
	sqlite3_finalize(s);
	return r;
}

int
store_runs_mark_crashed(struct store *st)
{
	return store_exec(st, "UPDATE sync_runs SET outcome = 'failed', "
			  "error = 'the run did not finish: the process ended, or could not "
			  "record its outcome' WHERE outcome = 'running'");
}

/* ---- key/value state ------------------------------------------------------ */

int
store_state_get(struct store *st, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	int r;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT coalesce(value, '') FROM state WHERE key = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		size_t n = strlen(v);

		if (n >= len || n > INT_MAX) {
			r = -ENOSPC;
		} else {
			memcpy(buf, v, n + 1);
			r = (int)n;
		}
	} else {
		r = r == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_finalize(s);
	return r;
}

int
store_state_put(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (sqlite3_prepare_v2(st->db, value ? "INSERT OR REPLACE INTO state (key, value) "
			       "VALUES (?1, ?2)" : "DELETE FROM state WHERE key = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (value != NULL)
		sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(s);
	return r;
}
