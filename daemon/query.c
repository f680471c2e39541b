/*
 * query.c: the store's read views for rosterctl, as jansson values, so that
 * table, CSV and JSON output come from one query each. Also the operator's
 * approval of a held run. Knows SQL, no LDAP; logs nothing.
 */
#include "util.h"
#include "dn.h"
#include "query.h"

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
		"WHERE gm.person_id = ? AND g.present ORDER BY g.name COLLATE NOCASE, g.dn_norm",
		id)) ||
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

/* The columns of a person (table alias p) in the rows of every listing. */
#define PERSON_COLS \
	"p.username, p.display_name, p.email, p.status, p.department, p.location, " \
	"p.title, p.role"

/*
 * The people below person :root along primary manager edges: "below" has
 * their id, the id of their manager, their depth (the root itself is depth 0)
 * and a path: the lower-cased usernames from the root down to them, each
 * followed by char(1), so that ordering by path gives tree order with
 * siblings by username. Only the direct reports unless :all is true. A person
 * whose username is already on the path is not followed: the walk stops on a
 * manager cycle and never comes back to the root.
 */
#define BELOW_CTE \
	"WITH RECURSIVE below (id, manager_id, depth, path) AS (" \
	" SELECT id, NULL, 0, char(1) || lower(username) || char(1) FROM people" \
	" WHERE id = :root" \
	" UNION ALL" \
	" SELECT p.id, b.id, b.depth + 1, b.path || lower(p.username) || char(1)" \
	" FROM below b JOIN person_managers pm ON pm.manager_id = b.id AND pm.kind = 'primary'" \
	" JOIN people p ON p.id = pm.person_id" \
	" WHERE (:all OR b.depth = 0)" \
	" AND instr(b.path, char(1) || lower(p.username) || char(1)) = 0) "

static void
bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
	sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, name), v, -1, SQLITE_STATIC);
}

static void
bind_int(sqlite3_stmt *s, const char *name, long long v)
{
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, name), v);
}

/* Turn the integer under key (SQLite's 0 or 1) into a JSON boolean. */
static bool
as_bool(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return v == NULL || json_object_set_new(obj, key, json_boolean(json_integer_value(v))) == 0;
}

/* A query_row_fn that hands rows on to fn with key made a boolean. */
struct bool_rows {
	const char *key;
	query_row_fn fn;
	void *arg;
};

static int
bool_row(json_t *row, void *arg)
{
	const struct bool_rows *b = arg;

	if (!as_bool(row, b->key))
		return -ENOMEM;
	return b->fn(row, b->arg);
}

int
query_user_list(struct store *st, const struct user_filter *f, query_row_fn fn, void *arg)
{
	static const char sql[] = BELOW_CTE
		"SELECT " PERSON_COLS " FROM people p "
		"WHERE (:status IS NULL OR p.status = :status) "
		"AND (:location IS NULL OR p.location = :location) "
		"AND (:department IS NULL OR p.department = :department) "
		"AND (:role IS NULL OR p.role = :role) "
		"AND (:root = 0 OR p.id IN (SELECT id FROM below WHERE depth > 0)) "
		"AND (:group = 0 OR p.id IN (SELECT person_id FROM group_membership "
		"WHERE group_id = :group)) ORDER BY p.username";
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(s, ":status", f->status);
	bind_text(s, ":location", f->location);
	bind_text(s, ":department", f->department);
	bind_text(s, ":role", f->role);
	bind_int(s, ":root", f->manager_id);
	bind_int(s, ":all", f->below);
	bind_int(s, ":group", f->group_id);
	return query_each_row(s, fn, arg);
}

int
query_person_id(struct store *st, const char *username, long long *id)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (sqlite3_prepare_v2(store_db(st), "SELECT id FROM people WHERE username = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
}

int
query_reports(struct store *st, long long id, bool all, query_row_fn fn, void *arg)
{
	static const char sql[] = BELOW_CTE
		"SELECT " PERSON_COLS ", m.username AS manager, b.depth FROM below b "
		"JOIN people p ON p.id = b.id JOIN people m ON m.id = b.manager_id "
		"WHERE b.depth > 0 ORDER BY b.path";
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	bind_int(s, ":root", id);
	bind_int(s, ":all", all);
	return query_each_row(s, fn, arg);
}

int
query_chain(struct store *st, long long id, query_row_fn fn, void *arg)
{
	/* path: the ids met so far, ","-separated; a person already on it ends
	 * the walk (the row is still given, as the cycle's mark) */
	static const char sql[] =
		"WITH RECURSIVE up (id, level, path) AS ("
		" SELECT manager_id, 1, ',' || person_id || ',' FROM person_managers"
		" WHERE person_id = :id AND kind = 'primary'"
		" UNION ALL"
		" SELECT pm.manager_id, u.level + 1, u.path || u.id || ','"
		" FROM up u JOIN person_managers pm ON pm.person_id = u.id AND pm.kind = 'primary'"
		" WHERE instr(u.path, ',' || u.id || ',') = 0) "
		"SELECT u.level, " PERSON_COLS ", instr(u.path, ',' || u.id || ',') > 0 AS cycle "
		"FROM up u JOIN people p ON p.id = u.id ORDER BY u.level";
	struct bool_rows b = { .key = "cycle", .fn = fn, .arg = arg };
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	bind_int(s, ":id", id);
	return query_each_row(s, bool_row, &b);
}

/* Append one line naming a group to err; a truncated text ends in "...". */
static void
err_group_line(char *err, size_t errlen, sqlite3_stmt *s)
{
	if (str_appendf(err, errlen, "\n  %s (directory id %s%s)", sqlite3_column_text(s, 1),
			sqlite3_column_text(s, 2), sqlite3_column_int(s, 3) ? "" : ", deleted") < 0 &&
	    errlen > 4)
		memcpy(err + errlen - 4, "...", 4);
}

int
query_group_find(struct store *st, const char *name, bool deleted, long long *id,
		 char *err, size_t errlen)
{
	/* a DN matches before a name, a name before a directory id */
	static const char sql[] =
		"SELECT id, dn, dir_id, present, CASE WHEN dn_norm = :dn THEN 0 "
		"WHEN name = :name COLLATE NOCASE THEN 1 ELSE 2 END AS how FROM groups "
		"WHERE (dn_norm = :dn OR name = :name COLLATE NOCASE OR dir_id = :name) "
		"AND (present OR :deleted) ORDER BY how, present DESC, dn_norm";
	sqlite3_stmt *s = NULL;
	char *norm = NULL;
	long long found = 0;
	int n = 0, best = -1, r;

	if (dn_normalize(name, strlen(name), &norm) == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		free(norm);
		return -EIO;
	}
	bind_text(s, ":dn", norm);
	bind_text(s, ":name", name);
	bind_int(s, ":deleted", deleted);
	snprintf(err, errlen, "\"%s\" names several groups; give the DN or directory id of one:",
		 name);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (best >= 0 && sqlite3_column_int(s, 4) != best)
			break;     /* only the best way of matching counts */
		best = sqlite3_column_int(s, 4);
		if (n++ == 0)
			found = sqlite3_column_int64(s, 0);
		err_group_line(err, errlen, s);
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		n = -1;
	} else if (n == 0) {
		snprintf(err, errlen, "no group \"%s\" in the store", name);
		/* say so when a deleted group answers to the name */
		sqlite3_reset(s);
		bind_int(s, ":deleted", 1);
		if (!deleted && sqlite3_step(s) == SQLITE_ROW)
			(void)str_appendf(err, errlen, " (only a group deleted from the directory)");
	}
	sqlite3_finalize(s);
	free(norm);
	if (n == 1) {
		err[0] = '\0';
		*id = found;
	}
	return n == 1 ? 0 : n == 0 ? -ENOENT : n > 1 ? -EEXIST : -EIO;
}

/* A group's member counts (table alias g): people in it directly, people in
 * it through nesting too, groups in it directly. */
#define GROUP_COUNTS \
	"(SELECT count(*) FROM group_members m WHERE m.group_id = g.id " \
	"AND m.person_id IS NOT NULL) AS members, " \
	"(SELECT count(*) FROM group_membership e WHERE e.group_id = g.id) AS effective_members, " \
	"(SELECT count(*) FROM group_members m WHERE m.group_id = g.id " \
	"AND m.member_group_id IS NOT NULL) AS nested_groups"

int
query_group_list(struct store *st, bool deleted, query_row_fn fn, void *arg)
{
	static const char sql[] =
		"SELECT g.name, g.dn, g.description, " GROUP_COUNTS ", g.present FROM groups g "
		"WHERE g.present OR ?1 ORDER BY g.name COLLATE NOCASE, g.dn_norm";
	struct bool_rows b = { .key = "present", .fn = fn, .arg = arg };
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int(s, 1, deleted);
	return query_each_row(s, bool_row, &b);
}

/* The groups linked to group id by a query as an array of objects with
 * "present" a boolean. */
static json_t *
group_links(sqlite3 *db, const char *sql, long long id)
{
	json_t *a = object_list(db, sql, id), *o;
	size_t i;

	json_array_foreach(a, i, o) {
		if (!as_bool(o, "present")) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int
query_group(struct store *st, long long id, json_t **out)
{
	static const char sql[] =
		"SELECT g.name, g.dn, g.description, g.present, g.dir_id AS directory_id, "
		"g.created_at, g.updated_at, " GROUP_COUNTS " FROM groups g WHERE g.id = ?";
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = NULL;
	json_t *o;
	int r;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	r = sqlite3_step(s);
	o = r == SQLITE_ROW ? row_object(s) : NULL;
	sqlite3_finalize(s);
	if (r != SQLITE_ROW)
		return r == SQLITE_DONE ? -ENOENT : -EIO;
	if (o == NULL || !as_bool(o, "present") ||
	    !put(o, "parents", group_links(db,
		"SELECT g.name, g.dn, g.present FROM group_members m JOIN groups g "
		"ON g.id = m.group_id WHERE m.member_group_id = ? "
		"ORDER BY g.name COLLATE NOCASE, g.dn_norm", id)) ||
	    !put(o, "children", group_links(db,
		"SELECT g.name, g.dn, g.present FROM group_members m JOIN groups g "
		"ON g.id = m.member_group_id WHERE m.group_id = ? "
		"ORDER BY g.name COLLATE NOCASE, g.dn_norm", id))) {
		json_decref(o);
		return -ENOMEM;
	}
	*out = o;
	return 0;
}

int
query_group_members(struct store *st, long long id, bool effective, query_row_fn fn,
		    void *arg)
{
	static const char direct[] =
		"SELECT " PERSON_COLS " FROM group_members m JOIN people p ON p.id = m.person_id "
		"WHERE m.group_id = ? ORDER BY p.username";
	static const char all[] =
		"SELECT " PERSON_COLS ", v.name AS via, v.dn AS via_dn, e.since "
		"FROM group_membership e JOIN people p ON p.id = e.person_id "
		"JOIN groups v ON v.id = e.via_group_id WHERE e.group_id = ? ORDER BY p.username";
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_db(st), effective ? all : direct, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	return query_each_row(s, fn, arg);
}

static const char runs_sql[] =
	"SELECT id, started_at, finished_at, round(duration, 3) AS duration, outcome, directory_uri, entries_read, "
	"created, updated, renamed, disabled, enabled, unchanged, rejected, error, "
	"plan_digest, approved_at, approved_by, approval_used_by, "
	"manager_changes, manager_warnings, manager_cycles, groups_read, groups_complete, "
	"groups_created, groups_updated, groups_deleted, members_ignored, "
	"memberships_joined, memberships_left, role_changes, "
	"plugin_disabled, plugin_enabled, plugin_archived, plugin_assigned, plugin_unassigned "
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
	json_t *o = json_object(), *people = json_object(), *last = NULL, *held, *tot;
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
	if (!put(o, "held_runs", held))
		goto fail;
	/* Counters over every run recorded (the metrics file's *_total); changes
	 * only of the runs that applied them. A run that failed with no
	 * directory URI got no bound connection. */
	tot = object_list(db, "SELECT count(*) FILTER (WHERE outcome = 'ok') AS runs_ok, "
			  "count(*) FILTER (WHERE outcome = 'incomplete') AS runs_incomplete, "
			  "count(*) FILTER (WHERE outcome = 'held') AS runs_held, "
			  "count(*) FILTER (WHERE outcome = 'failed') AS runs_failed, "
			  "count(*) FILTER (WHERE outcome = 'running') AS runs_running, "
			  "coalesce(sum(created) FILTER (WHERE applied), 0) AS created, "
			  "coalesce(sum(updated) FILTER (WHERE applied), 0) AS updated, "
			  "coalesce(sum(disabled) FILTER (WHERE applied), 0) AS disabled, "
			  "coalesce(sum(enabled) FILTER (WHERE applied), 0) AS enabled, "
			  "coalesce(sum(rejected) FILTER (WHERE applied), 0) AS rejected, "
			  "count(*) FILTER (WHERE outcome = 'incomplete' OR (outcome = 'failed' "
			  "AND directory_uri IS NULL)) AS directory_errors "
			  "FROM (SELECT *, outcome IN ('ok', 'incomplete') AS applied FROM sync_runs)", 0);
	if (tot == NULL || !put(o, "totals", json_incref(json_array_get(tot, 0)))) {
		json_decref(tot);
		goto fail;
	}
	json_decref(tot);
	if (!put(o, "schema_version", json_integer(store_schema_version(st))))
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
