/*
 * test_plugins.c: the three shipped rule plugins, each loaded with dlopen by
 * the real host, driven run by run against a real store file:
 * course_rules (rules by nested group, department glob, custom field; due
 * dates; pending until active; licences running out and coming back through
 * archive_rules; new rules reaching people already there, once; unassign when
 * a person stops matching; recurring training), disable_rules (grace runs,
 * grace days, directory flag and re-enable, HR status, HR end date, protected
 * accounts, nothing in an incomplete run), archive_rules (after_days,
 * reasons, licences back to the pool), and their counts for the thresholds.
 */
#include "pluginfix.h"

#define COURSE_RULES(fx, body) \
	LOAD(fx, "{ name = \"course_rules\"; path = \"%s/course_rules.so\";\n" body " }", (fx)->pdir)

static const char *
status_of(struct fixture *fx, const char *user)
{
	return sql_rows(fx->st, "SELECT status || '/' || coalesce(status_reason, '-') FROM people "
			"WHERE username = '%s'", user);
}

#define assert_status(fx, user, want) do { \
	const char *got_ = status_of((fx), (user)); \
	if (strcmp(got_, (want)) != 0) \
		fail_msg("%s is %s, not %s", (user), got_, (want)); \
} while (0)

static const char *
courses_of(struct fixture *fx, const char *user)
{
	return sql_rows(fx->st, "SELECT group_concat(x, ' ') FROM (SELECT c.code || ':' || a.status "
			"|| ':' || coalesce(a.due, '-') AS x FROM assignments a JOIN courses c "
			"ON c.id = a.course_id JOIN people p ON p.id = a.person_id "
			"WHERE p.username = '%s' ORDER BY a.id)", user);
}

#define assert_courses(fx, user, want) do { \
	const char *got_ = courses_of((fx), (user)); \
	if (strcmp(got_, (want)) != 0) \
		fail_msg("%s has [%s], not [%s]", (user), got_, (want)); \
} while (0)

/* ---- course_rules -------------------------------------------------------------- */

static void
test_rule_by_nested_group(void **state)
{
	struct fixture *fx = *state;
	static const char *const eng[] = { "ann", "bob", NULL };
	static const char *const sales[] = { "cy", NULL };

	COURSE_RULES(fx, "courses = ( { code = \"SEC101\"; title = \"Security\"; },\n"
		     "  { code = \"GDPR\"; } );\n"
		     "rules = ( { group = \"Engineering\"; courses = [ \"SEC101\" ]; due_days = 30; },\n"
		     "  { group = [ \"sales-*\", \"support\" ]; courses = [ \"GDPR\", \"SEC101\" ];\n"
		     "    due = \"2026-12-31\"; } );");
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "active");
	person_add(fx->st, "cy", "active");
	person_add(fx->st, "dee", "active");
	group_add(fx->st, "engineering", eng);
	group_add(fx->st, "sales-emea", sales);
	group_add(fx->st, "backend", NULL);
	/* bob is in engineering through the nested group backend */
	sqlf(fx->st, "UPDATE group_membership SET via_group_id = (SELECT id FROM groups "
	     "WHERE name = 'backend') WHERE person_id = (SELECT id FROM people WHERE username = 'bob')");
	fx_begin(fx, "2026-06-01T10:00:00Z", true);
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	EVENT(fx, ROSTERD_EV_GROUP_JOINED, "bob", "engineering");
	EVENT(fx, ROSTERD_EV_GROUP_JOINED, "cy", "sales-emea");
	assert_courses(fx, "ann", "SEC101:enrolled:2026-07-01");
	assert_courses(fx, "bob", "SEC101:enrolled:2026-07-01");
	/* the first matching rule's due date wins for a course two rules give */
	assert_courses(fx, "cy", "GDPR:enrolled:2026-12-31 SEC101:enrolled:2026-12-31");
	assert_courses(fx, "dee", "");
	fx_end(fx, true);
	assert_rows(fx->st, "SEC101|Security|plugin:course_rules\nGDPR||plugin:course_rules",
		    "SELECT code, title, source FROM courses ORDER BY id");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log WHERE action = 'assign' "
				 "AND actor = 'plugin:course_rules' AND run_id = %lld", fx->run_id), 4);
}

/* A person's group events are evaluated once per run: a run that ends
 * before run_end (a failure: rolled back) does not make the next run skip
 * the same person's group event. */
static void
test_group_events_once_per_run(void **state)
{
	struct fixture *fx = *state;
	static const char *const eng[] = { "ann", NULL };

	COURSE_RULES(fx, "courses = ( { code = \"SEC101\"; } );\n"
		     "rules = ( { group = \"engineering\"; courses = [ \"SEC101\" ]; } );");
	person_add(fx->st, "ann", "active");
	fx_quiet_run(fx, "2026-06-01T09:00:00Z", true);   /* the rules seen, nobody matched */
	group_add(fx->st, "engineering", eng);
	fx_begin(fx, "2026-06-01T10:00:00Z", true);
	EVENT(fx, ROSTERD_EV_GROUP_JOINED, "ann", "engineering");
	assert_courses(fx, "ann", "SEC101:enrolled:-");
	/* the run fails before its end: everything rolled back, no run_end */
	assert_int_equal(store_rollback(fx->st), 0);
	plugins_end(fx->h);
	assert_courses(fx, "ann", "");
	fx_begin(fx, "2026-06-01T11:00:00Z", true);
	EVENT(fx, ROSTERD_EV_GROUP_JOINED, "ann", "engineering");
	assert_courses(fx, "ann", "SEC101:enrolled:-");
	fx_end(fx, true);
}

static void
test_rule_by_attributes_and_field(void **state)
{
	struct fixture *fx = *state;
	long long id;

	COURSE_RULES(fx, "courses = ( { code = \"LEAD\"; }, { code = \"FIRE\"; } );\n"
		     "rules = ( { department = \"ENG*\"; title = \"*Manager*\"; courses = [ \"LEAD\" ]; },\n"
		     "  { location = \"Paris\"; field = { cost_centre = [ \"OPS\", \"F*\" ]; };\n"
		     "    courses = [ \"FIRE\" ]; due_days = 0; } );");
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "active");
	person_add(fx->st, "cy", "active");
	sqlf(fx->st, "UPDATE people SET department = 'ENG-2', title = 'Engineering Manager' "
	     "WHERE username = 'ann'");
	sqlf(fx->st, "UPDATE people SET department = 'ENG', title = 'Engineer', location = 'Paris' "
	     "WHERE username = 'bob'");
	sqlf(fx->st, "UPDATE people SET location = 'Paris' WHERE username = 'cy'");
	id = sql_int(fx->st, "SELECT id FROM people WHERE username = 'bob'");
	sqlf(fx->st, "INSERT INTO person_fields (person_id, name, value) VALUES (%lld, 'cost_centre', "
	     "'FIN')", id);
	fx_begin(fx, "2026-06-01T10:00:00Z", true);
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	EVENT(fx, ROSTERD_EV_CREATED, "bob", NULL);
	EVENT(fx, ROSTERD_EV_CREATED, "cy", NULL);
	fx_end(fx, true);
	assert_courses(fx, "ann", "LEAD:enrolled:-");
	assert_courses(fx, "bob", "FIRE:enrolled:2026-06-01");
	assert_courses(fx, "cy", "");       /* Paris, but no cost centre */
}

static void
test_pending_until_active(void **state)
{
	struct fixture *fx = *state;

	COURSE_RULES(fx, "courses = ( { code = \"SEC101\"; licences = 5; } );\n"
		     "rules = ( { everyone = true; courses = [ \"SEC101\" ]; due_days = 14; } );");
	person_add(fx->st, "ivy", "invited");
	fx_begin(fx, "2026-06-01T10:00:00Z", true);
	EVENT(fx, ROSTERD_EV_CREATED, "ivy", NULL);
	fx_end(fx, true);
	assert_courses(fx, "ivy", "SEC101:pending:2026-06-15");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM licences"), 0);
	/* the platform activates ivy; the next run enrols her */
	sqlf(fx->st, "UPDATE people SET status = 'active' WHERE username = 'ivy'");
	fx_quiet_run(fx, "2026-06-02T10:00:00Z", true);
	assert_courses(fx, "ivy", "SEC101:enrolled:2026-06-15");
	assert_rows(fx->st, "sync|enrol|SEC101: the account is active, enrolled",
		    "SELECT actor, action, detail FROM audit_log WHERE run_id = %lld", fx->run_id);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM licences WHERE released_at IS NULL"), 1);
}

static void
test_licences_run_out_and_come_back_by_archival(void **state)
{
	struct fixture *fx = *state;
	struct plugin_counts c;

	LOAD(fx, "{ name = \"course_rules\"; path = \"%s/course_rules.so\";\n"
	     "  courses = ( { code = \"TOOL\"; licences = 2; } );\n"
	     "  rules = ( { department = \"ENG\"; courses = [ \"TOOL\" ]; } ); },\n"
	     "{ name = \"archive_rules\"; path = \"%s/archive_rules.so\"; after_days = 30; }",
	     fx->pdir, fx->pdir);
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "active");
	person_add(fx->st, "cy", "active");
	sqlf(fx->st, "UPDATE people SET department = 'ENG'");
	fx_begin(fx, "2026-06-01T10:00:00Z", true);
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	EVENT(fx, ROSTERD_EV_CREATED, "bob", NULL);
	EVENT(fx, ROSTERD_EV_CREATED, "cy", NULL);
	plugins_counts(fx->h, &c);
	assert_int_equal(c.assigned, 3);
	assert_int_equal(c.waiting, 1);
	fx_end(fx, true);
	assert_courses(fx, "ann", "TOOL:enrolled:-");
	assert_courses(fx, "bob", "TOOL:enrolled:-");
	assert_courses(fx, "cy", "TOOL:waiting:-");
	assert_rows(fx->st, "TOOL: waiting for a licence: the pool is empty",
		    "SELECT detail FROM audit_log WHERE subject = 'cy'");
	/* ann started; bob never did. Both were disabled 31 days ago. */
	sqlf(fx->st, "UPDATE assignments SET status = 'in_progress', started_at = '2026-06-05T00:00:00Z' "
	     "WHERE person_id = (SELECT id FROM people WHERE username = 'ann')");
	sqlf(fx->st, "UPDATE people SET status = 'disabled', status_reason = 'missing', "
	     "status_changed_at = '2026-06-01T00:00:00Z' WHERE username IN ('ann', 'bob')");
	fx_quiet_run(fx, "2026-06-30T12:00:00Z", true);   /* 29.5 days: nobody yet */
	assert_status(fx, "ann", "disabled/missing");
	fx_begin(fx, "2026-07-02T12:00:00Z", true);
	fx_end(fx, true);
	assert_status(fx, "ann", "archived/missing");
	assert_status(fx, "bob", "archived/missing");
	/* ann keeps her started course and its licence; bob's goes to cy */
	assert_courses(fx, "ann", "TOOL:in_progress:-");
	assert_courses(fx, "bob", "TOOL:released:-");
	assert_courses(fx, "cy", "TOOL:enrolled:-");
	assert_licences_counted(fx->st);
	assert_rows(fx->st, "plugin:archive_rules|archive|ann\nplugin:archive_rules|archive|bob\n"
		    "plugin:archive_rules|enrol|cy",
		    "SELECT actor, action, subject FROM audit_log WHERE run_id = %lld ORDER BY id",
		    fx->run_id);
}

static void
test_new_rules_reach_everyone_once(void **state)
{
	struct fixture *fx = *state;

	person_add(fx->st, "ann", "active");
	person_add(fx->st, "old", "disabled");
	sqlf(fx->st, "UPDATE people SET location = 'Oslo'");
	COURSE_RULES(fx, "courses = ( { code = \"A\"; }, { code = \"B\"; } );\n"
		     "rules = ( { location = \"Oslo\"; courses = [ \"A\" ]; } );");
	/* no event at all: the new rule still reaches ann (not the disabled) */
	fx_quiet_run(fx, "2026-06-01T10:00:00Z", true);
	assert_courses(fx, "ann", "A:enrolled:-");
	assert_courses(fx, "old", "");
	/* unchanged rules: someone matching without an event is left for their event */
	person_add(fx->st, "bob", "active");
	sqlf(fx->st, "UPDATE people SET location = 'Oslo' WHERE username = 'bob'");
	fx_quiet_run(fx, "2026-06-02T10:00:00Z", true);
	assert_courses(fx, "bob", "");
	/* a rule added: everyone again */
	COURSE_RULES(fx, "courses = ( { code = \"A\"; }, { code = \"B\"; } );\n"
		     "rules = ( { location = \"Oslo\"; courses = [ \"A\" ]; },\n"
		     "  { location = \"Oslo\"; courses = [ \"B\" ]; } );");
	fx_quiet_run(fx, "2026-06-03T10:00:00Z", true);
	assert_courses(fx, "ann", "A:enrolled:- B:enrolled:-");
	assert_courses(fx, "bob", "A:enrolled:- B:enrolled:-");
	/* a dry run of a rule change keeps no trace, so the next real run does the pass */
	COURSE_RULES(fx, "courses = ( { code = \"A\"; }, { code = \"B\"; }, { code = \"C\"; } );\n"
		     "rules = ( { location = \"Oslo\"; courses = [ \"C\" ]; } );");
	fx_begin(fx, "2026-06-04T10:00:00Z", true);
	fx_end(fx, false);
	assert_courses(fx, "ann", "A:enrolled:- B:enrolled:-");
	fx_quiet_run(fx, "2026-06-05T10:00:00Z", true);
	assert_courses(fx, "ann", "A:enrolled:- B:enrolled:- C:enrolled:-");
}

static void
test_unassign_when_no_longer_matching(void **state)
{
	struct fixture *fx = *state;
	static const char *const team[] = { "ann", "bob", NULL };

	COURSE_RULES(fx, "courses = ( { code = \"X\"; licences = 1; }, { code = \"Y\"; } );\n"
		     "unassign = true;\n"
		     "rules = ( { group = \"team\"; courses = [ \"X\", \"Y\" ]; },\n"
		     "  { title = \"Boss\"; courses = [ \"Y\" ]; unassign = false; } );");
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "active");
	group_add(fx->st, "team", team);
	sqlf(fx->st, "UPDATE people SET title = 'Boss' WHERE username = 'ann'");
	fx_begin(fx, "2026-06-01T10:00:00Z", true);
	EVENT(fx, ROSTERD_EV_GROUP_JOINED, "ann", "team");
	EVENT(fx, ROSTERD_EV_GROUP_JOINED, "bob", "team");
	fx_end(fx, true);
	assert_courses(fx, "ann", "X:enrolled:- Y:enrolled:-");
	assert_courses(fx, "bob", "X:waiting:- Y:enrolled:-");
	/* bob starts Y; both leave the team */
	sqlf(fx->st, "UPDATE assignments SET status = 'in_progress', started_at = '2026-06-02T00:00:00Z' "
	     "WHERE person_id = (SELECT id FROM people WHERE username = 'bob') "
	     "AND course_id = (SELECT id FROM courses WHERE code = 'Y')");
	sqlf(fx->st, "DELETE FROM group_membership");
	fx_begin(fx, "2026-06-03T10:00:00Z", true);
	EVENT(fx, ROSTERD_EV_GROUP_LEFT, "bob", "team");
	EVENT(fx, ROSTERD_EV_GROUP_LEFT, "ann", "team");
	fx_end(fx, true);
	/* ann: X given back, Y kept (her title still gives it); its licence back */
	assert_courses(fx, "ann", "X:released:- Y:enrolled:-");
	/* bob: the waiting X given back, the started Y kept */
	assert_courses(fx, "bob", "X:released:- Y:in_progress:-");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM licences WHERE released_at IS NULL "
				 "AND course_id = (SELECT id FROM courses WHERE code = 'X')"), 0);
}

static void
test_recurring_training(void **state)
{
	struct fixture *fx = *state;

	COURSE_RULES(fx, "courses = ( { code = \"ANNUAL\"; } );\n"
		     "rules = ( { everyone = true; courses = [ \"ANNUAL\" ]; due_days = 30;\n"
		     "  recur_days = 365; } );");
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "active");
	fx_quiet_run(fx, "2025-01-10T10:00:00Z", true);
	assert_courses(fx, "ann", "ANNUAL:enrolled:2025-02-09");
	sqlf(fx->st, "UPDATE assignments SET status = 'completed', started_at = '2025-01-20T00:00:00Z', "
	     "completed_at = '2025-01-21T00:00:00Z', progress = 100");
	sqlf(fx->st, "UPDATE assignments SET completed_at = '2025-12-01T00:00:00Z' WHERE person_id = "
	     "(SELECT id FROM people WHERE username = 'bob')");
	fx_quiet_run(fx, "2026-01-15T10:00:00Z", true);
	/* ann completed 359 days ago: not yet */
	assert_courses(fx, "ann", "ANNUAL:completed:2025-02-09");
	fx_quiet_run(fx, "2026-01-22T10:00:00Z", true);
	/* 366 days: the cycle is archived, a new one due in 30 days; bob not yet */
	assert_courses(fx, "ann", "ANNUAL:archived:2025-02-09 ANNUAL:enrolled:2026-02-21");
	assert_courses(fx, "bob", "ANNUAL:completed:2025-02-09");
	assert_rows(fx->st, "1", "SELECT count(*) FROM audit_log WHERE action = 'recur' "
		    "AND actor = 'plugin:course_rules'");
	assert_status(fx, "ann", "active/-");
}

static void
test_unknown_course_does_not_stop_the_run(void **state)
{
	struct fixture *fx = *state;

	COURSE_RULES(fx, "rules = ( { everyone = true; courses = [ \"NOPE\" ]; } );");
	person_add(fx->st, "ann", "active");
	fx_begin(fx, NULL, true);
	EVENT(fx, ROSTERD_EV_CREATED, "ann", NULL);
	fx_end(fx, true);
	assert_courses(fx, "ann", "");
}

/* ---- disable_rules ------------------------------------------------------------- */

#define DISABLE_RULES(fx, body) \
	LOAD(fx, "{ name = \"disable_rules\"; path = \"%s/disable_rules.so\";\n" body " }", (fx)->pdir)

/* A complete run in which users (NULL-ended) are missing, as the sync
 * leaves the store: missing_since set when first missed, a MISSING event
 * each for those still enabled. */
static void
missing_run(struct fixture *fx, const char *now, const char *const *users)
{
	fx_begin(fx, now, true);
	for (const char *const *u = users; *u; u++) {
		sqlf(fx->st, "UPDATE people SET missing_since = '%s', missing_run = %lld "
		     "WHERE username = '%s' AND missing_since IS NULL", now, fx->run_id, *u);
		if (sql_int(fx->st, "SELECT status IN ('invited', 'active') FROM people "
			    "WHERE username = '%s'", *u))
			EVENT(fx, ROSTERD_EV_MISSING, *u, NULL);
	}
	fx_end(fx, true);
}

static void
test_grace_runs(void **state)
{
	struct fixture *fx = *state;
	static const char *const gone[] = { "ann", "svc-backup", NULL };
	struct plugin_counts c;

	DISABLE_RULES(fx, "grace_runs = 2; protected = [ \"svc-*\" ];");
	assert_true(plugins_take_disable(fx->h));
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "svc-backup", "active");
	missing_run(fx, "2026-06-01T10:00:00Z", gone);
	assert_status(fx, "ann", "active/-");        /* one run: within the grace */
	/* an incomplete run in between does not count, and disables nobody */
	fx_begin(fx, "2026-06-01T11:00:00Z", false);
	fx_end(fx, true);
	assert_status(fx, "ann", "active/-");
	fx_begin(fx, "2026-06-01T12:00:00Z", true);
	EVENT(fx, ROSTERD_EV_MISSING, "ann", NULL);
	plugins_counts(fx->h, &c);
	assert_int_equal(c.disabled, 1);
	fx_end(fx, true);
	assert_status(fx, "ann", "disabled/disable_rules");
	assert_status(fx, "svc-backup", "active/-");   /* protected */
	assert_rows(fx->st, "plugin:disable_rules|disable|active -> disabled: missing from the "
		    "directory for 2 complete runs since 2026-06-01T10:00:00Z",
		    "SELECT actor, action, detail FROM audit_log WHERE subject = 'ann'");
	assert_rows(fx->st, "disabled|ann", "SELECT kind, username FROM outbox");
	/* back: enabled again by the rule that disabled her */
	sqlf(fx->st, "UPDATE people SET missing_since = NULL WHERE username = 'ann'");
	fx_begin(fx, "2026-06-01T13:00:00Z", true);
	EVENT(fx, ROSTERD_EV_REAPPEARED, "ann", NULL);
	fx_end(fx, true);
	assert_status(fx, "ann", "active/-");
}

static void
test_grace_days_without_events(void **state)
{
	struct fixture *fx = *state;

	DISABLE_RULES(fx, "grace_days = 7;");
	person_add(fx->st, "ann", "active");
	sqlf(fx->st, "UPDATE people SET missing_since = '2026-06-01T10:00:00Z'");
	fx_quiet_run(fx, "2026-06-07T10:00:00Z", true);
	assert_status(fx, "ann", "active/-");
	/* seven days on, found by the end-of-run pass, no event needed */
	fx_quiet_run(fx, "2026-06-08T10:00:00Z", true);
	assert_status(fx, "ann", "disabled/disable_rules");
}

static void
test_directory_flag(void **state)
{
	struct fixture *fx = *state;

	DISABLE_RULES(fx, "");
	person_add(fx->st, "ann", "active");
	person_add(fx->st, "bob", "active");
	sqlf(fx->st, "UPDATE people SET dir_disabled = 1");
	/* an incomplete read takes no access away */
	fx_begin(fx, NULL, false);
	EVENT(fx, ROSTERD_EV_DIR_DISABLED, "ann", NULL);
	fx_end(fx, true);
	assert_status(fx, "ann", "active/-");
	fx_begin(fx, NULL, true);
	EVENT(fx, ROSTERD_EV_DIR_DISABLED, "ann", NULL);
	EVENT(fx, ROSTERD_EV_DIR_DISABLED, "bob", NULL);
	fx_end(fx, true);
	assert_status(fx, "ann", "disabled/disable_rules");
	/* an operator takes bob over; the flag clears for both */
	sqlf(fx->st, "UPDATE people SET status_reason = 'operator' WHERE username = 'bob'");
	sqlf(fx->st, "UPDATE people SET dir_disabled = 0");
	fx_begin(fx, NULL, false);     /* giving access back needs no complete read */
	EVENT(fx, ROSTERD_EV_REAPPEARED, "ann", "flag");
	EVENT(fx, ROSTERD_EV_REAPPEARED, "bob", "flag");
	fx_end(fx, true);
	assert_status(fx, "ann", "active/-");
	assert_status(fx, "bob", "disabled/operator");
	/* with directory_flag off, the flag is ignored */
	DISABLE_RULES(fx, "directory_flag = false; reenable = false;");
	sqlf(fx->st, "UPDATE people SET dir_disabled = 1 WHERE username = 'ann'");
	fx_begin(fx, NULL, true);
	EVENT(fx, ROSTERD_EV_DIR_DISABLED, "ann", NULL);
	fx_end(fx, true);
	assert_status(fx, "ann", "active/-");
}

static void
test_hr_status_and_end_date(void **state)
{
	struct fixture *fx = *state;
	const char *users[] = { "ann", "bob", "cy", "dee", "eve" };
	const char *ends[] = { "2026-05-31", "2026-06-01", "20260530000000Z", "someday", NULL };

	DISABLE_RULES(fx, "status_field = \"hr_status\"; status_values = [ \"Terminated\", \"leaver\" ];\n"
		      "end_date_field = \"end_date\"; protected = \"eve\";");
	for (int i = 0; i < 5; i++) {
		long long id = person_add(fx->st, users[i], "active");
		if (ends[i] != NULL)
			sqlf(fx->st, "INSERT INTO person_fields (person_id, name, value) VALUES (%lld, "
			     "'end_date', '%s')", id, ends[i]);
	}
	sqlf(fx->st, "INSERT INTO person_fields (person_id, name, value) SELECT id, 'hr_status', "
	     "'TERMINATED' FROM people WHERE username IN ('dee', 'eve')");
	sqlf(fx->st, "UPDATE person_fields SET value = '2020-01-01' WHERE name = 'end_date' "
	     "AND person_id = (SELECT id FROM people WHERE username = 'ann')");
	sqlf(fx->st, "INSERT INTO person_fields (person_id, name, value) SELECT id, 'end_date', "
	     "'2020-01-01' FROM people WHERE username = 'eve'");
	/* no events: the end-of-run pass finds the end dates */
	fx_quiet_run(fx, "2026-06-01T10:00:00Z", true);
	assert_status(fx, "ann", "disabled/disable_rules");      /* 2020-01-01 */
	assert_status(fx, "bob", "active/-");                    /* today: still employed */
	assert_status(fx, "cy", "disabled/disable_rules");       /* GeneralizedTime */
	assert_status(fx, "eve", "active/-");                    /* protected */
	/* dee's HR status arrives as an update */
	fx_begin(fx, "2026-06-01T11:00:00Z", true);
	EVENT(fx, ROSTERD_EV_UPDATED, "dee", "fields");
	EVENT(fx, ROSTERD_EV_UPDATED, "eve", "fields");
	fx_end(fx, true);
	assert_status(fx, "dee", "disabled/disable_rules");
	assert_status(fx, "eve", "active/-");
	assert_rows(fx->st, "ann|active -> disabled: end_date 2020-01-01 has passed\n"
		    "cy|active -> disabled: end_date 20260530000000Z has passed\n"
		    "dee|active -> disabled: hr_status is \"TERMINATED\"",
		    "SELECT subject, detail FROM audit_log WHERE action = 'disable' ORDER BY subject");
	/* the day after, bob's end date has passed too */
	fx_quiet_run(fx, "2026-06-02T00:00:01Z", true);
	assert_status(fx, "bob", "disabled/disable_rules");
	/* HR corrects ann's end date: she comes back */
	sqlf(fx->st, "UPDATE person_fields SET value = '2027-01-01' WHERE name = 'end_date' "
	     "AND person_id = (SELECT id FROM people WHERE username = 'ann')");
	fx_begin(fx, "2026-06-02T10:00:00Z", true);
	EVENT(fx, ROSTERD_EV_UPDATED, "ann", "fields");
	fx_end(fx, true);
	assert_status(fx, "ann", "active/-");
}

/* ---- archive_rules -------------------------------------------------------------- */

static void
test_archive_after_days(void **state)
{
	struct fixture *fx = *state;
	struct plugin_counts c;

	LOAD(fx, "{ name = \"archive_rules\"; path = \"%s/archive_rules.so\"; after_days = 90;\n"
	     "  reasons = [ \"missing\", \"disable_rules\" ]; protected = \"keep-*\"; }", fx->pdir);
	assert_false(plugins_take_disable(fx->h));
	person_add(fx->st, "old", "disabled");
	person_add(fx->st, "new", "disabled");
	person_add(fx->st, "op", "disabled");
	person_add(fx->st, "keep-me", "disabled");
	person_add(fx->st, "act", "active");
	sqlf(fx->st, "UPDATE people SET status_reason = 'missing', "
	     "status_changed_at = '2026-01-01T00:00:00Z'");
	sqlf(fx->st, "UPDATE people SET status_changed_at = '2026-05-01T00:00:00Z' WHERE username = 'new'");
	sqlf(fx->st, "UPDATE people SET status_reason = 'operator' WHERE username = 'op'");
	sqlf(fx->st, "UPDATE people SET status_reason = NULL WHERE username = 'act'");
	/* an incomplete run archives no one */
	fx_quiet_run(fx, "2026-06-01T10:00:00Z", false);
	assert_status(fx, "old", "disabled/missing");
	fx_begin(fx, "2026-06-01T10:00:00Z", true);
	assert_int_equal(plugins_run_end(fx->h), 0);
	plugins_counts(fx->h, &c);
	assert_int_equal(c.archived, 1);
	assert_int_equal(store_commit(fx->st), 0);
	plugins_end(fx->h);
	assert_status(fx, "old", "archived/missing");
	assert_status(fx, "new", "disabled/missing");     /* 31 days */
	assert_status(fx, "op", "disabled/operator");     /* not a listed reason */
	assert_status(fx, "keep-me", "disabled/missing"); /* protected */
	assert_status(fx, "act", "active/-");
	assert_rows(fx->st, "plugin:archive_rules|disabled -> archived: disabled (missing) since "
		    "2026-01-01T00:00:00Z, more than 90 days",
		    "SELECT actor, detail FROM audit_log WHERE action = 'archive'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rule_by_nested_group, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_group_events_once_per_run, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rule_by_attributes_and_field, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pending_until_active, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_licences_run_out_and_come_back_by_archival,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_new_rules_reach_everyone_once, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unassign_when_no_longer_matching, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_recurring_training, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_course_does_not_stop_the_run, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_grace_runs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_grace_days_without_events, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_directory_flag, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hr_status_and_end_date, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_archive_after_days, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
