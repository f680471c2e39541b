/*
 * load.c: the first load of a store that has no people yet (load.h):
 * each person read written straight into the store, in the run's bulk
 * write transaction, with the keys of their DNs kept for the hierarchy.
 * All SQL goes through the store's statement API; nothing here logs.
 */
#include "load.h"
#include "keyset.h"
#include "recon_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct load {
	struct store *st;
	const struct recon_opts *o;
	struct stmt *ins_person, *ins_field;
	int now_param;              /* ins_person's :now */
	struct keyset dns;          /* key of dn_norm -> person id */
	struct keyset names;        /* by_username: key of the NOCASE username -> id */
	bool by_username;
	long long audit_mark;       /* the audit log's last id before the load */
	long long n;
};

/* The indexes a first load takes down, to build each in one sort once the
 * rows are in (store.h: store_bulk_begin): an insert into an index costs
 * about a microsecond a row even when its keys come in order. Those that
 * stay check each person as it comes (the people's unique indexes), or
 * take next to nothing (the status of everyone loaded is one, kept in
 * order; the people's attention holds the few disabled, where building it
 * would read every person again). */
static const char *const load_indexes[] = {
	"people_dn_norm", "person_managers_manager", "group_members_person",
	"group_members_group", "group_membership_person", "audit_log_person", "audit_log_run",
	NULL,
};

/* The statement that writes a person, as a planned create is applied
 * (reconcile.c: apply_creates); recon_bind_person() binds its first
 * parameters. */
static int
prepare_person(struct load *ld)
{
	char sql[2048], values[512];
	size_t n = (size_t)snprintf(values, sizeof(values), ", status, status_reason, "
				    "prev_status, dir_disabled, src_hash, member_since, "
				    "status_changed_at, created_at, updated_at) VALUES (?, ?, ?");
	int r;

	for (int f = 0; f <= NFIELDS && n < sizeof(values); f++)
		n += (size_t)snprintf(values + n, sizeof(values) - n, ", ?");
	if (n >= sizeof(values))
		return -ENOSPC;
	snprintf(values + n, sizeof(values) - n, ", ?, ?, ?, ?, ?, :now, :now, :now, :now)");
	if ((r = recon_person_columns(sql, sizeof(sql), "INSERT INTO people (", values)) < 0 ||
	    (r = store_prepare(ld->st, sql, &ld->ins_person)) < 0)
		return r;
	ld->now_param = stmt_param(ld->ins_person, ":now");
	return 0;
}

static int
prepare(struct load *ld)
{
	int r;

	if ((r = prepare_person(ld)) < 0 ||
	    (r = store_prepare(ld->st, "INSERT INTO person_fields (person_id, name, value) "
			       "VALUES (?1, ?2, ?3) ON CONFLICT (person_id, name) "
			       "DO UPDATE SET value = excluded.value", &ld->ins_field)) < 0)
		return r;
	return 0;
}

void
load_free(struct load *ld)
{
	if (ld == NULL)
		return;
	stmt_done(ld->ins_person);
	stmt_done(ld->ins_field);
	keyset_free(&ld->dns);
	keyset_free(&ld->names);
	free(ld);
}

/* Whether the store has anyone: 1, 0, or a negative errno. */
static int
has_people(struct store *st)
{
	long long n;
	int r = store_query_int(st, "SELECT EXISTS (SELECT 1 FROM people)", &n);

	return r < 0 ? r : n != 0;
}

int
load_begin(struct store *st, const struct recon_opts *o, bool by_username, struct load **out)
{
	struct load *ld;
	int r;

	if ((r = has_people(st)) != 0)
		return r < 0 ? r : -ENOTEMPTY;
	if ((ld = calloc(1, sizeof(*ld))) == NULL)
		return -ENOMEM;
	ld->st = st;
	ld->o = o;
	ld->by_username = by_username;
	if ((r = store_bulk_begin(st, load_indexes)) < 0) {
		free(ld);
		return r;
	}
	/* Someone may have come in before the lock was taken. */
	if ((r = has_people(st)) != 0)
		r = r < 0 ? r : -ENOTEMPTY;
	if (r == 0)
		r = store_query_int(st, "SELECT coalesce(max(id), 0) FROM audit_log",
				    &ld->audit_mark);
	if (r == 0)
		r = prepare(ld);
	if (r < 0) {
		load_free(ld);
		store_rollback(st);
		return r;
	}
	*out = ld;
	return 0;
}

/* The key of a username as NOCASE compares it: ASCII letters folded. */
static int
nocase_key(const char *s, size_t n, uint64_t *k1, uint64_t *k2)
{
	char small[256] = "", *buf = n < sizeof(small) ? small : malloc(n + 1);

	if (buf == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	keyset_key(buf, n, k1, k2);
	if (buf != small)
		free(buf);
	return 0;
}

/* Keep the keys of person id: its DN's, and its username's by_username. */
static int
keep_keys(struct load *ld, const struct person_rec *p, long long id)
{
	const char *u = p->field[F_USERNAME];
	uint64_t k1, k2;
	int r;

	keyset_key(p->dn_norm, strlen(p->dn_norm), &k1, &k2);
	if ((r = keyset_add(&ld->dns, k1, k2, id, 0)) < 0 || !ld->by_username)
		return r;
	if ((r = nocase_key(u, strlen(u), &k1, &k2)) < 0)
		return r;
	return keyset_add(&ld->names, k1, k2, id, 0);
}

/* The custom fields of person id, just written. */
static int
load_fields(struct load *ld, const struct person_rec *p, long long id)
{
	int r;

	for (size_t k = 0; k < p->ncustom; k++) {
		if (p->custom_value[k] == NULL)
			continue;
		stmt_bind_int(ld->ins_field, 1, id);
		stmt_bind_text(ld->ins_field, 2, p->custom_name[k]);
		stmt_bind_text(ld->ins_field, 3, p->custom_value[k]);
		r = stmt_step(ld->ins_field);
		stmt_reset(ld->ins_field);
		if (r < 0)
			return r;
	}
	return 0;
}

int
load_person(struct load *ld, const struct person_rec *p, const char *key, int64_t hash)
{
	const char *initial = ld->o->initial_status == INITIAL_ACTIVE ? "active" : "invited";
	struct stmt *s = ld->ins_person;
	long long id;
	int i = recon_bind_person(s, p, key), r;

	stmt_bind_text(s, i++, p->dir_disabled ? "disabled" : initial);
	stmt_bind_text(s, i++, p->dir_disabled ? "directory" : NULL);
	stmt_bind_text(s, i++, initial);
	stmt_bind_int(s, i++, p->dir_disabled);
	stmt_bind_int(s, i++, hash);
	stmt_bind_text(s, ld->now_param, ld->o->now);
	r = stmt_step(s);
	stmt_reset(s);
	if (r < 0)
		return r;
	id = store_last_id(ld->st);
	if ((r = load_fields(ld, p, id)) < 0 || (r = keep_keys(ld, p, id)) < 0)
		return r;
	ld->n++;
	return 0;
}

long long
load_count(const struct load *ld)
{
	return ld->n;
}

/* The id kept under index i of ks; -1 when the key is shared. */
static long long
id_at(const struct keyset *ks, long i)
{
	if (i < 0)
		return 0;
	return (ks->flag[i] & KEYSET_SHARED) ? -1 : ks->e[i].value;
}

long long
load_person_id(const struct load *ld, const char *dn, size_t n)
{
	return id_at(&ld->dns, keyset_find_text(&ld->dns, dn, n));
}

long long
load_username_id(const struct load *ld, const char *username, size_t n)
{
	uint64_t k1, k2;

	if (!ld->by_username || ld->names.n == 0 || nocase_key(username, n, &k1, &k2) < 0)
		return 0;
	return id_at(&ld->names, keyset_find(&ld->names, k1, k2));
}

void
load_forget_keys(struct load *ld)
{
	keyset_free(&ld->dns);
	keyset_free(&ld->names);
}

bool
load_keys_shared(const struct load *ld)
{
	for (size_t i = 0; i < ld->dns.n; i++)
		if (ld->dns.flag[i] & KEYSET_SHARED)
			return true;
	for (size_t i = 0; i < ld->names.n; i++)
		if (ld->names.flag[i] & KEYSET_SHARED)
			return true;
	return false;
}

/* The custom fields of person id, as loaded: names and values copied into
 * the caller's arrays (at most max), *n of them. */
static int
fields_of(struct load *ld, long long id, char **name, char **value, size_t max, size_t *n)
{
	struct stmt *s;
	int r;

	*n = 0;
	if ((r = store_prepare(ld->st, "SELECT name, value FROM person_fields WHERE person_id = ?1 "
			       "ORDER BY name", &s)) < 0)
		return r;
	stmt_bind_int(s, 1, id);
	while (*n < max && (r = stmt_step(s)) == 1) {
		name[*n] = strdup(stmt_text(s, 0));
		value[*n] = strdup(stmt_text(s, 1));
		if (name[*n] == NULL || value[*n] == NULL) {
			free(name[*n]);
			free(value[*n]);
			r = -ENOMEM;
			break;
		}
		(*n)++;
	}
	stmt_done(s);
	return r < 0 ? r : 0;
}

/* Hand the person of the current row of s back to fn. */
static int
undo_one(struct load *ld, struct stmt *s, load_person_fn fn, void *arg)
{
	char *name[CONF_MAX_CUSTOM], *value[CONF_MAX_CUSTOM];
	struct person_rec p = { .dir_id = stmt_text(s, 1), .dn = stmt_text(s, 2),
				.dn_norm = stmt_text(s, 3) };
	int c = 4 + NFIELDS, r;
	size_t n = 0;

	for (int f = 0; f < NFIELDS; f++)
		p.field[f] = stmt_text(s, 4 + f);
	p.dir_disabled = stmt_int(s, c + 1) != 0;
	if ((r = fields_of(ld, stmt_int(s, 0), name, value, CONF_MAX_CUSTOM, &n)) == 0) {
		p.ncustom = n;
		p.custom_name = (const char *const *)name;
		p.custom_value = (const char *const *)value;
		r = fn(&p, stmt_text(s, c), stmt_int(s, c + 2), arg);
	}
	for (size_t k = 0; k < n; k++) {
		free(name[k]);
		free(value[k]);
	}
	return r;
}

int
load_undo(struct load *ld, load_person_fn fn, void *arg)
{
	char sql[1024];
	struct stmt *s;
	int r;

	if ((r = recon_person_columns(sql, sizeof(sql), "SELECT id, ", ", dir_disabled, src_hash "
				      "FROM people ORDER BY id")) < 0 ||
	    (r = store_prepare(ld->st, sql, &s)) < 0)
		return r;
	while ((r = stmt_step(s)) == 1 && (r = undo_one(ld, s, fn, arg)) == 0)
		;
	stmt_done(s);
	if (r != 0)
		return r;
	keyset_free(&ld->dns);
	keyset_free(&ld->names);
	ld->n = 0;
	return store_exec(ld->st, "DELETE FROM person_fields; DELETE FROM people");
}
