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
#include "rosterd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#define MAX_ATTRS (NFIELDS + 4)
#define MAX_LOGGED_REJECTS 100

/* Which requested attribute (index into names) feeds each part of a person. */
struct attrmap {
	const char **names;     /* NULL-ended, distinct */
	size_t n;
	size_t id;
	ssize_t field[NFIELDS];  /* -1: field not mapped */
	ssize_t *custom;         /* per conf custom field */
	ssize_t disabled;        /* -1: no disabled attribute */
};

/* Index of attr in the list, added when not there yet (attribute names are
 * case-insensitive, so "mail" and "Mail" are one). */
static ssize_t
attr_index(struct attrmap *m, const char *attr)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcasecmp(m->names[i], attr) == 0)
			return (ssize_t)i;
	m->names[m->n] = attr;
	return (ssize_t)m->n++;
}

static int
attrmap_init(struct attrmap *m, const struct conf *cf)
{
	size_t max = 1 + NFIELDS + cf->ldap.ncustom + 1 + 1;

	m->n = 0;
	m->names = calloc(max, sizeof(*m->names));
	m->custom = calloc(cf->ldap.ncustom + 1, sizeof(*m->custom));
	if (m->names == NULL || m->custom == NULL)
		return -ENOMEM;
	m->id = (size_t)attr_index(m, cf->ldap.id_attr);
	for (int f = 0; f < NFIELDS; f++)
		m->field[f] = cf->ldap.attr[f] ? attr_index(m, cf->ldap.attr[f]) : -1;
	for (size_t i = 0; i < cf->ldap.ncustom; i++)
		m->custom[i] = attr_index(m, cf->ldap.custom[i].attr);
	m->disabled = cf->ldap.users.disabled_attribute ?
		      attr_index(m, cf->ldap.users.disabled_attribute) : -1;
	return 0;
}

static void
attrmap_free(struct attrmap *m)
{
	free(m->names);
	free(m->custom);
}

/* ---- one entry to one person ------------------------------------------- */

/* Strings made for the current entry, freed together. */
struct scratch {
	char *s[MAX_ATTRS + 64];
	size_t n;
};

static char *
scratch_keep(struct scratch *sc, char *s)
{
	if (s == NULL || sc->n == sizeof(sc->s) / sizeof(sc->s[0])) {
		free(s);
		return NULL;
	}
	return sc->s[sc->n++] = s;
}

static void
scratch_clear(struct scratch *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->s[i]);
	sc->n = 0;
}

/* The stable id as text: as it is when printable UTF-8 (entryUUID,
 * nsUniqueId), else lower-case hex (objectGUID is 16 raw bytes). */
static char *
id_text(const struct dir_val *v)
{
	static const char hex[] = "0123456789abcdef";
	bool printable = utf8_valid(v->data, v->len);
	char *out;

	for (size_t i = 0; printable && i < v->len; i++)
		if ((unsigned char)v->data[i] < 0x20 || v->data[i] == 0x7f)
			printable = false;
	if (printable)
		return strndup(v->data, v->len);
	out = malloc(v->len * 2 + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < v->len; i++) {
		out[2 * i] = hex[(unsigned char)v->data[i] >> 4];
		out[2 * i + 1] = hex[(unsigned char)v->data[i] & 15];
	}
	out[v->len * 2] = '\0';
	return out;
}

/* All values joined by line feeds (one value: itself). */
static char *
join_values(const struct dir_val *v, size_t n)
{
	size_t len = 0, at = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		len += v[i].len + 1;
	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out[at++] = '\n';
		memcpy(out + at, v[i].data, v[i].len);
		at += v[i].len;
	}
	out[at] = '\0';
	return out;
}

static bool
entry_disabled(const struct conf *cf, const struct dir_val *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < cf->ldap.users.ndisabled_values; k++) {
			const char *d = cf->ldap.users.disabled_values[k];
			if (strlen(d) == v[i].len && strncasecmp(d, v[i].data, v[i].len) == 0)
				return true;
		}
		if (cf->ldap.users.disabled_bitmask != 0 && v[i].len > 0 && v[i].len < 32) {
			char num[32];
			char *end;
			long long x;
			memcpy(num, v[i].data, v[i].len);
			num[v[i].len] = '\0';
			errno = 0;
			x = strtoll(num, &end, 10);
			if (errno == 0 && *end == '\0' && (x & cf->ldap.users.disabled_bitmask))
				return true;
		}
	}
	return false;
}

struct run_state {
	const struct conf *cf;
	struct dir *dir;
	struct recon *rc;
	struct attrmap map;
	struct scratch sc;
	long long read;
	long long bad_manager;
	char reason[1024];
};

/* Turn the current entry into a person and stage it, or reject it with a
 * reason. Returns 0 (staged or rejected) or a negative error of the store. */
static int
stage_entry(struct run_state *rs, const char *dn)
{
	const struct conf *cf = rs->cf;
	struct person_rec p = { 0 };
	const char *cnames[64], *cvals[64];
	const struct dir_val *v;
	size_t n;
	char *dir_id = NULL, *norm = NULL;
	int r;

	scratch_clear(&rs->sc);
	rs->reason[0] = '\0';
	p.dn = dn;

	v = dir_values(rs->dir, rs->map.id, &n);
	if (n == 0 || v[0].len == 0) {
		snprintf(rs->reason, sizeof(rs->reason), "no %s (the entry's stable id)",
			 cf->ldap.id_attr);
		goto reject;
	}
	dir_id = scratch_keep(&rs->sc, id_text(&v[0]));
	if (dir_id == NULL)
		return -ENOMEM;
	p.dir_id = dir_id;

	if (!utf8_valid(dn, strlen(dn)) || dn_normalize(dn, strlen(dn), &norm) < 0) {
		snprintf(rs->reason, sizeof(rs->reason), "the DN is not a valid RFC 4514 DN");
		goto reject_seen;
	}
	if ((p.dn_norm = scratch_keep(&rs->sc, norm)) == NULL)
		return -ENOMEM;

	for (int f = 0; f < NFIELDS; f++) {
		if (rs->map.field[f] < 0)
			continue;
		v = dir_values(rs->dir, (size_t)rs->map.field[f], &n);
		if (n == 0)
			continue;
		if (!utf8_valid(v[0].data, v[0].len)) {
			snprintf(rs->reason, sizeof(rs->reason), "%s (%s) is not valid UTF-8",
				 cf->ldap.attr[f], field_name(f));
			goto reject_seen;
		}
		if (field_is_dn(f)) {
			if (dn_normalize(v[0].data, v[0].len, &norm) < 0) {
				rs->bad_manager++;
				log_warn("\"%s\": %s is not a valid DN; no %s kept", dn,
					 cf->ldap.attr[f], field_name(f));
				continue;
			}
			p.field[f] = scratch_keep(&rs->sc, norm);
		} else {
			p.field[f] = scratch_keep(&rs->sc, strndup(v[0].data, v[0].len));
		}
		if (p.field[f] == NULL)
			return -ENOMEM;
	}
	if (p.field[F_USERNAME] == NULL || p.field[F_USERNAME][0] == '\0') {
		snprintf(rs->reason, sizeof(rs->reason), "no username (attribute %s)",
			 cf->ldap.attr[F_USERNAME]);
		goto reject_seen;
	}

	for (size_t k = 0; k < cf->ldap.ncustom && k < 64; k++) {
		cnames[k] = cf->ldap.custom[k].name;
		cvals[k] = NULL;
		v = dir_values(rs->dir, (size_t)rs->map.custom[k], &n);
		if (n == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (!utf8_valid(v[i].data, v[i].len)) {
				snprintf(rs->reason, sizeof(rs->reason), "%s (custom field %s) is "
					 "not valid UTF-8", cf->ldap.custom[k].attr, cnames[k]);
				goto reject_seen;
			}
		}
		cvals[k] = scratch_keep(&rs->sc, join_values(v, n));
		if (cvals[k] == NULL)
			return -ENOMEM;
	}
	p.ncustom = cf->ldap.ncustom < 64 ? cf->ldap.ncustom : 64;
	p.custom_name = cnames;
	p.custom_value = cvals;

	if (rs->map.disabled >= 0) {
		v = dir_values(rs->dir, (size_t)rs->map.disabled, &n);
		p.dir_disabled = entry_disabled(cf, v, n);
	}
	r = recon_stage_person(rs->rc, &p);
	return r == -EEXIST ? 0 : r;   /* a clash is recorded as a reject */

reject_seen:
	if ((r = recon_stage_seen(rs->rc, dir_id)) < 0)
		return r;
reject:
	return recon_stage_reject(rs->rc, dn, rs->reason);
}

/* ---- reporting ---------------------------------------------------------- */

static int
log_reject(const char *dn, const char *reason, void *arg)
{
	long long *n = arg;

	if (++*n <= MAX_LOGGED_REJECTS)
		log_warn("entry \"%s\" rejected: %s", dn, reason);
	return 0;
}

static int
print_change(const struct recon_change *c, void *arg)
{
	FILE *out = arg;

	fprintf(out, "%-8s %-20s \"%s\"  %s\n", c->action, c->username ? c->username : "-",
		c->dn ? c->dn : "", c->reason ? c->reason : "");
	return 0;
}

static int
print_reject(const char *dn, const char *reason, void *arg)
{
	fprintf((FILE *)arg, "%-8s %-20s \"%s\"  %s\n", "reject", "-", dn, reason);
	return 0;
}

/* Whether the plan passes the safety threshold; why not, in why. */
static bool
within_threshold(const struct conf *cf, const struct plan_counts *c, long long found,
		 char *why, size_t len)
{
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

/* ---- the run ------------------------------------------------------------ */

int
sync_run(const struct conf *cf, const struct sync_opts *o, struct sync_result *res)
{
	struct run_state rs = { .cf = cf };
	struct run_rec rec = { .outcome = RUN_FAILED };
	struct recon_opts ro = { .on_missing = cf->sync.on_missing,
				 .initial_status = cf->sync.initial_status };
	struct store *st = NULL;
	char err[2048], now[21], why[512], digest[17] = "";
	const char *store_path = cf->store.path;
	const char *dn;
	double t0 = time_mono();
	bool complete = false, in_memory = false;
	int lock_fd = -1, exit_code = EXIT_FAIL, r;
	long long nrejects = 0;

	time_now_iso(now);
	ro.now = now;
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
			log_error("store %s: cannot record the run: %s", cf->store.path,
				  store_errmsg(st));
			goto out;
		}
		ro.run_id = rec.id;
	}

	r = dir_connect(cf, &rs.dir, err, sizeof(err));
	if (r < 0) {
		log_error("directory: %s", err);
		rec.error = err;
		exit_code = EXIT_UNREACHABLE;
		goto record;
	}
	rec.uri = dir_uri(rs.dir);
	log_debug("connected to %s", rec.uri);

	if ((r = attrmap_init(&rs.map, cf)) < 0 ||
	    (r = recon_stage_begin(st, &rs.rc)) < 0) {
		log_error("store: cannot stage: %s", store_errmsg(st));
		rec.error = "cannot create the staging tables";
		goto record;
	}
	r = dir_search(rs.dir, cf->ldap.users.base, cf->ldap.users.scope,
		       cf->ldap.users.filter, rs.map.names);
	while (r == 0 && (r = dir_next(rs.dir, &dn)) == 1) {
		rs.read++;
		if ((r = stage_entry(&rs, dn)) < 0) {
			log_error("store: staging \"%s\" failed: %s", dn, store_errmsg(st));
			rec.error = "staging failed";
			goto record;
		}
	}
	scratch_clear(&rs.sc);
	rec.entries_read = rs.read;
	if (r < 0) {
		snprintf(err, sizeof(err), "%s", dir_error(rs.dir));
		log_error("directory read incomplete after %lld entries: %s; "
			  "no one will be disabled by this run", rs.read, err);
		rec.error = err;
	} else {
		complete = true;
	}
	ro.complete = complete;
	if ((r = recon_stage_end(rs.rc)) < 0) {
		log_error("store: staging failed: %s", store_errmsg(st));
		rec.error = "staging failed";
		goto record;
	}

	if (store_begin(st) < 0) {
		log_error("store %s: cannot lock for writing: %s", cf->store.path, store_errmsg(st));
		rec.error = "cannot lock the store";
		goto record;
	}
	if (o->dry_run && in_memory == false && store_migrate(st, err, sizeof(err)) < 0) {
		log_error("store: %s", err);
		goto rollback;
	}
	if (recon_plan(rs.rc, &ro, &rec.c) < 0) {
		log_error("store: planning failed: %s", store_errmsg(st));
		rec.error = "planning failed";
		goto rollback;
	}
	recon_rejects_foreach(rs.rc, log_reject, &nrejects);
	if (nrejects > MAX_LOGGED_REJECTS)
		log_warn("%lld more entries rejected", nrejects - MAX_LOGGED_REJECTS);

	rec.outcome = complete ? RUN_OK : RUN_INCOMPLETE;
	exit_code = complete ? EXIT_OK : EXIT_FAIL;
	if (complete && !within_threshold(cf, &rec.c, rs.read, why, sizeof(why))) {
		if (recon_plan_digest(rs.rc, digest) < 0) {
			log_error("store: %s", store_errmsg(st));
			goto rollback;
		}
		rec.digest = digest;
		r = o->dry_run ? 0 : store_run_use_approval(st, digest, rec.id);
		if (r < 0) {
			log_error("store: %s", store_errmsg(st));
			goto rollback;
		}
		if (r == 1) {
			log_warn("run %lld: %s; going ahead as an operator approved this plan",
				 rec.id, why);
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
		fprintf(out, "plan: %lld to create, %lld to update (%lld moved), %lld to disable, "
			"%lld to enable, %lld unchanged, %lld rejected; %lld entries read%s\n",
			rec.c.created, rec.c.updated, rec.c.renamed, rec.c.disabled, rec.c.enabled,
			rec.c.unchanged, rec.c.rejected, rs.read,
			complete ? "" : " (incomplete read: no disables planned)");
		if (rec.outcome == RUN_HELD)
			fprintf(out, "this run would be held: %s\n", why);
		store_rollback(st);
		goto out;
	}
	if (rec.outcome == RUN_HELD) {
		store_rollback(st);
		log_error("run %lld held: %s; nothing was changed. To let this plan through, "
			  "check it with rosterd --dry-run, then: rosterctl run approve %lld",
			  rec.id, why, rec.id);
		goto record;
	}
	if (recon_apply(rs.rc, &ro) < 0) {
		log_error("store: applying the plan failed: %s", store_errmsg(st));
		rec.error = "applying the plan failed";
		rec.outcome = RUN_FAILED;
		exit_code = EXIT_FAIL;
		goto rollback;
	}
	rec.duration = time_mono() - t0;
	if (store_run_finish(st, &rec) < 0 || store_commit(st) < 0) {
		log_error("store: commit failed: %s", store_errmsg(st));
		rec.error = "commit failed";
		rec.outcome = RUN_FAILED;
		exit_code = EXIT_FAIL;
		goto rollback;
	}
	log_info("run %lld %s: %lld entries read from %s; %lld created, %lld updated "
		 "(%lld moved), %lld disabled, %lld enabled, %lld unchanged, %lld rejected; %.2f s",
		 rec.id, run_outcome_name(rec.outcome), rs.read, rec.uri, rec.c.created,
		 rec.c.updated, rec.c.renamed, rec.c.disabled, rec.c.enabled, rec.c.unchanged,
		 rec.c.rejected, rec.duration);
	if (rs.bad_manager > 0)
		log_warn("%lld entries had a manager attribute that is not a DN", rs.bad_manager);
	goto out;

rollback:
	store_rollback(st);
	if (rec.outcome != RUN_HELD)
		rec.outcome = RUN_FAILED;
record:
	if (rec.outcome == RUN_OK || rec.outcome == RUN_INCOMPLETE || rec.outcome == RUN_RUNNING)
		rec.outcome = RUN_FAILED;
	rec.duration = time_mono() - t0;
	if (!o->dry_run && rec.id > 0) {
		if (rec.outcome == RUN_HELD)
			rec.c.rejected = nrejects;
		if (store_run_finish(st, &rec) < 0)
			log_error("store: cannot record run %lld: %s", rec.id, store_errmsg(st));
	}
	if (rec.outcome != RUN_HELD && exit_code == EXIT_OK)
		exit_code = EXIT_FAIL;
out:
	res->run_id = rec.id;
	res->outcome = rec.outcome;
	res->exit_code = exit_code;
	recon_free(rs.rc);
	attrmap_free(&rs.map);
	dir_close(rs.dir);
	store_close(st);
	if (lock_fd >= 0)
		close(lock_fd);
	return exit_code == EXIT_OK ? 0 : -EIO;
}
