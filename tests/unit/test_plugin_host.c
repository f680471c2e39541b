/*
 * test_plugin_host.c: the plugin host with real plugins loaded by dlopen:
 * what it refuses to load and how it says so (wrong ABI naming both
 * versions, a descriptor too small, no descriptor, a missing, non-regular,
 * group- or world-writable file, a setting the plugin refuses, with
 * file:line: plugins[N].key), the sample third-party plugin at work, a
 * failing plugin rolling back everything, events out of order, the action
 * list a dry run prints, and the shipped example configuration accepted by
 * the shipped plugins.
 */
#include "pluginfix.h"

static void
expect_err(struct fixture *fx, const char *part)
{
	if (strstr(fx->err, part) == NULL)
		fail_msg("the error does not say\n  %s\nit says\n  %s", part, fx->err);
}

static void
test_no_plugins(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fx_load(fx, ""), 0);
	assert_int_equal(plugins_count(fx->h), 0);
	assert_false(plugins_take_disable(fx->h));
	person_add(fx->st, "ann", "active");
	fx_begin(fx, NULL, true);
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	fx_end(fx, true);
}

static void
test_wrong_abi_refused(void **state)
{
	struct fixture *fx = *state;
	char cmd[1200], want[800];

	/* a relative path is taken from the config file's directory */
	snprintf(cmd, sizeof(cmd), "cp '%s/wrong_major.so' '%s/'", fx->tdir, fx->dir);
	assert_int_equal(system(cmd), 0);
	snprintf(want, sizeof(want), "%s:8: plugins[0]: \"%s/wrong_major.so\" was built for plugin "
		 "ABI 99.3; this rosterd has ABI %d.%d", fx->conf, fx->dir,
		 ROSTERD_PLUGIN_ABI_MAJOR, ROSTERD_PLUGIN_ABI_MINOR);
	assert_int_equal(fx_load(fx, "{ name = \"old\"; path = \"wrong_major.so\"; }"), -EINVAL);
	expect_err(fx, want);
	assert_null(fx->h);
}

static void
test_broken_builds_refused(void **state)
{
	struct fixture *fx = *state;
	char *e = NULL;

	assert_true(asprintf(&e, "{ name = \"small\"; path = \"%s/too_small.so\"; },\n"
			     "{ name = \"none\"; path = \"%s/no_descriptor.so\"; },\n"
			     "{ name = \"gone\"; path = \"%s/gone.so\"; },\n"
			     "{ name = \"dir\"; path = \"%s\"; },\n"
			     "{ name = \"nodefault\"; }", fx->tdir, fx->tdir, fx->tdir,
			     fx->tdir) > 0);
	assert_int_equal(fx_load(fx, e), -EINVAL);
	free(e);
	/* every problem, one line each, in list order */
	expect_err(fx, ":8: plugins[0]: ");
	expect_err(fx, "too_small.so\": its descriptor is 16 bytes, less than the");
	expect_err(fx, ":9: plugins[1]: ");
	expect_err(fx, "no_descriptor.so\" exports no rosterd_plugin_descriptor: not a rosterd plugin");
	expect_err(fx, ":10: plugins[2]: cannot load \"");
	expect_err(fx, "gone.so\": No such file or directory");
	expect_err(fx, ":11: plugins[3]: ");
	expect_err(fx, "\" is not a regular file: refused");
	expect_err(fx, ":12: plugins[4]: cannot load \"" PLUGINDIR "/nodefault.so\"");
}

static void
test_writable_refused(void **state)
{
	struct fixture *fx = *state;
	char cmd[1400], *e = NULL;

	snprintf(cmd, sizeof(cmd), "cp '%s/welcome.so' '%s/w1.so' && cp '%s/welcome.so' '%s/w2.so' "
		 "&& chmod 0666 '%s/w1.so' && chmod 0664 '%s/w2.so'", fx->tdir, fx->dir, fx->tdir,
		 fx->dir, fx->dir, fx->dir);
	assert_int_equal(system(cmd), 0);
	assert_true(asprintf(&e, "{ name = \"w1\"; path = \"w1.so\"; },\n"
			     "{ name = \"w2\"; path = \"w2.so\"; }") > 0);
	assert_int_equal(fx_load(fx, e), -EINVAL);
	expect_err(fx, "w1.so\" is writable by others (mode 0666): refused");
	expect_err(fx, "w2.so\" is writable by its group (mode 0664): refused");
	/* once private, the same files load */
	snprintf(cmd, sizeof(cmd), "chmod 0644 '%s/w1.so' '%s/w2.so'", fx->dir, fx->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(fx_load(fx, e), 0);
	assert_int_equal(plugins_count(fx->h), 2);
	free(e);
}

static void
test_plugin_settings_checked(void **state)
{
	struct fixture *fx = *state;
	char *e = NULL, want[700];

	assert_true(asprintf(&e, "{ name = \"course_rules\"; path = \"%s/course_rules.so\";\n"
			     "  rulez = ();\n"
			     "  rules = ( { group = \"eng\"; courses = [ \"A\" ]; due = \"2026-02-30\"; },\n"
			     "            { courses = [ \"B\" ]; },\n"
			     "            { title = 7; courses = [ \"C\" ]; due_days = -1; } ); },\n"
			     "{ name = \"welcome\"; path = \"%s/welcome.so\"; due_days = 400; }",
			     fx->pdir, fx->tdir) > 0);
	assert_int_equal(fx_load(fx, e), -EINVAL);
	free(e);
	snprintf(want, sizeof(want), "%s:9: plugins[0].rulez: unknown key", fx->conf);
	expect_err(fx, want);
	expect_err(fx, ":10: plugins[0].rules[0].due: \"2026-02-30\" is not a date YYYY-MM-DD");
	expect_err(fx, ":11: plugins[0].rules[1]: matches no one: give group, department");
	expect_err(fx, ":12: plugins[0].rules[2].title: must be a string or a list of strings");
	expect_err(fx, ":13: plugins[1].due_days: must be a whole number of days from 0 to 365");
	/* the core's own checks of the entries */
	assert_int_equal(fx_load(fx, "{ path = \"x.so\"; },\n"
				     "{ name = \"Bad Name\"; },\n"
				     "\"course_rules\",\n"
				     "{ name = \"a\"; path = \"\"; }"), -EINVAL);
	expect_err(fx, ":8: plugins[0].name: missing: which plugin to load");
	expect_err(fx, ":9: plugins[1].name: must be a plugin name");
	expect_err(fx, ":10: plugins[2]: must be a group");
	expect_err(fx, ":11: plugins[3].path: must be the path of a shared object");
	assert_int_equal(fx_load(fx, "{ name = \"a\"; path = \"/x.so\"; },\n"
				     "{ name = \"a\"; path = \"/y.so\"; }"), -EINVAL);
	expect_err(fx, ":9: plugins[1].name: \"a\" is loaded already by plugins[0]");
}

static void
test_sample_plugin(void **state)
{
	struct fixture *fx = *state;
	struct plugin_counts c;

	LOAD(fx, "{ name = \"welcome\"; path = \"%s/welcome.so\"; message = \"Hello there\";\n"
	     "  course = \"ONBOARD\"; due_days = 10; }", fx->tdir);
	assert_false(plugins_take_disable(fx->h));
	course_add(fx->st, "ONBOARD", -1);
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "invited");
	fx_begin(fx, NULL, true);
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	EVENT(fx, ROSTERD_EV_CREATED, "bob", NULL);
	EVENT(fx, ROSTERD_EV_UPDATED, "ann", "email title");
	plugins_counts(fx->h, &c);
	assert_int_equal(c.assigned, 2);
	assert_int_equal(c.notified, 3);   /* two welcomes, ann's enrolment */
	fx_end(fx, true);
	assert_rows(fx->st, "welcome|ann|Hello there|plugin:welcome\nassigned|ann||plugin:welcome\n"
		    "welcome|bob|Hello there|plugin:welcome",
		    "SELECT kind, username, message, source FROM outbox ORDER BY id");
	assert_rows(fx->st, "ann|welcomed|2026-06-01|plugin:welcome\nbob|welcomed|2026-06-01|plugin:welcome",
		    "SELECT p.username, f.name, f.value, f.source FROM person_fields f "
		    "JOIN people p ON p.id = f.person_id ORDER BY p.username");
	assert_rows(fx->st, "ann|enrolled|2026-06-11\nbob|pending|2026-06-11",
		    "SELECT p.username, a.status, a.due FROM assignments a "
		    "JOIN people p ON p.id = a.person_id ORDER BY p.username");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log WHERE actor = 'plugin:welcome' "
				 "AND run_id = %lld", fx->run_id), 6);
}

static void
test_directory_field_refused(void **state)
{
	struct fixture *fx = *state;
	char *e = NULL;

	/* the directory fills "welcomed": the plugin may not set it, and the
	 * welcome plugin passes the refusal on, failing the event */
	assert_true(asprintf(&e, "{ name = \"welcome\"; path = \"%s/welcome.so\"; }", fx->tdir) > 0);
	assert_int_equal(fx_load_custom(fx, "welcomed = \"description\";", e), 0);
	free(e);
	person_add(fx->st, "ann", "active");
	fx_begin(fx, NULL, true);
	assert_int_equal(fx_event(fx, ROSTERD_EV_CREATED, "ann", NULL), -EPERM);
	assert_non_null(strstr(plugins_error(fx->h), "plugin welcome failed on the created event "
			       "of \"ann\": Operation not permitted"));
	fx_end(fx, false);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM outbox"), 0);
}

static void
test_failure_rolls_back(void **state)
{
	struct fixture *fx = *state;
	char *snapshot;

	LOAD(fx, "{ name = \"course_rules\"; path = \"%s/course_rules.so\";\n"
	     "  courses = ( { code = \"SEC\"; title = \"Security\"; } );\n"
	     "  rules = ( { everyone = true; courses = [ \"SEC\" ]; } ); },\n"
	     "{ name = \"failing\"; path = \"%s/failing.so\"; when = \"bob\"; }",
	     fx->pdir, fx->tdir);
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "active");
	snapshot = strdup(sql_rows(fx->st, "SELECT (SELECT count(*) FROM assignments), "
				   "(SELECT count(*) FROM audit_log), (SELECT count(*) FROM courses), "
				   "(SELECT count(*) FROM outbox), (SELECT count(*) FROM licences), "
				   "(SELECT count(*) FROM state)"));
	fx_begin(fx, NULL, true);
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM assignments"), 1);
	assert_int_equal(fx_event(fx, ROSTERD_EV_CREATED, "bob", NULL), -ECANCELED);
	assert_non_null(strstr(plugins_error(fx->h), "plugin failing failed on the created event "
			       "of \"bob\": Operation canceled"));
	/* the sync rolls the run back: nothing of it is left */
	assert_int_equal(store_rollback(fx->st), 0);
	plugins_end(fx->h);
	assert_rows(fx->st, snapshot, "SELECT (SELECT count(*) FROM assignments), "
		    "(SELECT count(*) FROM audit_log), (SELECT count(*) FROM courses), "
		    "(SELECT count(*) FROM outbox), (SELECT count(*) FROM licences), "
		    "(SELECT count(*) FROM state)");
	free(snapshot);

	/* failing at the end of the run: the same */
	LOAD(fx, "{ name = \"failing\"; path = \"%s/failing.so\"; fail_on = \"run_end\"; }", fx->tdir);
	fx_begin(fx, NULL, true);
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	assert_int_equal(plugins_run_end(fx->h), -ECANCELED);
	assert_non_null(strstr(plugins_error(fx->h), "plugin failing failed at the end of the run"));
	assert_int_equal(store_rollback(fx->st), 0);
	plugins_end(fx->h);
}

/* Whatever a plugin asks, an incomplete read takes no access away. */
static void
test_incomplete_read_disables_no_one(void **state)
{
	struct fixture *fx = *state;
	struct plugin_counts c;

	LOAD(fx, "{ name = \"failing\"; path = \"%s/failing.so\"; fail_on = \"none\";\n"
	     "  disable = true; }", fx->tdir);
	person_add(fx->st, "ann", "active");
	fx_begin(fx, NULL, false);
	assert_int_equal(fx_event(fx, ROSTERD_EV_CREATED, "ann", NULL), -EAGAIN);
	plugins_counts(fx->h, &c);
	assert_int_equal(c.disabled, 0);
	fx_end(fx, false);
	assert_rows(fx->st, "active", "SELECT status FROM people");
	fx_begin(fx, NULL, true);
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	plugins_counts(fx->h, &c);
	assert_int_equal(c.disabled, 1);
	fx_end(fx, true);
	assert_rows(fx->st, "disabled|failing", "SELECT status, status_reason FROM people");
}

static void
test_events_in_order(void **state)
{
	struct fixture *fx = *state;
	struct plugin_event ev = { .kind = ROSTERD_EV_CREATED };

	assert_int_equal(fx_load(fx, ""), 0);
	person_add(fx->st, "ann", "active");
	ev.person_id = sql_int(fx->st, "SELECT id FROM people");
	/* outside a run */
	assert_int_equal(plugins_event(fx->h, &ev), -EINVAL);
	fx_begin(fx, NULL, true);
	EVENT(fx, ROSTERD_EV_MISSING, "ann", NULL);
	assert_int_equal(fx_event(fx, ROSTERD_EV_CREATED, "ann", NULL), -EINVAL);
	assert_non_null(strstr(plugins_error(fx->h), "event kind 1 after kind 4"));
	ev.kind = ROSTERD_EV_RUN_END;
	assert_int_equal(plugins_event(fx->h, &ev), -EINVAL);
	ev.kind = ROSTERD_EV_GROUP_LEFT;
	ev.person_id = 999;
	assert_int_equal(plugins_event(fx->h, &ev), -ENOENT);
	fx_end(fx, false);
}

static int
collect(const struct plugin_action *a, void *arg)
{
	char *buf = arg;

	str_appendf(buf, 4096, "%s %s %s: %s\n", a->actor, a->action, a->subject,
		    a->detail ? a->detail : "");
	return 0;
}

static void
test_dry_run_actions(void **state)
{
	struct fixture *fx = *state;
	char seen[4096] = "";

	LOAD(fx, "{ name = \"course_rules\"; path = \"%s/course_rules.so\";\n"
	     "  courses = ( { code = \"ONE\"; licences = 1; } );\n"
	     "  rules = ( { department = \"ENG\"; courses = [ \"ONE\" ]; due = \"2026-09-01\"; } ); }",
	     fx->pdir);
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "active");
	sqlf(fx->st, "UPDATE people SET department = 'ENG'");
	{
		struct plugin_run run = { .st = fx->st, .now = fx->now, .complete = true,
					  .dry_run = true };
		assert_int_equal(store_begin(fx->st), 0);
		assert_int_equal(plugins_begin(fx->h, &run), 0);
	}
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	EVENT(fx, ROSTERD_EV_CREATED, "bob", NULL);
	assert_int_equal(plugins_run_end(fx->h), 0);
	assert_int_equal(plugins_actions_foreach(fx->h, collect, seen), 0);
	assert_string_equal(seen,
		"plugin:course_rules course-add ONE: (no title), 1 licence\n"
		"plugin:course_rules assign ann: ONE due 2026-09-01: enrolled\n"
		"plugin:course_rules assign bob: ONE due 2026-09-01: waiting for a licence: the pool is empty\n");
	assert_int_equal(store_rollback(fx->st), 0);
	plugins_end(fx->h);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM courses"), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log"), 0);
}

/* The shipped conf/rosterd.conf configures each shipped plugin; the plugins
 * themselves accept those settings (only the install paths differ). */
static void
test_example_config_plugins(void **state)
{
	struct fixture *fx = *state;
	const char *top = getenv("ROSTERD_TOP");
	char path[512];

	snprintf(path, sizeof(path), "%s/conf/rosterd.conf", top ? top : ".");
	assert_int_equal(conf_load(path, 0, &fx->cf, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(fx->cf->nplugins, 3);
	for (size_t i = 0; i < fx->cf->nplugins; i++) {
		char want[600];
		snprintf(want, sizeof(want), "%s/%s.so", PLUGINDIR, fx->cf->plugins[i].name);
		assert_string_equal(fx->cf->plugins[i].path, want);
		free(fx->cf->plugins[i].path);
		assert_true(asprintf(&fx->cf->plugins[i].path, "%s/%s.so", fx->pdir,
				     fx->cf->plugins[i].name) > 0);
	}
	if (plugins_load(fx->cf, &fx->h, fx->err, sizeof(fx->err)) != 0)
		fail_msg("%s", fx->err);
	assert_int_equal(plugins_count(fx->h), 3);
	assert_true(plugins_take_disable(fx->h));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_plugins, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_abi_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_broken_builds_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_writable_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_plugin_settings_checked, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sample_plugin, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_directory_field_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_failure_rolls_back, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_read_disables_no_one, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_events_in_order, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_actions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_example_config_plugins, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
