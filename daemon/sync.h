/*
 * sync.h: one sync run, from the directory read to the committed store.
 *
 * Use: sync_run() with the config and the options; it opens and closes
 * everything it uses, logs what it decides, and fills the result. The caller
 * owns the config and the plugin host, which must outlive the call.
 */
#ifndef ROSTERD_SYNC_H
#define ROSTERD_SYNC_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "runs.h"

/* What a run is doing, as told to the progress callback. */
enum sync_step {
	SYNC_READING,
	SYNC_APPLYING,
	SYNC_WAITING,   /* for the directory server: asks only whether to stop */
};
struct sync_opts {
	bool dry_run;
	FILE *plan_out;     /* where --dry-run prints the plan */
	/* Called after each entry read and between the steps that follow; a
	 * non-zero return stops the run: nothing is changed in the store and the
	 * run is recorded as failed. NULL: none. */
	int (*progress)(void *arg, enum sync_step step, long long entries_read);
	void *progress_arg;
	struct plugins *plugins;   /* loaded at start-up (plugin.c); never NULL */
};
struct sync_result {
	long long run_id;
	enum run_outcome outcome;
	int exit_code;
	bool stopped;           /* the progress callback stopped it */
	long long entries_read;
	struct plan_counts c;   /* the plan's counts (applied only when ok/incomplete) */
	double duration;
};
int sync_run(const struct conf *cf, const struct sync_opts *o, struct sync_result *res);

#endif
