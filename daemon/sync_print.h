/*
 * sync_print.h: what a sync run shows: the plan a dry run prints, the
 * rejected entries logged, and the lines logged at the end of a run
 * (completed, held, failed, with their journal MESSAGE_IDs).
 *
 * Use: the run (sync.c) fills a struct run_report from its own state and
 * calls these once it knows how the run ends; they only print and log,
 * and change nothing. Everything passed in stays the caller's.
 */
#ifndef ROSTERD_SYNC_PRINT_H
#define ROSTERD_SYNC_PRINT_H

#include <stdio.h>

#include "plugins.h"
#include "recon.h"
#include "runs.h"

/* What the printers need of a run. */
struct run_report {
	const struct run_rec *rec;      /* id, counts, URI, duration, outcome */
	const struct recon_opts *ro;    /* complete, groups_read, groups_complete */
	long long read, groups_read;    /* entries and groups read */
	struct plugins *plugins;        /* NULL: no plugin loaded */
	const char *held;               /* why the run is held; NULL: it is not */
	long long bad_dns;              /* manager values left out: not DNs */
};

/* Log each rejected entry of the run (the first hundred, then how many
 * more); returns how many there were. */
long long sync_log_rejects(struct recon *rc);
/* Print the plan of a dry run to out: every change, reject and plugin
 * action, then the summary lines (and "this run would be held" when held). */
void sync_print_plan(FILE *out, struct recon *rc, const struct run_report *r);
/* Log the end of a committed run: its summary (MSGID_RUN_COMPLETED), the
 * managers, groups and roles, the plugins, and values left out. */
void sync_log_done(const struct run_report *r);
/* Log that run rec was held (MSGID_RUN_HELD), why, and how to approve it. */
void sync_log_held(const struct run_rec *rec, const char *why);
/* Log that run rec failed (MSGID_RUN_FAILED) and why (rec->error). */
void sync_log_failed(const struct run_rec *rec);

#endif
