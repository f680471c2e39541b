/*
 * platform.c: the learning platform's side of the store, for the concurrency
 * test: processes that read and write the store while rosterd runs, the way
 * the platform does, and report any SQLITE_BUSY or inconsistent view.
 *
 * usage: platform MODE DB STOPFILE [BUSY_MS]
 *   writer  until STOPFILE exists: one short write transaction after another,
 *           updating an assignment's progress (course progress as learners
 *           make it); prints "commits N longest_wait_ms W"
 *   reader  until STOPFILE exists: a read transaction that checks the store's
 *           invariants twice, 20 ms apart, and that both views are the same,
 *           then a 5 ms pause;
 *           prints "snapshots N states S" (S: distinct people counts seen)
 *   hold    one read transaction held open until STOPFILE exists; prints
 *           "ready" when it is open, then "before X after Y" (the people
 *           count inside the transaction at its start and at its end)
 * Invariants checked in every view: the people are those the recorded runs
 * created; every finished run has exactly one audit entry per change it
 * counted; no run is half-written (a finished run has a finished_at).
 * Any error, SQLITE_BUSY included, is printed and makes the exit status 1.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *stopfile;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool
stopped(void)
{
	return access(stopfile, F_OK) == 0;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "platform: %s: %s (%d)\n", what, sqlite3_errmsg(db),
		sqlite3_extended_errcode(db));
	return -1;
}

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(db, sql);
}

/* One integer from a query; -1 after an error. */
static long long
value(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fail(db, sql);
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		fail(db, sql);
	sqlite3_finalize(s);
	return v;
}

/* The view's people count after checking the invariants; -1 when broken. */
static long long
check_view(sqlite3 *db)
{
	long long people = value(db, "SELECT count(*) FROM people");
	long long created = value(db, "SELECT coalesce(sum(created), 0) FROM sync_runs "
				  "WHERE outcome IN ('ok', 'incomplete')");
	long long bad_audit = value(db,
		"SELECT count(*) FROM sync_runs r WHERE outcome IN ('ok', 'incomplete') AND "
		"r.created + r.updated + r.disabled + r.enabled + r.manager_changes + "
		"r.memberships_joined + r.memberships_left + r.role_changes + r.groups_created + "
		"r.groups_updated + r.groups_deleted <> "
		"(SELECT count(*) FROM audit_log a WHERE a.run_id = r.id AND a.actor = 'sync')");
	long long half = value(db, "SELECT count(*) FROM sync_runs WHERE outcome <> 'running' "
			       "AND finished_at IS NULL");

	if (people < 0 || created < 0 || bad_audit < 0 || half < 0)
		return -1;
	if (people != created || bad_audit != 0 || half != 0) {
		fprintf(stderr, "platform: inconsistent view: %lld people, runs created %lld, "
			"%lld runs whose audit entries do not match their counts, %lld "
			"half-written runs\n", people, created, bad_audit, half);
		return -1;
	}
	return people;
}

static int
writer(sqlite3 *db)
{
	long long n = value(db, "SELECT count(*) FROM assignments"), commits = 0;
	double longest = 0;
	char sql[256];

	if (n <= 0) {
		fprintf(stderr, "platform: no assignments to work on\n");
		return -1;
	}
	while (!stopped()) {
		double t0 = now_ms();
		snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; UPDATE assignments SET "
			 "progress = (progress + 7) %% 101, status = 'in_progress', "
			 "started_at = coalesce(started_at, strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ')) "
			 "WHERE id = %lld; COMMIT", 1 + commits % n);
		if (exec(db, sql) < 0)
			return -1;
		if (now_ms() - t0 > longest)
			longest = now_ms() - t0;
		commits++;
		sleep_ms(2);
	}
	printf("commits %lld longest_wait_ms %.0f\n", commits, longest);
	return 0;
}

static int
reader(sqlite3 *db)
{
	long long snapshots = 0, last = -2, states = 0;

	while (!stopped()) {
		long long a, b;

		if (exec(db, "BEGIN") < 0 || (a = check_view(db)) < 0)
			return -1;
		sleep_ms(20);
		if ((b = check_view(db)) < 0 || exec(db, "COMMIT") < 0)
			return -1;
		if (a != b) {
			fprintf(stderr, "platform: one read transaction saw %lld then %lld people\n",
				a, b);
			return -1;
		}
		if (a != last)
			states++;
		last = a;
		snapshots++;
		sleep_ms(5);   /* a platform reads now and then, not without pause */
	}
	printf("snapshots %lld states %lld\n", snapshots, states);
	return 0;
}

static int
hold(sqlite3 *db)
{
	long long a, b;

	if (exec(db, "BEGIN") < 0 || (a = check_view(db)) < 0)
		return -1;
	printf("ready\n");
	fflush(stdout);
	while (!stopped())
		sleep_ms(10);
	if ((b = check_view(db)) < 0 || exec(db, "COMMIT") < 0)
		return -1;
	printf("before %lld after %lld\n", a, b);
	return 0;
}

int
main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	int r;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: platform writer|reader|hold DB STOPFILE [BUSY_MS]\n");
		return 2;
	}
	stopfile = argv[3];
	if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fail(db, argv[2]);
		sqlite3_close(db);
		return 1;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, argc == 5 ? atoi(argv[4]) : 5000);
	if (strcmp(argv[1], "writer") == 0)
		r = writer(db);
	else if (strcmp(argv[1], "reader") == 0)
		r = reader(db);
	else if (strcmp(argv[1], "hold") == 0)
		r = hold(db);
	else
		r = -1;
	sqlite3_close(db);
	return r < 0 ? 1 : 0;
}
