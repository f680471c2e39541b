/*
 * sync.h: one sync run, from the directory read to the committed store.
 *
 * Use: sync_run() with the config and the options; it opens and closes
 * everything it uses, logs what it decides, and fills the result. The caller
 * owns the config, the plugin host and a source it passes in, which must
 * outlive the call.
 *
 * A run is a script of phases (sync.c): open and lock, connect, read people,
 * read groups, plan, apply, hierarchy, plugins, safety gate, commit. What
 * happened (struct run_facts) gives the recorded outcome and the exit code
 * through one pure function, sync_verdict().
 */
#ifndef ROSTERD_SYNC_H
#define ROSTERD_SYNC_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "runs.h"

struct source;

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
	/* What the run reads (source.h): begun and ended by the run, freed by
	 * the caller. NULL: the paged LDAP search of the config. */
	struct source *source;
	/* Hand the plugins the run's events, but make no run_end (their pass
	 * over the rules that depend on time), which the caller has a run make
	 * now and then: persist mode's batches. Licences are granted still. */
	bool plugins_events_only;
	/* The store, open (migrated, runs left running marked failed) with the
	 * run lock held (store_lock), by a caller that does many runs (persist
	 * mode's batches), which closes it. NULL: the run opens the store and
	 * takes the lock itself. Not for a dry run. */
	struct store *store;
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
/* Do one run. 0 when it ends with EXIT_OK, else -EIO (res says how). */
int sync_run(const struct conf *cf, const struct sync_opts *o, struct sync_result *res);

/* The phases of a run, in order; which one failed. */
enum sync_phase {
	PHASE_NONE,        /* none failed */
	PHASE_OPEN,        /* open the store, take the run lock, record the run */
	PHASE_CONNECT,     /* the source's begin: connect and bind */
	PHASE_PEOPLE,      /* read the people into staging */
	PHASE_GROUPS,      /* read the groups into staging; end staging */
	PHASE_PLAN,        /* the write transaction, the plan */
	PHASE_APPLY,       /* apply the plan to people */
	PHASE_HIERARCHY,   /* managers, groups, memberships, roles */
	PHASE_PLUGINS,     /* the plugins' events and run end */
	PHASE_GATE,        /* the safety thresholds, the approval */
	PHASE_COMMIT,      /* the run record, commit (a dry run: print the plan) */
	PHASE_COUNT
};
/* What the safety gate found. */
enum sync_gate {
	GATE_NOT_REACHED,
	GATE_PASSED,       /* within the thresholds */
	GATE_APPROVED,     /* over, but an operator approved this very plan */
	GATE_HELD,         /* over, not approved */
};
/* What happened in a run. */
struct run_facts {
	enum sync_phase failed;   /* the phase that failed; PHASE_NONE */
	int error;                /* its negative errno */
	bool stopped;             /* the progress callback asked the run to stop */
	bool complete;            /* the people read was whole */
	bool groups_read;         /* the groups were read to the end */
	bool groups_complete;     /* and that read was whole */
	enum sync_gate gate;
	bool dry_run;
};
/* How a run ends: the outcome recorded, the exit code, and whether the
 * run has a record in the store. */
struct run_verdict {
	enum run_outcome outcome;
	int exit_code;
	bool recorded;
};
/* What the safety gate weighs. */
struct gate_counts {
	long long found;       /* people a whole read found; -1: not a whole read */
	long long enabled;     /* enabled (invited, active) people before the run */
	long long disabled;    /* the run's disables and archivals, core and plugins */
	long long window;      /* those of the runs before it within the window
				  (persist mode, sync.threshold_window); else 0 */
	long long leaves, memberships_before;
};
/* Whether a run passes the safety thresholds of cf; why not, in why. Held:
 * a whole read that found nobody while the store has enabled people; more
 * disables (this run's, and when it has some the window's) than
 * sync.max_disable, or than sync.max_disable_percent of the people enabled
 * before them; more membership removals than
 * sync.max_membership_removals_percent. Pure. */
bool sync_within_thresholds(const struct conf *cf, const struct gate_counts *g, char *why,
			    size_t len);

/* The verdict on what happened, first rule that applies:
 *   a phase failed:            failed; exit 2 (EXIT_CONFIG) when the open or
 *                              connect phase failed with -ENOKEY (the store's
 *                              or the directory's password cannot be read), 3
 *                              (EXIT_UNREACHABLE) when connect failed
 *                              otherwise, else 1 (EXIT_FAIL)
 *   stopped:                   failed, exit 1
 *   held by the gate:          held, exit 4 (EXIT_HELD)
 *   people whole, and groups   ok, exit 0 (EXIT_OK)
 *   not read or read whole:
 *   otherwise:                 incomplete, exit 1
 * Recorded: unless a dry run, or the open phase failed (the run record is
 * its last step). Pure: depends on f alone. */
struct run_verdict sync_verdict(const struct run_facts *f);

#endif
