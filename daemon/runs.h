/*
 * runs.h: the record of each sync run in the store (runs table), and the
 * approvals of held runs.
 *
 * Use: store_run_start() when a run starts, store_run_finish() with its final
 * record (in the run's transaction when it commits, on its own otherwise).
 * The strings a run_rec points to stay the caller's.
 */
#ifndef ROSTERD_RUNS_H
#define ROSTERD_RUNS_H

#include "recon.h"
#include "plugins.h"

enum run_outcome { RUN_RUNNING, RUN_OK, RUN_INCOMPLETE, RUN_HELD, RUN_FAILED };
const char *run_outcome_name(enum run_outcome o);

struct run_rec {
	long long id;
	enum run_outcome outcome;
	double duration;
	long long entries_read;
	struct plan_counts c;
	struct hier_counts h;
	struct plugin_counts pl;   /* what the plugins did */
	int groups_complete;    /* -1: groups not read */
	const char *error;      /* NULL when none */
	const char *digest;     /* plan digest of a held run */
	const char *uri;
	const char *kind;       /* "full", "refresh", "incremental"; NULL: full */
};
/* Insert a run in state "running" (own transaction) and return its id. */
int store_run_start(struct store *st, const char *now, long long *id);
/* The same with the id a run had in a transaction rolled back (a batch of
 * persist mode records itself in its own: the id it gave the audit and the
 * log stays its id). 0 or -EIO. */
int store_run_start_id(struct store *st, const char *now, long long id);
/* Write the run's final record (inside the current transaction if any). */
int store_run_finish(struct store *st, const struct run_rec *r);
/* Whether the latest held run has this digest, is approved, unused, and no
 * run has succeeded since: return 1 (and, when run_id > 0, mark it used by
 * that run) or 0. Inside a write transaction. */
int store_run_use_approval(struct store *st, const char *digest, long long run_id);
/* The people disabled or archived (by the core and the plugins) by the runs
 * that applied their changes and finished at since (RFC 3339) or later,
 * after the latest approval of a held run (an approval starts the count
 * again): into *n. 0 or -EIO. */
int store_runs_window_disables(struct store *st, const char *since, long long *n);
/* Whether held run id has been approved: 1, 0 (or no such run), -EIO. */
int store_run_approved(struct store *st, long long id);
/* Runs left "running" by a process that died are marked failed. */
int store_runs_mark_crashed(struct store *st);

#endif
