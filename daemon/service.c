/*
 * service.c: how rosterd runs its sync runs: one run (--once, --dry-run), or
 * the service loop under systemd (Type=notify).
 *
 * The service does a run at start, then one sync.interval seconds (plus up
 * to sync.interval_jitter) after the end of the previous one, at once on
 * SIGUSR1, never two at a time. On PostgreSQL several services may share a
 * store: the one that holds the store's service lock (store_lock
 * STORE_LOCK_ACTIVE, on a connection kept open between runs) runs, the
 * others stand by (STATUS=Standby) and look again every few seconds, so
 * one takes over when the active one dies or loses its connection; each run
 * still takes the run lock, so two never run at once. A directory that cannot be reached or bound
 * is retried sooner, after sync.retry_delay seconds doubled at each failure
 * up to the interval, with jitter. SIGHUP reads the configuration again
 * (a bad one is logged and the old one kept); SIGTERM or SIGINT stop, and
 * stop a run in progress at its next entry or step, changing nothing.
 *
 * Signals stay blocked for the whole life of the process and are taken with
 * sigtimedwait(): between runs in the wait, during a run from the progress
 * callback. So no handler runs at an awkward moment, and the watchdog is fed
 * only by code that is really making progress. One run (--once, --dry-run)
 * has no reload and no "run now": there SIGHUP (a terminal or ssh session
 * that goes away) and SIGUSR1 stop the run as SIGTERM does, with a message,
 * rather than kill the process and leave its run recorded as running.
 */
#include "log.h"
#include "util.h"
#include "sync.h"
#include "notify.h"
#include "metrics.h"
#include "service.h"
#include "service_priv.h"
#include "query.h"
#include "source.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds between two looks at the signals, the watchdog and the status
 * during a run; the progress callback is called for every entry. */
#define CHECK_EVERY 0.05
#define STATUS_EVERY 1.0
#define TTY_EVERY 0.25
#define TTY_AFTER 0.25   /* no progress line for a run shorter than this */

/* How often a service standing by looks whether it may take over: within
 * sync.interval, and within a few seconds of the active one's end. */
#define STANDBY_CHECK 3.0

/* n with thousands separators: 41200 -> "41,200". */
static const char *
count_str(long long n, char buf[32])
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%lld", n < 0 ? 0 : n), o = 0;

	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

double
service_backoff(int attempt, double first, double cap, double rnd)
{
	double d = first;

	for (int i = 1; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Jitter: somewhere in the last quarter below d, so that many instances
	 * that lost the same server do not come back all at once. */
	return d * (0.75 + 0.25 * rnd);
}

/* A random number in [0, 1). */
static double
random_unit(void)
{
	return (double)arc4random() / 4294967296.0;
}

/* Take a signal that stops the run if one is pending, without waiting:
 * SIGTERM or SIGINT, and in one run (once) SIGHUP and SIGUSR1 too. */
static bool
stop_pending(bool once)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t stop;
	int sig;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (once) {
		sigaddset(&stop, SIGHUP);
		sigaddset(&stop, SIGUSR1);
	}
	sig = sigtimedwait(&stop, NULL, &zero);
	if (sig > 0)
		log_info("stopping on signal %d (%s): the run in progress is rolled back", sig,
			 sigabbrev_np(sig));
	return sig > 0;
}

/* The sync run's progress callback: stop when asked to, feed the watchdog,
 * keep STATUS= and the terminal's progress line up to date. */
static int
on_progress(void *arg, enum sync_step step, long long n)
{
	struct svc *s = arg;
	double now = time_mono();
	char a[32], b[32];

	if (step == SYNC_WAITING) {
		/* Stuck on the server: stop if asked, but no watchdog ping. */
		if (s->stopping || stop_pending(s->once))
			s->stopping = true;
		return s->stopping;
	}
	if (now < s->next_check && step == s->last_step)
		return 0;
	s->next_check = now + CHECK_EVERY;
	notify_watchdog();
	if (s->stopping || stop_pending(s->once)) {
		s->stopping = true;
		return 1;
	}
	if (s->quiet)
		return 0;
	if (now - s->last_status >= STATUS_EVERY || step != s->last_step) {
		s->last_status = now;
		if (step == SYNC_APPLYING)
			notify_status("Syncing: applying the changes, %s people read", count_str(n, a));
		else if (s->expected > 0)
			notify_status("Syncing: %s of ~%s people", count_str(n, a),
				      count_str(s->expected, b));
		else
			notify_status("Syncing: %s people read", count_str(n, a));
	}
	if (now - s->run_t0 >= TTY_AFTER && (now - s->last_tty >= TTY_EVERY || step != s->last_step)) {
		s->last_tty = now;
		if (step == SYNC_APPLYING)
			log_progress("%s entries read; applying the changes", count_str(n, a));
		else
			log_progress("%s entries read, %s a second", count_str(n, a),
				     count_str((long long)((double)n / (now - s->run_t0)), b));
	}
	s->last_step = step;
	return 0;
}

int
svc_figures(struct svc *s, struct store *open, int flags, bool checkpoint)
{
	struct store *st = open;
	json_t *status = NULL;
	char err[1024];
	int r = 0;

	if (st == NULL && (r = conf_store_open(s->cf, flags, &st, err, sizeof(err))) < 0) {
		log_error("store: %s", err);
		return r;
	}
	/* Persist mode counts only for the metrics file: its runs are batches,
	 * with no progress to show against the count. */
	if (open != NULL && s->cf->metrics.textfile == NULL)
		goto checkpoint;
	if ((r = query_status(st, &status)) < 0) {
		log_error("store %s: cannot count the people: %s", conf_store_name(s->cf),
			  store_errmsg(st));
		goto out;
	}
	s->expected = json_integer_value(json_object_get(json_object_get(status, "people"),
							  "total"));
	if (s->cf->metrics.textfile != NULL &&
	    metrics_write(s->cf->metrics.textfile, status, err, sizeof(err)) < 0)
		log_warn("metrics: %s", err);
checkpoint:
	if (checkpoint && store_checkpoint(st) < 0)
		log_debug("store: the WAL is in use by a reader; checkpoint left for later");
out:
	json_decref(status);
	if (st != open)
		store_close(st);
	return r;
}

/* Block the signals the process takes with sigtimedwait(): SIGTERM,
 * SIGINT, SIGHUP and SIGUSR1 (for the service, reload and run now; for one
 * run, stop); ignore SIGPIPE. */
static int
block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGHUP);
	/* A write to a connection the server closed fails with EPIPE rather
	 * than end the process: the run or the session sees it as lost. */
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0) {
		log_error("cannot block signals: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

void
svc_run(struct svc *s, struct source *src, struct store *st, bool dry_run, bool figures,
	struct sync_result *res)
{
	struct sync_opts o = { .dry_run = dry_run, .plan_out = stdout,
			       .progress = on_progress, .progress_arg = s, .plugins = s->plugins,
			       .source = src, .store = st, .plugins_events_only = s->events_only };

	s->run_t0 = time_mono();
	s->started = time(NULL);
	s->next_check = s->last_status = s->last_tty = 0;
	s->last_step = SYNC_READING;
	sync_run(s->cf, &o, res);
	log_progress_end();
	if (figures && !dry_run && res->run_id > 0 && !res->stopped)
		svc_figures(s, NULL, STORE_NOCREATE | STORE_NOMIGRATE, false);
}

void
svc_clock(time_t t, char buf[16])
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, 16, "%H:%M:%S", &tm);
}

double
svc_retry_delay(const struct svc *s)
{
	return service_backoff(s->retries, s->cf->sync.retry_delay, s->cf->sync.interval,
			       random_unit());
}

void
svc_changes_str(const struct plan_counts *c, char *buf, size_t len)
{
	const long long v[] = { c->created, c->updated, c->disabled, c->enabled };
	const char *const w[] = { "created", "updated", "disabled", "enabled" };

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] > 0)
			str_appendf(buf, len, "%s%lld %s", buf[0] ? ", " : "", v[i], w[i]);
	if (buf[0] == '\0')
		snprintf(buf, len, "no changes");
}

/* After a run: the status line, and how long to wait for the next one. */
static double
after_run(struct svc *s, const struct sync_result *res)
{
	char when[16], what[160];
	double delay;

	svc_clock(s->started, when);
	s->last_end = time_mono();
	if (res->exit_code == EXIT_UNREACHABLE) {
		s->retries++;
		delay = svc_retry_delay(s);
		log_warn("directory unreachable (%d time%s in a row); retrying in %.0f s",
			 s->retries, s->retries > 1 ? "s" : "", delay);
		notify_status("Directory unreachable, retry in %.0f s", delay);
		snprintf(s->idle, sizeof(s->idle), "%s", notify_last_status());
		return delay;
	}
	if (s->retries > 0)
		log_info("directory reachable again after %d failed attempt%s", s->retries,
			 s->retries > 1 ? "s" : "");
	s->retries = 0;
	s->jitter = s->cf->sync.interval_jitter > 0 ?
		    (double)arc4random_uniform((uint32_t)s->cf->sync.interval_jitter + 1) : 0;
	delay = s->cf->sync.interval + s->jitter;
	svc_changes_str(&res->c, what, sizeof(what));
	switch (res->outcome) {
	case RUN_OK:
		notify_status("Idle. Last run %s: %s, %.1f s", when, what, res->duration);
		break;
	case RUN_INCOMPLETE:
		notify_status("Idle. Last run %s read only part of the directory: %s, "
			      "no one disabled, %.1f s", when, what, res->duration);
		break;
	case RUN_HELD:
		notify_status("Held. Run %lld would disable %lld people; check with rosterd "
			      "--dry-run, then rosterctl run approve %lld", res->run_id,
			      res->c.disabled, res->run_id);
		break;
	default:
		notify_status("Idle. Last run %s failed; next run in %.0f s", when, delay);
		break;
	}
	snprintf(s->idle, sizeof(s->idle), "%s", notify_last_status());
	return delay;
}

/* Log the configuration in effect, at debug level. Secrets are never in it:
 * the bind password is named by its file or credential, never shown. */
static void
log_config(const struct conf *cf)
{
	log_debug("config %s: ldap.uri \"%s\", starttls %s, ca_file %s", cf->path, cf->ldap.uri,
		  cf->ldap.starttls ? "on" : "off", cf->ldap.ca_file ? cf->ldap.ca_file : "(system)");
	if (cf->ldap.sasl_mech != NULL)
		log_debug("config: SASL %s bind%s%s%s%s", cf->ldap.sasl_mech,
			  cf->ldap.keytab ? ", keytab " : "", cf->ldap.keytab ? cf->ldap.keytab : "",
			  cf->ldap.cert_file ? ", client certificate " : "",
			  cf->ldap.cert_file ? cf->ldap.cert_file : "");
	else
		log_debug("config: bind_dn %s%s%s, password %s%s (not shown)",
			  cf->ldap.bind_dn ? "\"" : "",
			  cf->ldap.bind_dn ? cf->ldap.bind_dn : "(anonymous)",
			  cf->ldap.bind_dn ? "\"" : "",
			  cf->ldap.bind_password_file ? "from file " :
			  cf->ldap.bind_password_credential ? "from credential " : "none",
			  cf->ldap.bind_password_file ? cf->ldap.bind_password_file :
			  cf->ldap.bind_password_credential ? cf->ldap.bind_password_credential : "");
	log_debug("config: users base \"%s\" filter %s, page_size %d, timeout %d s, "
		  "network_timeout %d s", cf->ldap.users.base, cf->ldap.users.filter,
		  cf->ldap.page_size, cf->ldap.timeout, cf->ldap.network_timeout);
	log_debug("config: store %s (mode %04o); interval %d s + up to %d s, retry_delay %d s, "
		  "max_disable %d, max_disable_percent %g; metrics %s", conf_store_name(cf),
		  cf->store.mode, cf->sync.interval, cf->sync.interval_jitter, cf->sync.retry_delay,
		  cf->sync.max_disable, cf->sync.max_disable_percent,
		  cf->metrics.textfile ? cf->metrics.textfile : "(none)");
}

/* Whether this service is the active one of those sharing its store
 * (PostgreSQL): 0, -EBUSY another is, or another error (the store cannot
 * be reached). Logs the changes of state. */
static int
take_active(struct svc *s)
{
	char err[1024];
	int r;

	if (s->cf->store.url == NULL)
		return 0;   /* a file on one machine: no other service to stand by for */
	if (s->active != NULL && store_ping(s->active) < 0) {
		log_warn("store %s: the connection that made this rosterd the active one was "
			 "lost: %s", conf_store_name(s->cf), store_errmsg(s->active));
		store_close(s->active);
		s->active = NULL;
	}
	if (s->active == NULL && (r = conf_store_open(s->cf, STORE_NOCREATE | STORE_NOMIGRATE,
						       &s->active, err, sizeof(err))) < 0) {
		log_error("store: %s", err);
		return r;
	}
	r = store_lock(s->active, STORE_LOCK_ACTIVE);
	if (r == 0 && s->standby)
		log_info("active: no other rosterd is active on %s any more; taking over",
			 conf_store_name(s->cf));
	else if (r == -EBUSY && !s->standby)
		log_info("standing by: another rosterd is active on %s", conf_store_name(s->cf));
	else if (r < 0 && r != -EBUSY)
		log_error("store %s: %s", conf_store_name(s->cf), store_errmsg(s->active));
	if (r == 0 || r == -EBUSY)
		s->standby = r == -EBUSY;
	return r;
}

/* Standing by: the status line, and when to look again. */
static double
stand_by(struct svc *s, int r)
{
	double wait = s->cf->sync.interval < STANDBY_CHECK ? s->cf->sync.interval : STANDBY_CHECK;

	if (r == -EBUSY)
		notify_status("Standby: another rosterd is active on this store; looking again "
			      "every %.0f s", wait);
	else
		notify_status("Standby: cannot reach the store; trying again in %.0f s", wait);
	return wait;
}

int
service_once(struct conf *cf, struct plugins *plugins, bool dry_run)
{
	struct svc s = { .cf = cf, .plugins = plugins, .once = true };
	struct sync_result res;
	sigset_t set;

	/* SIGTERM, SIGINT, SIGHUP and SIGUSR1 stop the run cleanly at its next
	 * entry or step. */
	if (block_signals(&set) < 0)
		return EXIT_FAIL;
	log_config(cf);
	store_set_file_mode(cf->store.mode);
	svc_run(&s, NULL, NULL, dry_run, true, &res);
	return res.exit_code;
}

bool
svc_reload(struct svc *s)
{
	struct conf *cf = NULL;
	struct plugins *plugins = NULL;
	char err[8192], *save = NULL;

	notify_reloading();
	log_info("reloading %s", s->conf_path);
	if (conf_load(s->conf_path, CONF_CHECK_SECRETS, &cf, err, sizeof(err)) < 0 ||
	    plugins_load(cf, &plugins, err, sizeof(err)) < 0) {
		conf_free(cf);
		for (char *l = strtok_r(err, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			log_error("%s", l);
		log_error("configuration not reloaded: keeping the one in use");
		notify_ready();
		notify_status("%s (reload failed: previous configuration kept)", s->idle);
		return false;
	}
	plugins_free(s->plugins);
	conf_free(s->cf);
	s->cf = cf;
	s->plugins = plugins;
	store_set_file_mode(cf->store.mode);
	log_config(cf);
	log_info("configuration reloaded");
	notify_ready();
	notify_status("%s", s->idle);
	return true;
}

int
svc_wait_until(const sigset_t *set, double until)
{
	for (;;) {
		double left = until - time_mono(), wd = notify_watchdog_interval();
		struct timespec ts;
		int sig;

		notify_watchdog();
		if (left <= 0)
			return 0;
		if (wd > 0 && left > wd)
			left = wd;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return sig;
	}
}

/* Whether cf has the service follow the directory (sync.mode persist, a
 * directory that can be followed so); said once when it cannot. */
static bool
persisting(const struct conf *cf)
{
	static bool told;

	if (cf->sync.mode != MODE_PERSIST)
		return false;
	if (source_persist_possible(cf))
		return true;
	if (!told)
		log_warn("sync.mode \"persist\": Active Directory (ldap.attributes.id = "
			 "\"objectGUID\") has no persistent search; the service makes refresh runs "
			 "(by uSNChanged) every sync.interval seconds instead");
	told = true;
	return false;
}

int
service_run(const char *conf_path, struct conf **cfp, struct plugins **plugins)
{
	struct svc s = { .conf_path = conf_path, .cf = *cfp, .plugins = *plugins };
	double next;
	sigset_t set;
	int r = EXIT_OK;

	if (block_signals(&set) < 0)
		return EXIT_FAIL;
	notify_init();
	log_config(s.cf);
	store_set_file_mode(s.cf->store.mode);
	/* The store must open (and is created and migrated) before we are ready. */
	if (svc_figures(&s, NULL, 0, false) < 0) {
		r = EXIT_FAIL;
		goto out;
	}
	snprintf(s.idle, sizeof(s.idle), "Starting");
	notify_ready();
	if (persisting(s.cf))
		log_info("started: following %s (sync.mode persist) into %s", s.cf->ldap.uri,
			 conf_store_name(s.cf));
	else
		log_info("started: syncing every %d s from %s into %s", s.cf->sync.interval,
			 s.cf->ldap.uri, conf_store_name(s.cf));
	next = time_mono();
	while (!s.stopping) {
		struct sync_result res;
		int sig;

		if (persisting(s.cf)) {
			/* Until stopped, or reloaded into another mode; on a
			 * shared store, as the active service only. */
			if ((r = take_active(&s)) == 0) {
				svc_persist(&s, &set);
				next = time_mono();
				continue;
			}
			next = time_mono() + stand_by(&s, r);
			r = EXIT_OK;
		}
		sig = svc_wait_until(&set, next);

		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping on signal %d", sig);
			break;
		}
		if (sig == SIGHUP) {
			/* A new interval counts from the end of the last run. */
			if (svc_reload(&s) && s.retries == 0 && s.last_end > 0)
				next = s.last_end + s.cf->sync.interval + s.jitter;
			continue;
		}
		if (persisting(s.cf))
			continue;   /* standing by: look again */
		if ((r = take_active(&s)) < 0) {
			next = time_mono() + stand_by(&s, r);
			r = EXIT_OK;
			continue;
		}
		if (sig == SIGUSR1)
			log_info("run asked for by SIGUSR1");
		notify_status("Syncing: connecting to the directory");
		svc_run(&s, NULL, NULL, false, true, &res);
		if (res.stopped)
			break;
		next = time_mono() + after_run(&s, &res);
	}
out:
	notify_stopping();
	store_close(s.active);
	*cfp = s.cf;
	*plugins = s.plugins;
	return r;
}
