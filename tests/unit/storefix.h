/*
 * storefix.h: a real store file for the tests of actions and plugins, and
 * small SQL helpers to set it up and look into it through the store's
 * statement API, as rosterd does. People, groups and runs are written with
 * plain SQL, as the sync leaves them.
 */
#ifndef ROSTERD_STOREFIX_H
#define ROSTERD_STOREFIX_H

#include "unit.h"

/* Run SQL built from fmt; fail the test when it fails. */
static inline void sqlf(struct store *st, const char *fmt, ...) PRINTF_LIKE(2, 3);
static inline void
sqlf(struct store *st, const char *fmt, ...)
{
	char *sql = NULL;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&sql, fmt, ap) > 0);
	va_end(ap);
	if (store_exec(st, sql) < 0)
		fail_msg("%s\n  -> %s", sql, store_errmsg(st));
	free(sql);
}

/* The integer the query returns (-1 when no row). */
static inline long long sql_int(struct store *st, const char *fmt, ...) PRINTF_LIKE(2, 3);
static inline long long
sql_int(struct store *st, const char *fmt, ...)
{
	struct stmt *s = NULL;
	char *sql = NULL;
	long long v = -1;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&sql, fmt, ap) > 0);
	va_end(ap);
	if (store_prepare(st, sql, &s) < 0)
		fail_msg("%s\n  -> %s", sql, store_errmsg(st));
	if (stmt_step(s) == 1)
		v = stmt_int(s, 0);
	stmt_done(s);
	free(sql);
	return v;
}

/* The rows of a query as text: columns joined by '|', rows by '\n'
 * (at most 4 KiB; "" when none). Valid until the next call. */
static inline const char *sql_rows(struct store *st, const char *fmt, ...) PRINTF_LIKE(2, 3);
static inline const char *
sql_rows(struct store *st, const char *fmt, ...)
{
	static char out[4096];
	struct stmt *s = NULL;
	char *sql = NULL;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&sql, fmt, ap) > 0);
	va_end(ap);
	out[0] = '\0';
	if (store_prepare(st, sql, &s) < 0)
		fail_msg("%s\n  -> %s", sql, store_errmsg(st));
	while (stmt_step(s) == 1) {
		if (out[0] != '\0')
			str_appendf(out, sizeof(out), "\n");
		for (int i = 0; i < stmt_columns(s); i++) {
			const char *t = stmt_text(s, i);
			str_appendf(out, sizeof(out), "%s%s", i ? "|" : "", t ? t : "");
		}
	}
	stmt_done(s);
	free(sql);
	return out;
}

/* Fail unless the query's rows are want. */
#define assert_rows(st, want, ...) do { \
	const char *got_ = sql_rows((st), __VA_ARGS__); \
	if (strcmp(got_, (want)) != 0) \
		fail_msg("%s\n  got  [%s]\n  want [%s]", #__VA_ARGS__, got_, (want)); \
} while (0)

/* Every course's licences_in_use (kept by triggers) is the count of its
 * licences not released. */
#define assert_licences_counted(st) \
	assert_int_equal(sql_int((st), "SELECT count(*) FROM courses c WHERE licences_in_use <> " \
				 "(SELECT count(*) FROM licences l WHERE l.course_id = c.id " \
				 "AND l.released_at IS NULL)"), 0)

/* A fresh store file in dir. */
static inline struct store *
store_fresh(const char *dir)
{
	struct store *st = NULL;
	char path[600], err[512];

	snprintf(path, sizeof(path), "%s/learning.db", dir);
	if (store_open(path, 1000, 0, &st, err, sizeof(err)) < 0)
		fail_msg("store_open: %s", err);
	return st;
}

/* Add a person as the sync would; returns the id. */
static inline long long
person_add(struct store *st, const char *username, const char *status)
{
	sqlf(st, "INSERT INTO people (dir_id, dn, dn_norm, username, email, given_name, "
	     "family_name, display_name, status, prev_status, member_since, status_changed_at, "
	     "created_at, updated_at) VALUES ('id-%s', 'uid=%s,ou=people,dc=example,dc=com', "
	     "'uid=%s,ou=people,dc=example,dc=com', '%s', '%s@example.com', 'Given', '%s', "
	     "'Given %s', '%s', CASE WHEN '%s' IN ('invited', 'active') THEN '%s' ELSE 'active' END, "
	     "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', "
	     "'2026-01-01T00:00:00Z')", username, username, username, username, username,
	     username, username, status, status, status);
	return sql_int(st, "SELECT id FROM people WHERE username = '%s'", username);
}

/* A course; limit -1 for none. */
static inline void
course_add(struct store *st, const char *code, long long limit)
{
	if (limit < 0)
		sqlf(st, "INSERT INTO courses (code, title, created_at) VALUES ('%s', 'Course %s', "
		     "'2026-01-01T00:00:00Z')", code, code);
	else
		sqlf(st, "INSERT INTO courses (code, title, licence_limit, created_at) VALUES ('%s', "
		     "'Course %s', %lld, '2026-01-01T00:00:00Z')", code, code, limit);
}

/* A group with members (usernames, NULL-ended), effective membership
 * written directly as the group sync would flatten it. */
static inline void
group_add(struct store *st, const char *name, const char *const *members)
{
	sqlf(st, "INSERT INTO groups (dir_id, dn, dn_norm, name, created_at, updated_at) "
	     "VALUES ('g-%s', 'cn=%s,ou=groups,dc=example,dc=com', "
	     "'cn=%s,ou=groups,dc=example,dc=com', '%s', '2026-01-01T00:00:00Z', "
	     "'2026-01-01T00:00:00Z')", name, name, name, name);
	for (; members && *members; members++)
		sqlf(st, "INSERT INTO group_membership (group_id, person_id, via_group_id, since) "
		     "SELECT g.id, p.id, g.id, '2026-01-01T00:00:00Z' FROM groups g, people p "
		     "WHERE g.name = '%s' AND p.username = '%s'", name, *members);
}

#endif
