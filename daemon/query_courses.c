/*
 * query_courses.c: the read views of courses, assignments and the outbox for
 * rosterctl, as jansson rows (see query.c), through the store's statement
 * API. Knows SQL, no LDAP; logs nothing.
 */
#include "query.h"

#include <errno.h>
#include <jansson.h>

/* A course with its pool, for course list and course show. */
#define COURSE_SELECT \
	"SELECT c.code, c.title, c.licence_limit, " \
	"(SELECT count(*) FROM licences l WHERE l.course_id = c.id AND l.released_at IS NULL) " \
	" AS in_use, " \
	"(SELECT count(*) FROM assignments a WHERE a.course_id = c.id AND a.status = 'pending') " \
	" AS pending, " \
	"(SELECT count(*) FROM assignments a WHERE a.course_id = c.id AND a.status = 'waiting') " \
	" AS waiting, " \
	"(SELECT count(*) FROM assignments a WHERE a.course_id = c.id AND a.status = 'enrolled') " \
	" AS enrolled, " \
	"(SELECT count(*) FROM assignments a WHERE a.course_id = c.id " \
	" AND a.status = 'in_progress') AS in_progress, " \
	"(SELECT count(*) FROM assignments a WHERE a.course_id = c.id " \
	" AND a.status = 'completed') AS completed, c.source, c.created_at FROM courses c "

int
query_courses(struct store *st, query_row_fn fn, void *arg)
{
	struct stmt *s;
	int r = store_prepare(st, COURSE_SELECT "ORDER BY c.code", &s);

	if (r < 0)
		return r;
	return query_each_row(s, fn, arg);
}

static int
keep(json_t *row, void *arg)
{
	*(json_t **)arg = json_incref(row);
	return 1;
}

int
query_course(struct store *st, const char *code, json_t **out)
{
	struct stmt *s;
	json_t *o = NULL;
	int r = store_prepare(st, COURSE_SELECT "WHERE c.code = ?1", &s);

	if (r < 0)
		return r;
	stmt_bind_text(s, 1, code);
	r = query_each_row(s, keep, &o);
	if (r < 0)
		return r;
	if (o == NULL)
		return -ENOENT;
	*out = o;
	return 0;
}

int
query_course_assignments(struct store *st, const char *code, query_row_fn fn, void *arg)
{
	static const char sql[] =
		"SELECT p.username, a.status, a.due, a.assigned_at, a.started_at, a.completed_at, "
		"a.progress, a.source, p.status AS account FROM assignments a "
		"JOIN courses c ON c.id = a.course_id JOIN people p ON p.id = a.person_id "
		"WHERE c.code = ?1 ORDER BY a.status IN ('released', 'archived', 'expired'), "
		"p.username, a.id";
	struct stmt *s;
	int r = store_prepare(st, sql, &s);

	if (r < 0)
		return r;
	stmt_bind_text(s, 1, code);
	return query_each_row(s, fn, arg);
}

int
query_outbox(struct store *st, bool all, query_row_fn fn, void *arg)
{
	static const char sql[] =
		"SELECT id, created_at, kind, username, email, course, due, message, source, sent_at "
		"FROM outbox WHERE ?1 <> 0 OR sent_at IS NULL ORDER BY id";
	struct stmt *s;
	int r = store_prepare(st, sql, &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, all ? 1 : 0);
	return query_each_row(s, fn, arg);
}

int
query_access(struct store *st, long long person, query_row_fn fn, void *arg)
{
	static const char sql[] =
		"SELECT c.code, a.status, a.due, a.expires, a.assigned_at, a.completed_at, "
		"a.ended_at, a.source, c.title, a.started_at, a.progress FROM assignments a "
		"JOIN courses c ON c.id = a.course_id WHERE a.person_id = ?1 "
		"ORDER BY a.status IN ('released', 'archived', 'expired'), c.code, a.id";
	struct stmt *s;
	int r = store_prepare(st, sql, &s);

	if (r < 0)
		return r;
	stmt_bind_int(s, 1, person);
	return query_each_row(s, fn, arg);
}
