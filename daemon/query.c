/*
 * query.c: the store's read views for rosterctl, as jansson values, so that
 * table, CSV and JSON output come from one query each. Also the operator's
 * approval of a held run. Knows SQL, no LDAP; logs nothing.
 */
#include "rosterd.h"

#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <string.h>

/* Column i of s as a JSON string, or null. */
static json_t *
col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? json_string((const char *)t) : json_null();
}

/* Set key of obj to a new reference; false when out of memory. */
static bool
put(json_t *obj, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(obj, key, v) == 0;
}

/* A row as an object: each column under its name (NULL as null). */
static json_t *
row_object(sqlite3_stmt *s)
{
	json_t *o = json_object();
	int n = sqlite3_column_count(s);

	if (o == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		json_t *v;
		switch (sqlite3_column_type(s, i)) {
		case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(s, i)); break;
		case SQLITE_FLOAT: v = json_real(sqlite3_column_double(s, i)); break;
		case SQLITE_NULL: v = json_null(); break;
		default: v = col_str(s, i); break;
		}
		if (!put(o, sqlite3_column_name(s, i), v)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* The rows of a query with one bound integer as an array of single values. */
static json_t *
column_list(sqlite3 *db, const char *sql, long long id)
{
	sqlite3_stmt *s = NULL;
	json_t *a = json_array();
	int r;

	if (a == NULL || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (json_array_append_new(a, col_str(s, 0)) < 0)
			goto fail;
	if (r != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	return a;
fail:
	sqlite3_finalize(s);
	json_decref(a);
	return NULL;
}

/* The rows of a query as an array of objects; id is bound to the query's
 * parameter, when it has one. */
static json_t *
object_list(sqlite3 *db, const char *sql, long long id)
{
	sqlite3_stmt *s = NULL;
	json_t *a = json_array();
	int r;

	if (a == NULL || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (json_array_append_new(a, row_object(s)) < 0)
			goto fail;
	if (r != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	return a;
fail:
	sqlite3_finalize(s);
	json_decref(a);
	return NULL;
}

int
query_user(struct store *st, const char *username, json_t **out)
{
	static const char sql[] =
		"SELECT p.id, p.username, p.email, p.given_name, p.family_name, p.display_name, "
		"p.status, p.status_reason, p.role, p.employee_number, p.department, p.location, "
		"p.title, p.member_since, p.dn, p.dir_id, p.created_at, p.updated_at, "
		"(SELECT m.username FROM person_managers pm JOIN people m ON m.id = pm.manager_id "
		" WHERE pm.person_id = p.id AND pm.kind = 'primary'), "
		"(SELECT m.username FROM person_managers pm JOIN people m ON m.id = pm.manager_id "
		" WHERE pm.person_id = p.id AND pm.kind = 'secondary') "
		"FROM people p WHERE p.username = ?";
	static const char *const keys[] = {
		NULL, "username", "email", "given_name", "family_name", "display_name",
		"status", "status_reason", "role", "employee_number", "department", "location",
		"title", "member_since", "dn", "directory_id", "created_at", "updated_at",
		"manager", "secondary_manager",
	};
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = NULL;
	json_t *o = NULL, *fields = NULL;
	long long id;
	int r;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r != SQLITE_ROW) {
		sqlite3_finalize(s);
		return r == SQLITE_DONE ? -ENOENT : -EIO;
	}
	id = sqlite3_column_int64(s, 0);
	o = json_object();
	if (o == NULL)
		goto oom;
	for (int i = 1; i < (int)(sizeof(keys) / sizeof(keys[0])); i++)
		if (!put(o, keys[i], col_str(s, i)))
			goto oom;
	sqlite3_finalize(s);
	s = NULL;

	if (!put(o, "groups", column_list(db,
		"SELECT g.name FROM group_membership gm JOIN groups g ON g.id = gm.group_id "
		"WHERE gm.person_id = ? ORDER BY g.name", id)) ||
	    !put(o, "courses", object_list(db,
		"SELECT c.code, a.status, a.due, a.assigned_at, a.completed_at FROM assignments a "
		"JOIN courses c ON c.id = a.course_id WHERE a.person_id = ? ORDER BY a.assigned_at, c.code",
		id)))
		goto oom;

	fields = json_object();
	if (fields == NULL || sqlite3_prepare_v2(db, "SELECT name, value FROM person_fields "
						 "WHERE person_id = ? ORDER BY name", -1, &s,
						 NULL) != SQLITE_OK)
		goto oom;
	sqlite3_bind_int64(s, 1, id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (!put(fields, (const char *)sqlite3_column_text(s, 0), col_str(s, 1)))
			goto oom;
	sqlite3_finalize(s);
	s = NULL;
	if (r != SQLITE_DONE || !put(o, "fields", fields)) {
		fields = NULL;
		goto oom;
	}
	*out = o;
	return 0;
oom:
	sqlite3_finalize(s);
	json_decref(fields);
	json_decref(o);
	return -ENOMEM;
}

int
query_each_row(sqlite3_stmt *s, query_row_fn fn, void *arg)
{
	int r;

	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *row = row_object(s);
		int fr;

		if (row == NULL) {
			sqlite3_finalize(s);
			return -ENOMEM;
		}
		fr = fn(row, arg);
		json_decref(row);
		if (fr != 0) {
			sqlite3_finalize(s);
			return fr;
		}
	}
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? 0 : -EIO;
}

int
query_user_list(struct store *st, const struct user_filter *f, query_row_fn fn, void *arg)
{
	static const char sql[] =
		"SELECT username, display_name, email, status, department, location, title, role "
		"FROM people WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR location = ?2) "
		"AND (?3 IS NULL OR department = ?3) ORDER BY username";
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, f->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, f->location, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, f->department, -1, SQLITE_STATIC);
	return query_each_row(s, fn, arg);
}

static const char runs_sql[] =
	"SELECT id, started_at, finished_at, round(duration, 3) AS duration, outcome, directory_uri, entries_read, "
	"created, updated, renamed, disabled, enabled, unchanged, rejected, error, "
	"plan_digest, approved_at, approved_by, approval_used_by "
	"FROM sync_runs ORDER BY id DESC LIMIT ?";

int
query_runs(struct store *st, int limit, query_row_fn fn, void *arg)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_db(st), runs_sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int(s, 1, limit);
	return query_each_row(s, fn, arg);
}

static int
keep_first(json_t *row, void *arg)
{
	*(json_t **)arg = json_incref(row);
	return 1;
}

int
query_status(struct store *st, json_t **out)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = NULL;
	json_t *o = json_object(), *people = json_object(), *last = NULL, *held;
	long long total = 0;
	int r;

	if (o == NULL || people == NULL)
		goto fail;
	if (!put(people, "invited", json_integer(0)) || !put(people, "active", json_integer(0)) ||
	    !put(people, "disabled", json_integer(0)) || !put(people, "archived", json_integer(0)))
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT status, count(*) FROM people GROUP BY status", -1,
			       &s, NULL) != SQLITE_OK)
		goto fail;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		total += sqlite3_column_int64(s, 1);
		if (!put(people, (const char *)sqlite3_column_text(s, 0),
			 json_integer(sqlite3_column_int64(s, 1))))
			goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (r != SQLITE_DONE || !put(people, "total", json_integer(total)) ||
	    !put(o, "people", people)) {
		people = NULL;
		goto fail;
	}
	people = NULL;

	r = query_runs(st, 1, keep_first, &last);
	if (r < 0)
		goto fail;
	if (!put(o, "last_run", last ? last : json_null()))
		goto fail;
	held = object_list(db, "SELECT id, started_at, error FROM sync_runs WHERE outcome = 'held' "
			   "AND approved_at IS NULL AND id > coalesce((SELECT max(id) FROM sync_runs "
			   "WHERE outcome IN ('ok', 'incomplete')), 0) ORDER BY id", 0);
	if (!put(o, "held_runs", held) ||
	    !put(o, "schema_version", json_integer(store_schema_version(st))))
		goto fail;
	*out = o;
	return 0;
fail:
	sqlite3_finalize(s);
	json_decref(people);
	json_decref(o);
	return -EIO;
}

int
query_run_approve(struct store *st, long long id, const char *operator_name,
		  char *err, size_t errlen)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = NULL;
	char now[21], actor[300];
	int r = -EIO;

	time_now_iso(now);
	snprintf(actor, sizeof(actor), "operator:%s", operator_name);
	if (store_begin(st) < 0) {
		snprintf(err, errlen, "cannot lock the store: %s", store_errmsg(st));
		return -EIO;
	}
	if (sqlite3_prepare_v2(db, "SELECT outcome, approved_at IS NOT NULL, "
			       "approval_used_by IS NOT NULL FROM sync_runs WHERE id = ?", -1,
			       &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	r = sqlite3_step(s);
	if (r == SQLITE_DONE) {
		snprintf(err, errlen, "there is no run %lld", id);
		r = -ENOENT;
		goto fail;
	}
	if (r != SQLITE_ROW) {
		r = -EIO;
		goto fail;
	}
	if (strcmp((const char *)sqlite3_column_text(s, 0), "held") != 0) {
		snprintf(err, errlen, "run %lld was not held (outcome: %s)", id,
			 (const char *)sqlite3_column_text(s, 0));
		r = -EINVAL;
		goto fail;
	}
	if (sqlite3_column_int(s, 2)) {
		snprintf(err, errlen, "run %lld was approved and a later run used the approval", id);
		r = -EINVAL;
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	r = -EIO;
	if (sqlite3_prepare_v2(db, "UPDATE sync_runs SET approved_at = ?2, approved_by = ?3 "
			       "WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, operator_name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO audit_log (at, actor, action, subject, detail) "
			       "VALUES (?1, ?2, 'approve-run', 'run ' || ?3, "
			       "'the next run with the same plan may go through')", -1, &s,
			       NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = NULL;
	if (store_commit(st) < 0)
		goto fail;
	return 0;
fail:
	if (r == -EIO)
		snprintf(err, errlen, "%s", store_errmsg(st));
	sqlite3_finalize(s);
	store_rollback(st);
	return r;
}
