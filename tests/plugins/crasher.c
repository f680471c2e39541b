/*
 * crasher.c: a test plugin for tests/faults/t_crash, to kill rosterd inside
 * a plugin callback. It queues a notification ("crash-test", the event's
 * kind) for the person of every event, work that goes into the run's
 * transaction, and at run_end logs "N callbacks" (on_event calls and
 * run_end), so that a test can pick one. Environment, read in init:
 *   CRASHER_KILL_AT=N   in the Nth callback (counted from 1; run_end is the
 *                       last), after its work, the plugin kills its own
 *                       process with SIGKILL
 * No settings.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <rosterd/plugin.h>

struct crasher {
	long long calls, kill_at;
};

static void
fini(void *state)
{
	free(state);
}

static int
init(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg, void **state)
{
	static const char *const known[] = { NULL };
	struct crasher *c;
	const char *v = getenv("CRASHER_KILL_AT");

	if (ctx->host->setting_check(ctx, cfg, known) > 0)
		return -EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->kill_at = v != NULL ? atoll(v) : 0;
	*state = c;
	return 0;
}

/* The end of callback number ++c->calls: die there if asked to. */
static void
called(struct crasher *c)
{
	if (++c->calls == c->kill_at) {
		kill(getpid(), SIGKILL);
		pause();
	}
}

static int
on_event(struct rosterd_ctx *ctx, void *state, const struct rosterd_event *ev)
{
	static const char *const kinds[] = { "?", "created", "updated", "dir-disabled",
		"missing", "reappeared", "manager-changed", "group-joined", "group-left" };
	struct crasher *c = state;
	int r = 0;

	if (ev->person != NULL)
		r = ctx->host->notify(ctx, ev->person->username, "crash-test",
				      ev->kind > 0 && ev->kind <= ROSTERD_EV_GROUP_LEFT ?
				      kinds[ev->kind] : kinds[0]);
	called(c);
	return r;
}

static int
run_end(struct rosterd_ctx *ctx, void *state, const struct rosterd_event *ev)
{
	struct crasher *c = state;

	(void)ev;
	ctx->host->log(ctx, ROSTERD_LOG_INFO, "%lld callbacks", c->calls + 1);
	called(c);
	return 0;
}

ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
	ROSTERD_PLUGIN_HEAD,
	.name = "crasher",
	.version = "1.0",
	.init = init,
	.on_event = on_event,
	.run_end = run_end,
	.fini = fini,
};
