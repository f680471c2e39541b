/*
 * sync.c: one sync run, from the directory read to the committed store.
 *
 * Order of a run (docs/design.md): take the run lock; connect and bind; stream
 * the people into staging (no store lock held while reading); note whether
 * the read was complete; then, in one write transaction, plan, check the
 * safety threshold, apply, record the run, commit. An incomplete read plans
 * no disable; a plan over the threshold is rolled back and recorded as held
 * until an operator approves it. This is the layer that decides, so it is
 * the one that logs.
 */
#include "log.h"
#include "util.h"
#include "attrmap.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define MAX_LOGGED_REJECTS 100

struct run_state {
	struct dir *dir;
	struct recon *rc;
	struct amap *map;
	struct gmap *gmap;
	long long read, groups_read;
	char reason[1024];
};

static const struct dir_val *
entry_values(void *arg, size_t i, size_t *n)
{
	return dir_values(arg, i, n);
}

/* Map the current entry to a person and stage it, or reject it with a
 * reason. Returns 0 (staged or rejected) or a negative error of the store. */
static int
stage_entry(struct run_state *rs, const char *dn)
{
	struct person_rec p;
	int r;

	r = amap_person(rs->map, dn, entry_values, rs->dir, &p, rs->reason, sizeof(rs->reason));
	if (r < 0)
		return r;
	if (r == 1) {
		/* A rejected entry whose id we know still counts as seen, so its
		 * person is not taken for missing. */
		if (p.dir_id != NULL && (r = recon_stage_seen(rs->rc, p.dir_id)) < 0)
			return r;
		return recon_stage_reject(rs->rc, dn, rs->reason);
	}
	r = recon_stage_person(rs->rc, &p);
	return r == -EEXIST ? 0 : r;   /* a clash is recorded as a reject */
}

/* Map the current group entry and stage it, or reject it. */
static int
stage_group(struct run_state *rs, const char *dn)
{
	struct group_rec g;
	int r;

	r = gmap_group(rs->gmap, dn, entry_values, rs->dir, &g, rs->reason, sizeof(rs->reason));
	if (r < 0)
		return r;
	if (r == 1)
		return recon_stage_reject(rs->rc, dn, rs->reason);
	g.partial = dir_entry_ranged(rs->dir);
	r = recon_stage_group(rs->rc, &g);
	if (r == -EEXIST) {
		snprintf(rs->reason, sizeof(rs->reason), "group with the same id \"%s\" as one "
			 "read before", g.dir_id);
		return recon_stage_reject(rs->rc, dn, rs->reason);
	}
	return r;
}

static bool stop_asked(const struct sync_opts *o, enum sync_step step, long long read);

/* Read the groups into staging. Returns 1 when the search was complete, 0
 * when not (logged), -ECANCELED when the caller asked to stop, negative on a
 * store error. */
static int
read_groups(const struct conf *cf, const struct sync_opts *o, struct run_state *rs)
{
	const char *dn;
	int r;

	if ((r = gmap_new(cf, &rs->gmap)) < 0)
		return r;
	r = dir_search(rs->dir, cf->ldap.groups.base, cf->ldap.groups.scope,
		       cf->ldap.groups.filter, gmap_attrs(rs->gmap));
	while (r == 0 && (r = dir_next(rs->dir, &dn)) == 1) {
		rs->groups_read++;
		if ((r = stage_group(rs, dn)) < 0)
			return r;
		if (stop_asked(o, SYNC_READING, rs->read + rs->groups_read))
			return -ECANCELED;
	}
	if (r == -ECANCELED)
		return r;
	if (r < 0) {
		log_error("group search incomplete after %lld groups: %s; no one will leave "
			  "a group in this run", rs->groups_read, dir_error(rs->dir));
		return 0;
	}
	if (gmap_bad_members(rs->gmap) > 0)
		log_warn("%lld member values were not valid and were left out",
			 gmap_bad_members(rs->gmap));
	return 1;
}

/* ---- reporting ---------------------------------------------------------- */

static int
log_reject(const char *dn, const char *reason, void *arg)
{
	long long *n = arg;

	if (++*n <= MAX_LOGGED_REJECTS)
		log_fields(LOGL_WARN, &(struct log_ctx){ .dn = dn }, "entry \"%s\" rejected: %s",
			   dn, reason);
	return 0;
}

static int
print_change(const struct recon_change *c, void *arg)
{
	FILE *out = arg;

	if (c->dn != NULL)
		fprintf(out, "%-8s %-20s \"%s\"  %s\n", c->action,
			c->username ? c->username : "-", c->dn, c->reason ? c->reason : "");
	else
		fprintf(out, "%-8s %-20s %s\n", c->action, c->username ? c->username : "-",
			c->reason ? c->reason : "");
	return 0;
}

static int
print_reject(const char *dn, const char *reason, void *arg)
{
	fprintf((FILE *)arg, "%-8s %-20s \"%s\"  %s\n", "reject", "-", dn, reason);
	return 0;
}

static void
print_hier_summary(FILE *out, const struct recon_opts *ro, const struct hier_counts *h,
		   long long groups_read)
{
	fprintf(out, "plan: %lld manager changes (%lld warnings, %lld cycles), %lld role changes",
		h->manager_changes, h->manager_warnings, h->manager_cycles, h->role_changes);
	if (ro->groups_read)
		fprintf(out, "; %lld groups read (%lld to create, %lld to update, %lld to delete), "
			"%lld joins, %lld leaves, %lld member values ignored%s", groups_read,
			h->groups_created, h->groups_updated, h->groups_deleted, h->joins,
			h->leaves, h->members_ignored, ro->groups_complete ? "" :
			" (incomplete group read: no leaves planned)");
	fputc('\n', out);
}

/* ---- the plugins ---------------------------------------------------------- */

static int
send_event(const struct recon_event *e, void *arg)
{
	return plugins_event(arg, &(struct plugin_event){
		.kind = e->kind, .person_id = e->person_id, .changed = e->changed,
		.group_id = e->group_id, .old_manager_id = e->old_manager_id,
		.flags = e->flags });
}

/* Inside the run's transaction, after the plan is applied: hand the plugins
 * the run's events and its end, and count what they did. A plugin's error
 * (or the store's) is returned, and the run must be rolled back. */
static int
run_plugins(struct plugins *h, struct store *st, struct recon *rc, const struct recon_opts *ro,
	    bool dry_run, struct run_rec *rec)
{
	int r;

	r = plugins_begin(h, &(struct plugin_run){ .st = st, .now = ro->now,
						   .run_id = ro->run_id, .complete = ro->complete,
						   .dry_run = dry_run });
	if (r == 0)
		r = recon_events_foreach(rc, send_event, h);
	if (r == 0)
		r = plugins_run_end(h);
	if (r < 0)
		return r;
	plugins_counts(h, &rec->pl);
	return 0;
}

static int
print_action(const struct plugin_action *a, void *arg)
{
	fprintf((FILE *)arg, "%-8s %-20s %s  (%s)\n", a->action, a->subject ? a->subject : "-",
		a->detail ? a->detail : "", a->actor);
	return 0;
}

/* Whether the plan passes the safety thresholds; why not, in why. The
 * plugins' disables and archivals count with the core's disables. */
static bool
within_threshold(const struct conf *cf, const struct run_rec *rec, long long found,
		 char *why, size_t len)
{
	const struct hier_counts *h = &rec->h;
	struct plan_counts cc = rec->c, *c = &cc;

	double pct = h->memberships_before > 0 ?
		     100.0 * (double)h->leaves / (double)h->memberships_before : 0.0;

	c->disabled += rec->pl.disabled + rec->pl.archived;

	if (found == 0 && c->people_enabled > 0) {
		snprintf(why, len, "the directory returned nobody while the store has %lld "
			 "enabled people", c->people_enabled);
		return false;
	}
	if (c->disabled > cf->sync.max_disable) {
		snprintf(why, len, "%lld disables exceed sync.max_disable (%d)", c->disabled,
			 cf->sync.max_disable);
		return false;
	}
	if (c->people_enabled > 0 && c->disabled > 0 &&
	    100.0 * (double)c->disabled / (double)c->people_enabled > cf->sync.max_disable_percent) {
		snprintf(why, len, "%lld disables are %.1f%% of %lld enabled people, over "
			 "sync.max_disable_percent (%g%%)", c->disabled,
			 100.0 * (double)c->disabled / (double)c->people_enabled,
			 c->people_enabled, cf->sync.max_disable_percent);
		return false;
	}
	if (h->leaves > 0 && pct > cf->sync.max_membership_removals_percent) {
		snprintf(why, len, "%lld membership removals are %.1f%% of %lld memberships, over "
			 "sync.max_membership_removals_percent (%g%%)", h->leaves, pct,
			 h->memberships_before, cf->sync.max_membership_removals_percent);
		return false;
	}
	return true;
}

/* Take the run lock: one run at a time on a store, whichever process. */
static int
run_lock(const char *path, int *fd)
{
	int lfd = open(path, O_RDONLY | O_CLOEXEC);

	if (lfd < 0)
		return -errno;
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		int r = -errno;
		close(lfd);
		return r == -EWOULDBLOCK ? -EBUSY : r;
	}
	*fd = lfd;
	return 0;
}

/* Whether the caller's progress callback asks the run to stop. */
static bool
stop_asked(const struct sync_opts *o, enum sync_step step, long long read)
{
	return o->progress != NULL && o->progress(o->progress_arg, step, read) != 0;
}

struct waiting {
	const struct sync_opts *o;
	const struct run_state *rs;
};

/* The directory client's interrupt while it waits for the server: the
 * progress callback is asked whether to stop (SIGTERM), and nothing else: a
 * read that does not move sends no watchdog ping. */
static int
wait_interrupt(void *arg)
{
	const struct waiting *w = arg;

	return stop_asked(w->o, SYNC_WAITING, w->rs->read + w->rs->groups_read);
}

/* ---- the run ------------------------------------------------------------ */

int
sync_run(const struct conf *cf, const struct sync_opts *o, struct sync_result *res)
{
	struct run_state rs = { 0 };
	struct waiting wait = { .o = o, .rs = &rs };
	struct run_rec rec = { .outcome = RUN_FAILED, .groups_complete = -1 };
	struct recon_opts ro = { .on_missing = cf->sync.on_missing, .cf = cf,
				 .initial_status = cf->sync.initial_status,
				 .plugin_disables = o->plugins && plugins_take_disable(o->plugins) };
	bool plugins = o->plugins != NULL && plugins_count(o->plugins) > 0;
	long long audit_mark = -1;   /* plugins' audit rows: after this id; -1 none */
	struct store *st = NULL;
	char err[2048], now[21], why[512], digest[17] = "";
	const char *store_path = cf->store.path;
	const char *dn;
	double t0 = time_mono(), t_phase;
	bool complete = false, in_memory = false, stopped = false;
	int lock_fd = -1, exit_code = EXIT_FAIL, r;
	long long nrejects = 0;

	time_now_iso(now);
	ro.now = now;
	ro.events = plugins;
	/* A dry run of a store that does not exist yet plans against an empty one. */
	if (o->dry_run && access(store_path, F_OK) < 0) {
		store_path = ":memory:";
		in_memory = true;
	}
	r = store_open(store_path, cf->store.busy_timeout, o->dry_run && !in_memory ?
		       STORE_NOMIGRATE : 0, &st, err, sizeof(err));
	if (r < 0) {
		log_error("store: %s", err);
		goto out;
	}
	if (!o->dry_run) {
		if ((r = run_lock(cf->store.path, &lock_fd)) < 0) {
			log_error("store %s: %s", cf->store.path, r == -EBUSY ?
				  "another rosterd run is in progress" : strerror(-r));
			goto out;
		}
		if (store_runs_mark_crashed(st) < 0 || store_run_start(st, now, &rec.id) < 0) {
			log_error("store: cannot record the run: %s", store_errmsg(st));
			goto out;
		}
		ro.run_id = rec.id;
		log_set_run(rec.id);
	}

	r = dir_connect(cf, &rs.dir, err, sizeof(err));
	if (r < 0) {
		log_error("directory: %s", err);
		rec.error = err;
		/* An unreadable password is the setup's fault, not the server's. */
		exit_code = r == -ENOKEY ? EXIT_CONFIG : EXIT_UNREACHABLE;
		goto record;
	}
	rec.uri = dir_uri(rs.dir);
	log_debug("connected to %s", rec.uri);
	if (o->progress != NULL)
		dir_set_interrupt(rs.dir, wait_interrupt, &wait);

	if ((r = amap_new(cf, &rs.map)) < 0) {
		log_error("cannot build the attribute map: %s", strerror(-r));
		rec.error = "cannot build the attribute map";
		goto record;
	}
	/* The search first: the server finds the first page while staging
	 * loads the store's people. */
	r = dir_search(rs.dir, cf->ldap.users.base, cf->ldap.users.scope,
		       cf->ldap.users.filter, amap_attrs(rs.map));
	if (recon_stage_begin(st, &rs.rc) < 0) {
		log_error("store: cannot stage: %s", store_errmsg(st));
		rec.error = "cannot create the staging tables";
		goto record;
	}
	while (r == 0 && (r = dir_next(rs.dir, &dn)) == 1) {
		rs.read++;
		if ((r = stage_entry(&rs, dn)) < 0) {
			log_error("store: staging \"%s\" failed: %s", dn, store_errmsg(st));
			rec.error = "staging failed";
			goto record;
		}
		if (stop_asked(o, SYNC_READING, rs.read)) {
			stopped = true;
			rec.entries_read = rs.read;
			goto record;
		}
	}
	rec.entries_read = rs.read;
	if (r == -ECANCELED) {
		stopped = true;
		goto record;
	}
	if (r < 0) {
		snprintf(err, sizeof(err), "%s", dir_error(rs.dir));
		log_error("directory read incomplete after %lld entries: %s; "
			  "no one will be disabled by this run", rs.read, err);
		rec.error = err;
	} else {
		complete = true;
	}
	ro.complete = complete;
	log_debug("read %lld entries in %.3f s", rs.read, time_mono() - t0);
	if (cf->ldap.groups.base != NULL) {
		if ((r = read_groups(cf, o, &rs)) == -ECANCELED) {
			stopped = true;
			goto record;
		}
		if (r < 0) {
			log_error("store: staging groups failed: %s", store_errmsg(st));
			rec.error = "staging failed";
			goto record;
		}
		ro.groups_read = true;
		ro.groups_complete = r == 1;
		rec.groups_complete = r;
		if (r == 0 && complete) {
			/* The run is incomplete as a whole; people may still be
			 * disabled, as their search was complete. */
			snprintf(err, sizeof(err), "%s", dir_error(rs.dir));
			rec.error = err;
		}
		log_debug("read %lld groups in %.3f s", rs.groups_read, time_mono() - t0);
	}
	if ((r = recon_stage_end(rs.rc)) < 0) {
		log_error("store: staging failed: %s", store_errmsg(st));
		rec.error = "staging failed";
		goto record;
	}
	if (stop_asked(o, SYNC_APPLYING, rs.read)) {
		stopped = true;
		goto record;
	}

	if (store_begin(st) < 0) {
		log_error("store: cannot lock for writing: %s", store_errmsg(st));
		rec.error = "cannot lock the store";
		goto record;
	}
	if (o->dry_run && in_memory == false && store_migrate(st, err, sizeof(err)) < 0) {
		log_error("store: %s", err);
		goto rollback;
	}
	t_phase = time_mono();
	if (recon_plan(rs.rc, &ro, &rec.c) < 0) {
		log_error("store: planning failed: %s", store_errmsg(st));
		rec.error = "planning failed";
		goto rollback;
	}
	log_debug("planned in %.3f s", time_mono() - t_phase);
	recon_rejects_foreach(rs.rc, log_reject, &nrejects);
	if (nrejects > MAX_LOGGED_REJECTS)
		log_warn("%lld more entries rejected", nrejects - MAX_LOGGED_REJECTS);

	rec.outcome = complete && (!ro.groups_read || ro.groups_complete) ? RUN_OK : RUN_INCOMPLETE;
	exit_code = rec.outcome == RUN_OK ? EXIT_OK : EXIT_FAIL;
	/* Apply inside the transaction; a held or dry run rolls it all back. */
	t_phase = time_mono();
	r = recon_apply(rs.rc, &ro);
	if (r == 0) {
		log_debug("people applied in %.3f s", time_mono() - t_phase);
		r = recon_hierarchy(rs.rc, &ro, &rec.h);
	}
	if (r < 0) {
		log_error("store: applying the plan failed: %s", store_errmsg(st));
		rec.error = "applying the plan failed";
		goto failed;
	}
	log_debug("applied in %.3f s", time_mono() - t_phase);
	if (plugins) {
		t_phase = time_mono();
		if (run_plugins(o->plugins, st, rs.rc, &ro, o->dry_run, &rec) < 0) {
			snprintf(err, sizeof(err), "%s", plugins_error(o->plugins));
			log_error("%s; the whole run is rolled back",
				  err[0] ? err : "a plugin failed");
			rec.error = err;
			goto failed;
		}
		audit_mark = plugins_audit_mark(o->plugins);
		log_debug("plugins done in %.3f s", time_mono() - t_phase);
	}
	if (!within_threshold(cf, &rec, complete ? rs.read : -1, why, sizeof(why))) {
		if (recon_plan_digest(rs.rc, audit_mark, digest) < 0) {
			log_error("store: %s", store_errmsg(st));
			goto rollback;
		}
		rec.digest = digest;
		/* A dry run looks for an approval without using it up. */
		r = store_run_use_approval(st, digest, o->dry_run ? 0 : rec.id);
		if (r < 0) {
			log_error("store: %s", store_errmsg(st));
			goto rollback;
		}
		if (r == 1) {
			log_warn("%s; going ahead as an operator approved this plan", why);
		} else {
			rec.outcome = RUN_HELD;
			exit_code = EXIT_HELD;
			rec.error = why;
		}
	}

	if (o->dry_run) {
		FILE *out = o->plan_out ? o->plan_out : stdout;
		recon_plan_foreach(rs.rc, print_change, out);
		recon_rejects_foreach(rs.rc, print_reject, out);
		if (plugins)
			plugins_actions_foreach(o->plugins, print_action, out);
		fprintf(out, "plan: %lld to create, %lld to update (%lld moved), %lld to disable, "
			"%lld to enable, %lld unchanged, %lld rejected; %lld entries read%s\n",
			rec.c.created, rec.c.updated, rec.c.renamed, rec.c.disabled, rec.c.enabled,
			rec.c.unchanged, rec.c.rejected, rs.read,
			complete ? "" : " (incomplete read: no disables planned)");
		print_hier_summary(out, &ro, &rec.h, rs.groups_read);
		if (plugins)
			fprintf(out, "plan: plugins: %lld to disable, %lld to enable, %lld to archive, "
				"%lld assignments, %lld unassignments\n", rec.pl.disabled,
				rec.pl.enabled, rec.pl.archived, rec.pl.assigned, rec.pl.unassigned);
		if (rec.outcome == RUN_HELD)
			fprintf(out, "this run would be held: %s\n", why);
		store_rollback(st);
		goto out;
	}
	if (rec.outcome == RUN_HELD) {
		store_rollback(st);
		log_fields(LOGL_ERR, &(struct log_ctx){ .message_id = MSGID_RUN_HELD },
			  "run %lld held: %s; nothing was changed. To let this plan through, "
			  "check it with rosterd --dry-run, then: rosterctl run approve %lld",
			  rec.id, why, rec.id);
		goto record;
	}
	if (stop_asked(o, SYNC_APPLYING, rs.read)) {
		stopped = true;
		goto rollback;
	}
	t_phase = time_mono();
	rec.duration = time_mono() - t0;
	if (store_run_finish(st, &rec) < 0 || store_commit(st) < 0) {
		log_error("store: commit failed: %s", store_errmsg(st));
		rec.error = "commit failed";
		goto failed;
	}
	log_debug("committed in %.3f s", time_mono() - t_phase);
	if (store_checkpoint(st) < 0)
		log_debug("store: the WAL is in use by a reader; checkpoint left for later");
	log_fields(LOGL_INFO, &(struct log_ctx){ .message_id = MSGID_RUN_COMPLETED },
		 "run %lld %s: %lld entries read from %s; %lld created, %lld updated "
		 "(%lld moved), %lld disabled, %lld enabled, %lld unchanged, %lld rejected; %.2f s",
		 rec.id, run_outcome_name(rec.outcome), rs.read, rec.uri, rec.c.created,
		 rec.c.updated, rec.c.renamed, rec.c.disabled, rec.c.enabled, rec.c.unchanged,
		 rec.c.rejected, rec.duration);
	if (ro.groups_read || rec.h.manager_changes || rec.h.role_changes)
		log_info("run %lld: %lld manager changes (%lld warnings, %lld cycles); %lld groups "
			 "read (%lld created, %lld updated, %lld deleted), %lld joins, %lld leaves, "
			 "%lld member values ignored; %lld role changes", rec.id,
			 rec.h.manager_changes, rec.h.manager_warnings, rec.h.manager_cycles,
			 rs.groups_read, rec.h.groups_created, rec.h.groups_updated,
			 rec.h.groups_deleted, rec.h.joins, rec.h.leaves, rec.h.members_ignored,
			 rec.h.role_changes);
	if (plugins)
		log_info("run %lld: plugins: %lld disabled, %lld enabled, %lld archived, "
			 "%lld assigned, %lld unassigned", rec.id, rec.pl.disabled, rec.pl.enabled,
			 rec.pl.archived, rec.pl.assigned, rec.pl.unassigned);
	if (amap_bad_dns(rs.map) > 0)
		log_warn("%lld manager values were not DNs and were left out",
			 amap_bad_dns(rs.map));
	goto out;

failed:
	rec.outcome = RUN_FAILED;
	exit_code = EXIT_FAIL;
rollback:
	store_rollback(st);
	if (rec.outcome != RUN_HELD)
		rec.outcome = RUN_FAILED;
record:
	if (rec.outcome == RUN_OK || rec.outcome == RUN_INCOMPLETE || rec.outcome == RUN_RUNNING)
		rec.outcome = RUN_FAILED;
	if (stopped) {
		rec.outcome = RUN_FAILED;
		rec.error = "stopped before it ended (rosterd was asked to stop)";
	}
	/* End a staging transaction still open, or it would take the run
	 * record down with it. */
	recon_free(rs.rc);
	rs.rc = NULL;
	rec.duration = time_mono() - t0;
	if (!o->dry_run && rec.id > 0) {
		if (rec.outcome == RUN_HELD)
			rec.c.rejected = nrejects;
		if (store_run_finish(st, &rec) < 0)
			log_error("store: cannot record run %lld: %s", rec.id, store_errmsg(st));
		if (rec.outcome != RUN_HELD)
			log_fields(LOGL_ERR, &(struct log_ctx){ .message_id = MSGID_RUN_FAILED },
				   "run %lld failed after %.2f s: %s; nothing was changed", rec.id,
				   rec.duration, rec.error ? rec.error : "see the messages above");
	}
	if (rec.outcome != RUN_HELD && exit_code == EXIT_OK)
		exit_code = EXIT_FAIL;
out:
	res->run_id = rec.id;
	res->outcome = rec.outcome;
	res->exit_code = exit_code;
	res->stopped = stopped;
	res->entries_read = rec.entries_read;
	res->c = rec.c;
	res->duration = rec.duration ? rec.duration : time_mono() - t0;
	log_set_run(0);
	if (o->plugins != NULL)
		plugins_end(o->plugins);   /* its statements, before the store closes */
	recon_free(rs.rc);
	amap_free(rs.map);
	gmap_free(rs.gmap);
	dir_close(rs.dir);
	store_close(st);
	if (lock_fd >= 0)
		close(lock_fd);
	return exit_code == EXIT_OK ? 0 : -EIO;
}
