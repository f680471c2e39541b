/*
 * recorder.c: a test plugin that writes every event it is handed, one line
 * each, to the file its setting `file` names (appended), so that a test can
 * check which events a run produces and in what order:
 *
 *   created alice
 *   updated bob email title
 *   missing dave runs=1
 *   reappeared dave flags=1
 *   manager-changed carol old=alice new=bob
 *   group-joined carol engineering via=eng-london
 *   run-end complete=1 dry_run=0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rosterd/plugin.h>

static const char *const names[] = {
	[ROSTERD_EV_CREATED] = "created",
	[ROSTERD_EV_UPDATED] = "updated",
	[ROSTERD_EV_DIR_DISABLED] = "directory-disabled",
	[ROSTERD_EV_MISSING] = "missing",
	[ROSTERD_EV_REAPPEARED] = "reappeared",
	[ROSTERD_EV_MANAGER_CHANGED] = "manager-changed",
	[ROSTERD_EV_GROUP_JOINED] = "group-joined",
	[ROSTERD_EV_GROUP_LEFT] = "group-left",
	[ROSTERD_EV_RUN_END] = "run-end",
};

static void
fini(void *state)
{
	free(state);
}

static int
init(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg, void **state)
{
	static const char *const known[] = { "file", NULL };
	const struct rosterd_host *h = ctx->host;
	const char *file = NULL;

	if (h->setting_check(ctx, cfg, known) > 0)
		return -EINVAL;
	if (h->setting_string(cfg, "file", &file) != 0) {
		h->setting_error(ctx, cfg, "file: needs the path to write the events to");
		return -EINVAL;
	}
	if ((*state = strdup(file)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
record(struct rosterd_ctx *ctx, void *state, const struct rosterd_event *ev)
{
	const struct rosterd_person *p = ev->person;
	FILE *f = fopen(state, "a");

	(void)ctx;
	if (f == NULL)
		return -errno;
	if (ev->kind < ROSTERD_EV_CREATED || ev->kind > ROSTERD_EV_RUN_END) {
		fclose(f);
		return -EINVAL;
	}
	fputs(names[ev->kind], f);
	if (p != NULL)
		fprintf(f, " %s", p->username);
	switch (ev->kind) {
	case ROSTERD_EV_UPDATED:
		for (const char *const *c = ev->changed; c && *c; c++)
			fprintf(f, " %s", *c);
		break;
	case ROSTERD_EV_MISSING:
		fprintf(f, " runs=%d", p->missing_runs);
		break;
	case ROSTERD_EV_REAPPEARED:
		fprintf(f, " flags=%u", ev->flags);
		break;
	case ROSTERD_EV_MANAGER_CHANGED:
		fprintf(f, " old=%s new=%s", ev->old_manager ? ev->old_manager : "-",
			p->manager ? p->manager : "-");
		break;
	case ROSTERD_EV_GROUP_JOINED:
	case ROSTERD_EV_GROUP_LEFT:
		fprintf(f, " %s via=%s", ev->group->name, ev->group->via ? ev->group->via : "-");
		break;
	case ROSTERD_EV_RUN_END:
		fprintf(f, " complete=%d dry_run=%d", ev->complete, ev->dry_run);
		break;
	default:
		break;
	}
	fputc('\n', f);
	return fclose(f) == 0 ? 0 : -EIO;
}

ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
	ROSTERD_PLUGIN_HEAD,
	.name = "recorder",
	.version = "1.0",
	.init = init,
	.on_event = record,
	.run_end = record,
	.fini = fini,
};
