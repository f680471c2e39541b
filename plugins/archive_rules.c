/*
 * archive_rules.c: archive people who have been disabled for after_days
 * (default 90), at the end of each complete run. Archival releases the
 * assignments they never started, so those licences go back to the pool;
 * started and completed training records stay as they are, and
 * `rosterctl user restore` brings the person back with them. reasons, when
 * set, limits archival to people disabled for those status reasons
 * ("missing", "directory", "operator", a plugin's name); protected usernames
 * (globs) are never archived.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rosterd/plugin.h>

#include "util.h"

#define H(ctx) ((ctx)->host)

struct state {
	long long after_days;
	struct pu_list reasons, protect;
};

static void
fini(void *arg)
{
	struct state *st = arg;

	if (st == NULL)
		return;
	pu_list_free(&st->reasons);
	pu_list_free(&st->protect);
	free(st);
}

static int
init(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg, void **out)
{
	static const char *const known[] = { "after_days", "reasons", "protected", NULL };
	struct state *st = calloc(1, sizeof(*st));
	int e = 0;

	if (st == NULL)
		return -ENOMEM;
	if (H(ctx)->setting_check(ctx, cfg, known) > 0)
		e = -EINVAL;
	if (pu_int(ctx, cfg, "after_days", 90, 1, 36500, &st->after_days) < 0 ||
	    pu_list(ctx, cfg, "reasons", &st->reasons) < 0 ||
	    pu_list(ctx, cfg, "protected", &st->protect) < 0)
		e = -EINVAL;
	if (e < 0) {
		fini(st);
		return e;
	}
	*out = st;
	return 0;
}

static int
archive_one(struct rosterd_ctx *ctx, const struct rosterd_person *p, void *arg)
{
	struct state *st = arg;
	char why[200];
	int r;

	if (pu_list_match(&st->protect, p->username, false))
		return 0;
	if (st->reasons.n > 0 && !pu_list_match(&st->reasons, p->status_reason, false))
		return 0;
	snprintf(why, sizeof(why), "disabled (%s) since %s, more than %lld days",
		 p->status_reason ? p->status_reason : "-", p->status_since, st->after_days);
	r = H(ctx)->archive(ctx, p->username, why);
	return r == -EIO || r == -ENOMEM ? r : 0;
}

static int
run_end(struct rosterd_ctx *ctx, void *arg, const struct rosterd_event *ev)
{
	struct state *st = arg;
	struct rosterd_query q = {
		.size = sizeof(q),
		.statuses = ROSTERD_ST_DISABLED,
		.min_status_days = (int)st->after_days,
	};

	/* An incomplete read archives no one. */
	if (!ev->complete)
		return 0;
	return H(ctx)->people_foreach(ctx, &q, archive_one, st);
}

ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
	ROSTERD_PLUGIN_HEAD,
	.name = "archive_rules",
	.version = "1.0",
	.init = init,
	.run_end = run_end,
	.fini = fini,
};
