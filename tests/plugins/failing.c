/*
 * failing.c: a test plugin that does some work and then fails, to prove
 * that a plugin error rolls back everything the run did. Settings:
 *   fail_on = "created" | "run_end"   where to fail (with -ECANCELED)
 *   assign = "CODE"                   assign this course on every created
 *                                     event first (work to be rolled back)
 *   when = "username"                 fail only on this person's event
 *   disable = true                    disable everyone created first, passing
 *                                     on the host's answer (fail_on = "none"
 *                                     to fail for no other reason)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rosterd/plugin.h>

struct failing {
	const char *fail_on, *assign, *when;   /* in the settings tree */
	bool disable;
};

static void
fini(void *state)
{
	free(state);
}

static int
init(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg, void **state)
{
	static const char *const known[] = { "fail_on", "assign", "when", "disable", NULL };
	const struct rosterd_host *h = ctx->host;
	struct failing *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -ENOMEM;
	f->fail_on = "created";
	h->setting_string(cfg, "fail_on", &f->fail_on);
	h->setting_string(cfg, "assign", &f->assign);
	h->setting_string(cfg, "when", &f->when);
	h->setting_bool(cfg, "disable", &f->disable);
	if (h->setting_check(ctx, cfg, known) > 0 ||
	    (strcmp(f->fail_on, "created") != 0 && strcmp(f->fail_on, "run_end") != 0 &&
	     strcmp(f->fail_on, "none") != 0)) {
		free(f);
		return h->setting_error(ctx, h->setting_get(cfg, "fail_on"),
					"must be \"created\", \"run_end\" or \"none\"");
	}
	*state = f;
	return 0;
}

static int
on_event(struct rosterd_ctx *ctx, void *state, const struct rosterd_event *ev)
{
	struct failing *f = state;
	int r;

	if (ev->kind != ROSTERD_EV_CREATED)
		return 0;
	if (f->assign != NULL &&
	    (r = ctx->host->assign_course(ctx, ev->person->username, f->assign, NULL, 0)) < 0)
		return r;
	if (f->disable && (r = ctx->host->disable(ctx, ev->person->username, "test")) < 0)
		return r;
	if (strcmp(f->fail_on, "created") == 0 &&
	    (f->when == NULL || strcmp(f->when, ev->person->username) == 0)) {
		ctx->host->log(ctx, ROSTERD_LOG_ERR, "failing on purpose at %s",
			       ev->person->username);
		return -ECANCELED;
	}
	return 0;
}

static int
run_end(struct rosterd_ctx *ctx, void *state, const struct rosterd_event *ev)
{
	struct failing *f = state;

	(void)ev;
	if (strcmp(f->fail_on, "run_end") == 0) {
		ctx->host->log(ctx, ROSTERD_LOG_ERR, "failing on purpose at the end of the run");
		return -ECANCELED;
	}
	return 0;
}

ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
	ROSTERD_PLUGIN_HEAD,
	.name = "failing",
	.version = "1.0",
	.init = init,
	.on_event = on_event,
	.run_end = run_end,
	.fini = fini,
};
