/*
 * reconcile.c: staging and set-based reconciliation of people in SQL.
 *
 * The sync engine streams what it read into temporary staging tables (which
 * live in the connection's own temporary database, so staging holds no lock
 * on the store). Inside the run's write transaction, recon_plan() compares
 * staging with the store in a handful of set operations and writes the plan
 * (a temporary table); recon_apply() carries the plan out, again as set
 * operations, and records each change in the audit log. A run that changes
 * nothing writes nothing to the people tables. The temporary tables are
 * described in recon_priv.h; all SQL goes through the store's statement API.
 */
#include "defs.h"
#include "recon_priv.h"
#include "fold.h"
#include "util.h"
#include "keyset.h"
#include "load.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rosterd/plugin.h>

int
recon_person_columns(char *sql, size_t len, const char *before, const char *after)
{
	size_t n = (size_t)snprintf(sql, len, "%sdir_id, dn, dn_norm", before);

	for (int f = 0; f < NFIELDS && n < len; f++)
		n += (size_t)snprintf(sql + n, len - n, ", %s", field_column(f));
	if (n < len)
		n += (size_t)snprintf(sql + n, len - n, ", username_key%s", after);
	return n < len ? 0 : -ENOSPC;
}

int
recon_bind_person(struct stmt *s, const struct person_rec *p, const char *key)
{
	int i = 1;

	stmt_bind_text(s, i++, p->dir_id);
	stmt_bind_text(s, i++, p->dn);
	stmt_bind_text(s, i++, p->dn_norm);
	for (int f = 0; f < NFIELDS; f++)
		stmt_bind_text(s, i++, p->field[f]);
	stmt_bind_text(s, i++, key);
	return i;
}

/* The marks of a person of the store as the read finds them (keyset.h: a
 * person is the key of their directory id, with the hash of what the
 * directory said last as the value). */
enum {
	KNOWN_SKIPPED = 1,      /* read with the same hash: not staged */
	KNOWN_STAGED = 2,       /* read and staged (or rejected) */
	KNOWN_SHARED = KEYSET_SHARED,   /* another person has the same key: never skipped */
	KNOWN_GONE = 8,         /* a source that reads changes named them gone */
	KNOWN_MISSING = 16,     /* missing since an earlier run (missing_since set) */
	KNOWN_PRESENT = 32,     /* with SKIPPED: named unchanged by the source, not read */
};

struct recon {
	struct store *st;
	/* the statements of staging, one call per entry: prepared by
	 * recon_stage_begin, given back by recon_free */
	struct stmt *ins_person, *ins_field, *ins_seen, *ins_reject, *find_clash;
	struct stmt *ins_member_of, *ins_group, *ins_member_list, *ins_gone;
	struct stmt *ins_primary;
	uint64_t gdigest;       /* of the staged groups, members and memberOf values */
	long long changed;      /* people rows the applied plan touched */
	struct keyset known;    /* the store's people (lazy: those named); KNOWN_* */
	long long known_max;    /* the highest person id when they were loaded */
	/* Lazy (recon_stage_begin_changes): the store's people are not loaded;
	 * known holds only the ids the read named (and, once the read named
	 * only changes, those missing before). delta: the read named only
	 * changes, so everyone else of the store was read unchanged. */
	bool lazy, delta;
	long long lazy_staged;  /* entries staged while lazy */
	long long not_skipped;  /* delta: the people of the store named, or missing */
	long long skipped;      /* entries read unchanged, not staged */
	long long restaged;     /* of those, staged again from the store by the plan */
	double audit_secs[2];   /* writing the audit log, by enum recon_part */
	/* A first load (recon_stage_begin_load): the people go straight into
	 * the store, in the bulk transaction it began; NULL once the load
	 * falls back to staging, or when the store had people. */
	struct load *ld;
	bool load_txn;          /* the load began the run's write transaction */
	char *list;             /* a group's member values, each ending in NUL */
	size_t list_cap;
	bool staging;
};

/* A bounded SQL text builder; overflow is a programming error caught by -ENOSPC. */
struct sql {
	char text[8192];
	int err;
};

static void sql_add(struct sql *q, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void
sql_add(struct sql *q, const char *fmt, ...)
{
	size_t used = strlen(q->text);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(q->text + used, sizeof(q->text) - used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(q->text) - used)
		q->err = -ENOSPC;
}

int
recon_sql(struct recon *rc, const char *sql, const struct recon_opts *o)
{
	struct stmt *s;
	long long n;
	int i, r;

	if ((r = store_prepare(rc->st, sql, &s)) < 0)
		return r;
	if (o != NULL) {
		if ((i = stmt_param(s, ":now")) > 0 && (r = stmt_bind_text(s, i, o->now)) < 0)
			goto out;
		/* A dry run has no run record to refer to: NULL. */
		if ((i = stmt_param(s, ":run")) > 0 && o->run_id > 0 &&
		    (r = stmt_bind_int(s, i, o->run_id)) < 0)
			goto out;
		if ((i = stmt_param(s, ":initial")) > 0 &&
		    (r = stmt_bind_text(s, i, o->initial_status == INITIAL_ACTIVE ?
					"active" : "invited")) < 0)
			goto out;
	}
	n = stmt_run(s);
	r = n < 0 ? (int)n : n > INT_MAX ? INT_MAX : (int)n;
out:
	stmt_done(s);
	return r;
}

int
recon_audit_sql(struct recon *rc, enum recon_part part, const char *sql,
		const struct recon_opts *o)
{
	double t = time_mono();
	int r = recon_sql(rc, sql, o);

	recon_audit_add(rc, part, time_mono() - t);
	return r;
}

void
recon_audit_add(struct recon *rc, enum recon_part part, double secs)
{
	rc->audit_secs[part] += secs;
}

void
recon_times(const struct recon *rc, struct recon_times *t)
{
	*t = (struct recon_times){
		.audit_apply = rc ? rc->audit_secs[RECON_APPLY] : 0,
		.audit_hierarchy = rc ? rc->audit_secs[RECON_HIERARCHY] : 0,
	};
}

long long
recon_count(struct recon *rc, const char *sql)
{
	long long n;
	int r = store_query_int(rc->st, sql, &n);

	return r < 0 ? r : n;
}

/* ---- staging ------------------------------------------------------------ */

void
recon_free(struct recon *rc)
{
	if (rc == NULL)
		return;
	stmt_done(rc->ins_person);
	stmt_done(rc->ins_field);
	stmt_done(rc->ins_seen);
	stmt_done(rc->ins_reject);
	stmt_done(rc->find_clash);
	stmt_done(rc->ins_member_of);
	stmt_done(rc->ins_group);
	stmt_done(rc->ins_member_list);
	stmt_done(rc->ins_gone);
	stmt_done(rc->ins_primary);
	free(rc->list);
	load_free(rc->ld);
	store_define_predicate(rc->st, "rosterd_skipped", NULL, NULL, NULL, STORE_DOMAIN_ALL);
	keyset_free(&rc->known);
	/* The staging tables stay in the connection's temporary database until
	 * the next recon_stage_begin() replaces them or the store is closed,
	 * which deletes the file at once; dropping them here read every page
	 * of them back first (0.15 s at 100k people with groups). */
	if (rc->staging)
		store_rollback(rc->st);
	free(rc);
}

struct store *
recon_store(struct recon *rc)
{
	return rc->st;
}

uint64_t
recon_group_digest(const struct recon *rc)
{
	return rc->gdigest;
}

long long
recon_people_changed(const struct recon *rc)
{
	return rc->changed;
}

/* ---- the people the store has --------------------------------------------
 *
 * A no-change resync would otherwise stage every person read and compare
 * each with the store in SQL, which costs as much as the read itself. The
 * store's people are loaded first as (key of the directory id, hash of what
 * the directory said); an entry read with the hash its person has is not
 * staged at all, only marked. The key is 128 bits from two independent
 * hashes of the id: two people of the store with the same key are never
 * skipped, and a wrong skip would need an entry whose id and content both
 * collide. The plan reads the marks through the SQL function
 * rosterd_skipped(dir_id) and stages again, from the store's own row, any
 * skipped person whose state still needs the plan (missing, disabled by the
 * core, or enabled while the directory's flag is set), so what it decides
 * is what it would decide had everyone been staged.
 */

/* The index of the person with this directory id, or -1. */
static long
known_find(const struct recon *rc, const char *dir_id, size_t n)
{
	return keyset_find_text(&rc->known, dir_id, n);
}

/* SQL: rosterd_skipped(dir_id), whether this run read the person unchanged.
 * Lazy, once the read named only changes: everyone it did not name, except
 * those missing before. */
static bool
sql_skipped(void *arg, const char *id, size_t len)
{
	const struct recon *rc = arg;
	long i = known_find(rc, id, len);

	if (i < 0)
		return rc->lazy && rc->delta;
	return (rc->known.flag[i] & KNOWN_SKIPPED) != 0;
}

/* Mark the person with this id; lazy, one not named before is added. 0 or
 * -ENOMEM. */
static int
known_mark(struct recon *rc, const char *dir_id, unsigned char flag)
{
	uint64_t k1, k2;
	long i;

	keyset_key(dir_id, strlen(dir_id), &k1, &k2);
	if ((i = keyset_find(&rc->known, k1, k2)) >= 0) {
		rc->known.flag[i] |= flag;
		return 0;
	}
	return rc->lazy ? keyset_add(&rc->known, k1, k2, 0, flag) : 0;
}

/* Load the store's people: known, with the marks of those missing. */
static int
known_load(struct recon *rc)
{
	struct stmt *s;
	long long n = recon_count(rc, "SELECT count(*) FROM people");
	int r;

	rc->known_max = recon_count(rc, "SELECT coalesce(max(id), 0) FROM people");
	if (n < 0 || rc->known_max < 0)
		return n < 0 ? (int)n : (int)rc->known_max;
	/* room for a row added between the two reads */
	if ((r = keyset_reserve(&rc->known, (size_t)n + 16)) < 0)
		return r;
	if ((r = store_prepare(rc->st, "SELECT dir_id, src_hash, missing_since IS NOT NULL "
			       "FROM people", &s)) < 0)
		return r;
	while ((r = stmt_step(s)) == 1) {
		uint64_t k1, k2;

		keyset_key(stmt_text(s, 0), stmt_bytes(s, 0), &k1, &k2);
		if ((r = keyset_add(&rc->known, k1, k2, stmt_int(s, 1),
				    stmt_int(s, 2) ? KNOWN_MISSING : 0)) < 0)
			break;
	}
	stmt_done(s);
	return r < 0 ? r : 0;
}

/* Lazy no more: the read turned out to need every person of the store (a
 * present phase, or more entries than loading them costs). They are
 * loaded, and the marks of those named so far carried over. 0 or a
 * negative errno. */
static int
known_switch(struct recon *rc)
{
	struct keyset old = rc->known;
	int r;

	memset(&rc->known, 0, sizeof(rc->known));
	rc->lazy = false;
	r = known_load(rc);
	for (size_t i = 0; i < old.n && r == 0; i++) {
		long j = keyset_find(&rc->known, old.e[i].k1, old.e[i].k2);
		if (j >= 0)
			rc->known.flag[j] |= old.flag[i] & (KNOWN_STAGED | KNOWN_GONE);
	}
	keyset_free(&old);
	return r;
}

/* Prepare the statements staging runs once per entry or value. */
static int
stage_prepare(struct recon *rc)
{
	struct sql q = { .text = "" };
	int r;

	sql_add(&q, "INSERT INTO temp.stage_people (dir_id, dn, dn_norm");
	for (int f = 0; f < NFIELDS; f++)
		sql_add(&q, ", %s", field_column(f));
	sql_add(&q, ", username_key, dir_disabled, hash) VALUES (?, ?, ?");
	for (int f = 0; f < NFIELDS; f++)
		sql_add(&q, ", ?");
	sql_add(&q, ", ?, ?, ?)");
	if (q.err < 0)
		return q.err;
	if ((r = store_prepare(rc->st, q.text, &rc->ins_person)) < 0 ||
	    (r = store_prepare(rc->st, "INSERT INTO temp.stage_fields (dir_id, name, value) "
			       "VALUES (?1, ?2, ?3) ON CONFLICT (dir_id, name) "
			       "DO UPDATE SET value = excluded.value", &rc->ins_field)) < 0 ||
	    (r = store_prepare(rc->st, "INSERT INTO temp.stage_seen (dir_id) VALUES (?1) "
			       "ON CONFLICT DO NOTHING", &rc->ins_seen)) < 0 ||
	    (r = store_prepare(rc->st, "INSERT INTO temp.stage_rejects (dn, reason) "
			       "VALUES (?1, ?2)", &rc->ins_reject)) < 0 ||
	    (r = store_prepare(rc->st, "SELECT dn, dir_id = ?1 FROM temp.stage_people "
			       "WHERE dir_id = ?1 OR username_key = ?2 LIMIT 1", &rc->find_clash)) < 0 ||
	    (r = store_prepare(rc->st, "INSERT INTO temp.stage_member_of (dir_id, group_dn) "
			       "VALUES (?1, ?2)", &rc->ins_member_of)) < 0 ||
	    (r = store_prepare(rc->st, "INSERT INTO temp.stage_groups (dir_id, dn, dn_norm, "
			       "name, description, partial) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			       &rc->ins_group)) < 0 ||
	    (r = store_prepare(rc->st, "INSERT INTO temp.stage_member_lists (group_dir_id, "
			       "list) VALUES (?1, ?2)", &rc->ins_member_list)) < 0 ||
	    (r = store_prepare(rc->st, "INSERT INTO temp.stage_gone (dir_id) VALUES (?1) "
			       "ON CONFLICT DO NOTHING", &rc->ins_gone)) < 0 ||
	    (r = store_prepare(rc->st, "INSERT INTO temp.stage_primary (dir_id, token, is_group) "
			       "VALUES (?1, ?2, ?3)", &rc->ins_primary)) < 0)
		return r;
	return 0;
}

/* Begin staging: lazy (recon_stage_begin_changes), or loading a store
 * with no people when load gives the options (recon_stage_begin_load). */
static int
stage_begin(struct store *st, bool lazy, const struct recon_opts *load, struct recon **out)
{
	struct recon *rc = calloc(1, sizeof(*rc));
	int r = 0;

	if (rc == NULL)
		return -ENOMEM;
	rc->st = st;
	rc->gdigest = 0xcbf29ce484222325ULL;
	rc->lazy = lazy;
	if (load != NULL && (r = load_begin(st, load, load->cf->ldap.groups.member_style ==
					    MEMBERS_UID, &rc->ld)) == -ENOTEMPTY)
		r = 0;   /* people in the store: staged as ever */
	if (r < 0)
		;
	else if (lazy)
		r = (int)(rc->known_max = recon_count(rc, "SELECT coalesce(max(id), 0) FROM people"));
	else if (rc->ld == NULL)
		r = known_load(rc);   /* (a load has nobody to know) */
	if (r < 0 ||
	    (r = store_define_predicate(st, "rosterd_skipped", sql_skipped, rc,
					"SELECT dir_id FROM people", STORE_DOMAIN_ALL)) < 0 ||
	    (r = store_exec(st, schema_recon_tables)) < 0 ||
	    (r = stage_prepare(rc)) < 0 ||
	    (rc->ld == NULL && (r = store_begin_temp(st)) < 0)) {
		if (rc->ld != NULL)
			store_rollback(st);
		recon_free(rc);
		return r;
	}
	rc->staging = rc->ld == NULL;
	rc->load_txn = rc->ld != NULL;
	*out = rc;
	return 0;
}

int
recon_stage_begin(struct store *st, struct recon **out)
{
	return stage_begin(st, false, NULL, out);
}

int
recon_stage_begin_changes(struct store *st, struct recon **out)
{
	return stage_begin(st, true, NULL, out);
}

int
recon_stage_begin_load(struct store *st, const struct recon_opts *o, struct recon **out)
{
	return stage_begin(st, false, o, out);
}

bool
recon_loading(const struct recon *rc)
{
	return rc->ld != NULL;
}

struct load *
recon_load(struct recon *rc)
{
	return rc->ld;
}

/* Run a staging statement once, and ready it for the next entry: 0, or a
 * negative errno (-EEXIST: a unique column has the value already).
 * (Binding the parameters the statement has cannot fail: text is not
 * copied, so the binds before it go unchecked.) */
static int
stage_step(struct stmt *s)
{
	int r = stmt_step(s);

	stmt_reset(s);
	return r < 0 ? r : 0;
}

int
recon_stage_seen(struct recon *rc, const char *dir_id)
{
	int r = known_mark(rc, dir_id, KNOWN_STAGED);

	if (r < 0)
		return r;
	stmt_bind_text(rc->ins_seen, 1, dir_id);
	return stage_step(rc->ins_seen);
}

int
recon_stage_unchanged(struct recon *rc, const char *dir_id)
{
	long ki;
	int r;

	/* Naming people unchanged one by one needs them all. */
	if (rc->lazy && (r = known_switch(rc)) < 0)
		return r;
	ki = known_find(rc, dir_id, strlen(dir_id));

	/* Not in the store (never taken), already read, or missing since an
	 * earlier run (the directory cannot vouch for them now): left alone. */
	if (ki < 0 || (rc->known.flag[ki] & ~KNOWN_SHARED) != 0)
		return 0;
	/* Two people with one key cannot be told apart by rosterd_skipped():
	 * the person counts as seen, changing nothing. */
	if (rc->known.flag[ki] & KNOWN_SHARED)
		return recon_stage_seen(rc, dir_id);
	rc->known.flag[ki] = KNOWN_SKIPPED | KNOWN_PRESENT;
	rc->skipped++;
	return 0;
}

int
recon_stage_gone(struct recon *rc, const char *dir_id)
{
	int r = known_mark(rc, dir_id, KNOWN_GONE);

	if (r < 0)
		return r;
	stmt_bind_text(rc->ins_gone, 1, dir_id);
	return stage_step(rc->ins_gone);
}

/* Lazy: everyone of the store the read did not name, except those missing
 * before, was read unchanged (rosterd_skipped says so from now on). People
 * are created only by sync runs, under the run lock; a higher id than
 * when staging began means another writer, and -EAGAIN. */
static int
rest_unchanged_lazy(struct recon *rc)
{
	struct sql q = { .text = "" };
	struct stmt *s;
	long long max, named, missing = 0;
	int r;

	if ((r = store_query_int(rc->st, "SELECT coalesce(max(id), 0) FROM people", &max)) < 0)
		return r;
	if (max != rc->known_max)
		return -EAGAIN;
	/* SQLite: INDEXED BY (see restage_skipped) */
	sql_add(&q, "SELECT dir_id FROM people INDEXED BY people_attention "
		"WHERE (%s) AND missing_since IS NOT NULL", schema_attention);
	if (q.err < 0)
		return q.err;
	if ((r = store_prepare(rc->st, q.text, &s)) < 0)
		return r;
	while ((r = stmt_step(s)) == 1 && (r = known_mark(rc, stmt_text(s, 0), KNOWN_MISSING)) == 0)
		missing++;
	stmt_done(s);
	if (r < 0)
		return r;
	/* Everyone else is read unchanged: recon_plan counts them, from the
	 * number of people it counts anyway. */
	if ((r = store_query_int(rc->st, "SELECT count(*) FROM people WHERE missing_since IS NULL "
				 "AND dir_id IN (SELECT dir_id FROM temp.stage_people UNION "
				 "SELECT dir_id FROM temp.stage_seen UNION "
				 "SELECT dir_id FROM temp.stage_gone)", &named)) < 0)
		return r;
	rc->not_skipped = named + missing;
	rc->delta = true;
	/* From now on rosterd_skipped() is true of everyone but the people
	 * named and those missing before: only they need asking. */
	return store_define_predicate(rc->st, "rosterd_skipped", sql_skipped, rc,
				      "SELECT dir_id FROM people WHERE missing_since IS NOT NULL "
				      "OR dir_id IN (SELECT dir_id FROM temp.stage_people UNION "
				      "SELECT dir_id FROM temp.stage_seen UNION "
				      "SELECT dir_id FROM temp.stage_gone)", STORE_OUTSIDE_TRUE);
}

int
recon_stage_rest_unchanged(struct recon *rc)
{
	long long people;
	int r;

	if (rc->lazy)
		return rest_unchanged_lazy(rc);
	/* Everyone of the store must be known, or one left out would be taken
	 * for missing. */
	if ((r = store_query_int(rc->st, "SELECT count(*) FROM people", &people)) < 0)
		return r;
	if ((size_t)people != rc->known.n)
		return -EAGAIN;
	for (size_t i = 0; i < rc->known.n; i++) {
		unsigned char f = rc->known.flag[i];

		if (f & (KNOWN_SKIPPED | KNOWN_STAGED | KNOWN_GONE | KNOWN_MISSING))
			continue;
		if (f & KNOWN_SHARED)
			return -ENOTUNIQ;
		rc->known.flag[i] = KNOWN_SKIPPED;
		rc->skipped++;
	}
	return 0;
}

int
recon_stage_members_may_change(struct recon *rc)
{
	struct sql q = { .text = "" };
	long long n;

	if (rc->ld != NULL)
		return load_count(rc->ld) > 0;   /* someone new, in a store of nobody */
	if (rc->lazy && !rc->delta)
		return 1;   /* a whole read without the store's people: not worked out */
	/* Someone neither read nor missing before goes missing. */
	for (size_t i = 0; !rc->lazy && i < rc->known.n; i++)
		if (!(rc->known.flag[i] & (KNOWN_SKIPPED | KNOWN_STAGED | KNOWN_MISSING)))
			return 1;
	/* SQLite: CROSS JOIN (the few gone first, not every person) */
	if (rc->lazy && (n = recon_count(rc, "SELECT EXISTS (SELECT 1 FROM temp.stage_gone g CROSS "
					 "JOIN people p ON p.dir_id = g.dir_id "
					 "WHERE p.missing_since IS NULL AND NOT EXISTS (SELECT 1 FROM "
					 "temp.stage_people s WHERE s.dir_id = g.dir_id) AND NOT EXISTS "
					 "(SELECT 1 FROM temp.stage_seen x WHERE x.dir_id = g.dir_id))")) != 0)
		return n < 0 ? (int)n : 1;
	/* Someone new, with another DN or username, or back. */
	n = recon_count(rc, "SELECT EXISTS (SELECT 1 FROM temp.stage_people s LEFT JOIN people p "
			"ON p.dir_id = s.dir_id WHERE p.id IS NULL OR p.dn_norm IS NOT s.dn_norm "
			"OR p.username IS NOT s.username COLLATE BINARY "
			"OR p.missing_since IS NOT NULL)");
	if (n != 0)
		return n < 0 ? (int)n : 1;
	/* Someone missing before read unchanged or rejected: back. */
	sql_add(&q, "SELECT EXISTS (SELECT 1 FROM people INDEXED BY people_attention "
		"WHERE (%s) AND missing_since IS NOT NULL AND (rosterd_skipped(dir_id) "
		"OR dir_id IN (SELECT dir_id FROM temp.stage_seen)))", schema_attention);
	if (q.err < 0)
		return q.err;
	n = recon_count(rc, q.text);
	return n < 0 ? (int)n : n != 0;
}

int
recon_stale_holders(struct recon *rc, int (*fn)(void *arg, const char *dn), void *arg)
{
	struct stmt *s = NULL;
	bool unnamed = false;
	int r;

	if (rc->lazy)
		return 0;   /* the read named only changes: no one unnamed went */
	for (size_t i = 0; !unnamed && i < rc->known.n; i++)
		unnamed = !(rc->known.flag[i] & (KNOWN_SKIPPED | KNOWN_STAGED | KNOWN_MISSING));
	if (!unnamed)
		return 0;
	/* The holders read unchanged, each manager DN they hold looked up by
	 * people_dn_norm; whether that person was named is asked here. */
	if ((r = store_prepare(rc->st, "SELECT p.dn, q.dir_id FROM people p JOIN people q "
			       "ON q.dn_norm IN (p.manager_dn, p.secondary_manager_dn) "
			       "WHERE p.missing_since IS NULL AND rosterd_skipped(p.dir_id) "
			       "AND q.missing_since IS NULL", &s)) < 0)
		return r;
	while (r == 0 && (r = stmt_step(s)) == 1) {
		const char *q = stmt_text(s, 1);
		long ki = known_find(rc, q, strlen(q));

		r = ki >= 0 && !(rc->known.flag[ki] & (KNOWN_SKIPPED | KNOWN_STAGED | KNOWN_MISSING)) ?
		    fn(arg, stmt_text(s, 0)) : 0;
	}
	stmt_done(s);
	return r;
}

int
recon_stage_reject(struct recon *rc, const char *dn, const char *reason)
{
	stmt_bind_text(rc->ins_reject, 1, dn);
	stmt_bind_text(rc->ins_reject, 2, reason);
	return stage_step(rc->ins_reject);
}

/* p, whose username's key is key, clashes with an entry staged earlier:
 * reject p, naming the other entry. */
static int
reject_clash(struct recon *rc, const struct person_rec *p, const char *key)
{
	struct stmt *s = rc->find_clash;
	char reason[1024];
	int r;

	stmt_bind_text(s, 1, p->dir_id);
	stmt_bind_text(s, 2, key);
	if ((r = stmt_step(s)) != 1) {
		stmt_reset(s);
		return r < 0 ? r : -EIO;   /* the entry it clashed with is there */
	}
	if (stmt_int(s, 1))
		snprintf(reason, sizeof(reason), "same id \"%s\" as \"%s\"", p->dir_id,
			 stmt_text(s, 0));
	else
		snprintf(reason, sizeof(reason), "username \"%s\" is also used by \"%s\"",
			 p->field[F_USERNAME], stmt_text(s, 0));
	stmt_reset(s);
	if ((r = recon_stage_reject(rc, p->dn, reason)) < 0 ||
	    (r = recon_stage_seen(rc, p->dir_id)) < 0)
		return r;
	return -EEXIST;
}

/* FNV-1a over one string, with a marker that tells NULL from "" and keeps
 * "ab"+"c" apart from "a"+"bc". */
static uint64_t
hash_str(uint64_t h, const char *s)
{
	if (s == NULL)
		return (h ^ 0xffu) * 0x100000001b3ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xfeu) * 0x100000001b3ULL;
}

/* What the directory says of a person, as one number: two entries with the
 * same hash need no update. The field count is mixed in so that adding a
 * field to the map changes every hash once. */
static int64_t
person_hash(const struct person_rec *p)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ NFIELDS;

	h = hash_str(h, p->dn);
	for (int f = 0; f < NFIELDS; f++)
		h = hash_str(h, p->field[f]);
	for (size_t k = 0; k < p->ncustom; k++) {
		if (p->custom_value[k] == NULL)
			continue;
		h = hash_str(h, p->custom_name[k]);
		h = hash_str(h, p->custom_value[k]);
	}
	h = (h ^ (p->dir_disabled ? 1u : 2u)) * 0x100000001b3ULL;
	return (int64_t)h;
}

/* The memberOf values of an entry: a person's, read whether or not the
 * person is staged (none, when read: a row with "" that says they were
 * read), or a group's (nesting read from memberOf alone). */
static int
stage_member_of(struct recon *rc, const char *dir_id, bool read, size_t n,
		const char *const *values)
{
	int r;

	if (read && n == 0) {
		stmt_bind_text(rc->ins_member_of, 1, dir_id);
		stmt_bind_text(rc->ins_member_of, 2, "");
		return stage_step(rc->ins_member_of);
	}
	for (size_t k = 0; k < n; k++) {
		rc->gdigest = hash_str(hash_str(rc->gdigest, dir_id), values[k]);
		stmt_bind_text(rc->ins_member_of, 1, dir_id);
		stmt_bind_text(rc->ins_member_of, 2, values[k]);
		if ((r = stage_step(rc->ins_member_of)) < 0)
			return r;
	}
	return 0;
}

/* An entry's primary group (Active Directory): a person's primaryGroupID,
 * or a group's primaryGroupToken. NULL: none. */
static int
stage_primary(struct recon *rc, const char *dir_id, const char *token, bool group)
{
	if (token == NULL)
		return 0;
	rc->gdigest = hash_str(hash_str(hash_str(rc->gdigest, dir_id), token), group ? "g" : "p");
	stmt_bind_text(rc->ins_primary, 1, dir_id);
	stmt_bind_text(rc->ins_primary, 2, token);
	stmt_bind_int(rc->ins_primary, 3, group);
	return stage_step(rc->ins_primary);
}

/* What a person read says of their groups, staged or skipped. */
static int
stage_person_groups(struct recon *rc, const struct person_rec *p)
{
	int r = stage_member_of(rc, p->dir_id, p->member_of_read, p->nmember_of, p->member_of);

	return r < 0 ? r : stage_primary(rc, p->dir_id, p->primary_group, false);
}

/* The comparison key of p's username in *out (fold.h), for the caller to
 * free; an entry without a username that has one (attrmap.c rejects them
 * before) is rejected here: -EEXIST, as for a clash. */
static int
stage_username_key(struct recon *rc, const struct person_rec *p, char **out)
{
	const char *u = p->field[F_USERNAME];
	char *key = NULL;
	int r = u == NULL ? -EILSEQ : username_key(u, strlen(u), &key);

	if (r == 0 && key[0] != '\0') {
		*out = key;
		return 0;
	}
	free(key);
	if (r != -EILSEQ && r != 0)
		return r;
	if ((r = recon_stage_reject(rc, p->dn, u == NULL || r < 0 ?
				    "no username that is valid UTF-8" : "a blank username")) < 0 ||
	    (r = recon_stage_seen(rc, p->dir_id)) < 0)
		return r;
	return -EEXIST;
}

/* Stage p, whose username's key is key and content hash is hash, with its
 * custom fields: 0, -EEXIST when an entry staged before has its id or
 * username (p is then rejected), or another negative errno. */
static int
stage_row(struct recon *rc, const struct person_rec *p, const char *key, int64_t hash)
{
	struct stmt *s = rc->ins_person;
	int i = recon_bind_person(s, p, key), r;

	stmt_bind_int(s, i++, p->dir_disabled);
	stmt_bind_int(s, i++, hash);
	r = stage_step(s);
	if (r == -EEXIST)
		r = reject_clash(rc, p, key);
	if (r < 0)
		return r;
	for (size_t k = 0; k < p->ncustom; k++) {
		if (p->custom_value[k] == NULL)
			continue;
		stmt_bind_text(rc->ins_field, 1, p->dir_id);
		stmt_bind_text(rc->ins_field, 2, p->custom_name[k]);
		stmt_bind_text(rc->ins_field, 3, p->custom_value[k]);
		if ((r = stage_step(rc->ins_field)) < 0)
			return r;
	}
	return 0;
}

/* A person loaded, handed back by load_undo(): staged as read. */
static int
restage(const struct person_rec *p, const char *key, int64_t hash, void *arg)
{
	return stage_row(arg, p, key, hash);
}

/* The load met an entry whose id or username a person loaded has: what
 * only staging's rules settle. The people loaded are staged instead, in
 * the order read (none of them clash), and the load undone; the run goes
 * on as one that stages, in the transaction the load began. */
static int
load_fall_back(struct recon *rc)
{
	int r = load_undo(rc->ld, restage, rc);

	if (r == 0)
		r = store_bulk_index(rc->st, NULL);
	load_free(rc->ld);
	rc->ld = NULL;
	return r;
}

int
recon_stage_person(struct recon *rc, const struct person_rec *p)
{
	int64_t hash = person_hash(p);
	char *key = NULL;
	long ki;
	int r;

	/* Lazy, every entry is staged: once they are more than loading the
	 * store's people costs (about 1 in 32 of them), those are loaded and
	 * the entries read unchanged are only marked again. */
	if (rc->lazy && ++rc->lazy_staged > rc->known_max / 32 + 256 &&
	    (r = known_switch(rc)) < 0)
		return r;
	ki = known_find(rc, p->dir_id, strlen(p->dir_id));
	if (ki >= 0 && (rc->known.flag[ki] & KNOWN_PRESENT)) {
		/* Named unchanged, then sent whole (slapd's present phase does
		 * both for an entry changed since the cookie): the entry wins. */
		rc->known.flag[ki] &= (unsigned char)~(KNOWN_SKIPPED | KNOWN_PRESENT);
		rc->skipped--;
	}
	if (ki >= 0 && (rc->known.flag[ki] & KNOWN_SKIPPED)) {
		char reason[1024];
		snprintf(reason, sizeof(reason), "same id \"%s\" as an entry read before", p->dir_id);
		if ((r = recon_stage_reject(rc, p->dn, reason)) < 0)
			return r;
		return -EEXIST;
	}
	if (!rc->lazy && ki >= 0 && (rc->known.flag[ki] & ~KNOWN_MISSING) == 0 &&
	    rc->known.e[ki].value == hash) {
		rc->known.flag[ki] = KNOWN_SKIPPED;
		rc->skipped++;
		return stage_person_groups(rc, p);
	}
	if ((r = known_mark(rc, p->dir_id, KNOWN_STAGED)) < 0 ||
	    (r = stage_username_key(rc, p, &key)) < 0)
		return r;
	r = rc->ld != NULL ? load_person(rc->ld, p, key, hash) : 1;
	if (r == -EEXIST && (r = load_fall_back(rc)) == 0)
		r = 1;
	if (r == 1)   /* not loaded: staged */
		r = stage_row(rc, p, key, hash);
	free(key);
	return r < 0 ? r : stage_person_groups(rc, p);
}

/* The member values of g as one list in rc->list, each ending in NUL, mixed
 * into the group digest: 0 with *len set, or -ENOMEM. */
static int
member_list(struct recon *rc, const struct group_rec *g, size_t *len)
{
	size_t n = 0;

	for (size_t k = 0; k < g->nmembers; k++) {
		size_t vlen = strlen(g->members[k]) + 1;

		rc->gdigest = hash_str(rc->gdigest, g->members[k]);
		if (n + vlen > rc->list_cap) {
			size_t cap = rc->list_cap ? rc->list_cap : 4096;
			char *l;

			while (cap < n + vlen)
				cap *= 2;
			if ((l = realloc(rc->list, cap)) == NULL)
				return -ENOMEM;
			rc->list = l;
			rc->list_cap = cap;
		}
		memcpy(rc->list + n, g->members[k], vlen);
		n += vlen;
	}
	*len = n;
	return 0;
}

int
recon_stage_group(struct recon *rc, const struct group_rec *g)
{
	struct stmt *s = rc->ins_group;
	size_t len;
	int r;

	stmt_bind_text(s, 1, g->dir_id);
	stmt_bind_text(s, 2, g->dn);
	stmt_bind_text(s, 3, g->dn_norm);
	stmt_bind_text(s, 4, g->name);
	stmt_bind_text(s, 5, g->description);
	stmt_bind_int(s, 6, g->partial);
	if ((r = stage_step(s)) < 0)
		return r;   /* -EEXIST: the same id again */
	rc->gdigest = hash_str(rc->gdigest, g->dir_id);
	rc->gdigest = hash_str(rc->gdigest, g->dn);
	rc->gdigest = hash_str(rc->gdigest, g->name);
	rc->gdigest = hash_str(rc->gdigest, g->description);
	rc->gdigest = hash_str(rc->gdigest, g->partial ? "partial" : "whole");
	if ((r = stage_member_of(rc, g->dir_id, false, g->nmember_of, g->member_of)) < 0 ||
	    (r = stage_primary(rc, g->dir_id, g->token, true)) < 0)
		return r;
	/* The values as one list: a no-change run needs them only for the
	 * digest, and a row a value costs as much as the read of them. */
	if ((r = member_list(rc, g, &len)) < 0)
		return r;
	if (g->nmembers == 0)
		return 0;
	stmt_bind_text(rc->ins_member_list, 1, g->dir_id);
	stmt_bind_blob(rc->ins_member_list, 2, rc->list, len);
	return stage_step(rc->ins_member_list);
}

/* The member lists read a few at a time (MEMBER_LISTS_AT_ONCE): a store
 * whose connection cannot read one statement while it runs another
 * (PostgreSQL) holds the rest of the rows read in memory meanwhile, and a
 * large group's list is tens of kilobytes. */
#define MEMBER_LISTS_AT_ONCE 32

/* One batch of lists after seq *last: their values into stage_members;
 * *n the lists read. 0 or a negative errno. */
static int
members_expand_batch(struct stmt *s, struct stmt *ins, long long *last, int *n)
{
	int r;

	*n = 0;
	stmt_bind_int(s, 1, *last);
	stmt_bind_int(s, 2, MEMBER_LISTS_AT_ONCE);
	while ((r = stmt_step(s)) == 1) {
		const char *group = stmt_text(s, 1);   /* valid until the next step of s */
		const char *list = stmt_blob(s, 2);
		size_t len = stmt_bytes(s, 2);

		*last = stmt_int(s, 0);
		(*n)++;
		for (size_t off = 0, vlen; off < len && r >= 0; off += vlen + 1) {
			vlen = strnlen(list + off, len - off);
			stmt_bind_text(ins, 1, group);
			stmt_bind_textn(ins, 2, list + off, vlen);
			r = stage_step(ins);
		}
		if (r < 0)
			break;
	}
	stmt_reset(s);
	return r < 0 ? r : 0;
}

int
recon_members_expand(struct recon *rc)
{
	struct stmt *s = NULL, *ins = NULL;
	long long last = 0;
	int r, n = 0;

	if ((r = recon_sql(rc, "DELETE FROM temp.stage_members", NULL)) < 0 ||
	    (r = store_prepare(rc->st, "SELECT seq, group_dir_id, list FROM "
			       "temp.stage_member_lists WHERE seq > ?1 ORDER BY seq LIMIT ?2",
			       &s)) < 0 ||
	    (r = store_prepare(rc->st, "INSERT INTO temp.stage_members (group_dir_id, value) "
			       "VALUES (?1, ?2)", &ins)) < 0)
		goto out;
	do
		r = members_expand_batch(s, ins, &last, &n);
	while (r == 0 && n == MEMBER_LISTS_AT_ONCE);
out:
	stmt_done(s);
	stmt_done(ins);
	return r < 0 ? r : 0;
}

int
recon_stage_end(struct recon *rc)
{
	int r;

	if (!rc->staging && !rc->load_txn)
		return 0;
	if (rc->staging && (r = store_commit(rc->st)) < 0)
		return r;
	rc->staging = false;
	/* Fresh statistics let the planner size the joins. The member values
	 * get their index only when the groups are worked out (hierarchy.c).
	 * SQLite: ANALYZE of the temporary database. */
	return store_exec(rc->st, "ANALYZE temp");
}

/* ---- planning ----------------------------------------------------------- */

/* Staged entries whose username belongs to a person this run did not see
 * (the same key; or, for a row without a key, the same username as NOCASE
 * compares it: schema/006_username_key.sql):
 * that person keeps it (they may come back), the entry is rejected. Rejecting
 * one may leave its own person holding an old username another entry wants,
 * so this repeats until nothing changes. */
static int
reject_held_usernames(struct recon *rc)
{
	static const char pick[] =
		"INSERT INTO temp.held (seq, dir_id, dn, reason, held_by) "
		"SELECT s.seq, s.dir_id, s.dn, CASE WHEN rosterd_skipped(p.dir_id) "
		" THEN 'username \"' || s.username || '\" is also used by \"' || p.dn || '\"' "
		" ELSE 'username \"' || s.username || '\" belongs to \"' "
		" || p.dn || '\" (' || p.status || '), whose entry this run did not find or "
		"take; if this is that person''s entry made again, \"rosterctl user relink ' "
		" || p.username || '\" binds them to it' END AS reason, "
		"CASE WHEN NOT rosterd_skipped(p.dir_id) THEN p.id END "
		"FROM temp.stage_people s JOIN people p ON (p.username_key = s.username_key "
		" OR (p.username_key IS NULL AND p.username = s.username)) "
		"WHERE p.dir_id <> s.dir_id AND (rosterd_skipped(p.dir_id) OR NOT EXISTS "
		" (SELECT 1 FROM temp.stage_people x WHERE x.dir_id = p.dir_id))";
	int n, r;

	for (;;) {
		if ((r = recon_sql(rc, "DELETE FROM temp.held", NULL)) < 0 ||
		    (n = recon_sql(rc, pick, NULL)) < 0)
			return r < 0 ? r : n;
		if (n == 0)
			return 0;
		if ((r = recon_sql(rc, "INSERT INTO temp.stage_rejects (dn, reason, dir_id, "
				   "held_by) SELECT dn, reason, dir_id, held_by FROM temp.held "
				   "ORDER BY seq", NULL)) < 0 ||
		    (r = recon_sql(rc, "INSERT INTO temp.stage_seen (dir_id) "
				   "SELECT dir_id FROM temp.held WHERE true ON CONFLICT DO NOTHING",
				   NULL)) < 0 ||
		    (r = recon_sql(rc, "DELETE FROM temp.stage_people "
				   "WHERE seq IN (SELECT seq FROM temp.held)", NULL)) < 0)
			return r;
	}
}

static int
plan_creates(struct recon *rc)
{
	return recon_sql(rc,
		"INSERT INTO temp.plan (action, dir_id, username, dn, reason) "
		"SELECT 'create', s.dir_id, s.username, s.dn, CASE WHEN s.dir_disabled = 1 "
		" THEN 'new entry, disabled in the directory' ELSE 'new entry' END "
		"FROM temp.stage_people s WHERE NOT EXISTS "
		" (SELECT 1 FROM people p WHERE p.dir_id = s.dir_id) ORDER BY s.username", NULL);
}

/* Updates: every staged person whose profile differs from the store, with
 * the list of what changed as the reason ("changed: email title"). */
static int
plan_updates(struct recon *rc)
{
	struct sql q = { .text = "" };

	sql_add(&q, "INSERT INTO temp.plan (action, person_id, dir_id, username, dn, reason, "
		"code, fields, links) "
		"SELECT 'update', id, dir_id, username, dn, "
		"'changed:' || changed || (CASE WHEN fields THEN ' fields' ELSE '' END), moved, fields, "
		"links FROM (SELECT p.id, s.dir_id, s.username, s.dn, "
		"CASE WHEN p.dn_norm IS NOT s.dn_norm THEN 'moved' END AS moved, "
		/* what managers and memberships are resolved by */
		"(p.dn_norm IS NOT s.dn_norm OR p.username IS NOT s.username COLLATE BINARY "
		" OR p.manager_dn IS NOT s.manager_dn "
		" OR p.secondary_manager_dn IS NOT s.secondary_manager_dn) AS links, "
		"(CASE WHEN p.dn IS NOT s.dn THEN ' dn' ELSE '' END)");
	for (int f = 0; f < NFIELDS; f++)
		sql_add(&q, " || (CASE WHEN p.%s IS NOT s.%s COLLATE BINARY THEN ' %s' ELSE '' END)",
			field_column(f), field_column(f), field_name(f));
	sql_add(&q, " AS changed, (EXISTS (SELECT name, value FROM temp.stage_fields f "
		"WHERE f.dir_id = s.dir_id EXCEPT SELECT name, value FROM person_fields pf "
		"WHERE pf.person_id = p.id AND pf.source IS NULL) OR EXISTS (SELECT name, value "
		"FROM person_fields pf WHERE pf.person_id = p.id AND pf.source IS NULL "
		"EXCEPT SELECT name, value FROM temp.stage_fields f WHERE f.dir_id = s.dir_id)) "
		"AS fields "
		"FROM temp.stage_people s JOIN people p ON p.dir_id = s.dir_id "
		"WHERE p.src_hash <> s.hash) "
		"WHERE changed <> '' OR fields ORDER BY username");
	if (q.err < 0)
		return q.err;
	return recon_sql(rc, q.text, NULL);
}

/* Skipped people (read unchanged) whose state the plan may still change are
 * staged again from their own row, which holds what the directory says (the
 * hash is the same): missing before, disabled by the core, or invited or
 * active while the directory's flag is set. They are the people of the
 * partial index people_attention, whose condition (schema_attention) the
 * query says in the same words. */
static int
restage_skipped(struct recon *rc)
{
	struct sql q = { .text = "" };
	int r;

	rc->restaged = 0;
	if (rc->skipped == 0)
		return 0;
	sql_add(&q, "INSERT INTO temp.stage_people (dir_id, dn, dn_norm");
	for (int f = 0; f < NFIELDS; f++)
		sql_add(&q, ", %s", field_column(f));
	sql_add(&q, ", username_key, dir_disabled, hash) SELECT dir_id, dn, dn_norm");
	for (int f = 0; f < NFIELDS; f++)
		sql_add(&q, ", %s", field_column(f));
	sql_add(&q, ", username_key");
	/* SQLite: INDEXED BY (the planner would rather read the whole table in
	 * username order than sort the few people of the index) */
	sql_add(&q, ", dir_disabled, src_hash FROM people INDEXED BY people_attention "
		"WHERE (%s) AND rosterd_skipped(dir_id) ORDER BY username", schema_attention);
	if (q.err < 0)
		return q.err;
	if ((r = recon_sql(rc, q.text, NULL)) < 0)
		return r;
	rc->restaged = r;
	return 0;
}

/* Lazy, the read naming only changes: the people it named gone, and those
 * missing before that it did not name. */
static int
plan_unseen_delta(struct recon *rc, long long max)
{
	struct sql q = { .text = "" };

	if (max != rc->known_max)
		return -EAGAIN;   /* see rest_unchanged_lazy */
	/* SQLite: CROSS JOIN (the few gone first, not every person) */
	sql_add(&q, "INSERT INTO temp.unseen (person_id) "
		"SELECT p.id FROM temp.stage_gone g CROSS JOIN people p ON p.dir_id = g.dir_id "
		"WHERE NOT EXISTS (SELECT 1 FROM temp.stage_people s WHERE s.dir_id = p.dir_id) "
		"AND NOT EXISTS (SELECT 1 FROM temp.stage_seen x WHERE x.dir_id = p.dir_id) "
		"UNION SELECT p.id FROM people p INDEXED BY people_attention "
		"WHERE (%s) AND p.missing_since IS NOT NULL "
		"AND NOT EXISTS (SELECT 1 FROM temp.stage_people s WHERE s.dir_id = p.dir_id) "
		"AND NOT EXISTS (SELECT 1 FROM temp.stage_seen x WHERE x.dir_id = p.dir_id)",
		schema_attention);
	return q.err < 0 ? q.err : recon_sql(rc, q.text, NULL);
}

/* The people this run did not see at all (neither staged, skipped nor
 * rejected). */
static int
plan_unseen(struct recon *rc)
{
	long long max = recon_count(rc, "SELECT coalesce(max(id), 0) FROM people"), people;
	size_t i;

	if (max < 0)
		return -EIO;
	if (rc->lazy && rc->delta)
		return plan_unseen_delta(rc, max);
	if ((people = recon_count(rc, "SELECT count(*) FROM people")) < 0)
		return -EIO;
	/* Everyone the store had when the read began was read (skipped or
	 * staged), and nobody was added since: nobody is unseen. (Lazy, known
	 * holds only whom the read named.) */
	for (i = 0; i < rc->known.n; i++)
		if (!(rc->known.flag[i] & (KNOWN_SKIPPED | KNOWN_STAGED)))
			break;
	if (!rc->lazy && i == rc->known.n && (size_t)people == rc->known.n &&
	    max == rc->known_max)
		return 0;
	return recon_sql(rc,
		"INSERT INTO temp.unseen (person_id) SELECT p.id FROM people p "
		"WHERE NOT EXISTS (SELECT 1 FROM temp.stage_people s WHERE s.dir_id = p.dir_id) "
		"AND NOT EXISTS (SELECT 1 FROM temp.stage_seen x WHERE x.dir_id = p.dir_id) "
		"AND NOT rosterd_skipped(p.dir_id)", NULL);
}

static int
plan_status(struct recon *rc, const struct recon_opts *o)
{
	int r;

	if (o->complete && !o->plugin_disables) {
		r = recon_sql(rc,
			"INSERT INTO temp.plan (action, person_id, dir_id, username, dn, reason, code) "
			"SELECT 'disable', p.id, p.dir_id, s.username, s.dn, "
			" 'disabled in the directory', 'directory' "
			"FROM temp.stage_people s CROSS JOIN people p ON p.dir_id = s.dir_id "
			"WHERE s.dir_disabled = 1 AND p.status IN ('invited', 'active') "
			"ORDER BY s.username", NULL);
		if (r < 0)
			return r;
	}
	if (o->complete && o->on_missing == MISSING_DISABLE && !o->plugin_disables) {
		r = recon_sql(rc,
			"INSERT INTO temp.plan (action, person_id, dir_id, username, dn, reason, code) "
			"SELECT 'disable', p.id, p.dir_id, p.username, p.dn, "
			" 'not found in the directory', 'missing' "
			"FROM temp.unseen u CROSS JOIN people p ON p.id = u.person_id "
			"WHERE p.status IN ('invited', 'active') ORDER BY p.username", NULL);
		if (r < 0)
			return r;
	}
	/* Seeing a person present and not disabled is enough to give access
	 * back, even in an incomplete run. */
	return recon_sql(rc,
		"INSERT INTO temp.plan (action, person_id, dir_id, username, dn, reason, code) "
		"SELECT 'enable', p.id, p.dir_id, s.username, s.dn, "
		" CASE p.status_reason WHEN 'missing' THEN 'back in the directory' "
		" ELSE 'no longer disabled in the directory' END, p.status_reason "
		"FROM temp.stage_people s CROSS JOIN people p ON p.dir_id = s.dir_id "
		"WHERE p.status = 'disabled' AND p.status_reason IN ('missing', 'directory') "
		"AND s.dir_disabled = 0 ORDER BY s.username", NULL);
}

/* The SQL below spells the event kinds and flags as numbers. */
_Static_assert(ROSTERD_EV_CREATED == 1 && ROSTERD_EV_UPDATED == 2 &&
	       ROSTERD_EV_DIR_DISABLED == 3 && ROSTERD_EV_MISSING == 4 &&
	       ROSTERD_EV_REAPPEARED == 5 && ROSTERD_EV_MANAGER_CHANGED == 6 &&
	       ROSTERD_EV_GROUP_JOINED == 7 && ROSTERD_EV_GROUP_LEFT == 8 &&
	       ROSTERD_BACK_PRESENT == 1 && ROSTERD_BACK_FLAG_CLEARED == 2,
	       "event kinds as numbered in reconcile.c's SQL");

/* The events whose facts apply overwrites: the directory's flag newly set,
 * missing (complete runs: unseen people still invited or active, also those
 * the core disables now), and back (seen again, or the flag cleared). Only
 * when plugins are loaded (o->events). */
static int
plan_pre_events(struct recon *rc, const struct recon_opts *o)
{
	int r;

	if ((r = recon_sql(rc, "DELETE FROM temp.pre_events", NULL)) < 0)
		return r;
	if (!o->events)
		return 0;   /* no plugin to hand them to */
	if ((r = recon_sql(rc,
		"INSERT INTO temp.pre_events (kind, person_id) SELECT 3, p.id "
		"FROM temp.stage_people s JOIN people p ON p.dir_id = s.dir_id "
		"WHERE s.dir_disabled = 1 AND p.dir_disabled = 0", NULL)) < 0)
		return r;
	/* SQLite: CROSS JOIN (the unseen first, by id: the planner, without
	 * statistics of the table filled since ANALYZE, would rather walk the
	 * status index of every enabled person, 5-20 ms a batch at 100,000) */
	if (o->complete && (r = recon_sql(rc,
		"INSERT INTO temp.pre_events (kind, person_id) SELECT 4, p.id "
		"FROM temp.unseen u CROSS JOIN people p ON p.id = u.person_id "
		"WHERE p.status IN ('invited', 'active')", NULL)) < 0)
		return r;
	r = recon_sql(rc,
		"INSERT INTO temp.pre_events (kind, person_id, flags) SELECT 5, p.id, "
		"(CASE WHEN p.missing_since IS NOT NULL THEN 1 ELSE 0 END) | "
		"(CASE WHEN p.dir_disabled = 1 AND s.dir_disabled = 0 THEN 2 ELSE 0 END) "
		"FROM temp.stage_people s JOIN people p ON p.dir_id = s.dir_id "
		"WHERE p.missing_since IS NOT NULL OR (p.dir_disabled = 1 AND s.dir_disabled = 0)",
		NULL);
	return r < 0 ? r : 0;
}

/* The plan of a first load: every person taken was created as read, as
 * the store had nobody; nothing else. */
static int
plan_load(struct recon *rc, struct plan_counts *c)
{
	long long rejected = recon_count(rc, "SELECT count(*) FROM temp.stage_rejects");

	if (rejected < 0)
		return -EIO;
	*c = (struct plan_counts){ .created = load_count(rc->ld), .rejected = rejected };
	return 0;
}

int
recon_plan(struct recon *rc, const struct recon_opts *o, struct plan_counts *c)
{
	struct plan_counts n = { 0 };
	long long staged, touched;
	int r;

	if (!store_in_txn(rc->st))
		return -EINVAL;
	if (rc->ld != NULL)
		return plan_load(rc, c);
	if ((n.people_total = recon_count(rc, "SELECT count(*) FROM people")) < 0)
		return -EIO;
	if (rc->lazy && rc->delta)
		rc->skipped = n.people_total - rc->not_skipped;
	if ((r = recon_sql(rc, "DELETE FROM temp.plan", NULL)) < 0 ||
	    (r = recon_sql(rc, "DELETE FROM temp.unseen", NULL)) < 0 ||
	    (r = reject_held_usernames(rc)) < 0 ||
	    (r = restage_skipped(rc)) < 0 ||
	    (r = plan_unseen(rc)) < 0 ||
	    (r = plan_creates(rc)) < 0 ||
	    (r = plan_updates(rc)) < 0 ||
	    (r = plan_status(rc, o)) < 0 ||
	    (r = plan_pre_events(rc, o)) < 0)
		return r;

	staged = recon_count(rc, "SELECT count(*) FROM temp.stage_people");
	n.created = recon_count(rc, "SELECT count(*) FROM temp.plan WHERE action = 'create'");
	n.updated = recon_count(rc, "SELECT count(*) FROM temp.plan WHERE action = 'update'");
	n.renamed = recon_count(rc, "SELECT count(*) FROM temp.plan WHERE action = 'update' "
				"AND code = 'moved'");
	n.disabled = recon_count(rc, "SELECT count(*) FROM temp.plan WHERE action = 'disable'");
	n.dir_disabled_new = recon_count(rc, "SELECT count(*) FROM temp.plan "
					 "WHERE action = 'disable' AND code = 'directory'");
	n.enabled = recon_count(rc, "SELECT count(*) FROM temp.plan WHERE action = 'enable'");
	n.rejected = recon_count(rc, "SELECT count(*) FROM temp.stage_rejects");
	/* The base of the thresholds: a read of the changes with no disable
	 * and no plugin to add some does not need it (a walk of the status
	 * index, 5 ms at 100,000 people: persist mode's batches are many). */
	if (n.disabled > 0 || !(rc->lazy && rc->delta) || o->events)
		n.people_enabled = recon_count(rc, "SELECT count(*) FROM people "
					       "WHERE status IN ('invited', 'active')");
	if (staged < 0 || n.created < 0 || n.updated < 0 || n.renamed < 0 || n.disabled < 0 ||
	    n.dir_disabled_new < 0 || n.enabled < 0 || n.rejected < 0 ||
	    n.people_enabled < 0 || n.people_total < 0)
		return -EIO;
	/* Unchanged: staged people the plan leaves alone, and those read
	 * unchanged and not staged again. A disable for being
	 * missing is of someone not staged; every other plan row is of a staged
	 * person, and one person may have two (an update and a disable). */
	touched = recon_count(rc, "SELECT count(DISTINCT dir_id) FROM temp.plan "
			      "WHERE action <> 'disable' OR code = 'directory'");
	if (touched < 0)
		return -EIO;
	n.unchanged = staged - touched + rc->skipped - rc->restaged;
	*c = n;
	return 0;
}

int
recon_plan_digest(struct recon *rc, long long audit_mark, char out[17])
{
	struct stmt *s;
	uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a, 64 bits */
	int r;

	/* What removes access: the disables and the membership leaves, and the
	 * plugins' disables and archivals (audited after audit_mark). */
	if ((r = store_prepare(rc->st, "SELECT 'd' || person_id FROM temp.plan "
			       "WHERE action = 'disable' UNION ALL SELECT 'l' || person_id || ':' "
			       "|| group_id FROM temp.hier WHERE action = 'leave' "
			       "UNION ALL SELECT substr(action, 1, 1) || 'p' || person_id "
			       "FROM audit_log WHERE ?1 >= 0 AND id > ?1 AND actor LIKE 'plugin:%' "
			       "AND action IN ('disable', 'archive') ORDER BY 1", &s)) < 0)
		return r;
	if ((r = stmt_bind_int(s, 1, audit_mark)) == 0)
		while ((r = stmt_step(s)) == 1)
			h = hash_str(h, stmt_text(s, 0));
	stmt_done(s);
	if (r < 0)
		return r;
	snprintf(out, 17, "%016llx", (unsigned long long)h);
	return 0;
}

/* ---- applying ----------------------------------------------------------- */

static int
apply_creates(struct recon *rc, const struct recon_opts *o)
{
	struct sql q = { .text = "" };
	int r;

	sql_add(&q, "INSERT INTO people (dir_id, dn, dn_norm");
	for (int f = 0; f < NFIELDS; f++)
		sql_add(&q, ", %s", field_column(f));
	sql_add(&q, ", username_key, status, status_reason, prev_status, dir_disabled, src_hash, "
		"member_since, status_changed_at, created_at, updated_at) "
		"SELECT s.dir_id, s.dn, s.dn_norm");
	for (int f = 0; f < NFIELDS; f++)
		sql_add(&q, ", s.%s", field_column(f));
	sql_add(&q, ", s.username_key");
	sql_add(&q, ", CASE WHEN s.dir_disabled = 1 THEN 'disabled' ELSE :initial END, "
		"CASE WHEN s.dir_disabled = 1 THEN 'directory' END, :initial, s.dir_disabled, s.hash, "
		":now, :now, :now, :now FROM temp.plan pl JOIN temp.stage_people s "
		"ON s.dir_id = pl.dir_id WHERE pl.action = 'create' ORDER BY pl.seq");
	if (q.err < 0)
		return q.err;
	if ((r = recon_sql(rc, q.text, o)) < 0)
		return r;
	return recon_sql(rc,
		"INSERT INTO person_fields (person_id, name, value) "
		"SELECT p.id, f.name, f.value FROM temp.plan pl "
		"JOIN temp.stage_fields f ON f.dir_id = pl.dir_id "
		"JOIN people p ON p.dir_id = pl.dir_id WHERE pl.action = 'create'", o);
}

static int
apply_updates(struct recon *rc, const struct recon_opts *o)
{
	struct sql q = { .text = "" };
	int r;

	/* Usernames may be swapped between two people in one run: move the
	 * changing ones out of the way first, as UNIQUE is checked per row, to
	 * a name no entry has (it starts with a control character).
	 * SQLite: char() (PostgreSQL: chr()) */
	r = recon_sql(rc,
		"UPDATE people SET username = char(1) || id, username_key = char(1) || id "
		"FROM temp.plan pl "
		"WHERE pl.action = 'update' AND pl.person_id = people.id "
		"AND people.username <> pl.username COLLATE BINARY", o);
	if (r < 0)
		return r;
	sql_add(&q, "UPDATE people SET dn = s.dn, dn_norm = s.dn_norm");
	for (int f = 0; f < NFIELDS; f++)
		sql_add(&q, ", %s = s.%s", field_column(f), field_column(f));
	sql_add(&q, ", username_key = s.username_key, dir_disabled = s.dir_disabled, "
		"src_hash = s.hash, updated_at = :now "
		"FROM temp.plan pl JOIN temp.stage_people s "
		"ON s.dir_id = pl.dir_id WHERE pl.action = 'update' AND pl.person_id = people.id");
	if (q.err < 0)
		return q.err;
	if ((r = recon_sql(rc, q.text, o)) < 0)
		return r;
	/* Custom fields of the people whose fields changed: replace all those
	 * that came from the directory (source NULL; a plugin's or operator's
	 * stay, unless the directory now has a field of the same name). */
	r = recon_sql(rc,
		"DELETE FROM person_fields WHERE source IS NULL AND person_id IN (SELECT person_id "
		"FROM temp.plan WHERE action = 'update' AND fields)", o);
	if (r < 0)
		return r;
	return recon_sql(rc,
		"INSERT INTO person_fields (person_id, name, value) "
		"SELECT pl.person_id, f.name, f.value FROM temp.plan pl "
		"JOIN temp.stage_fields f ON f.dir_id = pl.dir_id "
		"WHERE pl.action = 'update' AND pl.fields "
		"ON CONFLICT (person_id, name) DO UPDATE SET value = excluded.value, source = NULL",
		o);
}

static int
apply_status(struct recon *rc, const struct recon_opts *o)
{
	struct sql q = { .text = "" };
	long long staged;
	int r;

	r = recon_sql(rc,
		"UPDATE people SET status = 'disabled', prev_status = people.status, "
		"status_reason = pl.code, status_changed_at = :now, updated_at = :now "
		"FROM temp.plan pl WHERE pl.action = 'disable' AND pl.person_id = people.id", o);
	if (r < 0)
		return r;
	r = recon_sql(rc,
		"UPDATE people SET status = coalesce(people.prev_status, :initial), "
		"status_reason = NULL, status_changed_at = :now, updated_at = :now "
		"FROM temp.plan pl WHERE pl.action = 'enable' AND pl.person_id = people.id", o);
	if (r < 0)
		return r;
	/* The directory's disabled flag, whatever the status, and the hash of
	 * what was read: only rows whose hash differs and were not updated.
	 * (With nothing staged, SQLite would read every person to find none;
	 * with nobody in the store before, everyone staged was just created.) */
	staged = rc->known.n == 0 && !rc->lazy ? 0 :
		 recon_count(rc, "SELECT EXISTS (SELECT 1 FROM temp.stage_people)");
	if (staged < 0)
		return -EIO;
	if (staged > 0 && (r = recon_sql(rc,
		"UPDATE people SET dir_disabled = s.dir_disabled, src_hash = s.hash "
		"FROM temp.stage_people s WHERE s.dir_id = people.dir_id "
		"AND people.src_hash <> s.hash", o)) < 0)
		return r;
	/* Since when a person has been missing (grace rules read it). */
	if (o->complete) {
		r = recon_sql(rc,
			"UPDATE people SET missing_since = :now, missing_run = :run "
			"WHERE missing_since IS NULL "
			"AND id IN (SELECT person_id FROM temp.unseen)", o);
		if (r < 0)
			return r;
		rc->changed += r;
	}
	/* Back: missing before and seen now. Saying people_attention's condition
	 * (schema_attention) lets the planner read only the people of that index,
	 * which holds everyone missing. */
	sql_add(&q, "UPDATE people SET missing_since = NULL, "
		"missing_run = NULL WHERE (%s) AND missing_since IS NOT NULL "
		"AND id NOT IN (SELECT person_id FROM temp.unseen)", schema_attention);
	if (q.err < 0)
		return q.err;
	r = recon_sql(rc, q.text, o);
	if (r < 0)
		return r;
	rc->changed += r;
	return 0;
}

int
recon_apply(struct recon *rc, const struct recon_opts *o)
{
	int r;

	if (!store_in_txn(rc->st))
		return -EINVAL;
	if (rc->ld != NULL) {
		/* Loaded as read, audited with it. */
		rc->changed = load_count(rc->ld);
		goto rejects;
	}
	/* Changes that can move a manager or a membership: new people and
	 * changed DNs, usernames or manager DNs (missing marks are added below). */
	rc->changed = recon_count(rc, "SELECT count(*) FROM temp.plan "
				  "WHERE action = 'create' OR links");
	if (rc->changed < 0)
		return -EIO;
	if ((r = apply_creates(rc, o)) < 0 ||
	    (r = apply_updates(rc, o)) < 0 ||
	    (r = apply_status(rc, o)) < 0)
		return r;
	r = recon_audit_sql(rc, RECON_APPLY,
		"INSERT INTO audit_log (at, run_id, actor, action, person_id, subject, detail) "
		"SELECT :now, :run, 'sync', pl.action, coalesce(pl.person_id, p.id), pl.username, "
		"pl.reason FROM temp.plan pl LEFT JOIN people p "
		"ON pl.person_id IS NULL AND p.dir_id = pl.dir_id ORDER BY pl.seq", o);
	if (r < 0)
		return r;
rejects:
	if (o->run_id == 0)   /* a dry run has no run record */
		return 0;
	r = recon_sql(rc, "INSERT INTO run_rejects (run_id, dn, reason, dir_id, held_by) "
		    "SELECT :run, dn, reason, dir_id, held_by FROM temp.stage_rejects ORDER BY seq",
		    o);
	return r < 0 ? r : 0;
}

/* ---- reading the plan --------------------------------------------------- */

int
recon_plan_foreach(struct recon *rc, recon_change_fn fn, void *arg)
{
	struct stmt *s;
	int r, fr = 0;

	if ((r = store_prepare(rc->st, "SELECT coalesce(person_id, 0), action, username, dn, "
			       "reason FROM (SELECT 0 AS part, seq, person_id, action, username, dn, "
			       "reason FROM temp.plan UNION ALL SELECT 1, seq, person_id, action, "
			       "subject, NULL, detail FROM temp.hier) AS changes ORDER BY part, seq",
			       &s)) < 0)
		return r;
	while (fr == 0 && (r = stmt_step(s)) == 1) {
		struct recon_change c = {
			.person_id = stmt_int(s, 0),
			.action = stmt_text(s, 1),
			.username = stmt_text(s, 2),
			.dn = stmt_text(s, 3),
			.reason = stmt_text(s, 4),
		};
		fr = fn(&c, arg);
	}
	stmt_done(s);
	return fr != 0 ? fr : r < 0 ? r : 0;
}

/* The run's events, materialised first (the plugins write to the tables
 * they come from) in their order: by kind, username, group name. */
#define EVENTS_OF(kinds) \
	"INSERT INTO temp.events (kind, person_id, changed, group_id, old_id, flags, via) " \
	"SELECT e.kind, e.person_id, e.changed, e.group_id, e.old_id, e.flags, e.via FROM (" kinds \
	") e JOIN people p ON p.id = e.person_id LEFT JOIN groups g ON g.id = e.group_id " \
	"ORDER BY e.kind, p.username, g.name, e.group_id"

/* A run's events from its plan and the facts it changed. */
static const char events_planned[] = EVENTS_OF(
	" SELECT 1 AS kind, p.id AS person_id, NULL AS changed,"
	"  0 AS group_id, 0 AS old_id, 0 AS flags, 0 AS via FROM temp.plan pl"
	"  JOIN people p ON p.dir_id = pl.dir_id WHERE pl.action = 'create'"
	" UNION ALL SELECT 2, pl.person_id,"
	"  ltrim(substr(pl.reason, 9)), 0, 0, 0, 0 FROM temp.plan pl WHERE pl.action = 'update'"
	" UNION ALL SELECT kind, person_id, NULL, 0, 0, flags, 0 FROM temp.pre_events"
	/* one event per person whose primary or secondary manager changed,
	 * with the primary manager they had */
	" UNION ALL SELECT 6, h.person_id, NULL, 0,"
	"  coalesce(max(CASE WHEN h.kind = 'primary' THEN coalesce(h.old_id, 0) END),"
	"  (SELECT pm.manager_id FROM person_managers pm WHERE pm.person_id = h.person_id"
	"  AND pm.kind = 'primary'), 0), 0, 0 FROM temp.hier h WHERE h.action = 'manager'"
	"  GROUP BY h.person_id"
	" UNION ALL SELECT CASE h.action WHEN 'join' THEN 7 ELSE 8 END, h.person_id, NULL,"
	"  h.group_id, 0, 0, CASE WHEN h.action = 'join' AND h.new_id <> h.group_id"
	"  THEN h.new_id ELSE 0 END"
	"  FROM temp.hier h WHERE h.action IN ('join', 'leave')");

/* A first load's: into a store of nobody, every person is new, and every
 * manager and membership they have (there was none to have before). */
static const char events_loaded[] = EVENTS_OF(
	" SELECT 1 AS kind, id AS person_id, NULL AS changed,"
	"  0 AS group_id, 0 AS old_id, 0 AS flags, 0 AS via FROM people"
	" UNION ALL SELECT 6, person_id, NULL, 0, 0, 0, 0 FROM person_managers GROUP BY person_id"
	" UNION ALL SELECT 7, person_id, NULL, group_id, 0, 0, CASE WHEN via_group_id <> group_id"
	"  THEN via_group_id ELSE 0 END FROM group_membership");

int
recon_events_foreach(struct recon *rc, recon_event_fn fn, void *arg)
{
	const char *collect = rc->ld != NULL ? events_loaded : events_planned;
	struct stmt *s;
	int r, fr = 0;

	if ((r = recon_sql(rc, "DELETE FROM temp.events", NULL)) < 0 ||
	    (r = recon_sql(rc, collect, NULL)) < 0 ||
	    (r = store_prepare(rc->st, "SELECT kind, person_id, changed, group_id, old_id, flags, "
			       "via FROM temp.events ORDER BY seq", &s)) < 0)
		return r;
	while (fr == 0 && (r = stmt_step(s)) == 1) {
		struct recon_event e = {
			.kind = (int)stmt_int(s, 0),
			.person_id = stmt_int(s, 1),
			.changed = stmt_text(s, 2),
			.group_id = stmt_int(s, 3),
			.old_manager_id = stmt_int(s, 4),
			.flags = (unsigned)stmt_int(s, 5),
			.via_id = stmt_int(s, 6),
		};
		fr = fn(&e, arg);
	}
	stmt_done(s);
	return fr != 0 ? fr : r < 0 ? r : 0;
}

int
recon_rejects_foreach(struct recon *rc, recon_reject_fn fn, void *arg)
{
	struct stmt *s;
	int r, fr = 0;

	if ((r = store_prepare(rc->st, "SELECT dn, reason FROM temp.stage_rejects ORDER BY seq",
			       &s)) < 0)
		return r;
	while (fr == 0 && (r = stmt_step(s)) == 1)
		fr = fn(stmt_text(s, 0), stmt_text(s, 1), arg);
	stmt_done(s);
	return fr != 0 ? fr : r < 0 ? r : 0;
}
