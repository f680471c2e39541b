/*
 * test_activity.c: the activity report (query_activity) and user show's
 * activity summary (query_user_activity) on a real store whose audit log,
 * assignments and licences are written so that every count is known.
 */
#include "storefix.h"
#include "query.h"

#include <jansson.h>

#define NOW "2026-06-15T12:00:00Z"

struct fixture {
	char *dir;
	struct store *st;
};

static void
audit(struct store *st, const char *at, const char *action, const char *detail, int times)
{
	for (int i = 0; i < times; i++)
		sqlf(st, "INSERT INTO audit_log (at, actor, action, person_id, subject, detail) "
		     "VALUES ('%s', 'sync', '%s', NULL, 'someone', '%s')", at, action, detail);
}

/* An assignment of course 1 to person 1. */
static void
assignment(struct store *st, const char *status, const char *due, const char *completed)
{
	sqlf(st, "INSERT INTO assignments (person_id, course_id, status, source, assigned_at, due, "
	     "completed_at) VALUES (1, 1, '%s', 'operator:root', '2026-01-01T00:00:00Z', %s%s%s, "
	     "%s%s%s)", status, due ? "'" : "", due ? due : "NULL", due ? "'" : "",
	     completed ? "'" : "", completed ? completed : "NULL", completed ? "'" : "");
}

static void
licence(struct store *st, const char *granted, const char *released)
{
	assignment(st, "enrolled", NULL, NULL);
	sqlf(st, "INSERT INTO licences (course_id, assignment_id, granted_at, released_at) "
	     "VALUES (1, (SELECT max(id) FROM assignments), '%s', %s%s%s)", granted,
	     released ? "'" : "", released ? released : "NULL", released ? "'" : "");
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store *st;

	fx->dir = tmpdir_make();
	fx->st = st = store_fresh(fx->dir);
	person_add(st, "ann", "active");
	course_add(st, "C", -1);
	audit(st, "2026-02-28T23:59:59Z", "create", "new entry", 1);   /* before the report */
	audit(st, "2026-03-01T00:00:00Z", "create", "new entry", 3);
	audit(st, "2026-03-20T08:00:00Z", "disable", "active -> disabled", 2);
	audit(st, "2026-03-21T08:00:00Z", "disable", "kept disabled by the operator (was: missing)", 1);
	audit(st, "2026-03-22T08:00:00Z", "invite", "invitation queued", 1);
	audit(st, "2026-04-02T08:00:00Z", "verify", "invited -> active", 1);
	audit(st, "2026-04-03T08:00:00Z", "enable", "disabled (missing) -> active", 1);
	audit(st, "2026-04-04T08:00:00Z", "archive", "disabled -> archived", 1);
	audit(st, "2026-04-05T08:00:00Z", "restore", "archived -> active", 1);
	audit(st, "2026-04-06T08:00:00Z", "remove", "purged", 1);
	audit(st, "2026-04-07T08:00:00Z", "assign", "C: enrolled", 2);
	audit(st, "2026-04-08T08:00:00Z", "expire", "C: access ended", 1);
	audit(st, "2026-04-09T08:00:00Z", "join", "staff", 5);          /* not counted */
	audit(st, "2026-04-30T23:59:59Z", "create", "new entry", 1);
	audit(st, "2026-05-01T00:00:00Z", "create", "new entry", 1);
	assignment(st, "completed", "2026-04-30", "2026-04-10T10:00:00Z");
	assignment(st, "completed", NULL, "2026-04-29T10:00:00Z");
	assignment(st, "enrolled", "2026-05-05", NULL);                   /* overdue in May */
	assignment(st, "completed", "2026-05-10", "2026-05-09T10:00:00Z"); /* in time */
	assignment(st, "completed", "2026-05-20", "2026-05-25T10:00:00Z"); /* late */
	assignment(st, "released", "2026-05-21", NULL);                   /* given back */
	assignment(st, "in_progress", "2026-06-01", NULL);                /* overdue in June */
	assignment(st, "enrolled", "2026-06-20", NULL);                   /* not due yet */
	licence(st, "2026-03-10T00:00:00Z", "2026-04-05T00:00:00Z");
	licence(st, "2026-04-20T00:00:00Z", NULL);
	licence(st, "2026-06-10T00:00:00Z", NULL);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(fx->st);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* Each row as "month from to n n n ... " (null as -), a line a row. */
static int
row_text(json_t *row, void *arg)
{
	char *out = arg;

	for (size_t i = 0; query_activity_columns[i] != NULL; i++) {
		json_t *v = json_object_get(row, query_activity_columns[i]);
		if (json_is_string(v))
			str_appendf(out, 2048, "%s%s", i ? " " : "", json_string_value(v));
		else if (json_is_integer(v))
			str_appendf(out, 2048, " %lld", (long long)json_integer_value(v));
		else
			str_appendf(out, 2048, " -");
	}
	str_appendf(out, 2048, "\n");
	return 0;
}

static void
test_report_months(void **state)
{
	struct fixture *fx = *state;
	char out[2048] = "";

	/*                      created invited activated disabled enabled archived restored
	 *                      removed assigned completed overdue expired licences */
	assert_int_equal(query_activity(fx->st, "2026-03-01", "2026-07-31", NOW, row_text, out), 0);
	assert_string_equal(out,
		"2026-03 2026-03-01 2026-03-31 3 1 0 2 0 0 0 0 0 0 0 0 1\n"
		"2026-04 2026-04-01 2026-04-30 1 0 1 0 1 1 1 1 2 2 0 1 1\n"
		"2026-05 2026-05-01 2026-05-31 1 0 0 0 0 0 0 0 0 2 2 0 1\n"
		"2026-06 2026-06-01 2026-06-30 0 0 0 0 0 0 0 0 0 0 1 0 2\n"
		"2026-07 2026-07-01 2026-07-31 0 0 0 0 0 0 0 0 0 0 0 0 -\n");
}

static void
test_report_clipped(void **state)
{
	struct fixture *fx = *state;
	char out[2048] = "";

	assert_int_equal(query_activity(fx->st, "2026-03-15", "2026-04-05", NOW, row_text, out), 0);
	assert_string_equal(out,
		"2026-03 2026-03-15 2026-03-31 0 1 0 2 0 0 0 0 0 0 0 0 1\n"
		"2026-04 2026-04-01 2026-04-05 0 0 1 0 1 1 1 0 0 0 0 0 0\n");
	out[0] = '\0';
	/* one day, across a year */
	assert_int_equal(query_activity(fx->st, "2026-02-28", "2026-02-28", NOW, row_text, out), 0);
	assert_string_equal(out, "2026-02 2026-02-28 2026-02-28 1 0 0 0 0 0 0 0 0 0 0 0 0\n");
	assert_int_equal(query_activity(fx->st, "1900-01-01", "2026-01-01", NOW, row_text, out),
			 -E2BIG);
}

static void
test_month_end(void **state)
{
	char day[11];

	(void)state;
	query_month_end("2024-02", day);
	assert_string_equal(day, "2024-02-29");
	query_month_end("2100-02-10", day);
	assert_string_equal(day, "2100-02-28");
	query_month_end("2026-12", day);
	assert_string_equal(day, "2026-12-31");
}

static void
test_user_activity(void **state)
{
	struct fixture *fx = *state;
	json_t *o = json_object(), *a;

	sqlf(fx->st, "INSERT INTO audit_log (at, actor, action, person_id, subject, detail) "
	     "VALUES ('2026-06-02T09:00:00Z', 'operator:root', 'role', 1, 'ann', 'pinned')");
	assert_int_equal(query_user_activity(fx->st, 1, o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "role_source")), "directory");
	a = json_object_get(json_object_get(o, "activity"), "assignments");
	assert_int_equal(json_integer_value(json_object_get(a, "completed")), 4);
	assert_int_equal(json_integer_value(json_object_get(a, "enrolled")), 5);
	assert_int_equal(json_integer_value(json_object_get(a, "expired")), 0);
	assert_int_equal(json_object_size(a), 8);
	a = json_object_get(json_object_get(o, "activity"), "last_change");
	assert_string_equal(json_string_value(json_object_get(a, "by")), "operator:root");
	assert_string_equal(json_string_value(json_object_get(a, "at")), "2026-06-02T09:00:00Z");
	assert_string_equal(json_string_value(json_object_get(a, "action")), "role");
	assert_string_equal(json_string_value(json_object_get(a, "detail")), "pinned");
	json_decref(o);
	o = json_object();
	person_add(fx->st, "bob", "active");
	assert_int_equal(query_user_activity(fx->st, 2, o), 0);
	assert_true(json_is_null(json_object_get(json_object_get(o, "activity"), "last_change")));
	assert_int_equal(query_user_activity(fx->st, 99, o), -ENOENT);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report_months, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_clipped, setup, teardown),
		cmocka_unit_test(test_month_end),
		cmocka_unit_test_setup_teardown(test_user_activity, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
