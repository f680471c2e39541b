/*
 * query_activity.c: what happened, for rosterctl: the activity report (a row
 * a month of people created, invited, activated, disabled, enabled,
 * archived, restored and removed, assignments made, completed, overdue and
 * expired, and the licences in use at the month's end), counted from the
 * audit log and the assignments; and a person's own summary for user show
 * (where their role comes from, their assignments by status, the last
 * change made to them and by whom). Knows SQL (through the store's
 * statement API), no LDAP; logs nothing.
 */
#include "util.h"
#include "query.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The counts of a report row, in the order of its columns. */
enum {
	C_CREATED, C_INVITED, C_ACTIVATED, C_DISABLED, C_ENABLED, C_ARCHIVED, C_RESTORED,
	C_REMOVED, C_ASSIGNED, C_COMPLETED, C_OVERDUE, C_EXPIRED, C_LICENCES, C_COUNT
};

const char *const query_activity_columns[] = {
	"month", "from", "to", "created", "invited", "activated", "disabled", "enabled",
	"archived", "restored", "removed", "assigned", "completed", "overdue", "expired",
	"licences_in_use", NULL,
};

/* The audit log's actions that the report counts, and where. An operator's
 * disable of someone disabled already ("kept disabled") is no new one. */
static const struct {
	const char *action;
	int col;
} counted[] = {
	{ "create", C_CREATED }, { "invite", C_INVITED }, { "verify", C_ACTIVATED },
	{ "disable", C_DISABLED }, { "enable", C_ENABLED }, { "archive", C_ARCHIVED },
	{ "restore", C_RESTORED }, { "remove", C_REMOVED }, { "assign", C_ASSIGNED },
	{ "expire", C_EXPIRED },
};

struct month {
	int year, mon;
	char from[11], to[11];   /* the days of it in the report, inclusive */
	long long v[C_COUNT];
};

struct report {
	struct month *m;
	size_t n;
	char end[11];            /* the day after the last one */
	char today[11];
	const char *now;
};

static int
days_in(int year, int mon)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (mon < 1 || mon > 12)
		return 31;
	return mon == 2 && leap ? 29 : d[mon - 1];
}

void
query_month_end(const char *month, char out[11])
{
	int y = atoi(month), m = atoi(month + 5);

	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)days_in(y, m) % 100u);
}

/* The day after day (YYYY-MM-DD) into out. */
static void
day_after(const char *day, char out[11])
{
	int y = atoi(day), m = atoi(day + 5), d = atoi(day + 8) + 1;

	if (d > days_in(y, m)) {
		d = 1;
		if (++m > 12) {
			m = 1;
			y++;
		}
	}
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
}

/* The months from from to to (YYYY-MM-DD, from <= to), each clipped to them. */
static int
months_make(struct report *rp, const char *from, const char *to)
{
	int y = atoi(from), m = atoi(from + 5), ty = atoi(to), tm = atoi(to + 5);
	long n = (long)(ty - y) * 12 + (tm - m) + 1;

	if (n < 1 || n > QUERY_ACTIVITY_MONTHS)
		return -E2BIG;
	if ((rp->m = calloc((size_t)n, sizeof(*rp->m))) == NULL)
		return -ENOMEM;
	rp->n = (size_t)n;
	for (size_t i = 0; i < rp->n; i++) {
		struct month *mo = &rp->m[i];

		mo->year = y;
		mo->mon = m;
		snprintf(mo->from, sizeof(mo->from), "%04u-%02u-01", (unsigned)y % 10000u,
			 (unsigned)m % 100u);
		query_month_end(mo->from, mo->to);
		if (++m > 12) {
			m = 1;
			y++;
		}
	}
	memcpy(rp->m[0].from, from, 10);
	memcpy(rp->m[rp->n - 1].to, to, 10);
	day_after(to, rp->end);
	return 0;
}

/* The month of text "YYYY-MM..." in the report, or NULL. */
static struct month *
month_of(struct report *rp, const char *text)
{
	long i;

	if (text == NULL || strlen(text) < 7)
		return NULL;
	i = (long)(atoi(text) - rp->m[0].year) * 12 + (atoi(text + 5) - rp->m[0].mon);
	return i >= 0 && (size_t)i < rp->n ? &rp->m[i] : NULL;
}

/* Add the counts of s's rows (month text, column, count) to the report; the
 * column is col, or with col < 0 the audit action in column 1. */
static int
add_rows(struct report *rp, struct stmt *s, int col)
{
	int r;

	stmt_bind_text(s, 1, rp->m[0].from);
	stmt_bind_text(s, 2, rp->end);
	while ((r = stmt_step(s)) == 1) {
		struct month *mo = month_of(rp, stmt_text(s, 0));
		int c = col;

		for (size_t i = 0; c < 0 && i < sizeof(counted) / sizeof(counted[0]); i++)
			if (strcmp(stmt_text(s, 1), counted[i].action) == 0)
				c = counted[i].col;
		if (mo != NULL && c >= 0)
			mo->v[c] += stmt_int(s, 2);
	}
	stmt_done(s);
	return r;
}

/* The audit log's counts, and the assignments completed and overdue. */
static int
count_events(struct store *st, struct report *rp)
{
	/* SQLite: substr() (PostgreSQL: the same) */
	static const char audit[] =
		"SELECT substr(at, 1, 7), action, count(*) FROM audit_log "
		"WHERE at >= ?1 AND at < ?2 AND action IN ('create', 'invite', 'verify', 'disable', "
		"'enable', 'archive', 'restore', 'remove', 'assign', 'expire') "
		"AND NOT (action = 'disable' AND detail LIKE 'kept disabled%') "
		"GROUP BY substr(at, 1, 7), action";
	static const char completed[] =
		"SELECT substr(completed_at, 1, 7), NULL, count(*) FROM assignments "
		"WHERE completed_at >= ?1 AND completed_at < ?2 GROUP BY substr(completed_at, 1, 7)";
	/* due on a day: overdue once that day has passed without completion */
	static const char overdue[] =
		"SELECT substr(due, 1, 7), NULL, count(*) FROM assignments "
		"WHERE due >= ?1 AND due < ?2 AND due < ?3 AND status <> 'released' "
		"AND (completed_at IS NULL OR substr(completed_at, 1, 10) > due) "
		"GROUP BY substr(due, 1, 7)";
	struct stmt *s;
	int r;

	if ((r = store_prepare(st, audit, &s)) < 0 || (r = add_rows(rp, s, -1)) < 0 ||
	    (r = store_prepare(st, completed, &s)) < 0 ||
	    (r = add_rows(rp, s, C_COMPLETED)) < 0 || (r = store_prepare(st, overdue, &s)) < 0)
		return r;
	stmt_bind_text(s, 3, rp->today);
	return add_rows(rp, s, C_OVERDUE);
}

/* The licences held at the end of each month that has begun (at now for
 * the month under way); -1 for months to come. */
static int
count_licences(struct store *st, struct report *rp)
{
	/* held at ?1: a time, or a day (YYYY-MM-DD: its start, as every
	 * timestamp of that day sorts after it) */
	static const char sql[] =
		"SELECT count(*) FROM licences WHERE granted_at <= ?1 "
		"AND (released_at IS NULL OR released_at > ?1)";
	struct stmt *s;
	int r = 0;

	if ((r = store_prepare(st, sql, &s)) < 0)
		return r;
	for (size_t i = 0; i < rp->n && r >= 0; i++) {
		struct month *mo = &rp->m[i];
		char after[11];

		mo->v[C_LICENCES] = -1;
		if (strcmp(mo->from, rp->today) > 0)
			continue;
		day_after(mo->to, after);
		stmt_reset(s);
		stmt_bind_text(s, 1, strcmp(after, rp->now) > 0 ? rp->now : after);
		if ((r = stmt_step(s)) == 1)
			mo->v[C_LICENCES] = stmt_int(s, 0);
	}
	stmt_done(s);
	return r < 0 ? r : 0;
}

/* Month i of the report as a row. */
static json_t *
month_row(const struct month *mo)
{
	json_t *o = json_object();
	char name[8];

	snprintf(name, sizeof(name), "%04u-%02u", (unsigned)mo->year % 10000u,
		 (unsigned)mo->mon % 100u);
	if (o == NULL || json_object_set_new(o, "month", json_string(name)) < 0 ||
	    json_object_set_new(o, "from", json_string(mo->from)) < 0 ||
	    json_object_set_new(o, "to", json_string(mo->to)) < 0)
		goto fail;
	for (int c = 0; c < C_COUNT; c++)
		if (json_object_set_new(o, query_activity_columns[3 + c], mo->v[c] < 0 ?
					json_null() : json_integer(mo->v[c])) < 0)
			goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

int
query_activity(struct store *st, const char *from, const char *to, const char *now,
	       query_row_fn fn, void *arg)
{
	struct report rp = { .now = now };
	int r;

	snprintf(rp.today, sizeof(rp.today), "%.10s", now);
	if ((r = months_make(&rp, from, to)) < 0)
		return r;
	if ((r = count_events(st, &rp)) >= 0 && (r = count_licences(st, &rp)) >= 0) {
		r = 0;
		for (size_t i = 0; i < rp.n && r == 0; i++) {
			json_t *row = month_row(&rp.m[i]);
			r = row != NULL ? fn(row, arg) : -ENOMEM;
			json_decref(row);
		}
	}
	free(rp.m);
	return r;
}

/* ---- one person ----------------------------------------------------------- */

/* Their assignments by status, every status named (0 when none). */
static json_t *
by_status(struct store *st, long long id)
{
	static const char *const statuses[] = {
		"pending", "waiting", "enrolled", "in_progress", "completed", "expired", "released",
		"archived",
	};
	static const char sql[] =
		"SELECT status, count(*) FROM assignments WHERE person_id = ?1 GROUP BY status";
	json_t *o = json_object();
	struct stmt *s = NULL;
	int r = -ENOMEM;

	for (size_t i = 0; o != NULL && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (json_object_set_new(o, statuses[i], json_integer(0)) < 0)
			goto fail;
	if (o == NULL || store_prepare(st, sql, &s) < 0)
		goto fail;
	stmt_bind_int(s, 1, id);
	while ((r = stmt_step(s)) == 1)
		if (json_object_set_new(o, stmt_text(s, 0), json_integer(stmt_int(s, 1))) < 0)
			goto fail;
	if (r < 0)
		goto fail;
	stmt_done(s);
	return o;
fail:
	stmt_done(s);
	json_decref(o);
	return NULL;
}

static int
keep(json_t *row, void *arg)
{
	*(json_t **)arg = json_incref(row);
	return 1;
}

/* The last audit entry about them: {at, by, action, detail}, or null; NULL
 * on failure. */
static json_t *
last_change(struct store *st, long long id)
{
	static const char sql[] =
		"SELECT at, actor AS \"by\", action, detail FROM audit_log WHERE person_id = ?1 "
		"ORDER BY id DESC LIMIT 1";
	json_t *o = NULL;
	struct stmt *s;

	if (store_prepare(st, sql, &s) < 0)
		return NULL;
	stmt_bind_int(s, 1, id);
	if (query_each_row(s, keep, &o) < 0)
		return NULL;
	return o != NULL ? o : json_null();
}

int
query_user_activity(struct store *st, long long id, json_t *o)
{
	static const char sql[] = "SELECT role_source FROM people WHERE id = ?1";
	json_t *row = NULL, *act = json_object();
	struct stmt *s;
	int r;

	if (act == NULL)
		return -ENOMEM;
	if ((r = store_prepare(st, sql, &s)) < 0)
		goto out;
	stmt_bind_int(s, 1, id);
	if ((r = query_each_row(s, keep, &row)) < 0)
		goto out;
	r = -ENOENT;
	if (row == NULL)
		goto out;
	r = -ENOMEM;
	if (json_object_set(o, "role_source", json_object_get(row, "role_source")) < 0 ||
	    json_object_set_new(act, "assignments", by_status(st, id)) < 0 ||
	    json_object_set_new(act, "last_change", last_change(st, id)) < 0)
		goto out;
	r = json_object_set(o, "activity", act) < 0 ? -ENOMEM : 0;
out:
	json_decref(row);
	json_decref(act);
	return r;
}
