/*
 * platform_pg.c: the learning platform's side of a PostgreSQL store, for
 * t_platform_pg: what the platform does while rosterd runs, through libpq as
 * the platform's own role, reporting any error.
 *
 * usage: platform_pg MODE CONNINFO SCHEMA STOPFILE
 *   writer  until STOPFILE exists: one short transaction after another, each
 *           adding 1 to the progress of an assignment (round robin over
 *           those below 100), as learners make progress; a serialization
 *           failure or deadlock is retried, as a client should (it counts
 *           them); prints "commits N retries R"
 *   reader  until STOPFILE exists: a REPEATABLE READ transaction that checks
 *           no run is half written: every finished run has as many audit
 *           rows of the sync's creates as it counted creates, and the people
 *           are those the finished runs created; prints "snapshots N"
 * The password is in $PGPASSWORD. Any other error is printed and makes the
 * exit status 1.
 */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *stopfile;

static bool
stopped(void)
{
	return access(stopfile, F_OK) == 0;
}

/* Run sql; 0 ok, 1 a serialization failure or deadlock, -1 another error. */
static int
run(PGconn *c, const char *sql, long long *value)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType e = PQresultStatus(r);
	const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	int rc = 0;

	if (e == PGRES_TUPLES_OK && value != NULL && PQntuples(r) > 0)
		*value = atoll(PQgetvalue(r, 0, 0));
	else if (e != PGRES_COMMAND_OK && e != PGRES_TUPLES_OK) {
		if (code != NULL && (strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0)) {
			rc = 1;
		} else {
			fprintf(stderr, "platform_pg: %s: %s", sql, PQerrorMessage(c));
			rc = -1;
		}
	}
	PQclear(r);
	return rc;
}

static int
writer(PGconn *c)
{
	long long commits = 0, retries = 0, id = 0;
	char sql[256];

	while (!stopped()) {
		snprintf(sql, sizeof(sql), "SELECT coalesce(min(id), 0) FROM assignments "
			 "WHERE id > %lld AND progress < 100", id);
		if (run(c, sql, &id) < 0)
			return 1;
		if (id == 0)
			continue;   /* round again from the first */
		for (;;) {
			int r;
			snprintf(sql, sizeof(sql), "BEGIN; UPDATE assignments SET progress = progress + 1 "
				 "WHERE id = %lld AND progress < 100; COMMIT", id);
			if ((r = run(c, sql, NULL)) < 0)
				return 1;
			if (r == 0)
				break;
			run(c, "ROLLBACK", NULL);
			retries++;
		}
		commits++;
	}
	printf("commits %lld retries %lld\n", commits, retries);
	return 0;
}

static int
reader(PGconn *c)
{
	static const char check[] =
		"SELECT (SELECT count(*) FROM sync_runs r WHERE r.finished_at IS NOT NULL "
		"AND r.created <> (SELECT count(*) FROM audit_log a WHERE a.run_id = r.id "
		"AND a.actor = 'sync' AND a.action = 'create')) + abs((SELECT count(*) FROM people) - "
		"(SELECT coalesce(sum(created), 0) FROM sync_runs WHERE finished_at IS NOT NULL))";
	long long snapshots = 0, bad = 0;

	while (!stopped()) {
		if (run(c, "BEGIN ISOLATION LEVEL REPEATABLE READ", NULL) < 0 ||
		    run(c, check, &bad) < 0 || run(c, "COMMIT", NULL) < 0)
			return 1;
		if (bad != 0) {
			fprintf(stderr, "platform_pg: a run is half written (%lld)\n", bad);
			return 1;
		}
		snapshots++;
		usleep(5000);
	}
	printf("snapshots %lld\n", snapshots);
	return 0;
}

int
main(int argc, char **argv)
{
	PGconn *c;
	char sql[256];
	int r;

	if (argc != 5 || (strcmp(argv[1], "writer") != 0 && strcmp(argv[1], "reader") != 0)) {
		fprintf(stderr, "usage: platform_pg writer|reader CONNINFO SCHEMA STOPFILE\n");
		return 2;
	}
	stopfile = argv[4];
	c = PQconnectdb(argv[2]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "platform_pg: %s", PQerrorMessage(c));
		PQfinish(c);
		return 1;
	}
	snprintf(sql, sizeof(sql), "SET search_path = %s", argv[3]);
	r = run(c, sql, NULL) < 0 ? 1 : strcmp(argv[1], "writer") == 0 ? writer(c) : reader(c);
	PQfinish(c);
	return r;
}
