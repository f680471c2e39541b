/*
 * service_persist.c: the service loop of sync.mode "persist": the directory's
 * changes applied as they are made (RFC 4533 refreshAndPersist).
 *
 * A session (source_persist_new) is started by a run that reads the
 * refresh stage from the cookie kept in the store, as a refresh run does;
 * then the loop waits on the session's connections and the signals at once
 * (poll(2) with a signalfd), and each change the server pushes starts a
 * batch: a run of kind "incremental" through the same pipeline, in its own
 * transaction, keeping the cookie of its last change. A batch hands the
 * plugins its events but makes no run_end (their pass over the rules that
 * depend on time): a run every sync.interval seconds does, with or without a
 * change (recorded as a refresh run), and also expires the access that has
 * ended, as every run does. While idle the
 * watchdog is fed, and a server silent for sync.interval seconds is asked
 * whether it still answers (TCP keepalive covers a peer that vanished).
 *
 * A session lost, or a run that did not commit: the session is closed and
 * started again from the kept cookie after the backoff of an unreachable
 * directory (sync.retry_delay, doubled up to sync.interval), so the changes
 * of the gap come in that start's refresh stage, never guessed. A held run
 * (the thresholds, over sync.threshold_window too): no session until an
 * operator approves it (rosterctl run approve ID), looked for every few
 * seconds; then the session starts again from the cookie. SIGHUP reloads and
 * starts the session again; SIGUSR1 starts it from nothing (a full
 * refresh: every entry, as a full run), as sync.full_every does.
 */
#include "log.h"
#include "util.h"
#include "notify.h"
#include "source.h"
#include "runs.h"
#include "service_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Seconds between looks for the approval of a held run; between updates of
 * the store's figures (and the metrics file) while changes come; and the
 * quiet that makes them be taken at once. */
#define APPROVAL_EVERY 2.0
#define FIGURES_EVERY 10.0
#define FIGURES_QUIET 1.0

struct persist {
	struct svc *s;
	const sigset_t *set;
	struct source *src;
	struct store *st;       /* the runs' store, open and locked; NULL: not yet */
	int sigfd;
	double next;            /* when to start the next session (monotonic) */
	long long held;         /* the held run awaiting approval; 0: none */
	double last_heard;      /* the last batch or answer of the server */
	double time_pass;       /* the last run that made the plugins' run_end */
	double last_batch;      /* when the last batch ended; 0: figures taken since */
	double last_figures;
	char last_change[200];  /* "12:00:03 (run 17: 1 updated)"; "" none yet */
	char since[16];         /* when the session started */
};

/* Close the runs' store and let its run lock go. */
static void
runs_store_close(struct persist *p)
{
	store_close(p->st);   /* gives up the run lock */
	p->st = NULL;
}

/* The store the runs share, opened and locked once, the lock kept while the
 * service follows the directory: a batch then pays no open, no schema read
 * and no cold cache. 0, or negative (logged). */
static int
store_ready(struct persist *p)
{
	const struct conf *cf = p->s->cf;
	char err[1024];
	int r;

	if (p->st != NULL)
		return 0;
	if ((r = conf_store_open(cf, 0, &p->st, err, sizeof(err))) < 0) {
		log_error("store: %s", err);
		return r;
	}
	if ((r = store_lock(p->st, STORE_LOCK_RUN)) < 0) {
		log_error("store %s: %s", conf_store_name(cf), r == -EBUSY ?
			  "another rosterd run is in progress" : r == -EIO ?
			  store_errmsg(p->st) : strerror(-r));
	} else if ((r = store_runs_mark_crashed(p->st)) < 0) {
		log_error("store: cannot mark the runs left running: %s", store_errmsg(p->st));
	}
	if (r < 0)
		runs_store_close(p);
	return r;
}

/* The status line while a session waits for changes. */
static void
status_live(struct persist *p)
{
	if (p->last_change[0] != '\0')
		notify_status("Persist: up to date since %s. Last change applied %s", p->since,
			      p->last_change);
	else
		notify_status("Persist: up to date since %s. No change applied yet", p->since);
	snprintf(p->s->idle, sizeof(p->s->idle), "%s", notify_last_status());
}

/* Close the session; start the next after the backoff, saying why (lost:
 * the directory could not be reached, else a run failed). */
static void
retry_later(struct persist *p, const char *why, bool lost)
{
	struct svc *s = p->s;
	double delay;

	source_persist_close(p->src, false);
	s->retries++;
	delay = svc_retry_delay(s);
	p->next = time_mono() + delay;
	log_warn("%s; starting again from the kept cookie in %.0f s (%d time%s in a row)", why,
		 delay, s->retries, s->retries > 1 ? "s" : "");
	notify_status("%s, retry in %.0f s", lost ? "Directory unreachable" : "Last run failed",
		      delay);
	snprintf(s->idle, sizeof(s->idle), "%s", notify_last_status());
}

/* After a run of the session (its start, or a batch). */
static void
after_run(struct persist *p, const struct sync_result *res)
{
	struct svc *s = p->s;
	char when[16], what[160];

	if (res->stopped) {
		s->stopping = true;
		return;
	}
	p->last_batch = time_mono();
	if (res->outcome == RUN_HELD) {
		source_persist_close(p->src, false);
		p->held = res->run_id;
		p->next = time_mono();
		log_warn("changes are no longer applied: run %lld is held; they are applied from "
			 "the kept cookie once an operator approves it (rosterctl run approve %lld)",
			 res->run_id, res->run_id);
		notify_status("Held. Run %lld is over the safety thresholds; no change is applied "
			      "until rosterctl run approve %lld", res->run_id, res->run_id);
		snprintf(s->idle, sizeof(s->idle), "%s", notify_last_status());
		return;
	}
	if (res->outcome != RUN_OK) {
		retry_later(p, res->exit_code == EXIT_UNREACHABLE ? "directory unreachable" :
			    "the run did not complete", res->exit_code == EXIT_UNREACHABLE);
		return;
	}
	if (s->retries > 0)
		log_info("directory reachable again after %d failed attempt%s", s->retries,
			 s->retries > 1 ? "s" : "");
	s->retries = 0;
	svc_clock(s->started, when);
	svc_changes_str(&res->c, what, sizeof(what));
	if (strcmp(what, "no changes") != 0)
		snprintf(p->last_change, sizeof(p->last_change), "%s (run %lld: %s)", when,
			 res->run_id, what);
	switch (source_persist_state(p->src)) {
	case PERSIST_LIVE:
		status_live(p);
		break;
	case PERSIST_UNSUPPORTED:
		/* Read in full: again after the interval, as sync.mode "full". */
		p->next = time_mono() + s->cf->sync.interval;
		notify_status("Idle. Last run %s: %s (the directory offers no content "
			      "synchronisation: a full run every %d s)", when, what,
			      s->cf->sync.interval);
		snprintf(s->idle, sizeof(s->idle), "%s", notify_last_status());
		break;
	case PERSIST_CLOSED:   /* the cookie went (rosterctl resync): at once */
		p->next = time_mono();
		break;
	}
}

/* Start a session with its first run, unless a held run still waits for
 * its approval. */
static void
start(struct persist *p)
{
	struct svc *s = p->s;
	struct sync_result res;
	time_t now = time(NULL);
	int r = 0;

	if (store_ready(p) < 0) {
		retry_later(p, "the store cannot be used", false);
		return;
	}
	if (p->held > 0) {
		if ((r = store_run_approved(p->st, p->held)) <= 0) {
			if (r < 0)
				log_error("store: %s", store_errmsg(p->st));
			p->next = time_mono() + APPROVAL_EVERY;
			return;
		}
		log_info("held run %lld was approved: applying the changes from the kept cookie",
			 p->held);
		p->held = 0;
	}
	notify_status("Syncing: connecting to the directory");
	s->quiet = s->events_only = false;
	svc_run(s, p->src, p->st, false, true, &res);
	p->last_figures = p->last_heard = p->time_pass = time_mono();
	p->last_batch = 0;
	svc_clock(now, p->since);
	after_run(p, &res);
}

/* A signal taken while a session waits or between sessions: true when the
 * loop must leave (stop, or a reload into another mode). */
static bool
on_signal(struct persist *p, int sig)
{
	struct svc *s = p->s;

	if (sig == SIGTERM || sig == SIGINT) {
		log_info("stopping on signal %d", sig);
		s->stopping = true;
		return true;
	}
	if (sig == SIGHUP) {
		/* The session borrows the config: a new one for a new config. */
		if (!svc_reload(s))
			return false;
		s->retries = 0;
		runs_store_close(p);   /* store.path may have changed */
		p->src->ops->free(p->src);
		p->src = NULL;
		if (s->cf->sync.mode != MODE_PERSIST || !source_persist_possible(s->cf))
			return true;
		if (source_persist_new(s->cf, &p->src) < 0) {
			log_error("cannot make the directory source: %s", strerror(ENOMEM));
			s->stopping = true;
			return true;
		}
		p->next = time_mono();
		return false;
	}
	if (sig == SIGUSR1) {
		log_info("full reconciliation asked for by SIGUSR1: a refresh from nothing");
		source_persist_close(p->src, true);
		p->next = time_mono();
	}
	return false;
}

/* Take a signal of set if one is pending, without waiting: it, or 0. */
static int
take_signal(const sigset_t *set)
{
	static const struct timespec zero = { 0, 0 };
	int sig = sigtimedwait(set, NULL, &zero);

	return sig > 0 ? sig : 0;
}

/* While a session waits: the store's figures (people counted, the metrics
 * file, the WAL checkpointed) once changes stop coming, or every
 * FIGURES_EVERY seconds while they come. */
static void
figures_due(struct persist *p, double now)
{
	if (p->last_batch == 0 || (now - p->last_batch < FIGURES_QUIET &&
				   now - p->last_figures < FIGURES_EVERY))
		return;
	if (p->st != NULL)
		svc_figures(p->s, p->st, 0, true);
	p->last_figures = now;
	p->last_batch = 0;
}

/* Whether a pass over what depends on time (access that ends, the plugins'
 * run_end) is due: none made for sync.interval seconds. */
static bool
time_pass_due(const struct persist *p, double now)
{
	return now - p->time_pass >= p->s->cf->sync.interval;
}

/* How long the wait may last: until the next ping, the next periodic run,
 * the next full refresh, the figures or the watchdog, whichever comes first
 * (milliseconds). */
static int
wait_ms(const struct persist *p, double now, double full_due)
{
	const struct svc *s = p->s;
	double until = p->last_heard + s->cf->sync.interval, wd = notify_watchdog_interval();

	if (p->time_pass + s->cf->sync.interval < until)
		until = p->time_pass + s->cf->sync.interval;
	if (full_due > 0 && full_due < until)
		until = full_due;
	if (p->last_batch > 0 && p->last_batch + FIGURES_QUIET < until)
		until = p->last_batch + FIGURES_QUIET;
	if (wd > 0 && now + wd < until)
		until = now + wd;
	return until <= now ? 0 : (int)((until - now) * 1000.0) + 1;
}

/* The session waits for a change: a batch when one comes; a lost session
 * is started again later; a signal is taken. True when the loop must
 * leave. */
static bool
wait_change(struct persist *p)
{
	struct svc *s = p->s;
	struct pollfd fds[3] = { { .fd = p->sigfd, .events = POLLIN } };
	long long full_at = source_persist_full_at(p->src);
	double full_due = s->cf->sync.full_every > 0 && full_at > 0 ? time_mono() +
			  (double)(full_at + s->cf->sync.full_every - (long long)time(NULL)) : 0;
	struct sync_result res;
	int fd[2], n, r, sig;

	for (;;) {
		double now = time_mono();

		notify_watchdog();
		/* Also between the batches of a burst that does not stop. */
		if ((sig = take_signal(p->set)) != 0) {
			if (on_signal(p, sig))
				return true;
			if (source_persist_state(p->src) != PERSIST_LIVE)
				return false;
		}
		figures_due(p, now);
		/* A batch, or every sync.interval one that may have no change:
		 * what depends on time (access that ends, the plugins' run_end). */
		if ((r = source_persist_poll(p->src)) > 0 || (r == 0 && time_pass_due(p, now))) {
			s->quiet = true;
			s->events_only = plugins_count(s->plugins) > 0 && !time_pass_due(p, now);
			if (r == 0)
				source_persist_tick(p->src);
			svc_run(s, p->src, p->st, false, false, &res);
			if (r > 0)   /* the server spoke; a periodic run asks it nothing */
				p->last_heard = time_mono();
			if (!s->events_only && res.outcome == RUN_OK)
				p->time_pass = time_mono();
			after_run(p, &res);
			return false;
		}
		if (r < 0) {
			char why[2300];

			snprintf(why, sizeof(why), "directory: the persistent search was lost: %s",
				 p->src->err);
			retry_later(p, why, true);
			return false;
		}
		if (full_due > 0 && now >= full_due) {
			log_info("sync.full_every (%d s) since the last refresh from nothing: a "
				 "refresh from nothing", s->cf->sync.full_every);
			source_persist_close(p->src, true);
			p->next = now;
			return false;
		}
		if (now - p->last_heard >= s->cf->sync.interval) {
			if (source_persist_ping(p->src) < 0) {
				char why[2300];

				snprintf(why, sizeof(why), "directory: no answer on the persistent "
					 "search's connection: %s", p->src->err);
				retry_later(p, why, true);
				return false;
			}
			p->last_heard = time_mono();
		}
		n = source_persist_fds(p->src, fd);
		for (int i = 0; i < n; i++)
			fds[1 + i] = (struct pollfd){ .fd = fd[i], .events = POLLIN };
		if (poll(fds, (nfds_t)(1 + n), wait_ms(p, now, full_due)) < 0 && errno != EINTR) {
			log_error("cannot wait for the directory: %s", strerror(errno));
			s->stopping = true;
			return true;
		}
	}
}

void
svc_persist(struct svc *s, const sigset_t *set)
{
	struct persist p = { .s = s, .set = set, .next = time_mono() };
	int sig;

	if ((p.sigfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    source_persist_new(s->cf, &p.src) < 0) {
		log_error("cannot start following the directory: %s", strerror(errno));
		s->stopping = true;
		goto out;
	}
	while (!s->stopping) {
		if (source_persist_state(p.src) == PERSIST_LIVE) {
			if (wait_change(&p))
				break;
			continue;
		}
		if ((sig = svc_wait_until(set, p.next)) != 0) {
			if (on_signal(&p, sig))
				break;
			continue;
		}
		start(&p);
	}
out:
	if (p.src != NULL)
		p.src->ops->free(p.src);
	runs_store_close(&p);
	if (p.sigfd >= 0)
		close(p.sigfd);
}
