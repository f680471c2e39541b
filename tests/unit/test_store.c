/*
 * test_store.c: store_open() makes a fresh file with every migration applied,
 * in WAL mode with foreign keys on; refuses a store newer than it knows; and
 * the run records behave as the safety threshold needs; migrating an older
 * store keeps its training records.
 */
#include <errno.h>
#include "unit.h"
#include "schema.h"

/* Only to play another process writing the file (the platform, an older
 * or newer rosterd): rosterd's own reads go through the store API. */
#include <sqlite3.h>

struct fixture {
	char *dir;
	char path[600];
	char err[1024];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->dir = tmpdir_make();
	snprintf(fx->path, sizeof(fx->path), "%s/learning.db", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(fx->st);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static long long
scalar(struct store *st, const char *sql)
{
	struct stmt *s = NULL;
	long long v = -1;

	assert_int_equal(store_prepare(st, sql, &s), 0);
	if (stmt_step(s) == 1)
		v = stmt_int(s, 0);
	stmt_done(s);
	return v;
}

static const char *
text(struct store *st, const char *sql, char *buf, size_t len)
{
	struct stmt *s = NULL;

	buf[0] = '\0';
	assert_int_equal(store_prepare(st, sql, &s), 0);
	if (stmt_step(s) == 1 && stmt_text(s, 0))
		snprintf(buf, len, "%s", stmt_text(s, 0));
	stmt_done(s);
	return buf;
}

static void
test_fresh_file(void **state)
{
	struct fixture *fx = *state;
	static const char *const tables[] = {
		"people", "person_fields", "person_managers", "groups", "group_members",
		"group_membership", "courses", "assignments", "licences", "sync_runs",
		"run_rejects", "audit_log", "state",
	};
	char buf[64], sql[200];

	assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_schema_version(fx->st), store_latest_version());
	assert_true(store_latest_version() >= 1);
	assert_string_equal(text(fx->st, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
	assert_int_equal(scalar(fx->st, "PRAGMA foreign_keys"), 1);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
			 "AND name = '%s'", tables[i]);
		if (scalar(fx->st, sql) != 1)
			fail_msg("table %s is missing", tables[i]);
	}
	assert_int_equal(scalar(fx->st, "SELECT count(*) FROM pragma_integrity_check "
				"WHERE integrity_check <> 'ok'"), 0);
	/* opening again changes nothing */
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(store_open(fx->path, 1000, STORE_NOCREATE, &fx->st, fx->err,
				    sizeof(fx->err)), 0);
	assert_int_equal(store_schema_version(fx->st), store_latest_version());
}

static void
test_foreign_keys_enforced(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), 0);
	/* a custom field of nobody is refused */
	assert_int_not_equal(store_exec(fx->st, "INSERT INTO person_fields VALUES (42, 'a', 'b')"), 0);
	/* a status outside the state machine is refused */
	assert_int_not_equal(store_exec(fx->st,
		"INSERT INTO people (dir_id, dn, dn_norm, username, status, member_since, "
		"status_changed_at, created_at, updated_at) VALUES ('i', 'd', 'd', 'u', 'gone', "
		"'t', 't', 't', 't')"), 0);
}

/* The key/value state: absent, set, replaced, too long for the buffer,
 * deleted. */
static void
test_state_values(void **state)
{
	struct fixture *fx = *state;
	char buf[8];

	assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_state_get(fx->st, "k", buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "");
	assert_int_equal(store_state_put(fx->st, "k", "abc"), 0);
	assert_int_equal(store_state_get(fx->st, "k", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(store_state_put(fx->st, "k", "1234567"), 0);
	assert_int_equal(store_state_get(fx->st, "k", buf, sizeof(buf)), 7);
	assert_string_equal(buf, "1234567");
	assert_int_equal(store_state_put(fx->st, "k", "12345678"), 0);
	assert_int_equal(store_state_get(fx->st, "k", buf, sizeof(buf)), -ENOSPC);
	assert_int_equal(store_state_get(fx->st, "other", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(store_state_put(fx->st, "k", NULL), 0);
	assert_int_equal(store_state_get(fx->st, "k", buf, sizeof(buf)), -ENOENT);
}

/* Add person id (a row people takes as the sync writes it). */
static void
add_person(struct store *st, long long id)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO people (id, dir_id, dn, dn_norm, username, "
		 "username_key, status, member_since, status_changed_at, created_at, updated_at) "
		 "VALUES (%lld, 'i%lld', 'uid=u%lld', 'uid=u%lld', 'u%lld', 'u%lld', 'invited', "
		 "'t', 't', 't', 't')", id, id, id, id, id, id);
	assert_int_equal(store_exec(st, sql), 0);
}

static const char *const bulk_indexes[] = { "people_dn_norm", "audit_log_person", NULL };

/* In a bulk load, references are not checked a row at a time; the commit
 * checks them all and refuses, naming the first that points nowhere; the
 * rollback leaves the store as it was, indexes, checks and WAL back. */
static void
test_bulk_commit_checks_references(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = {
		"INSERT INTO person_fields VALUES (42, 'a', 'b', NULL)",          /* past the last */
		"INSERT INTO audit_log (at, actor, action, person_id, subject) "
		"VALUES ('t', 'sync', 'create', 2.5, 'x')",                       /* no such id */
		"INSERT INTO group_members (group_id, person_id) VALUES (7, 1)",  /* no group */
	};
	char buf[64];

	assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(store_bulk_begin(fx->st, bulk_indexes), 0);
		assert_true(store_in_bulk(fx->st));
		assert_int_equal(scalar(fx->st, "PRAGMA foreign_keys"), 0);
		assert_string_equal(text(fx->st, "PRAGMA journal_mode", buf, sizeof(buf)), "delete");
		assert_int_equal(scalar(fx->st, "SELECT count(*) FROM sqlite_schema WHERE name "
					"IN ('people_dn_norm', 'audit_log_person')"), 0);
		for (long long id = 1; id <= 3; id++)
			add_person(fx->st, id);
		assert_int_equal(store_exec(fx->st, bad[i]), 0);
		assert_int_equal(store_commit(fx->st), -EIO);
		assert_true(store_in_txn(fx->st));
		assert_non_null(strstr(store_errmsg(fx->st), "refers to no row of"));
		assert_int_equal(store_rollback(fx->st), 0);
		assert_false(store_in_bulk(fx->st));
		assert_int_equal(scalar(fx->st, "SELECT count(*) FROM people"), 0);
		assert_int_equal(scalar(fx->st, "SELECT count(*) FROM sqlite_schema WHERE name "
					"IN ('people_dn_norm', 'audit_log_person')"), 2);
		assert_int_equal(scalar(fx->st, "PRAGMA foreign_keys"), 1);
		assert_string_equal(text(fx->st, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
	}
	/* ids with a gap: checked value by value (3 is not there, 5 is) */
	assert_int_equal(store_bulk_begin(fx->st, bulk_indexes), 0);
	add_person(fx->st, 1);
	add_person(fx->st, 5);
	assert_int_equal(store_exec(fx->st, "INSERT INTO person_fields VALUES (5, 'a', 'b', NULL)"), 0);
	assert_int_equal(store_exec(fx->st, "INSERT INTO person_fields VALUES (3, 'a', 'b', NULL)"), 0);
	assert_int_equal(store_commit(fx->st), -EIO);
	assert_non_null(strstr(store_errmsg(fx->st), "person_fields.person_id 3 refers"));
	assert_int_equal(store_rollback(fx->st), 0);
}

/* A bulk load that holds: committed, with every index built again, and
 * references checked row by row again after it; back in WAL mode at the
 * checkpoint. Another connection keeps the store in WAL mode throughout.
 * Index names that do not exist, and a transaction already open, are
 * refused. */
static void
test_bulk_load_commits(void **state)
{
	struct fixture *fx = *state;
	static const char *const missing[] = { "no_such_index", NULL };
	sqlite3 *other = NULL;
	char buf[64];

	assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_bulk_begin(fx->st, bulk_indexes), 0);
	for (long long id = 1; id <= 100; id++)
		add_person(fx->st, id);
	assert_int_equal(store_exec(fx->st, "INSERT INTO person_fields SELECT id, 'a', 'b', NULL "
				    "FROM people"), 0);
	assert_int_equal(store_bulk_index(fx->st, "people"), 0);
	assert_int_equal(scalar(fx->st, "SELECT count(*) FROM sqlite_schema WHERE name = "
				"'people_dn_norm'"), 1);
	assert_int_equal(store_commit(fx->st), 0);
	assert_false(store_in_bulk(fx->st));
	assert_int_equal(scalar(fx->st, "SELECT count(*) FROM sqlite_schema WHERE name "
				"IN ('people_dn_norm', 'audit_log_person')"), 2);
	assert_int_equal(scalar(fx->st, "SELECT count(*) FROM person_fields"), 100);
	assert_int_equal(scalar(fx->st, "PRAGMA foreign_keys"), 1);
	assert_int_not_equal(store_exec(fx->st, "INSERT INTO person_fields VALUES (420, 'a', 'b', "
					"NULL)"), 0);
	assert_int_equal(store_checkpoint(fx->st), 0);
	assert_string_equal(text(fx->st, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");

	assert_int_equal(sqlite3_open(fx->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "SELECT count(*) FROM people", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_bulk_begin(fx->st, bulk_indexes), 0);
	assert_string_equal(text(fx->st, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
	assert_int_equal(store_rollback(fx->st), 0);
	sqlite3_close(other);

	assert_int_equal(store_bulk_begin(fx->st, missing), -ENOENT);
	assert_int_equal(store_rollback(fx->st), 0);
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(store_bulk_begin(fx->st, bulk_indexes), -EINVAL);
	assert_int_equal(store_rollback(fx->st), 0);
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), -EPROTO);
	assert_non_null(strstr(fx->err, "schema version 999, newer than this rosterd knows"));
	assert_null(fx->st);
}

static void
test_sameschema(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db;

	/* rosterctl never migrates: an older store is refused, with the remedy */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(fx->path, 1000, STORE_NOCREATE | STORE_SAMESCHEMA, &fx->st,
				    fx->err, sizeof(fx->err)), -EPROTO);
	assert_non_null(strstr(fx->err, "schema version 0, this program knows"));
	assert_non_null(strstr(fx->err, "the next run of rosterd migrates it"));
}

static void
test_nocreate(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(store_open(fx->path, 1000, STORE_NOCREATE, &fx->st, fx->err,
				    sizeof(fx->err)), -ENOENT);
	assert_int_equal(access(fx->path, F_OK), -1);
}

static void
test_nomigrate_then_migrate_in_txn(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db;

	/* an empty file: a dry run migrates inside a transaction it rolls back */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(fx->path, 1000, STORE_NOMIGRATE, &fx->st, fx->err,
				    sizeof(fx->err)), 0);
	assert_int_equal(store_schema_version(fx->st), 0);
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(store_migrate(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_schema_version(fx->st), store_latest_version());
	assert_int_equal(store_rollback(fx->st), 0);
	assert_int_equal(store_schema_version(fx->st), 0);
}

/* A store of schema 006 with people, assignments and licences, written as
 * an older rosterd left it: migration 007 makes assignments and licences
 * again and keeps every row, id, licence count and cascade. */
static void
test_migration_007_keeps_records(void **state)
{
	static const char rows[] =
		"INSERT INTO people (id, dir_id, dn, dn_norm, username, username_key, status, "
		" role, member_since, status_changed_at, created_at, updated_at) VALUES "
		" (1, 'a', 'uid=a', 'uid=a', 'a', 'a', 'active', 'admin', 't', 't', 't', 't'),"
		" (2, 'b', 'uid=b', 'uid=b', 'b', 'b', 'active', 'learner', 't', 't', 't', 't');"
		"INSERT INTO courses (id, code, licence_limit, created_at) VALUES (1, 'C', 5, 't');"
		"INSERT INTO assignments (id, person_id, course_id, status, source, assigned_at, due, "
		" started_at, completed_at, progress, recur_days, ended_at) VALUES "
		" (10, 1, 1, 'completed', 'operator:x', 't1', '2026-01-01', 's', 'c', 100, 365, NULL),"
		" (11, 2, 1, 'enrolled', 'plugin:y', 't2', NULL, NULL, NULL, 0, NULL, NULL),"
		" (12, 2, 1, 'released', 'plugin:y', 't0', NULL, NULL, NULL, 0, NULL, 'e');"
		"INSERT INTO licences (id, course_id, assignment_id, granted_at, released_at) VALUES "
		" (20, 1, 10, 'g1', NULL), (21, 1, 11, 'g2', NULL), (22, 1, 12, 'g0', 'r0');";
	struct fixture *fx = *state;
	char buf[512];
	sqlite3 *db;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON; BEGIN", NULL, NULL, NULL),
			 SQLITE_OK);
	for (int i = 0; i < 6; i++)
		assert_int_equal(sqlite3_exec(db, schema_migrations[i], NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 6; COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_schema_version(fx->st), schema_count);   /* 007 and what follows */
	assert_string_equal(text(fx->st, "SELECT group_concat(x, ';') FROM (SELECT id || ',' || "
				 "person_id || ',' || status || ',' || source || ',' || assigned_at || ',' || "
				 "coalesce(due, '-') || ',' || progress || ',' || coalesce(recur_days, '-') || "
				 "',' || coalesce(ended_at, '-') || ',' || coalesce(expires, '-') AS x "
				 "FROM assignments ORDER BY id)", buf, sizeof(buf)),
			    "10,1,completed,operator:x,t1,2026-01-01,100,365,-,-;"
			    "11,2,enrolled,plugin:y,t2,-,0,-,-,-;12,2,released,plugin:y,t0,-,0,-,e,-");
	assert_string_equal(text(fx->st, "SELECT group_concat(id || ',' || assignment_id || ',' || "
				 "coalesce(released_at, '-'), ';') FROM licences", buf, sizeof(buf)),
			    "20,10,-;21,11,-;22,12,r0");
	assert_int_equal(scalar(fx->st, "SELECT licences_in_use FROM courses"), 2);
	assert_string_equal(text(fx->st, "SELECT group_concat(role_source) FROM people", buf,
				 sizeof(buf)), "directory,directory");
	/* the new status, and the licences' triggers and cascade on the new table */
	assert_int_equal(store_exec(fx->st, "UPDATE assignments SET status = 'expired' WHERE id = 11; "
				    "UPDATE licences SET released_at = 'r' WHERE id = 21"), 0);
	assert_int_equal(scalar(fx->st, "SELECT licences_in_use FROM courses"), 1);
	assert_int_equal(store_exec(fx->st, "DELETE FROM people WHERE id = 1"), 0);
	assert_int_equal(scalar(fx->st, "SELECT count(*) FROM licences"), 2);
	assert_int_equal(scalar(fx->st, "SELECT licences_in_use FROM courses"), 0);
	assert_int_equal(store_exec(fx->st, "UPDATE assignments SET status = 'lost' WHERE id = 11"),
			 -EIO);
}

static void
test_runs_and_approval(void **state)
{
	struct fixture *fx = *state;
	struct run_rec rr = { .outcome = RUN_HELD, .digest = "00000000deadbeef" };
	long long held, next;

	assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_run_start(fx->st, "2026-01-01T00:00:00Z", &held), 0);
	rr.id = held;
	assert_int_equal(store_run_finish(fx->st, &rr), 0);
	assert_int_equal(store_run_start(fx->st, "2026-01-01T00:01:00Z", &next), 0);
	assert_true(next > held);

	/* not approved yet: nothing to use */
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(store_run_use_approval(fx->st, "00000000deadbeef", next), 0);
	assert_int_equal(store_commit(fx->st), 0);

	assert_int_equal(store_exec(fx->st, "UPDATE sync_runs SET approved_at = 'now' "
				    "WHERE outcome = 'held'"), 0);
	assert_int_equal(store_begin(fx->st), 0);
	/* another plan is not approved by it */
	assert_int_equal(store_run_use_approval(fx->st, "1111111111111111", next), 0);
	/* a dry run (run id 0) sees the approval without using it */
	assert_int_equal(store_run_use_approval(fx->st, "00000000deadbeef", 0), 1);
	assert_int_equal(store_run_use_approval(fx->st, "00000000deadbeef", 0), 1);
	assert_int_equal(store_run_use_approval(fx->st, "00000000deadbeef", next), 1);
	/* an approval is used once */
	assert_int_equal(store_run_use_approval(fx->st, "00000000deadbeef", next), 0);
	assert_int_equal(store_commit(fx->st), 0);

	/* an approval is void once a later run is held, or a run succeeds */
	{
		struct run_rec h2 = { .outcome = RUN_HELD, .digest = "2222222222222222" };
		struct run_rec ok = { .outcome = RUN_OK };
		long long id;

		assert_int_equal(store_run_start(fx->st, "t", &h2.id), 0);
		assert_int_equal(store_run_finish(fx->st, &h2), 0);
		assert_int_equal(store_exec(fx->st, "UPDATE sync_runs SET approved_at = 'now' "
					    "WHERE plan_digest = '2222222222222222'"), 0);
		assert_int_equal(store_run_start(fx->st, "t", &id), 0);
		rr.id = id;           /* a later held run with another plan */
		rr.digest = "3333333333333333";
		assert_int_equal(store_run_finish(fx->st, &rr), 0);
		assert_int_equal(store_begin(fx->st), 0);
		assert_int_equal(store_run_use_approval(fx->st, "2222222222222222", 0), 0);
		assert_int_equal(store_rollback(fx->st), 0);
		assert_int_equal(store_exec(fx->st, "UPDATE sync_runs SET approved_at = 'now' "
					    "WHERE plan_digest = '3333333333333333'"), 0);
		assert_int_equal(store_begin(fx->st), 0);
		assert_int_equal(store_run_use_approval(fx->st, "3333333333333333", 0), 1);
		assert_int_equal(store_rollback(fx->st), 0);
		assert_int_equal(store_run_start(fx->st, "t", &ok.id), 0);
		assert_int_equal(store_run_finish(fx->st, &ok), 0);
		assert_int_equal(store_begin(fx->st), 0);
		assert_int_equal(store_run_use_approval(fx->st, "3333333333333333", 0), 0);
		assert_int_equal(store_rollback(fx->st), 0);
	}

	/* a run left "running" by a dead process is marked failed */
	assert_int_equal(store_runs_mark_crashed(fx->st), 0);
	assert_int_equal(scalar(fx->st, "SELECT count(*) FROM sync_runs WHERE outcome = 'failed' "
				"AND error LIKE 'the run did not finish%'"), 1);
}

/* The store, its -wal and its -shm get store_set_file_mode()'s mode
 * whatever the umask (SQLite alone would give 0644 under umask 022, and
 * 0640 under the unit's 0027: the platform's account could not write the
 * -shm file and so could not even read). */
static void
test_file_modes(void **state)
{
	static const unsigned modes[] = { 0660, 0640, 0600 };
	struct fixture *fx = *state;
	const char *const suffix[] = { "", "-wal", "-shm" };
	char name[700];
	struct stat sb;
	mode_t old = umask(0077);

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		snprintf(fx->path, sizeof(fx->path), "%s/store%zu.db", fx->dir, m);
		store_set_file_mode(modes[m]);
		assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), 0);
		/* a write, so that the -wal and -shm files are there */
		assert_int_equal(store_state_put(fx->st, "k", "v"), 0);
		for (size_t i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "%s%s", fx->path, suffix[i]);
			assert_int_equal(stat(name, &sb), 0);
			if ((sb.st_mode & 0777) != modes[m])
				fail_msg("%s: mode %04o, want %04o", name, sb.st_mode & 0777, modes[m]);
		}
		store_close(fx->st);
		fx->st = NULL;
	}
	umask(old);
	store_set_file_mode(STORE_DEFAULT_MODE);
}

/* A store that cannot be created says why; nothing is left behind. */
static void
test_create_fails_with_reason(void **state)
{
	struct fixture *fx = *state;

	snprintf(fx->path, sizeof(fx->path), "%s/no/such/dir/learning.db", fx->dir);
	assert_int_equal(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)), -ENOENT);
	assert_non_null(strstr(fx->err, "cannot create the store: No such file or directory "
			       "(its directory does not exist)"));
	/* a file that is not a database: refused, and not removed */
	snprintf(fx->path, sizeof(fx->path), "%s/junk.db", fx->dir);
	free(file_write(fx->dir, "junk.db", "this is not an SQLite database, not at all\n", 0600));
	assert_true(store_open(fx->path, 1000, 0, &fx->st, fx->err, sizeof(fx->err)) < 0);
	assert_int_equal(access(fx->path, F_OK), 0);
	/* its path is named once */
	assert_non_null(strstr(fx->err, "junk.db: file is not a database"));
	assert_null(strstr(strstr(fx->err, "junk.db") + 1, "junk.db"));
}

/* A file of 0 bytes that store_open() did not make is not a new store: it
 * is refused, by rosterd and rosterctl alike, and left as it is. */
static void
test_empty_file_refused(void **state)
{
	struct fixture *fx = *state;
	struct stat sb;
	int flags[] = { 0, STORE_NOMIGRATE, STORE_NOCREATE | STORE_SAMESCHEMA };

	free(file_write(fx->dir, "learning.db", "", 0600));
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		fx->err[0] = '\0';
		assert_int_equal(store_open(fx->path, 1000, flags[i], &fx->st, fx->err,
					    sizeof(fx->err)), -EINVAL);
		assert_null(fx->st);
		assert_non_null(strstr(fx->err, "learning.db: the file is empty"));
		assert_int_equal(stat(fx->path, &sb), 0);
		assert_int_equal(sb.st_size, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_keys_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_commit_checks_references, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_load_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nocreate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sameschema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nomigrate_then_migrate_in_txn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_007_keeps_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs_and_approval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_fails_with_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
