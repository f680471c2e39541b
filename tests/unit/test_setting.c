/*
 * test_setting.c: a plugin's own settings as the SDK's accessor functions
 * show them: every type, members by name, list elements, the errors for a
 * missing member and for another type, and the plugin's entry (name and
 * path stay rosterd's, the rest is the plugin's).
 */
#include "unit.h"

#include <rosterd/plugin.h>

static const char text[] =
	"ldap = { uri = \"ldap://127.0.0.1:3389\"; users = { base = \"dc=x\"; }; };\n"
	"store = { path = \"learning.db\"; };\n"
	"plugins = ( { name = \"p\"; path = \"/x/p.so\";\n"
	"  s = \"text\"; i = 42; big = 10000000000L; f = 2.5; b = true;\n"
	"  list = [ \"a\", \"b\" ]; mixed = ( 1, \"two\" );\n"
	"  group = { inner = -7; }; } );\n";

struct fixture {
	char *dir;
	struct conf *cf;
	const struct rosterd_setting *s;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char *path, err[2048];

	fx->dir = tmpdir_make();
	path = file_write(fx->dir, "rosterd.conf", text, 0640);
	if (conf_load(path, 0, &fx->cf, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	free(path);
	fx->s = (const struct rosterd_setting *)fx->cf->plugins[0].setting;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	conf_free(fx->cf);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static void
test_scalars(void **state)
{
	struct fixture *fx = *state;
	const char *v = NULL;
	long long i = 0;
	double f = 0;
	bool b = false;

	assert_int_equal(setting_string(fx->s, "s", &v), 0);
	assert_string_equal(v, "text");
	assert_int_equal(setting_int(fx->s, "i", &i), 0);
	assert_int_equal(i, 42);
	assert_int_equal(setting_int(fx->s, "big", &i), 0);
	assert_true(i == 10000000000LL);
	assert_int_equal(setting_float(fx->s, "f", &f), 0);
	assert_true(f == 2.5);
	assert_int_equal(setting_float(fx->s, "i", &f), 0);    /* a whole number is a number */
	assert_true(f == 42.0);
	assert_int_equal(setting_bool(fx->s, "b", &b), 0);
	assert_true(b);
	/* another type, or no such member: the out-parameter is left alone */
	i = 5;
	assert_int_equal(setting_int(fx->s, "s", &i), -EINVAL);
	assert_int_equal(setting_int(fx->s, "f", &i), -EINVAL);
	assert_int_equal(setting_int(fx->s, "nope", &i), -ENOENT);
	assert_int_equal(i, 5);
	assert_int_equal(setting_string(fx->s, "i", &v), -EINVAL);
	assert_int_equal(setting_bool(fx->s, "i", &b), -EINVAL);
	assert_int_equal(setting_type(fx->s), ROSTERD_SETTING_GROUP);
	assert_int_equal(setting_type(setting_get(fx->s, "f")), ROSTERD_SETTING_FLOAT);
	assert_int_equal(setting_type(setting_get(fx->s, "nope")), ROSTERD_SETTING_NONE);
	/* name and path are in the entry too (rosterd's keys) */
	assert_int_equal(setting_string(fx->s, "name", &v), 0);
	assert_string_equal(v, "p");
}

static void
test_aggregates(void **state)
{
	struct fixture *fx = *state;
	const struct rosterd_setting *l = setting_get(fx->s, "list");
	const struct rosterd_setting *m = setting_get(fx->s, "mixed");
	const struct rosterd_setting *g = setting_get(fx->s, "group");
	const char *v = NULL;
	long long i = 0;

	assert_int_equal(setting_type(l), ROSTERD_SETTING_LIST);
	assert_int_equal(setting_count(l), 2);
	assert_int_equal(setting_string(setting_at(l, 1), NULL, &v), 0);
	assert_string_equal(v, "b");
	assert_null(setting_at(l, 2));
	assert_null(setting_at(l, -1));
	assert_null(setting_name(setting_at(l, 0)));
	assert_int_equal(setting_type(m), ROSTERD_SETTING_LIST);
	assert_int_equal(setting_int(setting_at(m, 0), NULL, &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(setting_int(setting_at(m, 1), NULL, &i), -EINVAL);
	assert_int_equal(setting_int(g, "inner", &i), 0);
	assert_int_equal(i, -7);
	assert_string_equal(setting_name(g), "group");
	/* a group's members in order; a scalar has none */
	assert_int_equal(setting_count(fx->s), 10);
	assert_string_equal(setting_name(setting_at(fx->s, 2)), "s");
	assert_int_equal(setting_count(setting_get(fx->s, "i")), 0);
	assert_null(setting_get(setting_get(fx->s, "i"), "x"));
	assert_null(setting_get(l, "x"));
	assert_true(setting_get(fx->s, NULL) == fx->s);
	assert_null(setting_get(NULL, "x"));
	assert_int_equal(setting_count(NULL), 0);
}

static void
test_where(void **state)
{
	struct fixture *fx = *state;
	char path[128];
	unsigned line;

	conf_setting_where((const struct config_setting_t *)setting_get(setting_get(fx->s, "group"),
									 "inner"),
			   path, sizeof(path), &line);
	assert_string_equal(path, "plugins[0].group.inner");
	assert_int_equal(line, 6);
	conf_setting_where((const struct config_setting_t *)setting_at(setting_get(fx->s, "list"), 1),
			   path, sizeof(path), &line);
	assert_string_equal(path, "plugins[0].list[1]");
	assert_int_equal(line, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scalars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aggregates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_where, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
