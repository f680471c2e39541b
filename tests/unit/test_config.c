/*
 * test_config.c: config.c loads good files with the documented defaults and
 * refuses bad ones with "file:line: key: what is wrong".
 */
#include "unit.h"

/* A minimal valid config; %s is extra text put inside sync = { }. */
static const char minimal[] =
	"ldap = {\n"                                              /* 1 */
	"  uri = \"ldap://127.0.0.1:3389\";\n"                    /* 2 */
	"  users = { base = \"ou=people,dc=example,dc=com\"; };\n" /* 3 */
	"};\n"                                                    /* 4 */
	"store = { path = \"learning.db\"; };\n"                  /* 5 */
	"sync = { %s };\n";                                       /* 6 */

struct fixture {
	char *dir;
	char err[4096];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->dir = tmpdir_make();
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* Load text as a config file; returns conf_load's result. */
static int
load(struct fixture *fx, const char *text, int flags, struct conf **cf)
{
	char *path = file_write(fx->dir, "rosterd.conf", text, 0640);
	int r;

	*cf = NULL;
	r = conf_load(path, flags, cf, fx->err, sizeof(fx->err));
	free(path);
	return r;
}

static void
load_minimal(struct fixture *fx, const char *sync_extra, int flags, int want, struct conf **cf)
{
	char text[2048];

	snprintf(text, sizeof(text), minimal, sync_extra);
	assert_int_equal(load(fx, text, flags, cf), want);
}

static void
test_defaults(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char want[600];

	load_minimal(fx, "", 0, 0, &cf);
	assert_int_equal(cf->ldap.page_size, 1000);
	assert_int_equal(cf->ldap.timeout, 30);
	assert_int_equal(cf->ldap.network_timeout, 10);
	assert_false(cf->ldap.starttls);
	assert_string_equal(cf->ldap.users.filter, "(objectClass=inetOrgPerson)");
	assert_int_equal(cf->ldap.users.scope, SCOPE_SUB);
	assert_string_equal(cf->ldap.id_attr, "entryUUID");
	assert_string_equal(cf->ldap.attr[F_USERNAME], "uid");
	assert_string_equal(cf->ldap.attr[F_SECONDARY_MANAGER], "secretary");
	assert_int_equal(cf->sync.max_disable, 500);
	assert_true(cf->sync.max_disable_percent == 10.0);
	assert_int_equal(cf->sync.initial_status, INITIAL_INVITED);
	assert_int_equal(cf->sync.on_missing, MISSING_DISABLE);
	assert_int_equal(cf->sync.interval, 900);
	assert_int_equal(cf->store.busy_timeout, 5000);
	/* relative store path: taken from the config file's directory */
	snprintf(want, sizeof(want), "%s/learning.db", fx->dir);
	assert_string_equal(cf->store.path, want);
	conf_free(cf);
}

/* The shipped example must be a valid config (its password file need not exist). */
static void
test_example_is_valid(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf = NULL;
	const char *top = getenv("ROSTERD_TOP");
	char path[512];

	snprintf(path, sizeof(path), "%s/conf/rosterd.conf", top ? top : ".");
	assert_int_equal(conf_load(path, 0, &cf, fx->err, sizeof(fx->err)), 0);
	assert_string_equal(cf->ldap.custom[0].name, "cost_centre");
	assert_string_equal(cf->ldap.users.disabled_values[0], "TRUE");
	conf_free(cf);
}

static void
test_unknown_key_names_line(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char want[600];

	load_minimal(fx, "max_disabel = 3;", 0, -EINVAL, &cf);
	snprintf(want, sizeof(want), "%s/rosterd.conf:6: sync.max_disabel: unknown key", fx->dir);
	assert_string_equal(fx->err, want);
	assert_null(cf);
}

static void
test_wrong_type(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	load_minimal(fx, "interval = \"15m\";", 0, -EINVAL, &cf);
	assert_non_null(strstr(fx->err, ":6: sync.interval: must be a whole number"));
}

static void
test_out_of_range(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx,
		"ldap = {\n uri = \"ldap://h\";\n page_size = 0;\n"
		" users = { base = \"dc=x\"; };\n};\nstore = { path = \"/tmp/x.db\"; };\n",
		0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.page_size: 0 is out of range (1 to 100000)"));
}

static void
test_bad_word(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	load_minimal(fx, "initial_status = \"enabled\";", 0, -EINVAL, &cf);
	assert_non_null(strstr(fx->err, ":6: sync.initial_status: \"enabled\" is not one of "
			       "\"invited\", \"active\""));
}

static void
test_missing_base(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { };\n};\n"
			      "store = { path = \"x.db\"; };\n", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.users.base: missing"));
}

static void
test_syntax_error(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = ; };\n};\n",
			      0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, "rosterd.conf:3: syntax error"));
}

static void
test_every_error_reported(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	int lines = 1;

	load_minimal(fx, "interval = 1; max_disable = -1; on_missing = \"drop\";", 0, -EINVAL, &cf);
	for (const char *p = fx->err; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);
	assert_non_null(strstr(fx->err, "sync.interval"));
	assert_non_null(strstr(fx->err, "sync.max_disable"));
	assert_non_null(strstr(fx->err, "sync.on_missing"));
}

static void
test_bad_filter_and_uri(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx,
		"ldap = {\n uri = \"http://h\";\n"
		" users = { base = \"dc=x\"; filter = \"objectClass=person\"; };\n};\n"
		"store = { path = \"x.db\"; };\n", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":2: ldap.uri: \"http://h\" is not an ldap://"));
	assert_non_null(strstr(fx->err, ":3: ldap.users.filter: \"objectClass=person\" is not a "
			       "filter in parentheses"));
}

static void
test_password_file_mode(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char text[2048], *pw;

	pw = file_write(fx->dir, "bind.pw", "s3cret\n", 0644);
	snprintf(text, sizeof(text),
		 "ldap = {\n uri = \"ldap://h\";\n bind_dn = \"cn=r,dc=x\";\n"
		 " bind_password_file = \"bind.pw\";\n users = { base = \"dc=x\"; };\n};\n"
		 "store = { path = \"x.db\"; };\n");
	/* with secrets checked, a readable-by-others file is refused at its line */
	assert_int_equal(load(fx, text, CONF_CHECK_SECRETS, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.bind_password_file: "));
	assert_non_null(strstr(fx->err, "mode 0644"));
	assert_null(strstr(fx->err, "s3cret"));
	/* rosterctl does not read secrets */
	assert_int_equal(load(fx, text, 0, &cf), 0);
	conf_free(cf);
	/* owner-only is accepted */
	assert_int_equal(chmod(pw, 0600), 0);
	assert_int_equal(load(fx, text, CONF_CHECK_SECRETS, &cf), 0);
	assert_non_null(strstr(cf->ldap.bind_password_file, "/bind.pw"));
	conf_free(cf);
	free(pw);
}

static void
test_bind_dn_needs_password(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n bind_dn = \"cn=r,dc=x\";\n"
			      " users = { base = \"dc=x\"; };\n};\nstore = { path = \"x.db\"; };\n",
			      0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.bind_dn: needs bind_password_file"));
}

static void
test_disabled_attribute_needs_values(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\";\n"
			      " disabled_attribute = \"nsAccountLock\"; };\n};\n"
			      "store = { path = \"x.db\"; };\n", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.users.disabled_attribute: needs disabled_values"));
	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\";\n"
			      " disabled_attribute = \"userAccountControl\"; disabled_bitmask = 2; };\n"
			      "};\nstore = { path = \"x.db\"; };\n", 0, &cf), 0);
	assert_int_equal(cf->ldap.users.disabled_bitmask, 2);
	conf_free(cf);
}

static void
test_custom_fields(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\"; };\n"
			      " attributes = { email = \"\"; custom = { badge_id = \"badge\";\n"
			      " Cost-Centre = \"cc\"; }; };\n};\nstore = { path = \"x.db\"; };\n",
			      0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":5: ldap.attributes.custom.Cost-Centre: field names use"));
	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\"; };\n"
			      " attributes = { email = \"\"; custom = { badge_id = \"badge\"; }; };\n"
			      "};\nstore = { path = \"x.db\"; };\n", 0, &cf), 0);
	/* "" leaves a field unmapped */
	assert_null(cf->ldap.attr[F_EMAIL]);
	assert_int_equal(cf->ldap.ncustom, 1);
	assert_string_equal(cf->ldap.custom[0].attr, "badge");
	conf_free(cf);
}

/* The plugins list: names and paths are the core's, every other key is the
 * plugin's (checked when it is loaded, not here). */
static void
test_plugins_list(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char text[2048], want[600];

	snprintf(text, sizeof(text), minimal, "");
	strcat(text, "plugins = ( { name = \"disable_rules\"; grace_runs = 3; anything = [ 1 ]; },\n"
	       "  { name = \"mine\"; path = \"lib/mine.so\"; } );\n");
	assert_int_equal(load(fx, text, 0, &cf), 0);
	assert_int_equal(cf->nplugins, 2);
	assert_string_equal(cf->plugins[0].name, "disable_rules");
	assert_string_equal(cf->plugins[0].path, PLUGINDIR "/disable_rules.so");
	assert_int_equal(cf->plugins[0].line, 7);
	assert_int_equal(cf->plugins[0].index, 0);
	snprintf(want, sizeof(want), "%s/lib/mine.so", fx->dir);
	assert_string_equal(cf->plugins[1].path, want);
	assert_int_equal(cf->plugins[1].line, 8);
	assert_non_null(cf->plugins[1].setting);
	conf_free(cf);

	snprintf(text, sizeof(text), minimal, "");
	strcat(text, "plugins = ( { name = \"x\"; }, { grace_runs = 3; } );\n");
	assert_int_equal(load(fx, text, 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":7: plugins[1].name: missing: which plugin to load"));
}

static void
test_empty_filter_and_lone_password(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n bind_password_file = \"pw\";\n"
			      " users = { base = \"dc=x\"; filter = \"\"; };\n};\n"
			      "store = { path = \"x.db\"; };\n", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.bind_password_file: needs bind_dn"));
	assert_non_null(strstr(fx->err, ":4: ldap.users.filter: \"\" is not a filter"));
}

static void
test_too_many_custom_fields(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char text[8192] = "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\"; };\n"
			  " attributes = { custom = {\n";

	for (int i = 0; i <= CONF_MAX_CUSTOM; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "f%d = \"a%d\";\n", i, i);
	strcat(text, "}; };\n};\nstore = { path = \"x.db\"; };\n");
	assert_int_equal(load(fx, text, 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.attributes.custom: 65 fields; at most 64"));
}

static void
test_unreadable_file(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf = NULL;
	char path[600];

	snprintf(path, sizeof(path), "%s/nope.conf", fx->dir);
	assert_int_equal(conf_load(path, 0, &cf, fx->err, sizeof(fx->err)), -ENOENT);
	assert_non_null(strstr(fx->err, "nope.conf: cannot read: No such file"));
	assert_null(cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_is_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_names_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_base, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_error_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_filter_and_uri, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_dn_needs_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_attribute_needs_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_custom_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugins_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_filter_and_lone_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_custom_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
