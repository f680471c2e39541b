/*
 * view.c: the read-only views of people and groups (view.h) that the plugin
 * host and rosterctl share, read through the store's statement API. Each
 * view is copied out of its row into one allocation, so that it outlives the
 * statement. Knows SQL, no LDAP; logs nothing.
 */
#include "util.h"
#include "view.h"
#include "fold.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Copy the text columns first, first + 1, ... of s's row into a new zeroed
 * block of size bytes followed by the strings, the string of column
 * first + i at the member at offset offs[i] (NULL for SQL NULL): 0 with *out
 * the block, or -ENOMEM. */
static int
copy_row(struct stmt *s, int first, const size_t *offs, size_t n, size_t size, void **out)
{
	size_t len = size;
	char *block, *p;

	for (size_t i = 0; i < n; i++)
		if (stmt_text(s, first + (int)i) != NULL)
			len += stmt_bytes(s, first + (int)i) + 1;
	if ((block = calloc(1, len)) == NULL)
		return -ENOMEM;
	p = block + size;
	for (size_t i = 0; i < n; i++) {
		const char *t = stmt_text(s, first + (int)i);
		const char **m = (const char **)(void *)(block + offs[i]);
		size_t b;

		*m = NULL;
		if (t == NULL)
			continue;
		b = stmt_bytes(s, first + (int)i);
		memcpy(p, t, b);
		p[b] = '\0';
		*m = p;
		p += b + 1;
	}
	*out = block;
	return 0;
}

/* The first row of s as a new string in *out: 0, -ENOENT (no row or NULL),
 * -ENOMEM or the store's error. Gives s back. */
static int
first_text(struct stmt *s, char **out)
{
	const char *t;
	int r = stmt_step(s);

	if (r == 1) {
		t = stmt_text(s, 0);
		if (t == NULL)
			r = -ENOENT;
		else if ((*out = strdup(t)) == NULL)
			r = -ENOMEM;
		else
			r = 0;
	} else if (r == 0) {
		r = -ENOENT;
	}
	stmt_done(s);
	return r;
}

/* ---- people ------------------------------------------------------------------ */

/* The columns of a person: four numbers, then the strings in the order of
 * person_strs. ?2 is the run's now, ?3 its id, ?4 whether it is complete,
 * ?5 whether it is a batch of persist mode. Missing runs count the run that
 * first missed the person and those since that read the whole directory or
 * all its changes since a cookie, not the batches of persist mode, seconds
 * apart, that come after it, the run in progress included. */
#define PERSON_SELECT \
	"SELECT p.id, p.dir_disabled, " \
	"CASE WHEN p.missing_since IS NULL THEN -1 " \
	" ELSE CAST(julianday(?2) - julianday(p.missing_since) AS INTEGER) END, " \
	"CASE WHEN p.missing_since IS NULL THEN 0 " \
	" ELSE (SELECT count(*) FROM sync_runs r WHERE r.outcome = 'ok' " \
	"  AND r.id >= p.missing_run AND r.id <> ?3 " \
	"  AND (r.kind <> 'incremental' OR r.id = p.missing_run)) " \
	" + CASE WHEN ?4 <> 0 AND (?5 = 0 OR p.missing_run = ?3) THEN 1 ELSE 0 END END, " \
	"p.username, p.email, p.given_name, p.family_name, p.display_name, " \
	"p.employee_number, p.department, p.location, p.title, p.role, p.status, " \
	"p.status_reason, p.status_changed_at, " \
	"(SELECT m.username FROM person_managers pm JOIN people m ON m.id = pm.manager_id " \
	" WHERE pm.person_id = p.id AND pm.kind = 'primary'), " \
	"(SELECT m.username FROM person_managers pm JOIN people m ON m.id = pm.manager_id " \
	" WHERE pm.person_id = p.id AND pm.kind = 'secondary'), " \
	"p.dn, p.dir_id, p.missing_since, p.member_since, p.created_at, p.updated_at " \
	"FROM people p "

#define PERSON_NUMBERS 4

static const size_t person_strs[] = {
	offsetof(struct view_person, username), offsetof(struct view_person, email),
	offsetof(struct view_person, given_name), offsetof(struct view_person, family_name),
	offsetof(struct view_person, display_name),
	offsetof(struct view_person, employee_number),
	offsetof(struct view_person, department), offsetof(struct view_person, location),
	offsetof(struct view_person, title), offsetof(struct view_person, role),
	offsetof(struct view_person, status), offsetof(struct view_person, status_reason),
	offsetof(struct view_person, status_since), offsetof(struct view_person, manager),
	offsetof(struct view_person, secondary_manager), offsetof(struct view_person, dn),
	offsetof(struct view_person, dir_id), offsetof(struct view_person, missing_since),
	offsetof(struct view_person, member_since), offsetof(struct view_person, created_at),
	offsetof(struct view_person, updated_at),
};

/* The person sql (PERSON_SELECT and a condition on ?1) finds, with ?1 bound
 * to username, or to id when username is NULL. */
static int
person_get(struct store *st, const char *sql, long long id, const char *username,
	   const struct view_run *run, struct view_person **out)
{
	struct view_person *p;
	struct stmt *s;
	char now[21];
	void *block;
	int r;

	if (run == NULL)
		time_now_iso(now);
	if ((r = store_prepare(st, sql, &s)) < 0)
		return r;
	if (username != NULL)
		stmt_bind_text(s, 1, username);
	else
		stmt_bind_int(s, 1, id);
	stmt_bind_text(s, 2, run ? run->now : now);
	stmt_bind_int(s, 3, run ? run->run_id : 0);
	stmt_bind_int(s, 4, run && run->complete);
	stmt_bind_int(s, 5, run && run->batch);
	r = stmt_step(s);
	if (r == 1 && (r = copy_row(s, PERSON_NUMBERS, person_strs,
				    sizeof(person_strs) / sizeof(person_strs[0]), sizeof(*p),
				    &block)) == 0) {
		p = block;
		p->id = stmt_int(s, 0);
		p->dir_disabled = stmt_int(s, 1) != 0;
		p->missing_days = (int)stmt_int(s, 2);
		p->missing_runs = (int)stmt_int(s, 3);
		*out = p;
	} else if (r == 0) {
		r = -ENOENT;
	}
	stmt_done(s);
	return r;
}

int
view_person(struct store *st, long long id, const struct view_run *run,
	    struct view_person **out)
{
	/* SQLite: julianday() */
	return person_get(st, PERSON_SELECT "WHERE p.id = ?1", id, NULL, run, out);
}

/* A row with username key ?1, or with no key (written by something other
 * than rosterd, or a second row of one username stored before there were
 * keys: schema/006_username_key.sql) and the username ?1 (ASCII case
 * ignored, as the column's NOCASE does). */
#define KEY_MATCH(p) "(" p "username_key = ?1 OR (" p "username_key IS NULL AND " \
	p "username = ?1))"

/* The comparison key of the username an operator or a plugin gave, in *out
 * for the caller to free: -ENOENT when no username has it (blank, not
 * UTF-8). */
static int
name_key(const char *username, char **out)
{
	char *key = NULL;
	int r = username_key(username, strlen(username), &key);

	if (r == 0 && key[0] != '\0') {
		*out = key;
		return 0;
	}
	free(key);
	return r == -ENOMEM ? r : -ENOENT;
}

int
view_person_named(struct store *st, const char *username, const struct view_run *run,
		  struct view_person **out)
{
	char *key;
	int r = name_key(username, &key);

	if (r < 0)
		return r;
	/* SQLite: julianday() */
	r = person_get(st, PERSON_SELECT "WHERE " KEY_MATCH("p."), 0, key, run, out);
	free(key);
	return r;
}

void
view_person_free(struct view_person *p)
{
	free(p);
}

int
view_person_id(struct store *st, const char *username, long long *id)
{
	struct stmt *s;
	char *key;
	int r = name_key(username, &key);

	if (r < 0)
		return r;
	if ((r = store_prepare(st, "SELECT id FROM people WHERE " KEY_MATCH(""), &s)) < 0) {
		free(key);
		return r;
	}
	stmt_bind_text(s, 1, key);
	r = stmt_step(s);
	if (r == 1) {
		*id = stmt_int(s, 0);
		r = 0;
	} else if (r == 0) {
		r = -ENOENT;
	}
	stmt_done(s);
	free(key);
	return r;
}

int
view_username(struct store *st, long long id, char **out)
{
	struct stmt *s;
	int r = store_prepare(st, "SELECT username FROM people WHERE id = ?1", &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, id);
	return first_text(s, out);
}

int
view_person_field(struct store *st, long long id, const char *name, char **out)
{
	struct stmt *s;
	int r = store_prepare(st, "SELECT value FROM person_fields "
			      "WHERE person_id = ?1 AND name = ?2", &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, id);
	stmt_bind_text(s, 2, name);
	return first_text(s, out);
}

int
view_person_fields(struct store *st, long long id, view_field_fn fn, void *arg)
{
	struct stmt *s;
	int r = store_prepare(st, "SELECT name, value FROM person_fields WHERE person_id = ?1 "
			      "ORDER BY name", &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, id);
	while ((r = stmt_step(s)) == 1)
		if ((r = fn(stmt_text(s, 0), stmt_text(s, 1), arg)) != 0)
			break;
	stmt_done(s);
	return r;
}

int
view_person_groups(struct store *st, long long id, bool deleted, view_name_fn fn, void *arg)
{
	struct stmt *s;
	/* SQLite: COLLATE NOCASE */
	int r = store_prepare(st, "SELECT g.name FROM group_membership gm "
			      "JOIN groups g ON g.id = gm.group_id WHERE gm.person_id = ?1 "
			      "AND (g.present = 1 OR ?2 <> 0) ORDER BY g.name COLLATE NOCASE, g.dn_norm", &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, id);
	stmt_bind_int(s, 2, deleted);
	while ((r = stmt_step(s)) == 1)
		if ((r = fn(stmt_text(s, 0), arg)) != 0)
			break;
	stmt_done(s);
	return r;
}

/* ---- groups ------------------------------------------------------------------ */

static const size_t group_strs[] = {
	offsetof(struct view_group, name), offsetof(struct view_group, dn),
	offsetof(struct view_group, dir_id), offsetof(struct view_group, created_at),
	offsetof(struct view_group, updated_at), offsetof(struct view_group, description),
	offsetof(struct view_group, via),
};

int
view_group(struct store *st, long long id, long long person, struct view_group **out)
{
	/* two numbers, then the strings in the order of group_strs */
	static const char sql[] =
		"SELECT g.id, g.present, g.name, g.dn, g.dir_id, g.created_at, g.updated_at, "
		"g.description, (SELECT v.name FROM group_membership gm "
		" JOIN groups v ON v.id = gm.via_group_id WHERE gm.group_id = g.id "
		" AND gm.person_id = ?2 AND gm.via_group_id <> gm.group_id) "
		"FROM groups g WHERE g.id = ?1";
	struct view_group *g;
	struct stmt *s;
	void *block;
	int r = store_prepare(st, sql, &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, id);
	stmt_bind_int(s, 2, person);
	r = stmt_step(s);
	if (r == 1 && (r = copy_row(s, 2, group_strs, sizeof(group_strs) / sizeof(group_strs[0]),
				    sizeof(*g), &block)) == 0) {
		g = block;
		g->id = stmt_int(s, 0);
		g->present = stmt_int(s, 1) != 0;
		*out = g;
	} else if (r == 0) {
		r = -ENOENT;
	}
	stmt_done(s);
	return r;
}

void
view_group_free(struct view_group *g)
{
	free(g);
}
