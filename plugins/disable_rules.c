/*
 * disable_rules.c: who is disabled, and who comes back. Loaded, it replaces
 * the sync's built-in rule (disable on the first complete run that misses a
 * person, or when the directory's flag is set). A person is disabled when,
 * after a complete directory read:
 *   - they have been missing from the directory for grace_runs complete runs
 *     (default 1) and, when grace_days is set, for that many days;
 *   - the directory's disabled flag is set (directory_flag, default true:
 *     nsAccountLock or userAccountControl as ldap.users.disabled_* says);
 *   - an HR status custom field holds one of status_values;
 *   - an end-date custom field holds a date before today (YYYY-MM-DD, or
 *     LDAP GeneralizedTime YYYYMMDD...).
 * Protected accounts (username globs) are never disabled. With reenable
 * (default true) a person this plugin disabled is enabled again once they are
 * back in the directory and no reason holds any more.
 *
 * The grace period needs no state of its own: the host counts the complete
 * runs since people.missing_since (missing_runs) and the days (missing_days).
 * Every disable counts against the sync's safety thresholds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rosterd/plugin.h>

#include "util.h"

#define H(ctx) ((ctx)->host)

struct state {
	long long grace_runs, grace_days;
	bool directory_flag, reenable;
	const char *status_field, *end_date_field;
	struct pu_list status_values, protect;
};

static void
fini(void *arg)
{
	struct state *st = arg;

	if (st == NULL)
		return;
	pu_list_free(&st->status_values);
	pu_list_free(&st->protect);
	free(st);
}

static int
init(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg, void **out)
{
	static const char *const known[] = {
		"grace_runs", "grace_days", "directory_flag", "status_field", "status_values",
		"end_date_field", "protected", "reenable", NULL,
	};
	struct state *st = calloc(1, sizeof(*st));
	int e = 0;

	if (st == NULL)
		return -ENOMEM;
	if (H(ctx)->setting_check(ctx, cfg, known) > 0)
		e = -EINVAL;
	if (pu_int(ctx, cfg, "grace_runs", 1, 1, 10000, &st->grace_runs) < 0 ||
	    pu_int(ctx, cfg, "grace_days", 0, 0, 3650, &st->grace_days) < 0 ||
	    pu_bool(ctx, cfg, "directory_flag", true, &st->directory_flag) < 0 ||
	    pu_bool(ctx, cfg, "reenable", true, &st->reenable) < 0 ||
	    pu_string(ctx, cfg, "status_field", &st->status_field) < 0 ||
	    pu_string(ctx, cfg, "end_date_field", &st->end_date_field) < 0 ||
	    pu_list(ctx, cfg, "status_values", &st->status_values) < 0 ||
	    pu_list(ctx, cfg, "protected", &st->protect) < 0)
		e = -EINVAL;
	if (e == 0 && (st->status_field != NULL) != (st->status_values.n > 0))
		e = H(ctx)->setting_error(ctx, NULL, "status_field and status_values go together");
	if (e < 0) {
		fini(st);
		return e;
	}
	*out = st;
	return 0;
}

/* Why p must be disabled, into why; false when nothing says so. */
static bool
reason(struct rosterd_ctx *ctx, const struct state *st, const struct rosterd_person *p,
       const char *now, char *why, size_t len)
{
	const char *v;
	long today, end;

	if (p->missing_since != NULL && p->missing_runs >= st->grace_runs &&
	    (st->grace_days == 0 || p->missing_days >= st->grace_days)) {
		snprintf(why, len, "missing from the directory for %d complete run%s since %s",
			 p->missing_runs, p->missing_runs == 1 ? "" : "s", p->missing_since);
		return true;
	}
	if (st->directory_flag && p->dir_disabled) {
		snprintf(why, len, "disabled in the directory");
		return true;
	}
	if (st->status_field != NULL &&
	    pu_list_match(&st->status_values, v = H(ctx)->person_field(ctx, p, st->status_field),
			  true)) {
		snprintf(why, len, "%s is \"%s\"", st->status_field, v);
		return true;
	}
	if (st->end_date_field != NULL &&
	    (v = H(ctx)->person_field(ctx, p, st->end_date_field)) != NULL) {
		if (pu_day(v, &end) < 0) {
			H(ctx)->log(ctx, ROSTERD_LOG_DEBUG, "%s: %s \"%s\" is not a date: ignored",
				    p->username, st->end_date_field, v);
		} else if (pu_day(now, &today) == 0 && end < today) {
			snprintf(why, len, "%s %s has passed", st->end_date_field, v);
			return true;
		}
	}
	return false;
}

static int
evaluate(struct rosterd_ctx *ctx, struct state *st, const struct rosterd_person *p,
	 const char *now, bool complete)
{
	bool enabled = strcmp(p->status, "invited") == 0 || strcmp(p->status, "active") == 0;
	bool ours = strcmp(p->status, "disabled") == 0 && p->status_reason != NULL &&
		strcmp(p->status_reason, ctx->name) == 0;
	char why[512];
	int r = 0;

	if (pu_list_match(&st->protect, p->username, false)) {
		if (ours && st->reenable)
			r = H(ctx)->enable(ctx, p->username, "a protected account");
	} else if (reason(ctx, st, p, now, why, sizeof(why))) {
		/* Only a complete read may take access away. */
		if (enabled && complete)
			r = H(ctx)->disable(ctx, p->username, why);
	} else if (ours && st->reenable && p->missing_since == NULL) {
		r = H(ctx)->enable(ctx, p->username, "back in the directory, no reason to be "
				   "disabled");
	}
	/* A refusal (an operator's decision) is logged by the host: not ours to fail. */
	return r == -EIO || r == -ENOMEM ? r : 0;
}

static int
on_event(struct rosterd_ctx *ctx, void *arg, const struct rosterd_event *ev)
{
	switch (ev->kind) {
	case ROSTERD_EV_CREATED:
	case ROSTERD_EV_UPDATED:
	case ROSTERD_EV_DIR_DISABLED:
	case ROSTERD_EV_MISSING:
	case ROSTERD_EV_REAPPEARED:
		return evaluate(ctx, arg, ev->person, ev->now, ev->complete);
	default:
		return 0;
	}
}

struct pass {
	struct state *st;
	const struct rosterd_event *ev;
};

static int
pass_one(struct rosterd_ctx *ctx, const struct rosterd_person *p, void *arg)
{
	struct pass *ps = arg;

	return evaluate(ctx, ps->st, p, ps->ev->now, ps->ev->complete);
}

/* What changes with time rather than with the directory: grace periods
 * running out, end dates passing; and people to enable again. */
static int
run_end(struct rosterd_ctx *ctx, void *arg, const struct rosterd_event *ev)
{
	struct state *st = arg;
	struct pass ps = { st, ev };
	struct rosterd_query q = { .size = sizeof(q),
				   .statuses = ROSTERD_ST_INVITED | ROSTERD_ST_ACTIVE };
	int r;

	if (ev->complete) {
		q.missing = true;
		if ((r = H(ctx)->people_foreach(ctx, &q, pass_one, &ps)) < 0)
			return r;
		q.missing = false;
		q.has_field = st->end_date_field;
		if (st->end_date_field && (r = H(ctx)->people_foreach(ctx, &q, pass_one, &ps)) < 0)
			return r;
	}
	if (st->reenable) {
		struct rosterd_query d = { .size = sizeof(d), .statuses = ROSTERD_ST_DISABLED };
		if ((r = H(ctx)->people_foreach(ctx, &d, pass_one, &ps)) < 0)
			return r;
	}
	return 0;
}

ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
	ROSTERD_PLUGIN_HEAD,
	.name = "disable_rules",
	.version = "1.0",
	.flags = ROSTERD_PLUGIN_DISABLES,
	.init = init,
	.on_event = on_event,
	.run_end = run_end,
	.fini = fini,
};
