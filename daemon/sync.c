/*
 * sync.c: one sync run, from the directory read to the committed store.
 *
 * A run is a script of phases over a struct run (script[], above
 * sync_run()): open the store, take the run lock and record the run;
 * connect the source; read the people, then the groups, into staging (no
 * lock on the store while reading); then, in one write transaction, plan,
 * apply, work out the hierarchy, hand the plugins the run's events, pass
 * the safety gate, and commit. Each phase returns 0 or a negative errno
 * and sets the run's reason (rec.error); sync_verdict() turns what
 * happened into the recorded outcome and the exit code. An incomplete read
 * plans no disable; a plan over the thresholds is rolled back and recorded
 * as held until an operator approves it. This is the layer that decides,
 * so it is the one that logs; what it prints and its end-of-run lines are
 * in sync_print.c.
 */
#include "actions.h"
#include "log.h"
#include "util.h"
#include "source.h"
#include "readahead.h"
#include "sync_print.h"
#include "sync.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A run in progress: what it uses, what it has found, what it records. */
struct run {
	const struct conf *cf;
	const struct sync_opts *o;
	struct store *st;
	struct source *src;
	bool own_src;               /* made by the run, freed by it */
	struct recon *rc;           /* staging, then the plan */
	struct recon_opts ro;
	struct run_rec rec;         /* what is recorded in sync_runs */
	struct run_facts f;         /* what happened, for sync_verdict() */
	bool plugins;               /* plugins are loaded */
	bool in_memory;             /* a dry run of a store not made yet */
	long long read, groups_read;
	long long gone;             /* people the source named gone */
	bool delta;                 /* the source named only what changed */
	long long nrejects;
	/* the people read (sync_check_read): entries taken and rejected, items
	 * that named a person unchanged, and how many taken entries had a value
	 * for each mapped field and custom field */
	long long taken, rejected, unchanged;
	long long have[NFIELDS], have_custom[CONF_MAX_CUSTOM];
	char absent[1024];          /* mapped attributes absent from every entry */
	long long audit_mark;       /* plugins' audit rows: after this id; -1 none */
	double t0, t_phase;
	double secs[PHASE_COUNT];   /* each phase's wall time */
	double stage_secs;          /* of the reading phases', staging's */
	char now[21], digest[17], why[1536];
	char absent_why[1024];      /* run->absent told for the operator */
	char reason[2048];          /* the run's reason: rec.error points here */
	bool has_kept;
	char kept[4096];            /* the state the source kept before */
	bool record_late;           /* a batch: recorded in its own transaction */
};

static void set_reason(struct run *run, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Set the run's reason, recorded as its error. */
static void
set_reason(struct run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->reason, sizeof(run->reason), fmt, ap);
	va_end(ap);
	run->rec.error = run->reason;
}

/* Whether the caller's progress callback asks the run to stop. */
static bool
stop_asked(const struct run *run, enum sync_step step, long long read)
{
	const struct sync_opts *o = run->o;

	return o->progress != NULL && o->progress(o->progress_arg, step, read) != 0;
}

/* The run stops where it is: nothing is changed, it is recorded as failed.
 * Returns -ECANCELED. */
static int
stop(struct run *run)
{
	run->f.stopped = true;
	set_reason(run, "stopped before it ended (rosterd was asked to stop)");
	return -ECANCELED;
}

/* The source's interrupt while it waits for the server: the progress
 * callback is asked whether to stop (SIGTERM), and nothing else: a read
 * that does not move sends no watchdog ping. */
static int
wait_interrupt(void *arg)
{
	const struct run *run = arg;

	return stop_asked(run, SYNC_WAITING, run->read + run->groups_read);
}

/* What the run reads, for its record: "full", "refresh", "incremental". */
static const char *
run_kind(const struct run *run)
{
	const struct source *src = run->src;

	return src != NULL && src->ops->kind != NULL ? src->ops->kind(src) : "full";
}

/* Whether the run is a batch of a persistent search. */
static bool
run_incremental(const struct run *run)
{
	return strcmp(run_kind(run), "incremental") == 0;
}

/* The source's key in the store's state table. */
static void
state_key(const struct source *src, char *key, size_t len)
{
	snprintf(key, len, "source:%s", src->ops->name);
}

/* ---- open and lock, connect ----------------------------------------------- */

/* The state the source kept in an earlier run, for a source that keeps one. */
static int
load_kept(struct run *run)
{
	char key[64];
	int r;

	if (run->src->ops->state == NULL)
		return 0;
	state_key(run->src, key, sizeof(key));
	r = store_state_get(run->st, key, run->kept, sizeof(run->kept));
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_error("store: cannot read \"%s\": %s", key,
			  r == -EIO ? store_errmsg(run->st) : strerror(-r));
		return r;
	}
	run->has_kept = true;
	return 0;
}

/* Record the run as running: in its own transaction, or in the one open;
 * again, with the same id, after that one was rolled back. */
static int
record_start(struct run *run)
{
	if ((run->rec.id > 0 ? store_run_start_id(run->st, run->now, run->rec.id) :
	     store_run_start(run->st, run->now, &run->rec.id)) < 0) {
		log_error("store: cannot record the run: %s", store_errmsg(run->st));
		return -EIO;
	}
	run->ro.run_id = run->rec.id;
	log_set_run(run->rec.id);
	return 0;
}

/* Open the store (a dry run of a store that does not exist yet plans
 * against an empty one of its own), take the run lock and record the run
 * as running. A dry run takes no lock and records nothing. */
static int
phase_open(struct run *run)
{
	const struct conf *cf = run->cf;
	const char *path = cf->store.path;
	struct store_dsn mem = { .path = ":memory:" };
	char err[2048];
	int r;

	if (run->src == NULL) {
		/* One run in persist mode (--once, --dry-run) is a refresh run. */
		if ((r = cf->sync.mode == MODE_REFRESH || cf->sync.mode == MODE_PERSIST ?
		     source_refresh_new(cf, &run->src) : source_ldap_new(cf, &run->src)) < 0) {
			log_error("cannot make the directory source: %s", strerror(-r));
			return r;
		}
		run->own_src = true;
	}
	if (run->o->store != NULL) {   /* opened and locked by the caller */
		run->st = run->o->store;
		if ((r = load_kept(run)) < 0)
			return r;
		/* A batch of persist mode records itself in its write transaction
		 * (phase_plan): one commit, not two; no one needs to see it
		 * running for the milliseconds it lasts. */
		run->record_late = run_incremental(run);
		return run->record_late ? 0 : record_start(run);
	}
	if (run->o->dry_run && path != NULL && access(path, F_OK) < 0) {
		/* The plan is made against an empty store, and fails where the
		 * real run could not create the store. */
		if ((r = store_creatable(path, err, sizeof(err))) < 0) {
			log_error("store: %s", err);
			return r;
		}
		run->in_memory = true;
	}
	r = run->in_memory ? store_open_at(&mem, 0, &run->st, err, sizeof(err)) :
	    conf_store_open(cf, run->o->dry_run ? STORE_NOMIGRATE : 0, &run->st, err,
			    sizeof(err));
	if (r == 0 && run->o->dry_run && !run->in_memory && store_schema_version(run->st) == 0) {
		/* A database with none of rosterd's tables yet: as a file not
		 * made yet, the plan is made against an empty store. */
		store_close(run->st);
		run->st = NULL;
		run->in_memory = true;
		r = store_open_at(&mem, 0, &run->st, err, sizeof(err));
	}
	if (r < 0) {
		log_error("store: %s", err);
		return r;
	}
	if (run->o->dry_run)
		return load_kept(run);
	if ((r = store_lock(run->st, STORE_LOCK_RUN)) < 0) {
		log_error("store %s: %s", conf_store_name(cf), r == -EBUSY ?
			  "another rosterd run is in progress" : r == -EIO ?
			  store_errmsg(run->st) : strerror(-r));
		return r;
	}
	if ((r = load_kept(run)) < 0)
		return r;
	if (store_runs_mark_crashed(run->st) < 0) {
		log_error("store: cannot record the run: %s", store_errmsg(run->st));
		return -EIO;
	}
	return record_start(run);
}

/* Log the warning the source left for the run, once. */
static void
log_note(struct source *src)
{
	if (src->note[0] != '\0')
		log_warn("%s", src->note);
	if (src->info[0] != '\0')
		log_info("%s", src->info);
	src->note[0] = src->info[0] = '\0';
}

/* Connect the source (and bind). */
static int
phase_connect(struct run *run)
{
	struct source *src = run->src;
	int r;

	src->interrupt = run->o->progress != NULL ? wait_interrupt : NULL;
	src->interrupt_arg = run;
	if ((r = src->ops->begin(src, run->has_kept ? run->kept : NULL)) < 0) {
		log_error("directory: %s", src->err);
		set_reason(run, "%s", src->err);
		return r;
	}
	run->rec.uri = src->uri;
	log_debug("connected to %s", src->uri);
	log_note(src);
	return 0;
}

/* ---- reading into staging ------------------------------------------------- */

/* Count which mapped fields the entry taken has a value for. */
static void
count_values(struct run *run, const struct person_rec *p)
{
	run->taken++;
	for (int f = 0; f < NFIELDS; f++)
		run->have[f] += p->field[f] != NULL;
	for (size_t k = 0; k < p->ncustom && k < CONF_MAX_CUSTOM; k++)
		run->have_custom[k] += p->custom_value[k] != NULL;
}

/* Stage a person, or the rejection of an entry. 0 or a store error. */
static int
stage_person(struct run *run, const struct source_entry *e)
{
	int r;

	if (e->kind == SOURCE_UNCHANGED) {
		run->unchanged++;
		return recon_stage_unchanged(run->rc, e->person.dir_id);
	}
	if (e->kind == SOURCE_GONE) {
		run->gone++;
		return recon_stage_gone(run->rc, e->person.dir_id);
	}
	if (e->reject != NULL) {
		/* A rejected entry whose id we know still counts as seen, so its
		 * person is not taken for missing. */
		run->rejected++;
		if (e->person.dir_id != NULL &&
		    (r = recon_stage_seen(run->rc, e->person.dir_id)) < 0)
			return r;
		return recon_stage_reject(run->rc, e->dn, e->reject);
	}
	count_values(run, &e->person);
	r = recon_stage_person(run->rc, &e->person);
	if (r == -EEXIST)
		run->rejected++;
	return r == -EEXIST ? 0 : r;   /* a clash is recorded as a reject */
}

/* Stage a group, or the rejection of an entry. 0 or a store error. */
static int
stage_group(struct run *run, const struct source_entry *e)
{
	char why[1024];
	int r;

	/* A source names unchanged or gone groups only after it sent every
	 * group there is (whole): the groups it did not send are gone. */
	if (e->kind != SOURCE_ENTRY)
		return 0;
	if (e->reject != NULL)
		return recon_stage_reject(run->rc, e->dn, e->reject);
	r = recon_stage_group(run->rc, &e->group);
	if (r == -EEXIST) {
		snprintf(why, sizeof(why), "group with the same id \"%s\" as one read before",
			 e->group.dir_id);
		return recon_stage_reject(run->rc, e->dn, why);
	}
	return r;
}

/* The source's next() or read() returned r < 0: a stop, or the source
 * could not go on (not an incomplete read: that ends with 0). */
static int
source_failed(struct run *run, int r, bool starting)
{
	if (r == -ECANCELED)
		return stop(run);
	if (starting)
		log_error("%s: %s", run->src->err, strerror(-r));
	else
		log_error("directory: %s", run->src->err);
	set_reason(run, "%s", run->src->err);
	return r;
}

/* Append text to the list buf (", "-separated). */
static void
list_add(char *buf, size_t len, const char *text)
{
	str_appendf(buf, len, "%s%s", buf[0] ? ", " : "", text);
}

/* How many enabled people of the store have a value for field f (f < 0:
 * the directory's custom field named custom). 0 or a store error. */
static int
store_with_value(struct run *run, int f, const char *custom, long long *n)
{
	char sql[256];
	struct stmt *q = NULL;
	int r;

	if (f >= 0)
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM people WHERE status IN "
			 "('invited', 'active') AND %s IS NOT NULL AND %s <> ''",
			 field_column((enum field)f), field_column((enum field)f));
	else
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM person_fields f JOIN people p "
			 "ON p.id = f.person_id WHERE p.status IN ('invited', 'active') "
			 "AND f.name = ?1 AND f.source IS NULL AND f.value <> ''");
	if ((r = store_prepare(run->st, sql, &q)) < 0 ||
	    (custom != NULL && (r = stmt_bind_text(q, 1, custom)) < 0))
		goto out;
	if ((r = stmt_step(q)) == 1) {
		*n = stmt_int(q, 0);
		r = 0;
	} else if (r == 0) {
		r = -EIO;
	}
out:
	stmt_done(q);
	return r;
}

/* Note the mapped attribute (its key, its name) absent from every entry
 * taken when most of the store's enabled people have a value for it. */
static int
note_absent(struct run *run, int f, size_t k, long long enabled)
{
	const struct conf *cf = run->cf;
	char key[160], text[400];
	long long with = 0;
	int r;

	r = store_with_value(run, f, f < 0 ? cf->ldap.custom[k].name : NULL, &with);
	if (r < 0 || 2 * with <= enabled)
		return r;
	if (f >= 0)
		snprintf(key, sizeof(key), "ldap.attributes.%s", field_name((enum field)f));
	else
		snprintf(key, sizeof(key), "ldap.attributes.custom.%s", cf->ldap.custom[k].name);
	snprintf(text, sizeof(text), "%s (\"%s\", which %lld of the %lld enabled people have)",
		 key, f >= 0 ? cf->ldap.attr[f] : cf->ldap.custom[k].attr, with, enabled);
	list_add(run->absent, sizeof(run->absent), key);
	list_add(run->absent_why, sizeof(run->absent_why), text);
	return 0;
}

/* After a read of every person (not of the changes only): more rejects
 * than sync.max_reject_percent of the entries make the read incomplete;
 * a mapped attribute that no entry taken had, while most enabled people of
 * the store have a value for it (a misspelt name would empty the field for
 * everyone), is noted in run->absent for the safety gate. 0 or a store
 * error. */
static int
check_read(struct run *run)
{
	const struct conf *cf = run->cf;
	size_t ncustom;
	long long seen = run->taken + run->rejected, enabled = 0;
	double pct = seen > 0 ? 100.0 * (double)run->rejected / (double)seen : 0.0;
	int r;

	if (!run->f.complete || run->delta || seen == 0)
		return 0;
	if (cf->sync.max_reject_percent < 100.0 && run->rejected > 0 &&
	    pct > cf->sync.max_reject_percent) {
		run->f.complete = run->ro.complete = false;
		set_reason(run, "%lld of the %lld entries read were rejected (%.1f%%), over "
			   "sync.max_reject_percent (%g%%)", run->rejected, seen, pct,
			   cf->sync.max_reject_percent);
		log_error("directory read taken as incomplete: %s; no one will be disabled by "
			  "this run", run->reason);
		return 0;
	}
	/* Unchanged people came without their values. */
	if (run->unchanged > 0 || run->taken == 0)
		return 0;
	ncustom = cf->ldap.ncustom < CONF_MAX_CUSTOM ? cf->ldap.ncustom : CONF_MAX_CUSTOM;
	/* The person fields, then the custom fields (k). */
	for (size_t i = 0; i < NFIELDS + ncustom; i++) {
		int f = i < NFIELDS ? (int)i : -1;
		size_t k = f < 0 ? i - NFIELDS : 0;

		if (f >= 0 ? f == F_USERNAME || cf->ldap.attr[f] == NULL || run->have[f] > 0 :
		    run->have_custom[k] > 0)
			continue;
		if (enabled == 0 && (r = store_query_int(run->st, "SELECT count(*) FROM people "
				"WHERE status IN ('invited', 'active')", &enabled)) < 0)
			return r;
		if (enabled == 0)
			return 0;
		if ((r = note_absent(run, f, k, enabled)) < 0)
			return r;
	}
	return 0;
}

/* Stage the people read: 0 at the end of the read (its last next() in
 * *last: 0, or the source's failure), or a negative errno when the run
 * stops or staging fails. A first load reads ahead in a thread of its own
 * (readahead.h), so that the directory is read and mapped while the store
 * is written. */
static int
stage_people(struct run *run, struct ahead *ahead, int *last)
{
	struct source *src = run->src;
	struct source_entry e;
	double t;
	int r;

	while ((r = ahead ? ahead_next(ahead, &e) : src->ops->next(src, &e)) == 1) {
		run->read++;
		t = time_mono();
		r = stage_person(run, &e);
		run->stage_secs += time_mono() - t;
		if (r < 0) {
			log_error("store: staging \"%s\" failed: %s", e.dn, store_errmsg(run->st));
			set_reason(run, "staging failed");
			return r;
		}
		if (stop_asked(run, SYNC_READING, run->read))
			return -ECANCELED;
	}
	*last = r;
	return 0;
}

/* The people read, to its end: 0, or a negative errno (the run's reason
 * set). */
static int
read_people(struct run *run, bool loading)
{
	struct source *src = run->src;
	struct ahead *ahead = NULL;
	int r, last = 0;

	if (loading && (r = ahead_start(src, &ahead)) < 0)
		log_debug("cannot read ahead (%s): reading in turn", strerror(-r));
	r = stage_people(run, ahead, &last);
	ahead_stop(ahead);
	run->rec.entries_read = run->read;
	if (r == -ECANCELED)
		return stop(run);
	if (r < 0)
		return r;
	log_note(src);
	return last < 0 ? source_failed(run, last, false) : 0;
}

static int
holder_add(void *arg, const char *dn)
{
	return strv_add(arg, dn);
}

/* After a whole people read that named people unchanged by id: those
 * whose manager it did not name are read again (recon_stale_holders), when
 * the source can. 0 or a negative errno; an entry that cannot be read again stays as
 * the store has it. */
static int
reread_holders(struct run *run)
{
	struct source *src = run->src;
	struct strv dns = { 0 };
	struct source_entry e;
	long long n = 0;
	int r;

	if (src->ops->reread == NULL || run->unchanged == 0)
		return 0;   /* a read that named no one unchanged read them all */
	if ((r = recon_stale_holders(run->rc, holder_add, &dns)) < 0 ||
	    (dns.n > 0 && (r = src->ops->reread(src, (const char *const *)dns.v, dns.n)) < 0))
		goto out;
	while (dns.n > 0 && (r = src->ops->next(src, &e)) == 1 && (r = stage_person(run, &e)) == 0)
		n++;
	if (r == 0 && dns.n > 0 && !src->ops->complete(src))
		log_warn("cannot read again the %zu people whose manager is gone: %s; their "
			 "manager DN stays as stored until they change", dns.n, src->err);
	else if (r == 0 && dns.n > 0)
		log_info("%lld of %zu people whose manager is gone read again", n, dns.n);
out:
	if (r < 0 && r != -ECANCELED)
		set_reason(run, "cannot read again the people whose manager is gone");
	strv_free(&dns);
	run->read += n;
	return r;
}

/* Read the people into staging. The read starts first: a server finds its
 * first page while staging loads the store's people. */
static int
phase_people(struct run *run)
{
	struct source *src = run->src;
	bool loading;
	double t;
	int r;

	if ((r = src->ops->read(src, SOURCE_PEOPLE)) < 0)
		return source_failed(run, r, true);
	src->members_same = false;
	t = time_mono();
	if (src->ops->changes_only != NULL && src->ops->changes_only(src))
		r = recon_stage_begin_changes(run->st, &run->rc);
	else if (!run->o->dry_run && run->cf->store.bulk_load)
		r = recon_stage_begin_load(run->st, &run->ro, &run->rc);
	else
		r = recon_stage_begin(run->st, &run->rc);
	run->stage_secs += time_mono() - t;
	if ((loading = r == 0 && recon_loading(run->rc)))
		log_debug("the store has no people: loading them as they are read");
	if (r < 0) {
		log_error("store: cannot stage: %s", store_errmsg(run->st));
		set_reason(run, "cannot create the staging tables");
		return r;
	}
	if ((r = read_people(run, loading)) < 0)
		return r;
	if (loading && !recon_loading(run->rc))
		log_debug("two entries with one id or username: the people loaded were staged "
			  "instead, and the rest of the read too");
	run->f.complete = run->ro.complete = src->ops->complete(src);
	if (!run->f.complete) {
		log_error("directory read incomplete after %lld entries: %s; "
			  "no one will be disabled by this run", run->read, src->err);
		set_reason(run, "%s", src->err);
	} else if (src->ops->whole != NULL && !src->ops->whole(src)) {
		/* What the source did not name is as it was: missing are only
		 * the people it named gone. */
		run->delta = true;
		if ((r = recon_stage_rest_unchanged(run->rc)) < 0) {
			log_error("store: %s", r == -EAGAIN ? "people were added to the store "
				  "while it was read; the next run tries again" :
				  store_errmsg(run->st));
			set_reason(run, "cannot mark the people the directory left unchanged");
			return r;
		}
		log_msg(run_incremental(run) ? LOGL_DEBUG : LOGL_INFO,
			"%lld changes since the last run (%lld gone)", run->read, run->gone);
	}
	if (run->f.complete && (r = reread_holders(run)) < 0)
		return r == -ECANCELED ? stop(run) : r;
	if (run->f.complete && (r = recon_stage_members_may_change(run->rc)) < 0) {
		log_error("store: %s", store_errmsg(run->st));
		set_reason(run, "staging failed");
		return r;
	}
	src->members_same = run->f.complete && r == 0;
	if ((r = check_read(run)) < 0) {
		log_error("store: %s", store_errmsg(run->st));
		set_reason(run, "cannot count the store's values");
		return r;
	}
	log_debug("read %lld entries in %.3f s", run->read, time_mono() - run->t0);
	return 0;
}

/* Read the groups into staging. */
static int
read_groups(struct run *run)
{
	struct source *src = run->src;
	struct source_entry e;
	int r;

	if ((r = src->ops->read(src, SOURCE_GROUPS)) < 0)
		return source_failed(run, r, true);
	while ((r = src->ops->next(src, &e)) == 1) {
		double t = time_mono();

		run->groups_read++;
		r = stage_group(run, &e);
		run->stage_secs += time_mono() - t;
		if (r < 0) {
			log_error("store: staging groups failed: %s", store_errmsg(run->st));
			set_reason(run, "staging failed");
			return r;
		}
		if (stop_asked(run, SYNC_READING, run->read + run->groups_read))
			return stop(run);
	}
	log_note(src);
	if (r < 0)
		return source_failed(run, r, false);
	if (src->ops->complete(src) && run->groups_read == 0 && src->ops->whole != NULL &&
	    !src->ops->whole(src)) {
		/* No group changed: the groups stay as they are, as if not read. */
		run->ro.groups_same = true;
		log_debug("no group changed since the last run");
		return 0;
	}
	run->f.groups_read = run->ro.groups_read = true;
	run->f.groups_complete = run->ro.groups_complete = src->ops->complete(src);
	run->rec.groups_complete = run->f.groups_complete;
	if (!run->f.groups_complete) {
		log_error("group search incomplete after %lld groups: %s; no one will leave "
			  "a group in this run", run->groups_read, src->err);
		/* The run is incomplete as a whole; people may still be
		 * disabled, as their search was complete. */
		if (run->f.complete)
			set_reason(run, "%s", src->err);
	} else if (src->bad_members > 0) {
		log_warn("%lld member values were not valid and were left out", src->bad_members);
	}
	log_debug("read %lld groups in %.3f s", run->groups_read, time_mono() - run->t0);
	return 0;
}

/* Read the groups, when the config has them; then end staging. */
static int
phase_groups(struct run *run)
{
	double t;
	int r;

	if (run->cf->ldap.groups.base != NULL && (r = read_groups(run)) < 0)
		return r;
	t = time_mono();
	r = recon_stage_end(run->rc);
	run->stage_secs += time_mono() - t;
	if (r < 0) {
		log_error("store: staging failed: %s", store_errmsg(run->st));
		set_reason(run, "staging failed");
		return r;
	}
	return 0;
}

/* ---- in the write transaction --------------------------------------------- */

/* Take the write lock and plan; log the rejected entries. */
static int
phase_plan(struct run *run)
{
	struct store *st = run->st;
	char err[2048];
	int r;

	if (stop_asked(run, SYNC_APPLYING, run->read))
		return stop(run);
	/* (A first load holds the write lock since the read began.) */
	if (!store_in_txn(st) && (r = store_begin(st)) < 0) {
		log_error("store: cannot lock for writing: %s", store_errmsg(st));
		set_reason(run, "cannot lock the store");
		return r;
	}
	if (run->o->dry_run && !run->in_memory && (r = store_migrate(st, err, sizeof(err))) < 0) {
		log_error("store: %s", err);
		return r;
	}
	if (run->record_late && (r = record_start(run)) < 0)
		return r;
	run->t_phase = time_mono();
	if ((r = recon_plan(run->rc, &run->ro, &run->rec.c)) < 0) {
		log_error("store: planning failed: %s", r == -EAGAIN ? "people were added to "
			  "the store while it was read; the next run tries again" :
			  store_errmsg(st));
		set_reason(run, "planning failed");
		return r;
	}
	log_debug("planned in %.3f s", time_mono() - run->t_phase);
	run->nrejects = sync_log_rejects(run->rc);
	return 0;
}

/* Applying failed: log it, set the reason, return r. */
static int
apply_failed(struct run *run, int r)
{
	log_error("store: applying the plan failed: %s", store_errmsg(run->st));
	set_reason(run, "applying the plan failed");
	return r;
}

/* Access that has ended: every run expires the unfinished assignments
 * whose last day has passed (actions.c), whatever its read, audited as
 * the sync's. */
static int
expire_access(struct run *run)
{
	struct act *a;
	long long n = 0;
	int r;

	if ((r = act_new(run->st, run->now, run->rec.id, &a)) == 0) {
		r = act_expire(a, &n);
		act_free(a);
	}
	if (r < 0) {
		log_error("store: expiring access failed: %s", store_errmsg(run->st));
		set_reason(run, "expiring access failed");
		return r;
	}
	if (n > 0)
		log_info("access ended for %lld assignment%s: %s", n, n == 1 ? "" : "s",
			 run->o->dry_run ? "they would expire" : "expired");
	return 0;
}

/* Apply the plan to people, inside the transaction (a held or dry run
 * rolls it all back); then expire the access that has ended. */
static int
phase_apply(struct run *run)
{
	int r;

	run->t_phase = time_mono();
	if ((r = recon_apply(run->rc, &run->ro)) < 0)
		return apply_failed(run, r);
	log_debug("people applied in %.3f s", time_mono() - run->t_phase);
	return expire_access(run);
}

/* Managers, groups, memberships and roles. */
static int
phase_hierarchy(struct run *run)
{
	int r;

	if ((r = recon_hierarchy(run->rc, &run->ro, &run->rec.h)) < 0)
		return apply_failed(run, r);
	log_debug("applied in %.3f s", time_mono() - run->t_phase);
	return 0;
}

/* Hand one event of the run to the plugins. */
static int
send_event(const struct recon_event *e, void *arg)
{
	return plugins_event(arg, &(struct plugin_event){
		.kind = e->kind, .person_id = e->person_id, .changed = e->changed,
		.group_id = e->group_id, .via_group_id = e->via_id,
		.old_manager_id = e->old_manager_id,
		.flags = e->flags });
}

/* Hand the plugins the run's events and its end, and count what they did.
 * A plugin's error (or the store's) rolls the whole run back. */
static int
phase_plugins(struct run *run)
{
	struct plugins *h = run->o->plugins;
	double t = time_mono();
	int r;

	if (!run->plugins)
		return 0;
	r = plugins_begin(h, &(struct plugin_run){ .st = run->st, .now = run->now,
						   .run_id = run->rec.id, .complete = run->f.complete,
						   .dry_run = run->o->dry_run,
						   .batch = run_incremental(run) });
	if (r == 0)
		r = recon_events_foreach(run->rc, send_event, h);
	if (r == 0)
		r = run->o->plugins_events_only ? plugins_settle(h) : plugins_run_end(h);
	if (r < 0) {
		set_reason(run, "%s", plugins_error(h));
		log_error("%s; the whole run is rolled back",
			  run->reason[0] ? run->reason : "a plugin failed");
		return r;
	}
	plugins_counts(h, &run->rec.pl);
	run->audit_mark = plugins_audit_mark(h);
	log_debug("plugins done in %.3f s", time_mono() - t);
	return 0;
}

bool
sync_within_thresholds(const struct conf *cf, const struct gate_counts *g, char *why,
			size_t len)
{
	/* Over a window, the people enabled before its disables. A run that
	 * disables no one is not held for the runs before it. */
	long long window = g->disabled > 0 ? g->window : 0;
	long long disabled = g->disabled + window, enabled = g->enabled + window;
	double pct = g->memberships_before > 0 ?
		     100.0 * (double)g->leaves / (double)g->memberships_before : 0.0;
	char over[160] = "";

	if (window > 0)
		snprintf(over, sizeof(over), " (%lld in this run, %lld before it in the last %d s: "
			 "sync.threshold_window)", g->disabled, window,
			 cf->sync.threshold_window);
	if (g->found == 0 && g->enabled > 0) {
		snprintf(why, len, "the directory returned nobody while the store has %lld "
			 "enabled people", g->enabled);
		return false;
	}
	if (disabled > cf->sync.max_disable) {
		snprintf(why, len, "%lld disables%s exceed sync.max_disable (%d)", disabled, over,
			 cf->sync.max_disable);
		return false;
	}
	if (enabled > 0 && g->disabled > 0 &&
	    100.0 * (double)disabled / (double)enabled > cf->sync.max_disable_percent) {
		snprintf(why, len, "%lld disables%s are %.1f%% of %lld enabled people, over "
			 "sync.max_disable_percent (%g%%)", disabled, over,
			 100.0 * (double)disabled / (double)enabled, enabled,
			 cf->sync.max_disable_percent);
		return false;
	}
	if (g->leaves > 0 && pct > cf->sync.max_membership_removals_percent) {
		snprintf(why, len, "%lld membership removals are %.1f%% of %lld memberships, over "
			 "sync.max_membership_removals_percent (%g%%)", g->leaves, pct,
			 g->memberships_before, cf->sync.max_membership_removals_percent);
		return false;
	}
	return true;
}

/* In persist mode, the people disabled or archived by the runs of the last
 * sync.threshold_window seconds (since the latest approval) into *n; 0
 * outside it. 0 or a store error. */
static int
window_disables(struct run *run, long long *n)
{
	const struct conf *cf = run->cf;
	time_t t = time(NULL) - cf->sync.threshold_window;
	char since[21];
	struct tm tm;

	*n = 0;
	if (cf->sync.mode != MODE_PERSIST || cf->sync.threshold_window == 0)
		return 0;
	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return store_runs_window_disables(run->st, since, n);
}

/* Mix text into the 16 hex digits of digest (FNV-1a 64), so that an
 * approval is of this plan with these attributes absent. "" leaves it. */
static void
digest_mix(char digest[17], const char *text)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	if (text[0] == '\0')
		return;
	for (const char *p = digest; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ '|') * 0x100000001b3ULL;
	for (const char *p = text; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	snprintf(digest, 17, "%016llx", (unsigned long long)h);
}

/* The safety gate: within the thresholds, or approved, or held. */
static int
phase_gate(struct run *run)
{
	struct store *st = run->st;
	const struct run_rec *rec = &run->rec;
	/* "Nobody found" means a whole read that found no one; a read of the
	 * changes that found none found no change. The plugins' disables and
	 * archivals count with the core's. */
	struct gate_counts g = {
		.found = run->f.complete && !run->delta ? run->read : -1,
		.enabled = rec->c.people_enabled,
		.disabled = rec->c.disabled + rec->pl.disabled + rec->pl.archived,
		.leaves = rec->h.leaves, .memberships_before = rec->h.memberships_before,
	};
	bool within;
	int r;

	if (g.disabled > 0 && (r = window_disables(run, &g.window)) < 0) {
		log_error("store: %s", store_errmsg(st));
		return r;
	}
	within = sync_within_thresholds(run->cf, &g, run->why, sizeof(run->why));

	if (within && run->absent[0] == '\0') {
		run->f.gate = GATE_PASSED;
		return 0;
	}
	if (within)
		run->why[0] = '\0';
	if (run->absent[0] != '\0')
		str_appendf(run->why, sizeof(run->why), "%sthe directory sent no value of %s in "
			    "any of the %lld entries read", within ? "" : "; ", run->absent_why,
			    run->taken);
	if ((r = recon_plan_digest(run->rc, run->audit_mark, run->digest)) < 0) {
		log_error("store: %s", store_errmsg(st));
		return r;
	}
	digest_mix(run->digest, run->absent);
	run->rec.digest = run->digest;
	/* A dry run looks for an approval without using it up. */
	r = store_run_use_approval(st, run->digest, run->o->dry_run ? 0 : run->rec.id);
	if (r < 0) {
		log_error("store: %s", store_errmsg(st));
		return r;
	}
	if (r == 1) {
		log_warn("%s; going ahead as an operator approved this plan", run->why);
		run->f.gate = GATE_APPROVED;
	} else {
		run->f.gate = GATE_HELD;
		set_reason(run, "%s", run->why);
	}
	return 0;
}

/* What the printers need of the run. */
static void
report(const struct run *run, struct run_report *rep)
{
	*rep = (struct run_report){
		.rec = &run->rec, .ro = &run->ro, .read = run->read,
		.groups_read = run->groups_read, .plugins = run->plugins ? run->o->plugins : NULL,
		.held = run->f.gate == GATE_HELD ? run->why : NULL, .bad_dns = run->src->bad_dns,
	};
}

/* In the run's transaction: keep the source's state for the next run. */
static int
keep_state(struct run *run)
{
	const char *v;
	char key[64];

	if (run->src->ops->state == NULL || (v = run->src->ops->state(run->src)) == NULL)
		return 0;
	state_key(run->src, key, sizeof(key));
	return store_state_put(run->st, key, v);
}

/* A dry run prints the plan and rolls back; a held run rolls back; any
 * other records itself and commits. */
static int
phase_commit(struct run *run)
{
	struct store *st = run->st;
	struct run_report rep;
	int r;

	if (run->o->dry_run) {
		report(run, &rep);
		sync_print_plan(run->o->plan_out ? run->o->plan_out : stdout, run->rc, &rep);
		store_rollback(st);
		return 0;
	}
	if (run->f.gate == GATE_HELD) {
		store_rollback(st);
		sync_log_held(&run->rec, run->why);
		return 0;
	}
	if (stop_asked(run, SYNC_APPLYING, run->read))
		return stop(run);
	run->t_phase = time_mono();
	run->rec.outcome = sync_verdict(&run->f).outcome;
	run->rec.duration = time_mono() - run->t0;
	run->rec.kind = run_kind(run);
	if ((r = keep_state(run)) < 0 || (r = store_run_finish(st, &run->rec)) < 0 ||
	    (r = store_commit(st)) < 0) {
		log_error("store: commit failed: %s", store_errmsg(st));
		set_reason(run, "commit failed");
		return r;
	}
	log_debug("committed in %.3f s", time_mono() - run->t_phase);
	/* A batch leaves the WAL to the service, which checkpoints when idle. */
	if (!run_incremental(run) && store_checkpoint(st) < 0)
		log_debug("store: the WAL is in use by a reader; checkpoint left for later");
	return 0;
}

/* ---- the run -------------------------------------------------------------- */

struct run_verdict
sync_verdict(const struct run_facts *f)
{
	struct run_verdict v = {
		.outcome = RUN_FAILED, .exit_code = EXIT_FAIL,
		.recorded = !f->dry_run && f->failed != PHASE_OPEN,
	};

	/* An unreadable password is the setup's fault, not the server's. */
	if (f->failed == PHASE_CONNECT)
		v.exit_code = f->error == -ENOKEY ? EXIT_CONFIG : EXIT_UNREACHABLE;
	if (f->failed == PHASE_OPEN && f->error == -ENOKEY)
		v.exit_code = EXIT_CONFIG;
	if (f->failed != PHASE_NONE || f->stopped)
		return v;
	if (f->gate == GATE_HELD) {
		v.outcome = RUN_HELD;
		v.exit_code = EXIT_HELD;
	} else if (f->complete && (!f->groups_read || f->groups_complete)) {
		v.outcome = RUN_OK;
		v.exit_code = EXIT_OK;
	} else {
		v.outcome = RUN_INCOMPLETE;
	}
	return v;
}

/* A run that has done nothing yet, with its options. */
static void
run_init(struct run *run, const struct conf *cf, const struct sync_opts *o)
{
	memset(run, 0, sizeof(*run));
	run->cf = cf;
	run->o = o;
	run->src = o->source;
	run->audit_mark = -1;
	run->t0 = time_mono();
	time_now_iso(run->now);
	run->plugins = o->plugins != NULL && plugins_count(o->plugins) > 0;
	run->f.dry_run = o->dry_run;
	run->rec.outcome = RUN_FAILED;
	run->rec.groups_complete = -1;
	run->ro = (struct recon_opts){
		.now = run->now, .cf = cf, .on_missing = cf->sync.on_missing,
		.initial_status = cf->sync.initial_status, .events = run->plugins,
		.plugin_disables = o->plugins != NULL && plugins_take_disable(o->plugins),
	};
}

/* Log where a committed run's time went, phase by phase: reading the
 * directory apart from staging what it read, and the audit log's writes
 * apart from the phases that make them. */
static void
log_phases(const struct run *run)
{
	const double *t = run->secs;
	struct recon_times rt;

	recon_times(run->rc, &rt);
	log_debug("phases: open %.3f s, connect %.3f s, read %.3f s, stage %.3f s, plan %.3f s, "
		  "apply %.3f s, hierarchy %.3f s, audit %.3f s, plugins %.3f s, commit %.3f s",
		  t[PHASE_OPEN], t[PHASE_CONNECT],
		  t[PHASE_PEOPLE] + t[PHASE_GROUPS] - run->stage_secs, run->stage_secs,
		  t[PHASE_PLAN], t[PHASE_APPLY] - rt.audit_apply,
		  t[PHASE_HIERARCHY] - rt.audit_hierarchy, rt.audit_apply + rt.audit_hierarchy,
		  t[PHASE_PLUGINS], t[PHASE_GATE] + t[PHASE_COMMIT]);
}

/* After the script: roll back what is still open, and settle how the run
 * ends: its record (a committed run made its own), its last log lines,
 * the result. */
static void
run_end(struct run *run, struct sync_result *res)
{
	struct run_verdict v = sync_verdict(&run->f);
	bool committed = !run->o->dry_run && (v.outcome == RUN_OK || v.outcome == RUN_INCOMPLETE);
	struct run_report rep;

	if (committed)
		log_phases(run);
	if (run->st != NULL)
		store_rollback(run->st);
	/* End a staging transaction still open, or it would take the run
	 * record down with it. */
	recon_free(run->rc);
	run->rc = NULL;
	run->rec.outcome = v.outcome;
	if (committed) {
		report(run, &rep);
		sync_log_done(&rep);
	} else {
		run->rec.duration = time_mono() - run->t0;
	}
	/* A batch's record went with its transaction, if it had one. */
	if (v.recorded && !committed && (!run->record_late || record_start(run) == 0)) {
		run->rec.kind = run_kind(run);
		if (v.outcome == RUN_HELD)
			run->rec.c.rejected = run->nrejects;
		if (store_run_finish(run->st, &run->rec) < 0)
			log_error("store: cannot record run %lld: %s", run->rec.id,
				  store_errmsg(run->st));
		if (v.outcome != RUN_HELD)
			sync_log_failed(&run->rec);
	}
	*res = (struct sync_result){
		.run_id = run->rec.id, .outcome = v.outcome, .exit_code = v.exit_code,
		.stopped = run->f.stopped, .entries_read = run->rec.entries_read,
		.c = run->rec.c, .duration = run->rec.duration,
	};
}

/* Close what the run opened. */
static void
run_free(struct run *run)
{
	log_set_run(0);
	if (run->o->plugins != NULL)
		plugins_end(run->o->plugins);   /* its statements, before the store closes */
	recon_free(run->rc);
	if (run->src != NULL) {
		run->src->ops->end(run->src);
		run->src->interrupt = NULL;
		run->src->interrupt_arg = NULL;
		if (run->own_src)
			run->src->ops->free(run->src);
	}
	if (run->st != run->o->store)
		store_close(run->st);   /* gives up the run lock */
}

/* The script of a run. A phase that fails or stops ends it. */
static int (*const script[PHASE_COUNT])(struct run *run) = {
	[PHASE_OPEN] = phase_open,           /* the store, the run lock, the record */
	[PHASE_CONNECT] = phase_connect,     /* the source: connect, bind */
	[PHASE_PEOPLE] = phase_people,       /* people into staging */
	[PHASE_GROUPS] = phase_groups,       /* groups into staging; staging ends */
	[PHASE_PLAN] = phase_plan,           /* write transaction; plan; rejects */
	[PHASE_APPLY] = phase_apply,         /* people's creates, updates, disables */
	[PHASE_HIERARCHY] = phase_hierarchy, /* managers, groups, roles */
	[PHASE_PLUGINS] = phase_plugins,     /* events, run end */
	[PHASE_GATE] = phase_gate,           /* thresholds, approval */
	[PHASE_COMMIT] = phase_commit,       /* record and commit; dry run: print */
};

/* The write transaction lost to another writer (the learning platform
 * changed a row the run changes, on PostgreSQL): rolled back, and the run
 * goes on from the plan again, from the same staging, at most
 * RUN_CONFLICT_TRIES times. */
#define RUN_CONFLICT_TRIES 5

/* Whether to do the write phases again after phase p failed. */
static bool
run_again(struct run *run, int p, int *tries)
{
	/* A load's people were written during the read: they go with the
	 * transaction, and only a new read brings them back (the next run). */
	if (p < PHASE_PLAN || run->f.stopped || run->st == NULL ||
	    !store_conflicted(run->st) || (run->rc != NULL && recon_loading(run->rc)) ||
	    ++*tries >= RUN_CONFLICT_TRIES)
		return false;
	log_warn("store: another writer changed what the run changes (%s); the run's "
		 "transaction is done again (%d of %d)", store_errmsg(run->st), *tries + 1,
		 RUN_CONFLICT_TRIES);
	store_rollback(run->st);
	memset(&run->rec.c, 0, sizeof(run->rec.c));
	memset(&run->rec.h, 0, sizeof(run->rec.h));
	memset(&run->rec.pl, 0, sizeof(run->rec.pl));
	run->rec.error = NULL;
	run->rec.digest = NULL;
	run->reason[0] = run->why[0] = '\0';
	run->audit_mark = -1;
	run->f.gate = GATE_NOT_REACHED;
	return true;
}

int
sync_run(const struct conf *cf, const struct sync_opts *o, struct sync_result *res)
{
	struct run run;
	int r = 0, tries = 0;

	run_init(&run, cf, o);
	for (int p = PHASE_OPEN; p < PHASE_COUNT && r == 0; p++) {
		double t = time_mono();

		r = script[p](&run);
		run.secs[p] = time_mono() - t;
		if (r < 0 && run_again(&run, p, &tries)) {
			r = 0;
			p = PHASE_PLAN - 1;
			continue;
		}
		if (r < 0 && !run.f.stopped) {
			run.f.failed = (enum sync_phase)p;
			run.f.error = r;
		}
	}
	run_end(&run, res);
	run_free(&run);
	return res->exit_code == EXIT_OK ? 0 : -EIO;
}
