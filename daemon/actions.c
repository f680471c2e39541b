/*
 * actions.c: the changes rosterd makes to people, courses and assignments on
 * someone's behalf, a plugin's decision or an operator's command. Every action
 * runs inside the caller's write transaction, writes one audit_log row per
 * change with its actor and run, and queues in the outbox the notification it
 * implies (invite, disabled, assigned). The rules of the account states and of
 * licences live here and nowhere else:
 *
 *   invited --verify--> active --disable--> disabled --archive--> archived
 *   disabled --enable--> the status it had; archived --restore--> back
 *   remove: an operator's purge, the only way anything is deleted
 *
 * An assignment to someone who is not active is pending; an active person's
 * is an enrolment that holds one of the course's licences, or it waits while
 * the pool is empty and is granted, in the order assigned, when a licence
 * comes back. Started and completed assignments are never changed here.
 * Knows SQL (through the store's statement API), no LDAP; logs nothing.
 */
#include "util.h"
#include "view.h"
#include "actions.h"
#include "schema.h"
#include "recon.h"

#include <stdio.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct act {
	struct store *st;
	char now[32];
	long long run_id;
	const char *actor;       /* caller's string, "operator:x" or "plugin:y" */
	char msg[1024];
	struct act_counts n;
};

/* A person as the state rules need them. Strings are owned. */
struct who {
	long long id;
	char *username, *status, *reason, *prev;
	bool missing, dir_disabled;
};

static void msg(struct act *a, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void
msg(struct act *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
}

/* ---- statements ---------------------------------------------------------- */

/* The store's statement for sql (prepared once, cached by the store) with
 * args bound by the letters of fmt: 'i' a long long, 't' a string (NULL
 * binds NULL), not copied: it must stay valid until the statement is done.
 * The caller steps it and gives it back with stmt_done(). NULL on failure. */
static struct stmt *
vprep(struct act *a, const char *sql, const char *fmt, va_list ap)
{
	struct stmt *s;
	int r = 0;

	if (store_prepare(a->st, sql, &s) < 0)
		return NULL;
	for (int k = 1; *fmt && r == 0; fmt++, k++) {
		if (*fmt == 'i')
			r = stmt_bind_int(s, k, va_arg(ap, long long));
		else
			r = stmt_bind_text(s, k, va_arg(ap, const char *));
	}
	if (r < 0) {
		stmt_done(s);
		return NULL;
	}
	return s;
}

static struct stmt *
prep(struct act *a, const char *sql, const char *fmt, ...)
{
	struct stmt *s;
	va_list ap;

	va_start(ap, fmt);
	s = vprep(a, sql, fmt, ap);
	va_end(ap);
	return s;
}

/* Run a statement that returns no rows; the rows it changed, or -EIO. */
static int
exec(struct act *a, const char *sql, const char *fmt, ...)
{
	struct stmt *s;
	long long n;
	va_list ap;

	va_start(ap, fmt);
	s = vprep(a, sql, fmt, ap);
	va_end(ap);
	if (s == NULL)
		return -EIO;
	n = stmt_run(s);
	stmt_done(s);
	return n < 0 ? -EIO : (int)n;
}

/* The first column of the first row as an integer: 1 with *out set, 0 when
 * there is no row, -EIO. */
static int
scalar(struct act *a, long long *out, const char *sql, const char *fmt, ...)
{
	struct stmt *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	s = vprep(a, sql, fmt, ap);
	va_end(ap);
	if (s == NULL)
		return -EIO;
	r = stmt_step(s);
	if (r == 1)
		*out = stmt_int(s, 0);
	stmt_done(s);
	return r < 0 ? -EIO : r;
}

/* The ids in the first column of the rows of s, which it gives back: 0 with
 * *ids (the caller frees it) and *n set, or -ENOMEM, -EIO. */
static int
id_list(struct stmt *s, long long **ids, size_t *n)
{
	long long *v = NULL, *grown;
	size_t k = 0;
	int r;

	while ((r = stmt_step(s)) == 1) {
		if ((grown = realloc(v, (k + 1) * sizeof(*v))) == NULL) {
			r = -ENOMEM;
			break;
		}
		v = grown;
		v[k++] = stmt_int(s, 0);
	}
	stmt_done(s);
	if (r < 0) {
		free(v);
		return r == -ENOMEM ? r : -EIO;
	}
	*ids = v;
	*n = k;
	return 0;
}

static char *
col_dup(struct stmt *s, int i)
{
	const char *t = stmt_text(s, i);

	return t ? strdup(t) : NULL;
}

/* ---- handle ---------------------------------------------------------------- */

int
act_new(struct store *st, const char *now, long long run_id, struct act **out)
{
	struct act *a;

	if (!store_in_txn(st))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	a->st = st;
	snprintf(a->now, sizeof(a->now), "%s", now);
	a->run_id = run_id;
	a->actor = "sync";
	/* Within the caller's transaction: gone with it on a rollback, as is
	 * this handle, which lives no longer than the transaction. */
	if (store_exec(st, schema_act_grant) < 0) {
		free(a);
		return -EIO;
	}
	*out = a;
	return 0;
}

void
act_free(struct act *a)
{
	free(a);
}

void
act_set_actor(struct act *a, const char *actor)
{
	a->actor = actor;
}

const char *
act_message(const struct act *a)
{
	return a->msg;
}

void
act_counts(const struct act *a, struct act_counts *c)
{
	*c = a->n;
}

/* The word that goes into people.status_reason for this actor's disables:
 * "operator", or the plugin's name. */
static const char *
actor_reason(const struct act *a)
{
	if (strncmp(a->actor, "plugin:", 7) == 0)
		return a->actor + 7;
	if (strncmp(a->actor, "operator:", 9) == 0)
		return "operator";
	return a->actor;
}

static bool
actor_is_operator(const struct act *a)
{
	return strncmp(a->actor, "operator:", 9) == 0;
}

/* ---- audit and outbox ------------------------------------------------------ */

static const char audit_sql[] =
	"INSERT INTO audit_log (at, run_id, actor, action, person_id, subject, detail) "
	"VALUES (?1, nullif(?2, 0), ?3, ?4, nullif(?5, 0), ?6, ?7)";

static int
audit(struct act *a, const char *action, long long person, const char *subject,
      const char *detail)
{
	int r = exec(a, audit_sql, "tittitt", a->now, a->run_id, a->actor, action, person,
		     subject, detail);
	return r < 0 ? r : 0;
}

static const char outbox_sql[] =
	"INSERT INTO outbox (created_at, run_id, source, kind, person_id, username, email, "
	"course, due, message) SELECT ?1, nullif(?2, 0), ?3, ?4, p.id, p.username, p.email, "
	"?5, ?6, ?7 FROM people p WHERE p.id = ?8";

static int
outbox(struct act *a, long long person, const char *kind, const char *course,
       const char *due, const char *message)
{
	int r = exec(a, outbox_sql, "tittttti", a->now, a->run_id, a->actor, kind, course, due,
		     message, person);
	if (r < 0)
		return r;
	a->n.notified++;
	return 0;
}

/* ---- people ------------------------------------------------------------------ */

/* The id that sql finds for key: 0, or -ENOENT with "no WHAT "KEY"HINT". */
static int
find_id(struct act *a, const char *sql, const char *key, long long *id, const char *what,
	const char *hint)
{
	int r = scalar(a, id, sql, "t", key);

	if (r == 0) {
		msg(a, "no %s \"%s\"%s", what, key, hint);
		return -ENOENT;
	}
	return r < 0 ? r : 0;
}

int
act_find_person(struct act *a, const char *username, long long *id)
{
	int r = view_person_id(a->st, username, id);

	if (r == -ENOENT)
		msg(a, "no user \"%s\" in the store", username);
	return r == 0 || r == -ENOENT ? r : -EIO;
}

static void
who_free(struct who *w)
{
	free(w->username);
	free(w->status);
	free(w->reason);
	free(w->prev);
}

static int
who_load(struct act *a, long long id, struct who *w)
{
	static const char sql[] =
		"SELECT username, status, status_reason, prev_status, missing_since IS NOT NULL, "
		"dir_disabled FROM people WHERE id = ?1";
	struct stmt *s = prep(a, sql, "i", id);
	int r;

	memset(w, 0, sizeof(*w));
	if (s == NULL)
		return -EIO;
	r = stmt_step(s);
	if (r != 1) {
		stmt_done(s);
		msg(a, "no person with id %lld", id);
		return r == 0 ? -ENOENT : -EIO;
	}
	w->id = id;
	w->username = col_dup(s, 0);
	w->status = col_dup(s, 1);
	w->reason = col_dup(s, 2);
	w->prev = col_dup(s, 3);
	w->missing = stmt_int(s, 4) != 0;
	w->dir_disabled = stmt_int(s, 5) != 0;
	stmt_done(s);
	if (w->username == NULL || w->status == NULL) {
		who_free(w);
		return -ENOMEM;
	}
	return 0;
}

/* Whether s (NULL for none) is word. */
static bool
is(const char *s, const char *word)
{
	return strcmp(s ? s : "", word) == 0;
}

static const char set_status_sql[] =
	"UPDATE people SET status = ?2, status_reason = ?3, prev_status = ?4, "
	"status_changed_at = ?5, updated_at = ?5 WHERE id = ?1";

static int
set_status(struct act *a, const struct who *w, const char *status, const char *reason,
	   const char *prev)
{
	int r = exec(a, set_status_sql, "itttt", w->id, status, reason, prev, a->now);
	return r < 0 ? r : 0;
}

/* How many licences of course are free: -1 when it has no limit. */
static int
free_licences(struct act *a, long long course, long long *n)
{
	static const char sql[] =
		"SELECT CASE WHEN licence_limit IS NULL THEN -1 "
		"WHEN licence_limit > licences_in_use THEN licence_limit - licences_in_use "
		"ELSE 0 END FROM courses WHERE id = ?1";
	int r = scalar(a, n, sql, "i", course);

	return r == 1 ? 0 : -EIO;
}

/* Licences for course's pending and waiting assignments of active people,
 * in the order they were assigned, while the pool lasts. */
static int
grant_course(struct act *a, long long course)
{
	static const char clear[] = "DELETE FROM act_grant";
	static const char pick[] =
		"INSERT INTO act_grant (assignment_id, course_id, person_id, was) "
		"SELECT a.id, a.course_id, a.person_id, a.status FROM assignments a "
		"JOIN people p ON p.id = a.person_id WHERE a.course_id = ?1 "
		"AND a.status IN ('pending', 'waiting') AND p.status = 'active' "
		"ORDER BY a.assigned_at, a.id LIMIT ?2";
	static const char enrol[] =
		"UPDATE assignments SET status = 'enrolled' "
		"WHERE id IN (SELECT assignment_id FROM act_grant)";
	static const char licence[] =
		"INSERT INTO licences (course_id, assignment_id, granted_at) "
		"SELECT course_id, assignment_id, ?1 FROM act_grant ORDER BY assignment_id";
	static const char log_grant[] =
		"INSERT INTO audit_log (at, run_id, actor, action, person_id, subject, detail) "
		"SELECT ?1, nullif(?2, 0), ?3, 'enrol', g.person_id, p.username, c.code || "
		" CASE g.was WHEN 'waiting' THEN ': a licence came back, enrolled'"
		" ELSE ': the account is active, enrolled' END "
		"FROM act_grant g JOIN people p ON p.id = g.person_id "
		"JOIN courses c ON c.id = g.course_id ORDER BY g.assignment_id";
	static const char mail[] =
		"INSERT INTO outbox (created_at, run_id, source, kind, person_id, username, email, "
		"course, due) SELECT ?1, nullif(?2, 0), ?3, 'assigned', p.id, p.username, p.email, "
		"c.code, a.due FROM act_grant g JOIN people p ON p.id = g.person_id "
		"JOIN courses c ON c.id = g.course_id JOIN assignments a ON a.id = g.assignment_id "
		"ORDER BY g.assignment_id";
	long long nfree;
	int n, r;

	if ((r = free_licences(a, course, &nfree)) < 0)
		return r;
	if (nfree == 0)
		return 0;
	if (exec(a, clear, "") < 0 ||
	    (n = exec(a, pick, "ii", course, nfree < 0 ? (long long)INT64_MAX : nfree)) < 0)
		return -EIO;
	if (n > 0 && ((r = exec(a, enrol, "")) < 0 || (r = exec(a, licence, "t", a->now)) < 0 ||
		      (r = exec(a, log_grant, "tit", a->now, a->run_id, a->actor)) < 0 ||
		      (r = exec(a, mail, "tit", a->now, a->run_id, a->actor)) < 0))
		return r;
	a->n.granted += n;
	return 0;
}

/* The pending assignments of active people that got no licence wait for
 * one (person 0: everyone's). */
static int
wait_pending(struct act *a, long long person)
{
	static const char clear[] = "DELETE FROM act_grant";
	static const char pick[] =
		"INSERT INTO act_grant (assignment_id, course_id, person_id, was) "
		"SELECT a.id, a.course_id, a.person_id, a.status FROM assignments a "
		"JOIN people p ON p.id = a.person_id WHERE a.status = 'pending' "
		"AND p.status = 'active' AND (?1 = 0 OR a.person_id = ?1)";
	static const char wait[] =
		"UPDATE assignments SET status = 'waiting' "
		"WHERE id IN (SELECT assignment_id FROM act_grant)";
	static const char log_wait[] =
		"INSERT INTO audit_log (at, run_id, actor, action, person_id, subject, detail) "
		"SELECT ?1, nullif(?2, 0), ?3, 'wait', g.person_id, p.username, c.code || "
		" ': the account is active, waiting for a licence' "
		"FROM act_grant g JOIN people p ON p.id = g.person_id "
		"JOIN courses c ON c.id = g.course_id ORDER BY g.assignment_id";
	int n, r;

	if (exec(a, clear, "") < 0 || (n = exec(a, pick, "i", person)) < 0)
		return -EIO;
	if (n > 0 && ((r = exec(a, wait, "")) < 0 ||
		      (r = exec(a, log_wait, "tit", a->now, a->run_id, a->actor)) < 0))
		return r;
	a->n.waiting += n;
	return 0;
}

/* Grant what can be granted in the queues of the courses that the query
 * lists (a person's, with their id bound to ?1; or everyone's, person 0),
 * then let the active people's remaining pending assignments wait. */
static int
grant_queues(struct act *a, const char *courses_sql, long long person)
{
	long long *ids = NULL;
	size_t n = 0;
	struct stmt *s = prep(a, courses_sql, person ? "i" : "", person);
	int r;

	if (s == NULL)
		return -EIO;
	if ((r = id_list(s, &ids, &n)) < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = grant_course(a, ids[i]);
	free(ids);
	return r < 0 ? r : wait_pending(a, person);
}

/* A person became active: their pending and waiting assignments. */
static int
grant_person(struct act *a, long long person)
{
	static const char sql[] =
		"SELECT DISTINCT course_id FROM assignments WHERE person_id = ?1 "
		"AND status IN ('pending', 'waiting') ORDER BY course_id";

	return grant_queues(a, sql, person);
}

int
act_settle(struct act *a)
{
	static const char sql[] =
		"SELECT DISTINCT a.course_id FROM assignments a JOIN people p ON p.id = a.person_id "
		"WHERE a.status IN ('pending', 'waiting') AND p.status = 'active' "
		"ORDER BY a.course_id";

	msg(a, "settled");
	return grant_queues(a, sql, 0);
}

static int
verify(struct act *a, const struct who *w)
{
	int r;

	if (is(w->status, "active")) {
		msg(a, "%s: already active", w->username);
		return ACT_NOCHANGE;
	}
	if (!is(w->status, "invited")) {
		msg(a, "%s is %s: only an invited account can be verified", w->username, w->status);
		return -EINVAL;
	}
	if ((r = set_status(a, w, "active", NULL, w->prev)) < 0 ||
	    (r = audit(a, "verify", w->id, w->username, "invited -> active")) < 0 ||
	    (r = grant_person(a, w->id)) < 0)
		return r;
	msg(a, "%s: active", w->username);
	return 0;
}

static int
invite(struct act *a, const struct who *w)
{
	int r;

	if (!is(w->status, "invited")) {
		msg(a, "%s is %s: only an invited account is sent an invitation", w->username,
		    w->status);
		return -EINVAL;
	}
	if ((r = audit(a, "invite", w->id, w->username, "invitation queued")) < 0 ||
	    (r = outbox(a, w->id, "invite", NULL, NULL, NULL)) < 0)
		return r;
	msg(a, "%s: invitation queued", w->username);
	return 0;
}

static int
disable(struct act *a, const struct who *w, const char *why)
{
	const char *reason = actor_reason(a);
	char detail[600];
	int r;

	if (is(w->status, "archived")) {
		msg(a, "%s: already archived", w->username);
		return ACT_NOCHANGE;
	}
	if (is(w->status, "disabled")) {
		/* An operator's disable outranks every other reason: no rule and
		 * no return to the directory enables the person again. */
		if (!actor_is_operator(a) || is(w->reason, "operator")) {
			msg(a, "%s: already disabled", w->username);
			return ACT_NOCHANGE;
		}
		snprintf(detail, sizeof(detail), "kept disabled by the operator (was: %s)%s%s",
			 w->reason ? w->reason : "-", why ? ": " : "", why ? why : "");
		if ((r = set_status(a, w, "disabled", reason, w->prev)) < 0 ||
		    (r = audit(a, "disable", w->id, w->username, detail)) < 0)
			return r;
		msg(a, "%s: kept disabled by the operator (was disabled: %s)", w->username,
		    w->reason ? w->reason : "-");
		return 0;
	}
	snprintf(detail, sizeof(detail), "%s -> disabled%s%s", w->status, why ? ": " : "",
		 why ? why : "");
	if ((r = set_status(a, w, "disabled", reason, w->status)) < 0 ||
	    (r = audit(a, "disable", w->id, w->username, detail)) < 0 ||
	    (r = outbox(a, w->id, "disabled", NULL, NULL, why)) < 0)
		return r;
	a->n.disabled++;
	msg(a, "%s: disabled", w->username);
	return 0;
}

static int
enable(struct act *a, const struct who *w, const char *why)
{
	const char *to = w->prev ? w->prev : "invited";
	char detail[600];
	int r;

	if (is(w->status, "invited") || is(w->status, "active")) {
		msg(a, "%s: already %s", w->username, w->status);
		return ACT_NOCHANGE;
	}
	if (is(w->status, "archived")) {
		msg(a, "%s is archived: restore it first", w->username);
		return -EINVAL;
	}
	if (is(w->reason, "operator") && !actor_is_operator(a)) {
		msg(a, "%s was disabled by an operator: only an operator enables it", w->username);
		return -EPERM;
	}
	snprintf(detail, sizeof(detail), "disabled (%s) -> %s%s%s", w->reason ? w->reason : "-",
		 to, why ? ": " : "", why ? why : "");
	if ((r = set_status(a, w, to, NULL, w->prev)) < 0 ||
	    (r = audit(a, "enable", w->id, w->username, detail)) < 0 ||
	    (r = grant_person(a, w->id)) < 0)
		return r;
	a->n.enabled++;
	msg(a, "%s: %s", w->username, to);
	return 0;
}

/* Release the person's never-started assignments (started and completed
 * ones are the training record and stay as they are), their licences back
 * in the pools: the number released, with their codes appended to detail and
 * in *ids (the caller frees it) the courses whose queues may move now; or a
 * negative errno. */
static int
release_unstarted(struct act *a, long long person, char *detail, size_t len, long long **ids,
		  size_t *nids)
{
	static const char pick[] =
		"INSERT INTO act_grant (assignment_id, course_id, person_id, was) "
		"SELECT id, course_id, person_id, status FROM assignments WHERE person_id = ?1 "
		"AND status IN ('pending', 'waiting', 'enrolled') AND started_at IS NULL";
	static const char clear[] = "DELETE FROM act_grant";
	static const char free_licences[] =
		"UPDATE licences SET released_at = ?1 WHERE released_at IS NULL "
		"AND assignment_id IN (SELECT assignment_id FROM act_grant)";
	static const char release[] =
		"UPDATE assignments SET status = 'released', ended_at = ?1 "
		"WHERE id IN (SELECT assignment_id FROM act_grant)";
	static const char names[] =
		"SELECT c.code FROM act_grant g JOIN courses c ON c.id = g.course_id ORDER BY c.code";
	static const char courses[] =
		"SELECT DISTINCT course_id FROM act_grant ORDER BY course_id";
	long long *list = NULL;
	size_t k = 0;
	struct stmt *s;
	int n, r;

	if (exec(a, clear, "") < 0 || (n = exec(a, pick, "i", person)) < 0)
		return -EIO;
	if (n > 0) {
		if ((s = prep(a, names, "")) == NULL)
			return -EIO;
		str_appendf(detail, len, "; released, never started:");
		while ((r = stmt_step(s)) == 1)
			str_appendf(detail, len, " %s", stmt_text(s, 0));
		stmt_done(s);
		if (r < 0 || (s = prep(a, courses, "")) == NULL)
			return -EIO;
		if ((r = id_list(s, &list, &k)) < 0)
			return r;
		if (exec(a, free_licences, "t", a->now) < 0 || exec(a, release, "t", a->now) < 0) {
			free(list);
			return -EIO;
		}
	}
	*ids = list;
	*nids = k;
	return n;
}

static int
archive(struct act *a, const struct who *w, const char *why)
{
	char detail[1200] = "";
	long long *ids = NULL;
	size_t nids = 0;
	int n, r;

	if (is(w->status, "archived")) {
		msg(a, "%s: already archived", w->username);
		return ACT_NOCHANGE;
	}
	if (!is(w->status, "disabled")) {
		msg(a, "%s is %s: only a disabled account is archived (disable it first)",
		    w->username, w->status);
		return -EINVAL;
	}
	str_appendf(detail, sizeof(detail), "disabled -> archived%s%s", why ? ": " : "",
		    why ? why : "");
	if ((n = release_unstarted(a, w->id, detail, sizeof(detail), &ids, &nids)) < 0)
		return n;
	r = set_status(a, w, "archived", w->reason, w->prev);
	if (r == 0)
		r = audit(a, "archive", w->id, w->username, detail);
	for (size_t i = 0; r == 0 && i < nids; i++)
		r = grant_course(a, ids[i]);
	free(ids);
	if (r < 0)
		return r;
	a->n.archived++;
	a->n.released += n;
	if (n > 0)
		msg(a, "%s: archived; %d never-started assignment%s released", w->username, n,
		    n == 1 ? "" : "s");
	else
		msg(a, "%s: archived", w->username);
	return 0;
}

/* Back from the archive to what the directory says now: present and not
 * disabled there, the status it had; otherwise disabled, for the reason the
 * sync understands (missing, directory), so its return enables it. */
static int
restore(struct act *a, const struct who *w)
{
	const char *to = "disabled", *reason = NULL;
	char detail[200];
	int r;

	if (!is(w->status, "archived")) {
		msg(a, "%s is %s: only an archived account is restored", w->username, w->status);
		return is(w->status, "disabled") ? ACT_NOCHANGE : -EINVAL;
	}
	if (w->missing)
		reason = "missing";
	else if (w->dir_disabled)
		reason = "directory";
	else
		to = w->prev ? w->prev : "invited";
	snprintf(detail, sizeof(detail), "archived -> %s%s%s%s", to, reason ? " (" : "",
		 reason ? reason : "", reason ? ")" : "");
	if ((r = set_status(a, w, to, reason, w->prev)) < 0 ||
	    (r = audit(a, "restore", w->id, w->username, detail)) < 0 ||
	    (r = grant_person(a, w->id)) < 0)
		return r;
	a->n.restored++;
	msg(a, "%s: %s%s%s%s", w->username, to, reason ? " (" : "", reason ? reason : "",
	    reason ? ")" : "");
	return 0;
}

int
act_status(struct act *a, long long person, enum act_op op, const char *why)
{
	struct who w;
	int r;

	if ((r = who_load(a, person, &w)) < 0)
		return r;
	switch (op) {
	case ACT_VERIFY: r = verify(a, &w); break;
	case ACT_INVITE: r = invite(a, &w); break;
	case ACT_DISABLE: r = disable(a, &w, why); break;
	case ACT_ENABLE: r = enable(a, &w, why); break;
	case ACT_ARCHIVE: r = archive(a, &w, why); break;
	case ACT_RESTORE: r = restore(a, &w); break;
	default: r = -EINVAL; break;
	}
	who_free(&w);
	return r;
}

int
act_remove(struct act *a, long long person)
{
	static const char count[] = "SELECT count(*) FROM assignments WHERE person_id = ?1";
	static const char del[] = "DELETE FROM people WHERE id = ?1";
	static const char courses[] =
		"SELECT DISTINCT a.course_id FROM assignments a JOIN licences l "
		"ON l.assignment_id = a.id WHERE a.person_id = ?1 AND l.released_at IS NULL";
	char detail[200];
	long long n = 0, *ids = NULL;
	size_t nids = 0;
	struct stmt *s;
	struct who w;
	int r;

	if (!actor_is_operator(a)) {
		msg(a, "only an operator removes a person");
		return -EPERM;
	}
	if ((r = who_load(a, person, &w)) < 0)
		return r;
	r = -EIO;
	if (scalar(a, &n, count, "i", person) < 0)
		goto out;
	/* The courses whose licences this frees: their queues move after. */
	if ((s = prep(a, courses, "i", person)) == NULL)
		goto out;
	if ((r = id_list(s, &ids, &nids)) < 0)
		goto out;
	r = -EIO;
	snprintf(detail, sizeof(detail), "purged (was %s) with %lld assignment%s", w.status, n,
		 n == 1 ? "" : "s");
	if (exec(a, del, "i", person) != 1 || (r = audit(a, "remove", 0, w.username, detail)) < 0)
		goto out;
	for (size_t i = 0; r == 0 && i < nids; i++)
		r = grant_course(a, ids[i]);
	if (r == 0) {
		a->n.removed++;
		msg(a, "%s: removed with %lld assignment%s", w.username, n, n == 1 ? "" : "s");
	}
out:
	free(ids);
	who_free(&w);
	return r;
}

/* The entry that wanted a person's username last: a reject of the latest run
 * that read the directory and committed, naming the person as its holder. */
static const char relink_find_sql[] =
	"SELECT r.dir_id, r.dn, r.run_id, p.dir_id FROM run_rejects r JOIN people p "
	"ON p.id = r.held_by WHERE r.run_id = (SELECT max(id) FROM sync_runs "
	" WHERE outcome IN ('ok', 'incomplete')) AND r.held_by = ?1 AND r.dir_id IS NOT NULL "
	"ORDER BY r.dn LIMIT 1";

/* The entry a relink of w would bind: its id, DN and run into *dir_id, *dn
 * (the caller frees them) and *run, and the person's id now into *old;
 * 0, or a negative errno with the message said. */
static int
relink_entry(struct act *a, const struct who *w, char **dir_id, char **dn, long long *run,
	     char **old)
{
	struct stmt *s = prep(a, relink_find_sql, "i", w->id);
	int r;

	if (s == NULL)
		return -EIO;
	if ((r = stmt_step(s)) != 1) {
		stmt_done(s);
		if (r < 0)
			return -EIO;
		msg(a, "%s: the last run rejected no entry for the username \"%s\"; relink binds "
		    "the entry a run rejects because the username is theirs", w->username,
		    w->username);
		return -ENOENT;
	}
	*dir_id = col_dup(s, 0);
	*dn = col_dup(s, 1);
	*run = stmt_int(s, 2);
	*old = col_dup(s, 3);
	stmt_done(s);
	return *dir_id && *dn && *old ? 0 : -ENOMEM;
}

int
act_relink(struct act *a, long long person, const char *why)
{
	char *dir_id = NULL, *dn = NULL, *old = NULL, detail[1024];
	long long run = 0, taken = 0;
	struct who w;
	int r;

	if (!actor_is_operator(a)) {
		msg(a, "only an operator binds a person to another entry");
		return -EPERM;
	}
	if ((r = who_load(a, person, &w)) < 0)
		return r;
	r = -EINVAL;
	if (!w.missing) {
		msg(a, "%s: their entry is in the directory; relink binds only a person whose "
		    "entry is gone", w.username);
		goto out;
	}
	if ((r = relink_entry(a, &w, &dir_id, &dn, &run, &old)) < 0)
		goto out;
	if ((r = scalar(a, &taken, "SELECT count(*) FROM people WHERE dir_id = ?1", "t",
			dir_id)) < 0)
		goto out;
	if (taken > 0) {
		msg(a, "%s: the entry \"%s\" is another person's already", w.username, dn);
		r = -EEXIST;
		goto out;
	}
	snprintf(detail, sizeof(detail), "directory id %s -> %s: \"%s\", rejected by run %lld%s%s",
		 old, dir_id, dn, run, why ? ": " : "", why ? why : "");
	if (exec(a, "UPDATE people SET dir_id = ?2, updated_at = ?3 WHERE id = ?1", "itt",
		 person, dir_id, a->now) != 1 ||
	    (r = audit(a, "relink", person, w.username, detail)) < 0) {
		r = -EIO;
		goto out;
	}
	msg(a, "%s: bound to \"%s\"; the next run takes that entry for them", w.username, dn);
	r = 0;
out:
	free(dir_id);
	free(dn);
	free(old);
	who_free(&w);
	return r;
}

/* ---- courses and assignments ---------------------------------------------------- */

bool
act_code_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

bool
act_date_ok(const char *s)
{
	struct tm tm = { 0 };
	int y, m, d;
	char tail;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !(s[i] >= '0' && s[i] <= '9'))
			return false;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	if (timegm(&tm) == (time_t)-1)
		return false;
	/* timegm normalises 2026-02-30 into March: a real date survives unchanged. */
	return tm.tm_year == y - 1900 && tm.tm_mon == m - 1 && tm.tm_mday == d;
}

int
act_course_define(struct act *a, const char *code, const char *title, long long limit,
		  bool update)
{
	/* SQLite: IS as a comparison that takes NULL as a value */
	static const char find[] =
		"SELECT id, title IS ?2 AND licence_limit IS nullif(?3, -1) FROM courses "
		"WHERE code = ?1";
	static const char add[] =
		"INSERT INTO courses (code, title, licence_limit, created_at, source) "
		"VALUES (?1, ?2, nullif(?3, -1), ?4, ?5)";
	static const char set[] =
		"UPDATE courses SET title = ?2, licence_limit = nullif(?3, -1) WHERE id = ?1";
	char detail[300];
	struct stmt *s;
	long long id;
	int same, r;

	if (!act_code_ok(code)) {
		msg(a, "\"%s\" is not a course code (1 to 64 of A-Z a-z 0-9 _ - .)", code);
		return -EINVAL;
	}
	if (limit < -1) {
		msg(a, "%s: a licence limit is 0 or more", code);
		return -EINVAL;
	}
	if (limit >= 0)
		snprintf(detail, sizeof(detail), "%s, %lld licence%s", title ? title : "(no title)",
			 limit, limit == 1 ? "" : "s");
	else
		snprintf(detail, sizeof(detail), "%s, no licence limit", title ? title : "(no title)");
	if ((s = prep(a, find, "tti", code, title, limit)) == NULL)
		return -EIO;
	r = stmt_step(s);
	id = r == 1 ? stmt_int(s, 0) : 0;
	same = r == 1 ? stmt_int(s, 1) != 0 : 0;
	stmt_done(s);
	if (r < 0)
		return -EIO;
	if (id == 0) {
		if (exec(a, add, "ttitt", code, title, limit, a->now, a->actor) < 0 ||
		    (r = audit(a, "course-add", 0, code, detail)) < 0)
			return -EIO;
		msg(a, "course %s added", code);
		return 0;
	}
	if (!update) {
		msg(a, "course %s exists already", code);
		return -EEXIST;
	}
	if (same) {
		msg(a, "course %s unchanged", code);
		return ACT_NOCHANGE;
	}
	if (exec(a, set, "iti", id, title, limit) < 0 ||
	    (r = audit(a, "course-update", 0, code, detail)) < 0 ||
	    (r = grant_course(a, id)) < 0)
		return r < 0 ? r : -EIO;
	msg(a, "course %s updated", code);
	return 0;
}

static int
course_find(struct act *a, const char *code, long long *id)
{
	static const char sql[] = "SELECT id FROM courses WHERE code = ?1";

	return find_id(a, sql, code, id, "course", " (rosterctl course add, or a course_rules "
		       "course)");
}

/* The person's current assignment of the course: its id, status, source, and
 * whole days since completion (-1 when not completed). 0 when there is none. */
struct current {
	long long id, done_days;
	char status[16];
	char source[256];
	bool started;
};

static int
current(struct act *a, long long person, long long course, struct current *c)
{
	/* SQLite: julianday() */
	static const char sql[] =
		"SELECT id, status, source, CASE WHEN status = 'completed' THEN "
		"CAST(julianday(?3) - julianday(coalesce(completed_at, assigned_at)) AS INTEGER) "
		"ELSE -1 END, started_at IS NOT NULL OR status IN ('in_progress', 'completed') "
		"FROM assignments WHERE person_id = ?1 AND course_id = ?2 "
		"AND status NOT IN ('released', 'archived', 'expired') ORDER BY id DESC LIMIT 1";
	struct stmt *s = prep(a, sql, "iit", person, course, a->now);
	int r;

	if (s == NULL)
		return -EIO;
	r = stmt_step(s);
	if (r == 1) {
		c->id = stmt_int(s, 0);
		snprintf(c->status, sizeof(c->status), "%s", stmt_text(s, 1));
		snprintf(c->source, sizeof(c->source), "%s", stmt_text(s, 2));
		c->done_days = stmt_int(s, 3);
		c->started = stmt_int(s, 4) != 0;
	}
	stmt_done(s);
	return r < 0 ? -EIO : r;
}

/* The course of code, the person and their current assignment of it: 1
 * with c set, 0 when none is current, or a negative errno. From 0 on, w is
 * loaded and the caller frees it (who_free); before, it is left empty. */
static int
course_person(struct act *a, long long person, const char *code, long long *course,
	      struct who *w, struct current *c)
{
	int r;

	memset(w, 0, sizeof(*w));
	if ((r = course_find(a, code, course)) < 0 || (r = who_load(a, person, w)) < 0)
		return r;
	if ((r = current(a, person, *course, c)) < 0)
		who_free(w);
	return r;
}

/* The day of a->now, YYYY-MM-DD, into day. */
static void
today(const struct act *a, char day[11])
{
	snprintf(day, 11, "%.10s", a->now);
}

/* Whether due and expires (NULL: none) and recur_days may go into an
 * assignment: 0, or -EINVAL with the reason said. */
static int
assign_args_ok(struct act *a, const char *due, const char *expires, int recur_days)
{
	char day[11];

	if (due != NULL && !act_date_ok(due)) {
		msg(a, "\"%s\" is not a date (YYYY-MM-DD)", due);
		return -EINVAL;
	}
	if (expires != NULL && !act_date_ok(expires)) {
		msg(a, "\"%s\" is not a date (YYYY-MM-DD)", expires);
		return -EINVAL;
	}
	today(a, day);
	if (expires != NULL && strcmp(expires, day) < 0) {
		msg(a, "access cannot end on %s: that day has passed", expires);
		return -EINVAL;
	}
	if (recur_days < 0) {
		msg(a, "recur_days must not be negative");
		return -EINVAL;
	}
	return 0;
}

/* For a rule: whether the person's last assignment of the course expired
 * (1: a rule leaves it so, said), 0 otherwise, or -EIO. Operators assign
 * again what expired; rules would undo the expiry on their next match. */
static int
expired_for_rule(struct act *a, const struct who *w, long long course, const char *code)
{
	static const char sql[] =
		"SELECT status = 'expired' FROM assignments WHERE person_id = ?1 AND course_id = ?2 "
		"ORDER BY id DESC LIMIT 1";
	long long expired = 0;
	int r;

	if (actor_is_operator(a))
		return 0;
	if ((r = scalar(a, &expired, sql, "ii", w->id, course)) < 0)
		return r;
	if (r == 0 || !expired)
		return 0;
	msg(a, "%s: access to %s expired: only an operator assigns it again", w->username, code);
	return 1;
}

/* Add the assignment, enrolled when a licence is free: 0 or a negative
 * errno; what was done in detail. */
static int
assign_new(struct act *a, const struct who *w, long long course, const char *code,
	   const char *due, const char *expires, int recur_days, char *detail, size_t len)
{
	static const char add[] =
		"INSERT INTO assignments (person_id, course_id, status, source, assigned_at, due, "
		"recur_days, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, 0), ?8)";
	static const char take[] =
		"INSERT INTO licences (course_id, assignment_id, granted_at) VALUES (?1, ?2, ?3)";
	long long nfree = 0;
	const char *status;
	int r;

	/* Those already waiting for this course go first. */
	if (is(w->status, "active") && ((r = grant_course(a, course)) < 0 ||
					(r = free_licences(a, course, &nfree)) < 0))
		return r;
	status = !is(w->status, "active") ? "pending" : nfree != 0 ? "enrolled" : "waiting";
	if (exec(a, add, "iittttit", w->id, course, status, a->actor, a->now, due,
		 (long long)recur_days, expires) < 0)
		return -EIO;
	if (is(status, "enrolled") &&
	    (exec(a, take, "iit", course, store_last_id(a->st), a->now) < 0 ||
	     outbox(a, w->id, "assigned", code, due, NULL) < 0))
		return -EIO;
	snprintf(detail, len, "%s%s%s%s%s: %s", code, due ? " due " : "", due ? due : "",
		 expires ? ", access until " : "", expires ? expires : "",
		 is(status, "enrolled") ? "enrolled" : is(status, "waiting") ?
		 "waiting for a licence: the pool is empty" :
		 "pending until the account is active");
	if ((r = audit(a, "assign", w->id, w->username, detail)) < 0)
		return r;
	a->n.assigned++;
	if (is(status, "waiting"))
		a->n.waiting++;
	return 0;
}

int
act_assign(struct act *a, long long person, const char *code, const char *due, int recur_days)
{
	return act_assign_until(a, person, code, due, NULL, recur_days);
}

int
act_assign_until(struct act *a, long long person, const char *code, const char *due,
		 const char *expires, int recur_days)
{
	static const char cycle[] =
		"UPDATE assignments SET status = 'archived', ended_at = ?2 WHERE id = ?1";
	struct current cur = { 0 };
	long long course;
	char detail[300];
	struct who w;
	int r;

	if ((r = assign_args_ok(a, due, expires, recur_days)) < 0)
		return r;
	if ((r = course_find(a, code, &course)) < 0 || (r = who_load(a, person, &w)) < 0)
		return r;
	if (is(w.status, "archived")) {
		msg(a, "%s is archived: restore it before assigning courses", w.username);
		r = -EINVAL;
		goto out;
	}
	if ((r = current(a, person, course, &cur)) < 0)
		goto out;
	if (r == 1) {
		if (!(is(cur.status, "completed") && recur_days > 0 && cur.done_days >= recur_days)) {
			msg(a, "%s: %s already assigned (%s)", w.username, code, cur.status);
			r = ACT_NOCHANGE;
			goto out;
		}
		/* A finished cycle of recurring training: kept in the history. */
		snprintf(detail, sizeof(detail), "%s: completed %lld days ago, every %d days: "
			 "cycle archived", code, cur.done_days, recur_days);
		if ((r = exec(a, cycle, "it", cur.id, a->now)) < 0 ||
		    (r = audit(a, "recur", person, w.username, detail)) < 0)
			goto out;
		a->n.recurred++;
	} else if ((r = expired_for_rule(a, &w, course, code)) != 0) {
		r = r < 0 ? r : ACT_NOCHANGE;
		goto out;
	}
	if ((r = assign_new(a, &w, course, code, due, expires, recur_days, detail,
			    sizeof(detail))) < 0)
		goto out;
	msg(a, "%s: %s", w.username, detail);
	r = 0;
out:
	who_free(&w);
	return r;
}

int
act_unassign(struct act *a, long long person, const char *code, bool own_only)
{
	static const char free_licence[] =
		"UPDATE licences SET released_at = ?2 WHERE assignment_id = ?1 AND released_at IS NULL";
	static const char release[] =
		"UPDATE assignments SET status = 'released', ended_at = ?2 WHERE id = ?1";
	struct current cur = { 0 };
	long long course;
	char detail[300];
	struct who w;
	int r;

	if ((r = course_person(a, person, code, &course, &w, &cur)) < 0)
		return r;
	if (r == 0) {
		msg(a, "%s: %s not assigned", w.username, code);
		r = ACT_NOCHANGE;
		goto out;
	}
	if (own_only && strcmp(cur.source, a->actor) != 0) {
		msg(a, "%s: %s was assigned by %s: left alone", w.username, code, cur.source);
		r = ACT_NOCHANGE;
		goto out;
	}
	if (cur.started) {
		msg(a, "%s has started %s (%s): training records are kept", w.username, code,
		    cur.status);
		r = -EBUSY;
		goto out;
	}
	snprintf(detail, sizeof(detail), "%s: released (was %s)", code, cur.status);
	if ((r = exec(a, free_licence, "it", cur.id, a->now)) < 0 ||
	    (r = exec(a, release, "it", cur.id, a->now)) < 0 ||
	    (r = audit(a, "unassign", person, w.username, detail)) < 0 ||
	    (r = grant_course(a, course)) < 0)
		goto out;
	a->n.unassigned++;
	msg(a, "%s: %s", w.username, detail);
	r = 0;
out:
	who_free(&w);
	return r;
}

/* ---- access that ends, finished training, roles ---------------------------------- */

/* The unfinished assignments whose access ended before day, of person
 * (0: everyone's), into act_grant: how many, or -EIO. */
static int
expiry_pick(struct act *a, const char *day, long long person)
{
	static const char clear[] = "DELETE FROM act_grant";
	static const char pick[] =
		"INSERT INTO act_grant (assignment_id, course_id, person_id, was) "
		"SELECT id, course_id, person_id, status FROM assignments "
		"WHERE expires IS NOT NULL AND status IN ('pending', 'waiting', 'enrolled', "
		"'in_progress') AND expires < ?1 AND (?2 = 0 OR person_id = ?2)";

	if (exec(a, clear, "") < 0)
		return -EIO;
	return exec(a, pick, "ti", day, person);
}

/* Record, notify and apply the expiry of the n assignments in act_grant. A
 * never-started one (not begun, not in progress) gives its licence back. */
static int
expiry_apply(struct act *a, int n)
{
#define NEVER_STARTED "g.was IN ('pending', 'waiting', 'enrolled') AND x.started_at IS NULL"
	static const char log_expiry[] =
		"INSERT INTO audit_log (at, run_id, actor, action, person_id, subject, detail) "
		"SELECT ?1, nullif(?2, 0), ?3, 'expire', g.person_id, p.username, c.code || "
		"': access ended ' || x.expires || ' (was ' || g.was || CASE WHEN " NEVER_STARTED
		" THEN '): never started, released' ELSE '): its record kept' END "
		"FROM act_grant g JOIN people p ON p.id = g.person_id "
		"JOIN courses c ON c.id = g.course_id JOIN assignments x ON x.id = g.assignment_id "
		"ORDER BY g.assignment_id";
	static const char mail[] =
		"INSERT INTO outbox (created_at, run_id, source, kind, person_id, username, email, "
		"course, due, message) SELECT ?1, nullif(?2, 0), ?3, 'expired', p.id, p.username, "
		"p.email, c.code, x.due, 'access ended ' || x.expires FROM act_grant g "
		"JOIN people p ON p.id = g.person_id JOIN courses c ON c.id = g.course_id "
		"JOIN assignments x ON x.id = g.assignment_id ORDER BY g.assignment_id";
	static const char release[] =
		"UPDATE licences SET released_at = ?1 WHERE released_at IS NULL AND assignment_id IN "
		"(SELECT g.assignment_id FROM act_grant g JOIN assignments x "
		"ON x.id = g.assignment_id WHERE " NEVER_STARTED ")";
	static const char expire[] =
		"UPDATE assignments SET status = 'expired', ended_at = ?1 "
		"WHERE id IN (SELECT assignment_id FROM act_grant)";
#undef NEVER_STARTED

	if (exec(a, log_expiry, "tit", a->now, a->run_id, a->actor) < 0 ||
	    exec(a, mail, "tit", a->now, a->run_id, a->actor) < 0 ||
	    exec(a, release, "t", a->now) < 0 || exec(a, expire, "t", a->now) < 0)
		return -EIO;
	a->n.notified += n;
	a->n.expired += n;
	return 0;
}

/* Expire what has ended of person's (0: everyone's); the courses whose
 * licences came back give them to their queues. The number expired, or a
 * negative errno. */
static int
expire_ended(struct act *a, long long person)
{
	static const char courses[] =
		"SELECT DISTINCT course_id FROM act_grant ORDER BY course_id";
	long long *ids = NULL;
	size_t nids = 0;
	char day[11];
	struct stmt *s;
	int n, r;

	today(a, day);
	if ((n = expiry_pick(a, day, person)) <= 0)
		return n;
	if ((s = prep(a, courses, "")) == NULL)
		return -EIO;
	if ((r = id_list(s, &ids, &nids)) < 0)
		return r;
	r = expiry_apply(a, n);
	for (size_t i = 0; r == 0 && i < nids; i++)
		r = grant_course(a, ids[i]);
	free(ids);
	return r < 0 ? r : n;
}

int
act_expire(struct act *a, long long *n)
{
	int r = expire_ended(a, 0);

	if (r < 0)
		return r;
	if (n != NULL)
		*n = r;
	msg(a, "%d assignment%s expired", r, r == 1 ? "" : "s");
	return r > 0 ? 0 : ACT_NOCHANGE;
}

int
act_set_expiry(struct act *a, long long person, const char *code, const char *expires)
{
	static const char get[] = "SELECT coalesce(expires, '') FROM assignments WHERE id = ?1";
	static const char set[] = "UPDATE assignments SET expires = ?2 WHERE id = ?1";
	struct current cur = { 0 };
	char detail[300], was[16] = "", day[11];
	long long course;
	struct stmt *s;
	struct who w;
	int r;

	if (expires != NULL && !act_date_ok(expires)) {
		msg(a, "\"%s\" is not a date (YYYY-MM-DD)", expires);
		return -EINVAL;
	}
	if ((r = course_person(a, person, code, &course, &w, &cur)) < 0)
		return r;
	if (r == 0) {
		msg(a, "%s: %s not assigned (an expired course is assigned again with "
		    "rosterctl assign)", w.username, code);
		r = -ENOENT;
		goto out;
	}
	if (is(cur.status, "completed")) {
		msg(a, "%s has completed %s: finished training keeps its access and record",
		    w.username, code);
		r = -EINVAL;
		goto out;
	}
	r = -EIO;
	if ((s = prep(a, get, "i", cur.id)) == NULL)
		goto out;
	if (stmt_step(s) == 1)
		snprintf(was, sizeof(was), "%s", stmt_text(s, 0));
	stmt_done(s);
	if (strcmp(was, expires ? expires : "") == 0) {
		msg(a, "%s: %s: access until %s already", w.username, code, was[0] ? was : "no end");
		r = ACT_NOCHANGE;
		goto out;
	}
	snprintf(detail, sizeof(detail), "%s: access until %s (was %s)", code,
		 expires ? expires : "no end", was[0] ? was : "no end");
	if ((r = exec(a, set, "it", cur.id, expires)) < 0 ||
	    (r = audit(a, "expiry", person, w.username, detail)) < 0)
		goto out;
	today(a, day);
	if (expires != NULL && strcmp(expires, day) < 0) {
		if ((r = expire_ended(a, person)) < 0)
			goto out;
		str_appendf(detail, sizeof(detail), ": the day has passed, expired");
	}
	msg(a, "%s: %s", w.username, detail);
	r = 0;
out:
	who_free(&w);
	return r;
}

/* Assign again, as an operator does, what act_archive_assignment archived;
 * the message says both. */
static int
assign_again(struct act *a, const struct who *w, const char *code, const char *due,
	     const char *expires)
{
	char archived[sizeof(a->msg)], assigned[sizeof(a->msg)];
	size_t skip = strlen(w->username) + 2;   /* act_assign's "NAME: " */
	int r;

	snprintf(archived, sizeof(archived), "%s", a->msg);
	r = act_assign_until(a, w->id, code, due, expires, 0);
	if (r == 0 && strlen(a->msg) > skip) {
		snprintf(assigned, sizeof(assigned), "%s", a->msg + skip);
		msg(a, "%s; assigned again: %s", archived, assigned);
	}
	return r;
}

int
act_archive_assignment(struct act *a, long long person, const char *code, bool again,
		       const char *due, const char *expires)
{
	static const char done[] =
		"UPDATE assignments SET status = 'archived', ended_at = ?2 WHERE id = ?1";
	struct current cur = { 0 };
	long long course;
	char detail[300];
	struct who w;
	int r;

	if ((r = course_person(a, person, code, &course, &w, &cur)) < 0)
		return r;
	if (r == 0 || !is(cur.status, "completed")) {
		if (r == 0)
			msg(a, "%s: %s not assigned", w.username, code);
		else
			msg(a, "%s: %s is %s: only completed training is archived", w.username,
			    code, cur.status);
		r = r == 0 ? -ENOENT : -EINVAL;
		goto out;
	}
	snprintf(detail, sizeof(detail), "%s: completed, archived (kept in the history)", code);
	if ((r = exec(a, done, "it", cur.id, a->now)) < 0 ||
	    (r = audit(a, "assignment-archive", person, w.username, detail)) < 0)
		goto out;
	msg(a, "%s: %s", w.username, detail);
	r = again ? assign_again(a, &w, code, due, expires) : 0;
out:
	who_free(&w);
	return r;
}

/* The person's role and where it comes from, into role and source. */
static int
role_load(struct act *a, long long person, char role[16], char source[16])
{
	static const char sql[] = "SELECT role, role_source FROM people WHERE id = ?1";
	struct stmt *s = prep(a, sql, "i", person);
	int r;

	if (s == NULL)
		return -EIO;
	if ((r = stmt_step(s)) == 1) {
		snprintf(role, 16, "%s", stmt_text(s, 0));
		snprintf(source, 16, "%s", stmt_text(s, 1));
	}
	stmt_done(s);
	return r == 1 ? 0 : r == 0 ? -ENOENT : -EIO;
}

int
act_set_role(struct act *a, long long person, const char *role)
{
	static const char pin[] =
		"UPDATE people SET role = ?2, role_source = 'operator', updated_at = ?3 WHERE id = ?1";
	static const char unpin[] =
		"UPDATE people SET role_source = 'directory', updated_at = ?2 WHERE id = ?1";
	char was[16], source[16], detail[200];
	struct who w;
	int r;

	if (!actor_is_operator(a)) {
		msg(a, "only an operator pins a role");
		return -EPERM;
	}
	if (role != NULL && !is(role, "admin") && !is(role, "manager") && !is(role, "learner")) {
		msg(a, "\"%s\" is not a role (admin, manager, learner, or auto)", role);
		return -EINVAL;
	}
	if ((r = who_load(a, person, &w)) < 0)
		return r;
	if ((r = role_load(a, person, was, source)) < 0)
		goto out;
	if (role == NULL ? is(source, "directory") : is(source, "operator") && is(was, role)) {
		msg(a, "%s: role %s, from the %s already", w.username, was,
		    role == NULL ? "directory" : "operator");
		r = ACT_NOCHANGE;
		goto out;
	}
	if (role != NULL)
		snprintf(detail, sizeof(detail), "%s -> %s, pinned by the operator", was, role);
	else
		snprintf(detail, sizeof(detail), "%s: back to the directory's rules from the next "
			 "sync run", was);
	if (role != NULL)
		r = exec(a, pin, "itt", person, role, a->now);
	else
		r = exec(a, unpin, "it", person, a->now);
	/* A role given back is worked out by the next run even when nothing
	 * else changed: the hierarchy forgets the digest of its inputs. */
	if (r < 0 || (role == NULL && (r = recon_hierarchy_forget(a->st)) < 0) ||
	    (r = audit(a, "role", person, w.username, detail)) < 0)
		goto out;
	msg(a, "%s: role %s", w.username, detail);
	r = 0;
out:
	who_free(&w);
	return r;
}

/* ---- fields and notifications --------------------------------------------------- */

static bool
word_ok(const char *s, bool dash)
{
	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      (dash && *s == '-')))
			return false;
	return true;
}

int
act_set_field(struct act *a, long long person, const char *name, const char *value)
{
	/* SQLite: IS as a comparison that takes NULL as a value */
	static const char find[] =
		"SELECT source IS NULL, value IS ?3 FROM person_fields "
		"WHERE person_id = ?1 AND name = ?2";
	static const char put[] =
		"INSERT INTO person_fields (person_id, name, value, source) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT (person_id, name) DO UPDATE SET value = excluded.value, "
		"source = excluded.source";
	static const char del[] = "DELETE FROM person_fields WHERE person_id = ?1 AND name = ?2";
	char detail[600];
	struct stmt *s;
	bool exists, from_dir = false, same = false;
	struct who w;
	int r;

	if (!word_ok(name, false)) {
		msg(a, "\"%s\" is not a field name (a-z, 0-9 and _)", name);
		return -EINVAL;
	}
	if (value != NULL && !utf8_valid(value, strlen(value))) {
		msg(a, "the value of %s is not UTF-8", name);
		return -EINVAL;
	}
	if ((r = who_load(a, person, &w)) < 0)
		return r;
	r = -EIO;
	if ((s = prep(a, find, "itt", person, name, value)) == NULL)
		goto out;
	r = stmt_step(s);
	exists = r == 1;
	if (exists) {
		from_dir = stmt_int(s, 0) != 0;
		same = stmt_int(s, 1) != 0;
	}
	stmt_done(s);
	if (r < 0) {
		r = -EIO;
		goto out;
	}
	if (from_dir) {
		msg(a, "%s: field %s comes from the directory", w.username, name);
		r = -EPERM;
		goto out;
	}
	if (same || (!exists && value == NULL)) {
		msg(a, "%s: %s unchanged", w.username, name);
		r = ACT_NOCHANGE;
		goto out;
	}
	if (value != NULL)
		r = exec(a, put, "ittt", person, name, value, a->actor);
	else
		r = exec(a, del, "it", person, name);
	if (r < 0)
		goto out;
	snprintf(detail, sizeof(detail), "%s = %s%s%s", name, value ? "\"" : "",
		 value ? value : "(none)", value ? "\"" : "");
	if ((r = audit(a, "set-field", person, w.username, detail)) < 0)
		goto out;
	a->n.fields++;
	msg(a, "%s: %s", w.username, detail);
	r = 0;
out:
	who_free(&w);
	return r;
}

int
act_notify(struct act *a, long long person, const char *kind, const char *message)
{
	char detail[300];
	struct who w;
	int r;

	if (!word_ok(kind, true)) {
		msg(a, "\"%s\" is not a notification kind (a-z, 0-9, _ and -)", kind);
		return -EINVAL;
	}
	if (message != NULL && !utf8_valid(message, strlen(message))) {
		msg(a, "the message is not UTF-8");
		return -EINVAL;
	}
	if ((r = who_load(a, person, &w)) < 0)
		return r;
	snprintf(detail, sizeof(detail), "%s notification queued", kind);
	if ((r = outbox(a, person, kind, NULL, NULL, message)) == 0 &&
	    (r = audit(a, "notify", person, w.username, detail)) == 0)
		msg(a, "%s: %s", w.username, detail);
	who_free(&w);
	return r;
}
