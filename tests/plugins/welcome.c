/*
 * welcome.c: a sample third-party rosterd plugin, the example of
 * rosterd-plugin(3). When a person appears in the directory it queues a
 * welcome notification with a configurable message, records the day in a
 * custom field, and, when configured, assigns an onboarding course due a
 * number of days later. Built out of tree:
 *
 *   cc -std=c11 -Wall -Wextra -fPIC -shared -fvisibility=hidden \
 *      $(pkg-config --cflags rosterd-plugin) -o welcome.so welcome.c
 *
 * and loaded with, in rosterd.conf:
 *
 *   plugins = ( { name = "welcome"; path = "/usr/local/lib/rosterd/plugins/welcome.so";
 *                 message = "Welcome aboard!"; course = "ONBOARD"; due_days = 14; } );
 */
#define _DEFAULT_SOURCE      /* timegm */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rosterd/plugin.h>

struct welcome {
	char *message;           /* the plugin's own copies */
	char *course;            /* NULL: no course */
	long long due_days;
	long long welcomed;      /* this run, for the log */
};

static void
fini(void *state)
{
	struct welcome *w = state;

	if (w == NULL)
		return;
	free(w->message);
	free(w->course);
	free(w);
}

static int
init(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg, void **state)
{
	static const char *const known[] = { "message", "course", "due_days", NULL };
	const struct rosterd_host *h = ctx->host;
	const char *message = "Welcome!", *course = NULL;
	struct welcome *w;
	int bad = h->setting_check(ctx, cfg, known);

	if (h->setting_string(cfg, "message", &message) == -EINVAL)
		bad += h->setting_error(ctx, h->setting_get(cfg, "message"),
					"must be a string in double quotes") < 0;
	if (h->setting_string(cfg, "course", &course) == -EINVAL)
		bad += h->setting_error(ctx, h->setting_get(cfg, "course"),
					"must be a course code in double quotes") < 0;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->due_days = 14;
	if (h->setting_int(cfg, "due_days", &w->due_days) == -EINVAL ||
	    w->due_days < 0 || w->due_days > 365)
		bad += h->setting_error(ctx, h->setting_get(cfg, "due_days"),
					"must be a whole number of days from 0 to 365") < 0;
	if (bad > 0) {
		fini(w);
		return -EINVAL;
	}
	w->message = strdup(message);
	w->course = course ? strdup(course) : NULL;
	if (w->message == NULL || (course && w->course == NULL)) {
		fini(w);
		return -ENOMEM;
	}
	*state = w;
	return 0;
}

/* "YYYY-MM-DD", days after the run's time "YYYY-MM-DDTHH:MM:SSZ". */
static void
date_after(const char *now, long long days, char out[11])
{
	struct tm tm = { 0 };
	time_t t;

	sscanf(now, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_hour = 12;
	t = timegm(&tm) + (time_t)days * 86400;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int
on_event(struct rosterd_ctx *ctx, void *state, const struct rosterd_event *ev)
{
	const struct rosterd_host *h = ctx->host;
	struct welcome *w = state;
	const char *user = ev->person->username;
	char day[11], due[11];
	int r;

	if (ev->kind != ROSTERD_EV_CREATED)
		return 0;
	snprintf(day, sizeof(day), "%.10s", ev->now);
	if ((r = h->notify(ctx, user, "welcome", w->message)) < 0 ||
	    (r = h->set_field(ctx, user, "welcomed", day)) < 0)
		return r;   /* rolls the run back */
	if (w->course != NULL) {
		date_after(ev->now, w->due_days, due);
		r = h->assign_course(ctx, user, w->course, due, 0);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	w->welcomed++;
	return 0;
}

static int
run_end(struct rosterd_ctx *ctx, void *state, const struct rosterd_event *ev)
{
	struct welcome *w = state;

	if (w->welcomed > 0)
		ctx->host->log(ctx, ROSTERD_LOG_INFO, "welcomed %lld %s%s", w->welcomed,
			       w->welcomed == 1 ? "person" : "people",
			       ev->dry_run ? " (dry run)" : "");
	w->welcomed = 0;
	return 0;
}

ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
	ROSTERD_PLUGIN_HEAD,
	.name = "welcome",
	.version = "1.0",
	.init = init,
	.on_event = on_event,
	.run_end = run_end,
	.fini = fini,
};
