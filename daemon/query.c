/*
 * query.c: the store's read views for rosterctl, as jansson values, so that
 * table, CSV and JSON output come from one query each. People and groups
 * shown one at a time are the views of view.h that the plugin host reads
 * too. Also the operator's approval of a held run. Knows SQL (through the
 * store's statement API), no LDAP; logs nothing.
 */
#include "util.h"
#include "fold.h"
#include "dn.h"
#include "view.h"
#include "query.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string as a JSON string, or null. The platform may have written a
 * value that is not UTF-8, which JSON cannot hold: it comes escaped
 * (util.h's text_escape), so that one bad value neither stops the output
 * nor drops the rows after it. */
static json_t *
str_or_null(const char *t)
{
	json_t *v;
	char *esc;

	if (t == NULL)
		return json_null();
	if ((v = json_string(t)) != NULL || utf8_valid(t, strlen(t)))
		return v;
	if (text_escape(t, strlen(t), &esc) < 0)
		return NULL;
	v = json_string(esc);
	free(esc);
	return v;
}

/* Set key of obj to a new reference; false when out of memory. */
static bool
put(json_t *obj, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(obj, key, v) == 0;
}

/* Column i of the current row of s as a JSON value (NULL: no memory). */
static json_t *
cell_value(struct stmt *s, int i)
{
	switch (stmt_type(s, i)) {
	case STORE_INT: return json_integer(stmt_int(s, i));
	case STORE_FLOAT: return json_real(stmt_double(s, i));
	case STORE_NULL: return json_null();
	default: return str_or_null(stmt_text(s, i));
	}
}

/* A row as an object: each column under its name (NULL as null). */
static json_t *
row_object(struct stmt *s)
{
	json_t *o = json_object();
	int n = stmt_columns(s);

	if (o == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		if (!put(o, stmt_column_name(s, i), cell_value(s, i))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* The rows of a query as an array of objects, with *id bound to its
 * parameter (id NULL: it has none). NULL on failure. */
static json_t *
object_list(struct store *st, const char *sql, const long long *id)
{
	struct stmt *s = NULL;
	json_t *a = json_array();
	int r;

	if (a == NULL || store_prepare(st, sql, &s) < 0)
		goto fail;
	if (id != NULL)
		stmt_bind_int(s, 1, *id);
	while ((r = stmt_step(s)) == 1)
		if (json_array_append_new(a, row_object(s)) < 0)
			goto fail;
	if (r < 0)
		goto fail;
	stmt_done(s);
	return a;
fail:
	stmt_done(s);
	json_decref(a);
	return NULL;
}

/* The keys of rosterctl user show, in order, and the members of the person
 * view they show. */
static const struct {
	const char *key;
	size_t member;
} user_keys[] = {
	{ "username", offsetof(struct view_person, username) },
	{ "email", offsetof(struct view_person, email) },
	{ "given_name", offsetof(struct view_person, given_name) },
	{ "family_name", offsetof(struct view_person, family_name) },
	{ "display_name", offsetof(struct view_person, display_name) },
	{ "status", offsetof(struct view_person, status) },
	{ "status_reason", offsetof(struct view_person, status_reason) },
	{ "role", offsetof(struct view_person, role) },
	{ "employee_number", offsetof(struct view_person, employee_number) },
	{ "department", offsetof(struct view_person, department) },
	{ "location", offsetof(struct view_person, location) },
	{ "title", offsetof(struct view_person, title) },
	{ "member_since", offsetof(struct view_person, member_since) },
	{ "dn", offsetof(struct view_person, dn) },
	{ "directory_id", offsetof(struct view_person, dir_id) },
	{ "created_at", offsetof(struct view_person, created_at) },
	{ "updated_at", offsetof(struct view_person, updated_at) },
	{ "manager", offsetof(struct view_person, manager) },
	{ "secondary_manager", offsetof(struct view_person, secondary_manager) },
};

/* view_person_groups: append the name to the array arg. */
static int
append_name(const char *name, void *arg)
{
	return json_array_append_new(arg, str_or_null(name)) < 0 ? -ENOMEM : 0;
}

/* view_person_fields: set name to value in the object arg. */
static int
put_field(const char *name, const char *value, void *arg)
{
	return put(arg, name, str_or_null(value)) ? 0 : -ENOMEM;
}

/* The person view p as the object of user show, with their groups, courses,
 * custom fields, role source and activity. */
static int
user_object(struct store *st, const struct view_person *p, json_t **out)
{
	static const char courses[] =
		"SELECT c.code, a.status, a.due, a.expires, a.assigned_at, a.completed_at, "
		"a.ended_at FROM assignments a "
		"JOIN courses c ON c.id = a.course_id WHERE a.person_id = ?1 "
		"ORDER BY a.assigned_at, c.code";
	json_t *o = json_object(), *groups = json_array(), *fields = json_object();
	int r = -ENOMEM;

	if (o == NULL || groups == NULL || fields == NULL)
		goto fail;
	for (size_t i = 0; i < sizeof(user_keys) / sizeof(user_keys[0]); i++) {
		const char *v = *(const char *const *)(const void *)((const char *)p +
								     user_keys[i].member);
		if (!put(o, user_keys[i].key, str_or_null(v)))
			goto fail;
	}
	if ((r = view_person_groups(st, p->id, false, append_name, groups)) < 0 ||
	    (r = view_person_fields(st, p->id, put_field, fields)) < 0)
		goto fail;
	r = -ENOMEM;
	if (!put(o, "groups", groups)) {
		groups = NULL;
		goto fail;
	}
	groups = NULL;
	if (!put(o, "courses", object_list(st, courses, &p->id)))
		goto fail;
	if (!put(o, "fields", fields)) {
		fields = NULL;
		goto fail;
	}
	fields = NULL;
	if ((r = query_user_activity(st, p->id, o)) < 0)
		goto fail;
	*out = o;
	return 0;
fail:
	json_decref(fields);
	json_decref(groups);
	json_decref(o);
	return r;
}

int
query_user(struct store *st, const char *username, json_t **out)
{
	struct view_person *p;
	int r = view_person_named(st, username, NULL, &p);

	if (r < 0)
		return r;
	r = user_object(st, p, out);
	view_person_free(p);
	return r;
}

/* Build an object of the current row of s into *out: 0 or negative. */
typedef int (*row_build_fn)(struct stmt *s, void *build_arg, json_t **out);

/* Each row of s, built by build, to fn, until fn's first non-zero return
 * or an error; then s is given back. */
static int
rows_each(struct stmt *s, row_build_fn build, void *build_arg, query_row_fn fn, void *arg)
{
	json_t *row = NULL;
	int r;

	while ((r = stmt_step(s)) == 1) {
		if ((r = build(s, build_arg, &row)) < 0)
			break;
		r = fn(row, arg);
		json_decref(row);
		if (r != 0)
			break;
	}
	stmt_done(s);
	return r;
}

static int
build_row_object(struct stmt *s, void *unused, json_t **out)
{
	(void)unused;
	return (*out = row_object(s)) != NULL ? 0 : -ENOMEM;
}

int
query_each_row(struct stmt *s, query_row_fn fn, void *arg)
{
	return rows_each(s, build_row_object, NULL, fn, arg);
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
 * SQLite: instr(), char()
 */
#define BELOW_CTE \
	"WITH RECURSIVE below (id, manager_id, depth, path) AS (" \
	" SELECT id, CAST(NULL AS BIGINT), 0, char(1) || lower(username) || char(1) FROM people" \
	" WHERE id = :root" \
	" UNION ALL" \
	" SELECT p.id, b.id, b.depth + 1, b.path || lower(p.username) || char(1)" \
	" FROM below b JOIN person_managers pm ON pm.manager_id = b.id AND pm.kind = 'primary'" \
	" JOIN people p ON p.id = pm.person_id" \
	" WHERE (:all <> 0 OR b.depth = 0)" \
	" AND instr(b.path, char(1) || lower(p.username) || char(1)) = 0) "

static void
bind_text(struct stmt *s, const char *name, const char *v)
{
	stmt_bind_text(s, stmt_param(s, name), v);
}

static void
bind_int(struct stmt *s, const char *name, long long v)
{
	stmt_bind_int(s, stmt_param(s, name), v);
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

/* The columns of a user listing and the SQL of each, on people p; groups
 * (NULL) are read person by person. */
static const struct {
	const char *name, *sql;
} user_columns[] = {
	{ "username", "p.username" }, { "email", "p.email" },
	{ "given_name", "p.given_name" }, { "family_name", "p.family_name" },
	{ "display_name", "p.display_name" }, { "status", "p.status" },
	{ "status_reason", "p.status_reason" }, { "role", "p.role" },
	{ "employee_number", "p.employee_number" }, { "department", "p.department" },
	{ "location", "p.location" }, { "title", "p.title" },
	{ "member_since", "p.member_since" }, { "dn", "p.dn" },
	{ "directory_id", "p.dir_id" }, { "created_at", "p.created_at" },
	{ "updated_at", "p.updated_at" },
	{ "manager", "(SELECT m.username FROM person_managers pm JOIN people m "
	  "ON m.id = pm.manager_id WHERE pm.person_id = p.id AND pm.kind = 'primary')" },
	{ "secondary_manager", "(SELECT m.username FROM person_managers pm JOIN people m "
	  "ON m.id = pm.manager_id WHERE pm.person_id = p.id AND pm.kind = 'secondary')" },
	{ "groups", NULL },
	{ "role_source", "p.role_source" },
};
#define N_USER_COLUMNS (sizeof(user_columns) / sizeof(user_columns[0]))
#define FIELD_PREFIX "field:"

/* The index of column name in user_columns, N_USER_COLUMNS for a custom
 * field, -1 for none. */
static int
user_column(const char *name)
{
	for (size_t i = 0; i < N_USER_COLUMNS; i++)
		if (strcmp(user_columns[i].name, name) == 0)
			return (int)i;
	if (strncmp(name, FIELD_PREFIX, strlen(FIELD_PREFIX)) == 0 &&
	    name[strlen(FIELD_PREFIX)] != '\0')
		return (int)N_USER_COLUMNS;
	return -1;
}

bool
query_user_column_known(const char *name)
{
	return user_column(name) >= 0;
}

void
query_columns_free(char **cols, size_t n)
{
	for (size_t i = 0; cols != NULL && i < n; i++)
		free(cols[i]);
	free(cols);
}

int
query_user_columns_default(struct store *st, char ***cols, size_t *n)
{
	static const char sql[] = "SELECT DISTINCT name FROM person_fields ORDER BY name";
	/* the profile fields before dn, and the managers */
	const size_t first = 13, managers = 17;
	struct stmt *s = NULL;
	char **a = NULL, **g;
	size_t k = 0, cap = first + 2 + 8;
	int r = -ENOMEM;

	if ((a = calloc(cap, sizeof(*a))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < first + 2; i++)
		if ((a[k++] = strdup(user_columns[i < first ? i : managers + i - first].name)) == NULL)
			goto fail;
	if ((r = store_prepare(st, sql, &s)) < 0)
		goto fail;
	while ((r = stmt_step(s)) == 1) {
		if (k == cap) {
			if ((g = realloc(a, 2 * cap * sizeof(*a))) == NULL) {
				r = -ENOMEM;
				goto fail;
			}
			a = g;
			cap *= 2;
		}
		if (asprintf(&a[k], FIELD_PREFIX "%s", stmt_text(s, 0)) < 0) {
			r = -ENOMEM;
			goto fail;
		}
		k++;
	}
	if (r < 0)
		goto fail;
	stmt_done(s);
	*cols = a;
	*n = k;
	return 0;
fail:
	stmt_done(s);
	query_columns_free(a, k);
	return r;
}
/* The SQL of a user listing with the filters of f and the columns cols,
 * as a new string (NULL: out of memory). Column i is column i + 1 of the
 * result; column 0 is the person's id. Custom fields are bound as :cI
 * (columns) and :fnI, :fvI (filters). */
static char *
user_list_sql(const struct user_filter *f, const char *const *cols, size_t ncols)
{
	static const char search[] =
		"AND (rosterd_search(p.username) OR rosterd_search(p.given_name) "
		"OR rosterd_search(p.family_name) OR rosterd_search(p.display_name) "
		"OR rosterd_search(p.email)) ";
	char *sql = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&sql, &len);

	if (m == NULL)
		return NULL;
	fputs(BELOW_CTE "SELECT p.id", m);
	for (size_t i = 0; i < ncols; i++) {
		int c = user_column(cols[i]);
		if (c == (int)N_USER_COLUMNS)
			fprintf(m, ", (SELECT f.value FROM person_fields f WHERE f.person_id = p.id "
				"AND f.name = :c%zu)", i);
		else
			fprintf(m, ", %s", user_columns[c].sql ? user_columns[c].sql : "NULL");
	}
	fputs(" FROM people p "
	      "WHERE (:status IS NULL OR p.status = :status) "
	      "AND (:location IS NULL OR p.location = :location) "
	      "AND (:department IS NULL OR p.department = :department) "
	      "AND (:role IS NULL OR p.role = :role) "
	      "AND (:root = 0 OR p.id IN (SELECT id FROM below WHERE depth > 0)) "
	      "AND (:group = 0 OR p.id IN (SELECT person_id FROM group_membership "
	      "WHERE group_id = :group)) ", m);
	if (f->search != NULL)
		fputs(search, m);
	for (size_t i = 0; i < f->nfields; i++)
		fprintf(m, "AND p.id IN (SELECT person_id FROM person_fields WHERE name = :fn%zu "
			"AND value = :fv%zu) ", i, i);
	fputs("ORDER BY p.username", m);
	if (fclose(m) != 0) {
		free(sql);
		return NULL;
	}
	return sql;
}

static void
bind_user_list(struct stmt *s, const struct user_filter *f, const char *const *cols,
	       size_t ncols)
{
	char name[32];

	bind_text(s, ":status", f->status);
	bind_text(s, ":location", f->location);
	bind_text(s, ":department", f->department);
	bind_text(s, ":role", f->role);
	bind_int(s, ":root", f->manager_id);
	bind_int(s, ":all", f->below);
	bind_int(s, ":group", f->group_id);
	for (size_t i = 0; i < ncols; i++) {
		snprintf(name, sizeof(name), ":c%zu", i);
		if (user_column(cols[i]) == (int)N_USER_COLUMNS)
			bind_text(s, name, cols[i] + strlen(FIELD_PREFIX));
	}
	for (size_t i = 0; i < f->nfields; i++) {
		snprintf(name, sizeof(name), ":fn%zu", i);
		bind_text(s, name, f->fields[2 * i]);
		snprintf(name, sizeof(name), ":fv%zu", i);
		bind_text(s, name, f->fields[2 * i + 1]);
	}
}

/* The current row of a user listing as an object with the keys cols. */
static int
user_row(struct store *st, struct stmt *s, const char *const *cols, size_t ncols,
	 json_t **out)
{
	json_t *o = json_object(), *v;
	int r = -ENOMEM;

	if (o == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ncols; i++) {
		if (strcmp(cols[i], "groups") == 0) {
			if ((v = json_array()) == NULL)
				goto fail;
			r = view_person_groups(st, stmt_int(s, 0), false, append_name, v);
			if (r < 0) {
				json_decref(v);
				goto fail;
			}
			r = -ENOMEM;
		} else {
			v = cell_value(s, (int)i + 1);
		}
		if (!put(o, cols[i], v))
			goto fail;
	}
	*out = o;
	return 0;
fail:
	json_decref(o);
	return r;
}

/* store_define_predicate: whether text holds the folded needle arg, asked
 * of the texts of search_domain (user_list_sql's search). */
static const char search_domain[] =
	"SELECT username FROM people UNION SELECT given_name FROM people "
	"UNION SELECT family_name FROM people UNION SELECT display_name FROM people "
	"UNION SELECT email FROM people";

static bool
search_match(void *arg, const char *text, size_t len)
{
	return text_fold_contains(text, len, arg);
}

/* What user_row() needs beside the statement. */
struct user_cols {
	struct store *st;
	const char *const *cols;
	size_t ncols;
};

static int
build_user_row(struct stmt *s, void *arg, json_t **out)
{
	const struct user_cols *u = arg;

	return user_row(u->st, s, u->cols, u->ncols, out);
}

/* The rows of s, a user listing, to fn; then s is given back. */
static int
user_rows_each(struct store *st, struct stmt *s, const char *const *cols, size_t ncols,
	       query_row_fn fn, void *arg)
{
	struct user_cols u = { .st = st, .cols = cols, .ncols = ncols };

	return rows_each(s, build_user_row, &u, fn, arg);
}

int
query_user_rows(struct store *st, const struct user_filter *f, const char *const *cols,
		size_t ncols, query_row_fn fn, void *arg)
{
	struct stmt *s = NULL;
	char *sql = NULL, *needle = NULL;
	int r;

	for (size_t i = 0; i < ncols; i++)
		if (user_column(cols[i]) < 0)
			return -EINVAL;
	if (f->search != NULL &&
	    ((r = text_fold(f->search, strlen(f->search), &needle)) < 0 ||
	     (r = store_define_predicate(st, "rosterd_search", search_match, needle,
					 search_domain, STORE_DOMAIN_ALL)) < 0))
		goto out;
	if ((sql = user_list_sql(f, cols, ncols)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = store_prepare(st, sql, &s)) < 0)
		goto out;
	bind_user_list(s, f, cols, ncols);
	r = user_rows_each(st, s, cols, ncols, fn, arg);
out:
	if (needle != NULL)
		store_define_predicate(st, "rosterd_search", NULL, NULL, NULL, STORE_DOMAIN_ALL);
	free(needle);
	free(sql);
	return r;
}

int
query_user_list(struct store *st, const struct user_filter *f, query_row_fn fn, void *arg)
{
	static const char *const cols[] = {
		"username", "display_name", "email", "status", "department", "location", "title",
		"role",
	};

	return query_user_rows(st, f, cols, sizeof(cols) / sizeof(cols[0]), fn, arg);
}

int
query_names(struct store *st, const char *kind, const char *prefix, query_row_fn fn,
	    void *arg)
{
	/* LIKE ignores the case of ASCII letters in SQLite, as ILIKE does in
	 * PostgreSQL. SQLite: LIKE without regard to case, COLLATE NOCASE */
	static const char users[] =
		"SELECT username AS name FROM people WHERE username LIKE ?1 ESCAPE '\\' "
		"ORDER BY username";
	static const char courses[] =
		"SELECT code AS name FROM courses WHERE code LIKE ?1 ESCAPE '\\' ORDER BY code";
	static const char groups[] =
		"SELECT name FROM groups WHERE present = 1 AND name LIKE ?1 ESCAPE '\\' "
		"GROUP BY name ORDER BY name COLLATE NOCASE, name";
	const char *sql = strcmp(kind, "users") == 0 ? users :
			  strcmp(kind, "courses") == 0 ? courses :
			  strcmp(kind, "groups") == 0 ? groups : NULL;
	struct stmt *s = NULL;
	char *pat, *w;
	int r;

	if (sql == NULL)
		return -EINVAL;
	if ((pat = malloc(2 * strlen(prefix) + 2)) == NULL)
		return -ENOMEM;
	for (w = pat; *prefix; prefix++) {
		if (*prefix == '%' || *prefix == '_' || *prefix == '\\')
			*w++ = '\\';
		*w++ = *prefix;
	}
	strcpy(w, "%");
	if ((r = store_prepare(st, sql, &s)) < 0 || (r = stmt_bind_text_copy(s, 1, pat)) < 0) {
		stmt_done(s);
		free(pat);
		return r;
	}
	free(pat);
	return query_each_row(s, fn, arg);
}

int
query_person_id(struct store *st, const char *username, long long *id)
{
	return view_person_id(st, username, id);
}

int
query_reports(struct store *st, long long id, bool all, query_row_fn fn, void *arg)
{
	static const char sql[] = BELOW_CTE
		"SELECT " PERSON_COLS ", m.username AS manager, b.depth FROM below b "
		"JOIN people p ON p.id = b.id JOIN people m ON m.id = b.manager_id "
		"WHERE b.depth > 0 ORDER BY b.path";
	struct stmt *s;
	int r = store_prepare(st, sql, &s);

	if (r < 0)
		return r;
	bind_int(s, ":root", id);
	bind_int(s, ":all", all);
	return query_each_row(s, fn, arg);
}

int
query_chain(struct store *st, long long id, query_row_fn fn, void *arg)
{
	/* path: the ids met so far, ","-separated; a person already on it ends
	 * the walk (the row is still given, as the cycle's mark).
	 * SQLite: instr() */
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
	struct stmt *s;
	int r = store_prepare(st, sql, &s);

	if (r < 0)
		return r;
	bind_int(s, ":id", id);
	return query_each_row(s, bool_row, &b);
}

/* Append one line naming a group to err; a truncated text ends in "...". */
static void
err_group_line(char *err, size_t errlen, struct stmt *s)
{
	if (str_appendf(err, errlen, "\n  %s (directory id %s%s)", stmt_text(s, 1),
			stmt_text(s, 2), stmt_int(s, 3) ? "" : ", deleted") < 0 && errlen > 4)
		memcpy(err + errlen - 4, "...", 4);
}

static void
bind_group_find(struct stmt *s, const char *norm, const char *name, bool deleted)
{
	bind_text(s, ":dn", norm);
	bind_text(s, ":name", name);
	bind_int(s, ":deleted", deleted);
}

int
query_group_find(struct store *st, const char *name, bool deleted, long long *id,
		 char *err, size_t errlen)
{
	/* a DN matches before a name, a name before a directory id.
	 * SQLite: COLLATE NOCASE */
	static const char sql[] =
		"SELECT id, dn, dir_id, present, CASE WHEN dn_norm = :dn THEN 0 "
		"WHEN name = :name COLLATE NOCASE THEN 1 ELSE 2 END AS how FROM groups "
		"WHERE (dn_norm = :dn OR name = :name COLLATE NOCASE OR dir_id = :name) "
		"AND (present = 1 OR :deleted <> 0) ORDER BY how, present DESC, dn_norm";
	struct stmt *s = NULL;
	char *norm = NULL;
	long long found = 0;
	int n = 0, best = -1, r;

	if (dn_normalize(name, strlen(name), &norm) == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((r = store_prepare(st, sql, &s)) < 0) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		free(norm);
		return r;
	}
	bind_group_find(s, norm, name, deleted);
	snprintf(err, errlen, "\"%s\" names several groups; give the DN or directory id of one:",
		 name);
	while ((r = stmt_step(s)) == 1) {
		if (best >= 0 && stmt_int(s, 4) != best)
			break;     /* only the best way of matching counts */
		best = (int)stmt_int(s, 4);
		if (n++ == 0)
			found = stmt_int(s, 0);
		err_group_line(err, errlen, s);
	}
	if (r < 0) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		n = -1;
	} else if (n == 0) {
		snprintf(err, errlen, "no group \"%s\" in the store", name);
		/* say so when a deleted group answers to the name */
		stmt_reset(s);
		bind_group_find(s, norm, name, true);
		if (!deleted && stmt_step(s) == 1)
			(void)str_appendf(err, errlen, " (only a group deleted from the directory)");
	}
	stmt_done(s);
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
	/* SQLite: COLLATE NOCASE */
	static const char sql[] =
		"SELECT g.name, g.dn, g.description, " GROUP_COUNTS ", g.present FROM groups g "
		"WHERE g.present = 1 OR ?1 <> 0 ORDER BY g.name COLLATE NOCASE, g.dn_norm";
	struct bool_rows b = { .key = "present", .fn = fn, .arg = arg };
	struct stmt *s;
	int r = store_prepare(st, sql, &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, deleted);
	return query_each_row(s, bool_row, &b);
}

/* The groups linked to group id by a query as an array of objects with
 * "present" a boolean. */
static json_t *
group_links(struct store *st, const char *sql, long long id)
{
	json_t *a = object_list(st, sql, &id), *o;
	size_t i;

	json_array_foreach(a, i, o) {
		if (!as_bool(o, "present")) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The group view g as the object of group show. */
static json_t *
group_object(const struct view_group *g)
{
	json_t *o = json_object();

	if (o == NULL || !put(o, "name", str_or_null(g->name)) ||
	    !put(o, "dn", str_or_null(g->dn)) ||
	    !put(o, "description", str_or_null(g->description)) ||
	    !put(o, "present", json_boolean(g->present)) ||
	    !put(o, "directory_id", str_or_null(g->dir_id)) ||
	    !put(o, "created_at", str_or_null(g->created_at)) ||
	    !put(o, "updated_at", str_or_null(g->updated_at))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
query_group(struct store *st, long long id, json_t **out)
{
	/* SQLite: COLLATE NOCASE */
	static const char parents[] =
		"SELECT g.name, g.dn, g.present FROM group_members m JOIN groups g "
		"ON g.id = m.group_id WHERE m.member_group_id = ?1 "
		"ORDER BY g.name COLLATE NOCASE, g.dn_norm";
	static const char children[] =
		"SELECT g.name, g.dn, g.present FROM group_members m JOIN groups g "
		"ON g.id = m.member_group_id WHERE m.group_id = ?1 "
		"ORDER BY g.name COLLATE NOCASE, g.dn_norm";
	struct view_group *g;
	json_t *o, *counts;
	int r = view_group(st, id, 0, &g);

	if (r < 0)
		return r;
	o = group_object(g);
	view_group_free(g);
	counts = object_list(st, "SELECT " GROUP_COUNTS " FROM groups g WHERE g.id = ?1", &id);
	if (o == NULL || counts == NULL ||
	    json_object_update(o, json_array_get(counts, 0)) < 0 ||
	    !put(o, "parents", group_links(st, parents, id)) ||
	    !put(o, "children", group_links(st, children, id))) {
		json_decref(counts);
		json_decref(o);
		return -ENOMEM;
	}
	json_decref(counts);
	*out = o;
	return 0;
}

int
query_group_members(struct store *st, long long id, bool effective, query_row_fn fn,
		    void *arg)
{
	static const char direct[] =
		"SELECT " PERSON_COLS " FROM group_members m JOIN people p ON p.id = m.person_id "
		"WHERE m.group_id = ?1 ORDER BY p.username";
	static const char all[] =
		"SELECT " PERSON_COLS ", v.name AS via, v.dn AS via_dn, e.since "
		"FROM group_membership e JOIN people p ON p.id = e.person_id "
		"JOIN groups v ON v.id = e.via_group_id WHERE e.group_id = ?1 ORDER BY p.username";
	struct stmt *s;
	int r = store_prepare(st, effective ? all : direct, &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, id);
	return query_each_row(s, fn, arg);
}

/* The runs of kind ?2 (NULL: all), each in a stretch of its own unless ?3
 * and it is an incremental run that changed nothing (quiet): successive ones
 * are one stretch. Every column but the sums is an aggregate that gives a
 * single run's value, and a stretch of quiet runs has the same counts
 * (none) and outcome in every row. SQL both stores take (round() of a
 * double is one of the PostgreSQL schema's functions). */
static const char runs_sql[] =
	"WITH r AS (SELECT *, CASE WHEN ?3 <> 0 AND kind = 'incremental' AND outcome = 'ok' AND "
	" created + updated + renamed + disabled + enabled + rejected + manager_changes + "
	" groups_created + groups_updated + groups_deleted + memberships_joined + "
	" memberships_left + role_changes + plugin_disabled + plugin_enabled + "
	" plugin_archived + plugin_assigned + plugin_unassigned = 0 THEN 1 ELSE 0 END AS quiet "
	" FROM sync_runs WHERE ?2 IS NULL OR kind = ?2), "
	"s AS (SELECT *, CASE WHEN quiet = 1 THEN sum(1 - quiet) OVER (ORDER BY id) "
	" ELSE -id END AS stretch FROM r) "
	"SELECT max(id) AS id, min(started_at) AS started_at, max(finished_at) AS finished_at, "
	"round(sum(duration), 3) AS duration, max(outcome) AS outcome, "
	"max(directory_uri) AS directory_uri, sum(entries_read) AS entries_read, "
	"max(created) AS created, max(updated) AS updated, max(renamed) AS renamed, "
	"max(disabled) AS disabled, max(enabled) AS enabled, max(unchanged) AS unchanged, "
	"max(rejected) AS rejected, max(error) AS error, max(plan_digest) AS plan_digest, "
	"max(approved_at) AS approved_at, max(approved_by) AS approved_by, "
	"max(approval_used_by) AS approval_used_by, max(manager_changes) AS manager_changes, "
	"max(manager_warnings) AS manager_warnings, max(manager_cycles) AS manager_cycles, "
	"max(groups_read) AS groups_read, max(groups_complete) AS groups_complete, "
	"max(groups_created) AS groups_created, max(groups_updated) AS groups_updated, "
	"max(groups_deleted) AS groups_deleted, max(members_ignored) AS members_ignored, "
	"max(memberships_joined) AS memberships_joined, "
	"max(memberships_left) AS memberships_left, max(role_changes) AS role_changes, "
	"max(plugin_disabled) AS plugin_disabled, max(plugin_enabled) AS plugin_enabled, "
	"max(plugin_archived) AS plugin_archived, max(plugin_assigned) AS plugin_assigned, "
	"max(plugin_unassigned) AS plugin_unassigned, max(kind) AS kind, count(*) AS runs "
	"FROM s GROUP BY stretch ORDER BY max(id) DESC LIMIT ?1";

int
query_runs_of(struct store *st, int limit, const char *kind, bool collapse, query_row_fn fn,
	      void *arg)
{
	struct stmt *s;
	int r = store_prepare(st, runs_sql, &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, limit);
	stmt_bind_text(s, 2, kind);
	stmt_bind_int(s, 3, collapse);
	return query_each_row(s, fn, arg);
}

int
query_runs(struct store *st, int limit, query_row_fn fn, void *arg)
{
	return query_runs_of(st, limit, NULL, false, fn, arg);
}

static int
keep_first(json_t *row, void *arg)
{
	*(json_t **)arg = json_incref(row);
	return 1;
}

/* The number of people in each status, and their total. */
static json_t *
people_counts(struct store *st)
{
	static const char *const statuses[] = { "invited", "active", "disabled", "archived" };
	json_t *people = json_object();
	struct stmt *s = NULL;
	long long total = 0;
	int r;

	if (people == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (!put(people, statuses[i], json_integer(0)))
			goto fail;
	if (store_prepare(st, "SELECT status, count(*) FROM people GROUP BY status", &s) < 0)
		goto fail;
	while ((r = stmt_step(s)) == 1) {
		total += stmt_int(s, 1);
		if (!put(people, stmt_text(s, 0), json_integer(stmt_int(s, 1))))
			goto fail;
	}
	if (r < 0 || !put(people, "total", json_integer(total)))
		goto fail;
	stmt_done(s);
	return people;
fail:
	stmt_done(s);
	json_decref(people);
	return NULL;
}

int
query_status(struct store *st, json_t **out)
{
	static const char held_sql[] =
		"SELECT id, started_at, error FROM sync_runs WHERE outcome = 'held' "
		"AND approved_at IS NULL AND id > coalesce((SELECT max(id) FROM sync_runs "
		"WHERE outcome IN ('ok', 'incomplete')), 0) ORDER BY id";
	/* Counters over every run recorded (the metrics file's *_total); changes
	 * only of the runs that applied them. A run that failed with no
	 * directory URI got no bound connection. */
	static const char totals_sql[] =
		"SELECT count(*) FILTER (WHERE outcome = 'ok') AS runs_ok, "
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
		"FROM (SELECT *, outcome IN ('ok', 'incomplete') AS applied FROM sync_runs) r";
	json_t *o = json_object(), *last = NULL, *tot = NULL;

	if (o == NULL || !put(o, "people", people_counts(st)) ||
	    query_runs(st, 1, keep_first, &last) < 0 ||
	    !put(o, "last_run", last ? last : json_null()) ||
	    !put(o, "held_runs", object_list(st, held_sql, NULL)) ||
	    (tot = object_list(st, totals_sql, NULL)) == NULL ||
	    !put(o, "totals", json_incref(json_array_get(tot, 0))) ||
	    !put(o, "schema_version", json_integer(store_schema_version(st)))) {
		json_decref(tot);
		json_decref(o);
		return -EIO;
	}
	json_decref(tot);
	*out = o;
	return 0;
}

/* Record the operator's approval of run id: the run's row and the audit. */
static int
approve(struct store *st, long long id, const char *operator_name)
{
	char now[21], actor[300];
	struct stmt *s;
	int r;

	time_now_iso(now);
	snprintf(actor, sizeof(actor), "operator:%s", operator_name);
	if ((r = store_prepare(st, "UPDATE sync_runs SET approved_at = ?2, approved_by = ?3 "
			       "WHERE id = ?1", &s)) < 0)
		return r;
	stmt_bind_int(s, 1, id);
	stmt_bind_text(s, 2, now);
	stmt_bind_text(s, 3, operator_name);
	r = stmt_run(s) < 0 ? -EIO : 0;
	stmt_done(s);
	if (r < 0 || (r = store_prepare(st, "INSERT INTO audit_log (at, actor, action, subject, "
					"detail) VALUES (?1, ?2, 'approve-run', 'run ' || ?3, "
					"'the next run with the same plan may go through')",
					&s)) < 0)
		return r;
	stmt_bind_text(s, 1, now);
	stmt_bind_text(s, 2, actor);
	stmt_bind_int(s, 3, id);
	r = stmt_run(s) < 0 ? -EIO : 0;
	stmt_done(s);
	return r;
}

int
query_run_approve(struct store *st, long long id, const char *operator_name,
		  char *err, size_t errlen)
{
	struct stmt *s = NULL;
	int r;

	if (store_begin(st) < 0) {
		snprintf(err, errlen, "cannot lock the store: %s", store_errmsg(st));
		return -EIO;
	}
	r = -EIO;
	if (store_prepare(st, "SELECT outcome, approved_at IS NOT NULL, "
			  "approval_used_by IS NOT NULL FROM sync_runs WHERE id = ?1", &s) < 0)
		goto fail;
	stmt_bind_int(s, 1, id);
	r = stmt_step(s);
	if (r == 0) {
		snprintf(err, errlen, "there is no run %lld", id);
		r = -ENOENT;
	} else if (r < 0) {
		r = -EIO;
	} else if (strcmp(stmt_text(s, 0), "held") != 0) {
		snprintf(err, errlen, "run %lld was not held (outcome: %s)", id, stmt_text(s, 0));
		r = -EINVAL;
	} else if (stmt_int(s, 2)) {
		snprintf(err, errlen, "run %lld was approved and a later run used the approval", id);
		r = -EINVAL;
	} else {
		r = 0;
	}
	stmt_done(s);
	s = NULL;
	if (r < 0)
		goto fail;
	r = -EIO;
	if (approve(st, id, operator_name) < 0 || store_commit(st) < 0)
		goto fail;
	return 0;
fail:
	if (r == -EIO)
		snprintf(err, errlen, "%s", store_errmsg(st));
	stmt_done(s);
	store_rollback(st);
	return r;
}
