/*
 * service_priv.h: what the service loops share (service.c: one run and the
 * scheduled loop; service_persist.c: the loop of sync.mode "persist").
 * Not for other modules: service.h is the service's interface.
 *
 * A struct svc lives for the whole service; the loops own its config and
 * plugin host, replaced as a whole by svc_reload(). Signals stay blocked
 * for the life of the process and are taken with sigtimedwait().
 */
#ifndef ROSTERD_SERVICE_PRIV_H
#define ROSTERD_SERVICE_PRIV_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "plugins.h"
#include "sync.h"

struct source;

struct svc {
	const char *conf_path;
	bool once;                /* one run: SIGHUP and SIGUSR1 stop it too */
	struct conf *cf;
	struct plugins *plugins;  /* loaded with cf, replaced with it */
	bool stopping;
	/* the run in progress */
	double run_t0, next_check, last_status, last_tty;
	enum sync_step last_step;
	bool quiet;              /* a batch of persist mode: no progress lines */
	bool events_only;        /* and no run_end for the plugins (sync_opts) */
	long long expected;      /* people in the store after the last run */
	/* between runs */
	int retries;             /* runs in a row that could not reach the directory */
	double last_end, jitter; /* when the last run ended; the jitter drawn for the wait */
	time_t started;          /* when the last run started (wall clock) */
	char idle[256];          /* the status line between runs */
	/* several services on one store (PostgreSQL) */
	struct store *active;    /* holds the service's lock while this one is active */
	bool standby;            /* another service holds it */
};

/* Do one run with the progress callback, reading src (NULL: the source of
 * the config's mode, made by the run), in st (NULL: the run opens the store;
 * see sync_opts.store). figures: then count the people and write the
 * metrics file (svc_figures). */
void svc_run(struct svc *s, struct source *src, struct store *st, bool dry_run, bool figures,
	     struct sync_result *res);
/* In the store open (NULL: opened here, flags: store_open's), note how many
 * people it has and write the metrics file if one is set (with a store
 * open, only for the metrics file); checkpoint: and move the WAL into the
 * store file. Logs what fails; 0 or negative. */
int svc_figures(struct svc *s, struct store *open, int flags, bool checkpoint);
/* SIGHUP: read the configuration again and load its plugins; keep the old
 * ones if the new configuration is bad or a plugin refuses it. Whether the
 * new one was taken. */
bool svc_reload(struct svc *s);
/* Wait until time `until` (monotonic) or a signal of set, feeding the
 * watchdog: the signal, or 0 when the time has come. */
int svc_wait_until(const sigset_t *set, double until);
/* The changes of a run for the status line: "3 created, 1 disabled", or
 * "no changes". */
void svc_changes_str(const struct plan_counts *c, char *buf, size_t len);
/* The delay before the next try after a run that could not reach the
 * directory (s->retries in a row), with the config's backoff. */
double svc_retry_delay(const struct svc *s);
/* "HH:MM:SS" of t, local time. */
void svc_clock(time_t t, char buf[16]);

/* The loop of sync.mode "persist" (service_persist.c), until SIGTERM or
 * SIGINT (s->stopping) or a reload to another mode. set: the blocked
 * signals. */
void svc_persist(struct svc *s, const sigset_t *set);

#endif
