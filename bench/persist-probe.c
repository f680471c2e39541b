/*
 * persist-probe: what bench/run.sh measures of rosterd in sync.mode
 * "persist": it modifies people's titles in the directory and watches the
 * store until rosterd has committed them.
 *
 *   persist-probe URI BINDDN PASSWORD STORE PEOPLE latency COUNT GAP_MS
 *   persist-probe URI BINDDN PASSWORD STORE PEOPLE burst COUNT
 *   persist-probe URI BINDDN PASSWORD STORE PEOPLE backlog COUNT PID
 *   persist-probe URI BINDDN PASSWORD STORE PEOPLE rss COUNT PID
 *
 * The people are uid=u000001... (bench/gen-org) under ou=people,dc=example,
 * dc=com, PEOPLE of them. latency: COUNT single modifies, GAP_MS apart, each
 * timed from the moment the directory's modify reply arrived to the moment
 * a reader of the store (a second SQLite connection, as the platform has,
 * polling every 0.1 ms) sees the new title: what the platform waits for.
 * burst: COUNT modifies of distinct people sent at once (64 outstanding),
 * timed from the first sent to the last reply (the directory's own pace) and
 * to the last one committed; then every one of them is checked in the store.
 * backlog: the same burst made while rosterd (process PID) is stopped
 * (SIGSTOP), so that the server holds it all; timed from SIGCONT to the last
 * one committed: how fast rosterd drains a burst, whatever the directory's
 * own pace. rss: COUNT modifies in bursts of 10,000, the resident memory of rosterd
 * (process PID) after each. Prints one "key value" line per figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <ldap.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#define OUTSTANDING 64
#define COMMIT_WAIT 60.0   /* seconds before a change is taken as lost */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "persist-probe: %s: %s\n", what, why);
	exit(1);
}

struct probe {
	LDAP *ld;
	sqlite3 *db;
	sqlite3_stmt *title;
	long people;
	char stamp[32];
};

static void
user_dn(long n, char *dn, size_t len)
{
	snprintf(dn, len, "uid=u%06ld,ou=people,dc=example,dc=com", n);
}

/* Send a modify of person n's title to value: its message id. */
static int
send_modify(struct probe *p, long n, const char *value, int *msgid)
{
	char dn[128], *vals[] = { (char *)value, NULL };
	LDAPMod mod = { .mod_op = LDAP_MOD_REPLACE, .mod_type = "title", .mod_values = vals };
	LDAPMod *mods[] = { &mod, NULL };

	user_dn(n, dn, sizeof(dn));
	return ldap_modify_ext(p->ld, dn, mods, NULL, NULL, msgid);
}

/* Wait for one modify reply; die if it failed. */
static void
take_reply(struct probe *p)
{
	LDAPMessage *res = NULL;
	int err = 0;

	if (ldap_result(p->ld, LDAP_RES_ANY, LDAP_MSG_ONE, NULL, &res) <= 0 ||
	    ldap_parse_result(p->ld, res, &err, NULL, NULL, NULL, NULL, 1) != LDAP_SUCCESS ||
	    err != LDAP_SUCCESS)
		die("modify", ldap_err2string(err));
}

/* Whether person n's title in the store is value. */
static int
committed(struct probe *p, long n, const char *value)
{
	char uid[16];
	int r;

	snprintf(uid, sizeof(uid), "u%06ld", n);
	sqlite3_bind_text(p->title, 1, uid, -1, SQLITE_STATIC);
	r = sqlite3_step(p->title) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(p->title, 0), value) == 0;
	sqlite3_reset(p->title);
	return r;
}

/* Poll the store every 0.1 ms until person n's title is value: when. */
static double
wait_committed(struct probe *p, long n, const char *value)
{
	double t0 = now();
	struct timespec tick = { 0, 100000 };

	while (!committed(p, n, value)) {
		if (now() - t0 > COMMIT_WAIT)
			die("store", "a change was not committed within 60 s");
		nanosleep(&tick, NULL);
	}
	return now();
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
latency(struct probe *p, long count, long gap_ms)
{
	double *ms = calloc((size_t)count, sizeof(*ms)), sum = 0;
	struct timespec gap = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };
	char value[64];
	int msgid;

	if (ms == NULL)
		die("latency", "no memory");
	for (long i = 0; i < count; i++) {
		long n = (i * 7919) % p->people + 1;
		double reply;

		snprintf(value, sizeof(value), "lat-%s-%ld", p->stamp, i);
		if (send_modify(p, n, value, &msgid) != LDAP_SUCCESS)
			die("modify", "cannot send");
		take_reply(p);
		reply = now();
		ms[i] = 1000.0 * (wait_committed(p, n, value) - reply);
		sum += ms[i];
		nanosleep(&gap, NULL);
	}
	qsort(ms, (size_t)count, sizeof(*ms), cmp_double);
	printf("latency_count %ld\nlatency_mean_ms %.3f\nlatency_p50_ms %.3f\n"
	       "latency_p90_ms %.3f\nlatency_p99_ms %.3f\nlatency_max_ms %.3f\n", count,
	       sum / (double)count, ms[count / 2], ms[count * 9 / 10], ms[count * 99 / 100],
	       ms[count - 1]);
	free(ms);
}

/* COUNT modifies of people first... at once (64 outstanding); t[1] the time
 * of the last reply. */
static void
burst_send(struct probe *p, long first, long count, const char *tag, double t[3])
{
	long sent = 0, replied = 0;
	char value[64];
	int msgid;

	while (replied < count) {
		while (sent < count && sent - replied < OUTSTANDING) {
			snprintf(value, sizeof(value), "%s-%s-%ld", tag, p->stamp, first + sent);
			if (send_modify(p, first + sent, value, &msgid) != LDAP_SUCCESS)
				die("modify", "cannot send");
			sent++;
		}
		take_reply(p);
		replied++;
	}
	t[1] = now();
}

/* A burst; the times of the first sent, the last reply and the last
 * committed. */
static void
burst_run(struct probe *p, long first, long count, const char *tag, double t[3])
{
	char value[64];

	t[0] = now();
	burst_send(p, first, count, tag, t);
	snprintf(value, sizeof(value), "%s-%s-%ld", tag, p->stamp, first + count - 1);
	t[2] = wait_committed(p, first + count - 1, value);
}

/* How many people of the store have a title tagged tag. */
static long
count_tagged(struct probe *p, const char *tag)
{
	sqlite3_stmt *s;
	char like[64];
	long n = -1;

	snprintf(like, sizeof(like), "%s-%s-%%", tag, p->stamp);
	if (sqlite3_prepare_v2(p->db, "SELECT count(*) FROM people WHERE title LIKE ?1", -1, &s,
			       NULL) != SQLITE_OK)
		die("store", sqlite3_errmsg(p->db));
	sqlite3_bind_text(s, 1, like, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void
burst(struct probe *p, long count)
{
	double t[3];

	if (count > p->people)
		die("burst", "more modifies than people");
	burst_run(p, 1, count, "burst", t);
	printf("burst_count %ld\nburst_directory_s %.3f\nburst_drained_s %.3f\n"
	       "burst_after_last_reply_s %.3f\nburst_committed %ld\n", count, t[1] - t[0],
	       t[2] - t[0], t[2] - t[1], count_tagged(p, "burst"));
}

static void
backlog(struct probe *p, long count, long pid)
{
	long last = count;
	char value[64];
	double t[3], cont;

	if (count > p->people)
		die("backlog", "more modifies than people");
	if (kill((pid_t)pid, SIGSTOP) < 0)
		die("SIGSTOP", strerror(errno));
	t[0] = now();
	burst_send(p, 1, count, "backlog", t);
	cont = now();
	if (kill((pid_t)pid, SIGCONT) < 0)
		die("SIGCONT", strerror(errno));
	snprintf(value, sizeof(value), "backlog-%s-%ld", p->stamp, last);
	t[2] = wait_committed(p, last, value);
	printf("backlog_count %ld\nbacklog_directory_s %.3f\nbacklog_drained_s %.3f\n"
	       "backlog_committed %ld\n", count, t[1] - t[0], t[2] - cont,
	       count_tagged(p, "backlog"));
}

/* VmRSS and VmHWM of process pid, KiB. */
static void
memory(long pid, long *rss, long *hwm)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		die(path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "VmRSS: %ld", rss);
		sscanf(line, "VmHWM: %ld", hwm);
	}
	fclose(f);
}

static void
rss(struct probe *p, long count, long pid)
{
	long done = 0, r = 0, h = 0;
	double t[3];

	memory(pid, &r, &h);
	printf("rss_changes %ld rss_kib %ld hwm_kib %ld\n", done, r, h);
	while (done < count) {
		long n = count - done < 10000 ? count - done : 10000, first = done % p->people + 1;

		if (n > p->people)
			die("rss", "fewer people than a burst");
		if (first + n - 1 > p->people)
			first = 1;
		burst_run(p, first, n, "rss", t);
		done += n;
		memory(pid, &r, &h);
		printf("rss_changes %ld rss_kib %ld hwm_kib %ld\n", done, r, h);
		fflush(stdout);
	}
}

int
main(int argc, char **argv)
{
	struct probe p = { 0 };
	struct berval cred;
	int v3 = LDAP_VERSION3;

	if (argc < 8)
		die("usage", "URI BINDDN PASSWORD STORE PEOPLE latency|burst|rss COUNT [GAP_MS|PID]");
	if (ldap_initialize(&p.ld, argv[1]) != LDAP_SUCCESS ||
	    ldap_set_option(p.ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS)
		die(argv[1], "cannot initialise");
	cred.bv_val = argv[3];
	cred.bv_len = strlen(argv[3]);
	if (ldap_sasl_bind_s(p.ld, argv[2], LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL) != LDAP_SUCCESS)
		die(argv[1], "bind refused");
	if (sqlite3_open_v2(argv[4], &p.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(p.db, 5000) != SQLITE_OK ||
	    sqlite3_prepare_v2(p.db, "SELECT coalesce(title, '') FROM people WHERE username = ?1",
			       -1, &p.title, NULL) != SQLITE_OK)
		die(argv[4], sqlite3_errmsg(p.db));
	p.people = atol(argv[5]);
	snprintf(p.stamp, sizeof(p.stamp), "%ld", (long)time(NULL));
	if (strcmp(argv[6], "latency") == 0 && argc == 9)
		latency(&p, atol(argv[7]), atol(argv[8]));
	else if (strcmp(argv[6], "burst") == 0)
		burst(&p, atol(argv[7]));
	else if (strcmp(argv[6], "backlog") == 0 && argc == 9)
		backlog(&p, atol(argv[7]), atol(argv[8]));
	else if (strcmp(argv[6], "rss") == 0 && argc == 9)
		rss(&p, atol(argv[7]), atol(argv[8]));
	else
		die("usage", "latency COUNT GAP_MS, burst COUNT, backlog COUNT PID or rss COUNT PID");
	sqlite3_finalize(p.title);
	sqlite3_close(p.db);
	ldap_unbind_ext_s(p.ld, NULL, NULL);
	return 0;
}
