/*
 * test_view.c: the read-only views of people and groups that the plugin host
 * and rosterctl share (view.h), on a real store: a person with managers,
 * custom fields and groups (one deleted, one through nesting), missing for
 * some runs; what is not there; and views that outlive the store.
 */
#include "storefix.h"

struct fixture {
	char *dir;
	struct store *st;
	long long ann, all, beta;
	char list[512];            /* what the last list gave, ","-separated */
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	static const char *const ann[] = { "ann", NULL };

	fx->dir = tmpdir_make();
	fx->st = store_fresh(fx->dir);
	fx->ann = person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "active");
	person_add(fx->st, "cy", "active");
	sqlf(fx->st, "INSERT INTO person_managers (person_id, kind, manager_id) SELECT %lld, "
	     "'primary', id FROM people WHERE username = 'bob'", fx->ann);
	sqlf(fx->st, "INSERT INTO person_managers (person_id, kind, manager_id) SELECT %lld, "
	     "'secondary', id FROM people WHERE username = 'cy'", fx->ann);
	sqlf(fx->st, "INSERT INTO person_fields (person_id, name, value) VALUES (%lld, 'zone', "
	     "'eu'), (%lld, 'cost_centre', '42')", fx->ann, fx->ann);
	/* beta, Alpha, gamma (deleted) directly; all through beta */
	group_add(fx->st, "beta", ann);
	group_add(fx->st, "Alpha", ann);
	group_add(fx->st, "gamma", ann);
	group_add(fx->st, "all", NULL);
	sqlf(fx->st, "UPDATE groups SET present = 0 WHERE name = 'gamma'");
	fx->all = sql_int(fx->st, "SELECT id FROM groups WHERE name = 'all'");
	fx->beta = sql_int(fx->st, "SELECT id FROM groups WHERE name = 'beta'");
	sqlf(fx->st, "INSERT INTO group_membership (group_id, person_id, via_group_id, since) "
	     "VALUES (%lld, %lld, %lld, '2026-01-01T00:00:00Z')", fx->all, fx->ann, fx->beta);
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

static int
add_name(const char *name, void *arg)
{
	struct fixture *fx = arg;

	str_appendf(fx->list, sizeof(fx->list), "%s%s", fx->list[0] ? "," : "", name);
	return 0;
}

static int
add_field(const char *name, const char *value, void *arg)
{
	struct fixture *fx = arg;

	str_appendf(fx->list, sizeof(fx->list), "%s%s=%s", fx->list[0] ? "," : "", name, value);
	return 0;
}

static int
stop_at_first(const char *name, void *arg)
{
	(void)name;
	(void)arg;
	return 7;
}

static void
test_person(void **state)
{
	struct fixture *fx = *state;
	struct view_person *p = NULL;

	assert_int_equal(view_person_named(fx->st, "ANN", NULL, &p), 0);
	assert_int_equal(p->id, fx->ann);
	assert_string_equal(p->username, "ann");
	assert_string_equal(p->email, "ann@example.com");
	assert_string_equal(p->display_name, "Given ann");
	assert_string_equal(p->status, "active");
	assert_string_equal(p->role, "learner");
	assert_string_equal(p->manager, "bob");
	assert_string_equal(p->secondary_manager, "cy");
	assert_string_equal(p->dn, "uid=ann,ou=people,dc=example,dc=com");
	assert_string_equal(p->dir_id, "id-ann");
	assert_string_equal(p->status_since, "2026-01-01T00:00:00Z");
	assert_null(p->status_reason);
	assert_null(p->employee_number);
	assert_null(p->missing_since);
	assert_false(p->dir_disabled);
	assert_int_equal(p->missing_days, -1);
	assert_int_equal(p->missing_runs, 0);
	view_person_free(p);
	p = NULL;
	/* the same person by id; bob has no manager */
	assert_int_equal(view_person(fx->st, fx->ann, NULL, &p), 0);
	assert_string_equal(p->username, "ann");
	view_person_free(p);
	assert_int_equal(view_person_named(fx->st, "bob", NULL, &p), 0);
	assert_null(p->manager);
	assert_null(p->secondary_manager);
	view_person_free(p);
	p = NULL;
	assert_int_equal(view_person(fx->st, 9999, NULL, &p), -ENOENT);
	assert_int_equal(view_person_named(fx->st, "nobody", NULL, &p), -ENOENT);
	assert_null(p);
	view_person_free(NULL);
}

/* Missing since run 2 and seen from run 5, complete: the ok runs from 2 on
 * other than 5 (2 and 4), and 5 itself. */
static void
test_missing(void **state)
{
	struct fixture *fx = *state;
	static const char *const outcomes[] = { "ok", "ok", "incomplete", "ok", "running" };
	struct view_run run = { .now = "2026-06-01T10:00:00Z", .run_id = 5, .complete = true };
	struct view_person *p;

	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		sqlf(fx->st, "INSERT INTO sync_runs (id, started_at, outcome) VALUES (%zu, "
		     "'2026-05-01T00:00:00Z', '%s')", i + 1, outcomes[i]);
	sqlf(fx->st, "UPDATE people SET missing_since = '2026-05-20T09:00:00Z', missing_run = 2 "
	     "WHERE id = %lld", fx->ann);
	assert_int_equal(view_person(fx->st, fx->ann, &run, &p), 0);
	assert_string_equal(p->missing_since, "2026-05-20T09:00:00Z");
	assert_int_equal(p->missing_days, 12);
	assert_int_equal(p->missing_runs, 3);
	view_person_free(p);
	run.complete = false;
	assert_int_equal(view_person(fx->st, fx->ann, &run, &p), 0);
	assert_int_equal(p->missing_runs, 2);
	view_person_free(p);
}

static void
test_ids_and_fields(void **state)
{
	struct fixture *fx = *state;
	long long id = 0;
	char *s = NULL;

	assert_int_equal(view_person_id(fx->st, "Ann", &id), 0);
	assert_int_equal(id, fx->ann);
	id = 0;
	assert_int_equal(view_person_id(fx->st, "nobody", &id), -ENOENT);
	assert_int_equal(id, 0);
	assert_int_equal(view_username(fx->st, fx->ann, &s), 0);
	assert_string_equal(s, "ann");
	free(s);
	s = NULL;
	assert_int_equal(view_username(fx->st, 9999, &s), -ENOENT);
	assert_int_equal(view_person_field(fx->st, fx->ann, "cost_centre", &s), 0);
	assert_string_equal(s, "42");
	free(s);
	s = NULL;
	assert_int_equal(view_person_field(fx->st, fx->ann, "nope", &s), -ENOENT);
	assert_null(s);
	assert_int_equal(view_person_fields(fx->st, fx->ann, add_field, fx), 0);
	assert_string_equal(fx->list, "cost_centre=42,zone=eu");
}

static void
test_groups(void **state)
{
	struct fixture *fx = *state;

	/* by name with case ignored; the deleted group only when asked */
	assert_int_equal(view_person_groups(fx->st, fx->ann, false, add_name, fx), 0);
	assert_string_equal(fx->list, "all,Alpha,beta");
	fx->list[0] = '\0';
	assert_int_equal(view_person_groups(fx->st, fx->ann, true, add_name, fx), 0);
	assert_string_equal(fx->list, "all,Alpha,beta,gamma");
	assert_int_equal(view_person_groups(fx->st, fx->ann, true, stop_at_first, fx), 7);
	fx->list[0] = '\0';
	assert_int_equal(view_person_groups(fx->st, 9999, true, add_name, fx), 0);
	assert_string_equal(fx->list, "");
}

static void
test_group(void **state)
{
	struct fixture *fx = *state;
	struct view_group *g = NULL;

	assert_int_equal(view_group(fx->st, fx->all, fx->ann, &g), 0);
	assert_int_equal(g->id, fx->all);
	assert_string_equal(g->name, "all");
	assert_string_equal(g->dn, "cn=all,ou=groups,dc=example,dc=com");
	assert_string_equal(g->dir_id, "g-all");
	assert_string_equal(g->created_at, "2026-01-01T00:00:00Z");
	assert_null(g->description);
	assert_string_equal(g->via, "beta");
	assert_true(g->present);
	view_group_free(g);
	/* a direct membership has no via; nor has a group asked about alone */
	assert_int_equal(view_group(fx->st, fx->beta, fx->ann, &g), 0);
	assert_null(g->via);
	view_group_free(g);
	assert_int_equal(view_group(fx->st, fx->all, 0, &g), 0);
	assert_null(g->via);
	view_group_free(g);
	g = NULL;
	assert_int_equal(view_group(fx->st, 9999, 0, &g), -ENOENT);
	assert_null(g);
	view_group_free(NULL);
}

/* A view is the caller's: it stays whole when the store is closed. */
static void
test_outlives_store(void **state)
{
	struct fixture *fx = *state;
	struct view_person *p;
	struct view_group *g;

	assert_int_equal(view_person(fx->st, fx->ann, NULL, &p), 0);
	assert_int_equal(view_group(fx->st, fx->all, fx->ann, &g), 0);
	store_close(fx->st);
	fx->st = NULL;
	assert_string_equal(p->username, "ann");
	assert_string_equal(p->manager, "bob");
	assert_string_equal(p->updated_at, "2026-01-01T00:00:00Z");
	assert_string_equal(g->via, "beta");
	view_person_free(p);
	view_group_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_person, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_and_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outlives_store, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
