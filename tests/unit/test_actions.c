/*
 * test_actions.c: the actions plugins and operators share, on a real store:
 * the account states, pending-until-active, licence pools that run dry and
 * refill, archival releasing only never-started assignments, recurring
 * training, unassign, remove, custom fields, courses; access that expires
 * (when, what it releases, who is told, who may assign again), finished
 * training archived and assigned again, roles pinned and given back; every
 * change audited.
 */
#include "storefix.h"

#define NOW "2026-06-01T10:00:00Z"

struct fixture {
	char *dir;
	struct store *st;
	struct act *a;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->dir = tmpdir_make();
	fx->st = store_fresh(fx->dir);
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(act_new(fx->st, NOW, 0, &fx->a), 0);
	act_set_actor(fx->a, "operator:root");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	act_free(fx->a);
	store_rollback(fx->st);
	store_close(fx->st);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static void
test_needs_transaction(void **state)
{
	struct fixture *fx = *state;
	struct act *a = NULL;

	store_rollback(fx->st);
	assert_int_equal(act_new(fx->st, NOW, 0, &a), -EINVAL);
	assert_null(a);
	assert_int_equal(store_begin(fx->st), 0);
}

static void
test_pending_until_active(void **state)
{
	struct fixture *fx = *state;
	long long alice = person_add(fx->st, "alice", "invited");
	struct act_counts c;

	course_add(fx->st, "SEC101", -1);
	act_set_actor(fx->a, "plugin:course_rules");
	assert_int_equal(act_assign(fx->a, alice, "SEC101", "2026-07-01", 0), 0);
	assert_non_null(strstr(act_message(fx->a), "pending until the account is active"));
	assert_rows(fx->st, "pending|plugin:course_rules|2026-07-01",
		    "SELECT status, source, due FROM assignments");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM licences"), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM outbox"), 0);
	assert_rows(fx->st, "plugin:course_rules|assign|alice|SEC101 due 2026-07-01: pending until "
		    "the account is active", "SELECT actor, action, subject, detail FROM audit_log");
	/* the same assignment again is no change */
	assert_int_equal(act_assign(fx->a, alice, "SEC101", "2026-07-01", 0), ACT_NOCHANGE);

	act_set_actor(fx->a, "operator:root");
	assert_int_equal(act_status(fx->a, alice, ACT_VERIFY, NULL), 0);
	assert_rows(fx->st, "active", "SELECT status FROM people");
	assert_rows(fx->st, "enrolled", "SELECT status FROM assignments");
	assert_rows(fx->st, "1|" NOW, "SELECT course_id, granted_at FROM licences "
		    "WHERE released_at IS NULL");
	assert_rows(fx->st, "assigned|alice|alice@example.com|SEC101|2026-07-01|operator:root",
		    "SELECT kind, username, email, course, due, source FROM outbox");
	assert_rows(fx->st, "verify|invited -> active\nenrol|SEC101: the account is active, enrolled",
		    "SELECT action, detail FROM audit_log WHERE actor = 'operator:root' ORDER BY id");
	act_counts(fx->a, &c);
	assert_int_equal(c.assigned, 1);
	assert_int_equal(c.granted, 1);
	assert_int_equal(act_status(fx->a, alice, ACT_VERIFY, NULL), ACT_NOCHANGE);
}

static void
test_licence_pool_runs_dry_and_refills(void **state)
{
	struct fixture *fx = *state;
	long long ann = person_add(fx->st, "ann", "active");
	long long bob = person_add(fx->st, "bob", "active");
	long long cy = person_add(fx->st, "cy", "active");
	struct act_counts c;

	course_add(fx->st, "LIM", 1);
	assert_int_equal(act_assign(fx->a, ann, "LIM", NULL, 0), 0);
	assert_int_equal(act_assign(fx->a, bob, "LIM", NULL, 0), 0);
	assert_non_null(strstr(act_message(fx->a), "waiting for a licence"));
	assert_int_equal(act_assign(fx->a, cy, "LIM", NULL, 0), 0);
	assert_rows(fx->st, "ann|enrolled\nbob|waiting\ncy|waiting",
		    "SELECT p.username, a.status FROM assignments a JOIN people p ON p.id = a.person_id "
		    "ORDER BY p.username");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM licences WHERE released_at IS NULL"), 1);
	act_counts(fx->a, &c);
	assert_int_equal(c.waiting, 2);

	/* ann leaves: disabled keeps her licence, archived gives it back to bob,
	 * who waited longest */
	assert_int_equal(act_status(fx->a, ann, ACT_DISABLE, "left"), 0);
	assert_rows(fx->st, "ann|enrolled\nbob|waiting\ncy|waiting",
		    "SELECT p.username, a.status FROM assignments a JOIN people p ON p.id = a.person_id "
		    "ORDER BY p.username");
	assert_int_equal(act_status(fx->a, ann, ACT_ARCHIVE, NULL), 0);
	assert_rows(fx->st, "ann|released\nbob|enrolled\ncy|waiting",
		    "SELECT p.username, a.status FROM assignments a JOIN people p ON p.id = a.person_id "
		    "ORDER BY p.username");
	assert_rows(fx->st, "ann|" NOW "\nbob|", "SELECT p.username, l.released_at FROM licences l "
		    "JOIN assignments a ON a.id = l.assignment_id JOIN people p ON p.id = a.person_id "
		    "ORDER BY l.id");
	assert_rows(fx->st, "disabled|ann\nassigned|bob",
		    "SELECT kind, username FROM outbox WHERE kind <> 'assigned' OR username = 'bob' "
		    "ORDER BY id");
	assert_rows(fx->st, "archive|ann|disabled -> archived; released, never started: LIM\n"
		    "enrol|bob|LIM: a licence came back, enrolled",
		    "SELECT action, subject, detail FROM audit_log WHERE action IN ('archive', 'enrol') "
		    "ORDER BY id");
	/* raising the limit lets cy in */
	assert_int_equal(act_course_define(fx->a, "LIM", "Course LIM", 2, true), 0);
	assert_rows(fx->st, "enrolled", "SELECT status FROM assignments WHERE person_id = %lld", cy);
	/* a limit of 0 takes no licence back from anyone */
	assert_int_equal(act_course_define(fx->a, "LIM", "Course LIM", 0, true), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM licences WHERE released_at IS NULL"), 2);
	assert_rows(fx->st, "2", "SELECT licences_in_use FROM courses WHERE code = 'LIM'");
	assert_licences_counted(fx->st);
}

static void
test_archive_keeps_training_records(void **state)
{
	struct fixture *fx = *state;
	long long dee = person_add(fx->st, "dee", "active");
	const char *before;
	char *kept;

	course_add(fx->st, "A", -1);
	course_add(fx->st, "B", -1);
	course_add(fx->st, "C", -1);
	assert_int_equal(act_assign(fx->a, dee, "A", NULL, 0), 0);
	assert_int_equal(act_assign(fx->a, dee, "B", NULL, 0), 0);
	assert_int_equal(act_assign(fx->a, dee, "C", NULL, 0), 0);
	/* the platform records progress */
	sqlf(fx->st, "UPDATE assignments SET status = 'in_progress', started_at = '2026-05-01T00:00:00Z', "
	     "progress = 40 WHERE course_id = (SELECT id FROM courses WHERE code = 'B')");
	sqlf(fx->st, "UPDATE assignments SET status = 'completed', started_at = '2026-04-01T00:00:00Z', "
	     "completed_at = '2026-04-02T00:00:00Z', progress = 100 "
	     "WHERE course_id = (SELECT id FROM courses WHERE code = 'C')");
	before = sql_rows(fx->st, "SELECT * FROM assignments WHERE status IN ('in_progress', 'completed') "
			  "ORDER BY id");
	kept = strdup(before);
	assert_int_equal(act_status(fx->a, dee, ACT_DISABLE, NULL), 0);
	assert_int_equal(act_status(fx->a, dee, ACT_ARCHIVE, "gone"), 0);
	assert_rows(fx->st, kept, "SELECT * FROM assignments WHERE status IN ('in_progress', 'completed') "
		    "ORDER BY id");
	assert_rows(fx->st, "A|released|" NOW, "SELECT c.code, a.status, a.ended_at FROM assignments a "
		    "JOIN courses c ON c.id = a.course_id WHERE a.status NOT IN ('in_progress', 'completed')");
	/* B and C still hold their licences */
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM licences WHERE released_at IS NULL"), 2);
	free(kept);
	assert_int_equal(act_status(fx->a, dee, ACT_ARCHIVE, NULL), ACT_NOCHANGE);
}

static void
test_unassign(void **state)
{
	struct fixture *fx = *state;
	long long eve = person_add(fx->st, "eve", "active");
	long long fay = person_add(fx->st, "fay", "active");

	course_add(fx->st, "X", 1);
	assert_int_equal(act_assign(fx->a, eve, "X", NULL, 0), 0);
	assert_int_equal(act_assign(fx->a, fay, "X", NULL, 0), 0);
	/* a plugin leaves alone what an operator assigned */
	act_set_actor(fx->a, "plugin:course_rules");
	assert_int_equal(act_unassign(fx->a, eve, "X", true), ACT_NOCHANGE);
	assert_non_null(strstr(act_message(fx->a), "assigned by operator:root"));
	act_set_actor(fx->a, "operator:root");
	assert_int_equal(act_unassign(fx->a, eve, "X", false), 0);
	assert_rows(fx->st, "eve|released\nfay|enrolled",
		    "SELECT p.username, a.status FROM assignments a JOIN people p ON p.id = a.person_id "
		    "ORDER BY p.username");
	assert_int_equal(act_unassign(fx->a, eve, "X", false), ACT_NOCHANGE);
	/* started: kept */
	sqlf(fx->st, "UPDATE assignments SET status = 'in_progress', started_at = '%s' "
	     "WHERE person_id = %lld", NOW, fay);
	assert_int_equal(act_unassign(fx->a, fay, "X", false), -EBUSY);
	assert_rows(fx->st, "in_progress", "SELECT status FROM assignments WHERE person_id = %lld", fay);
	assert_int_equal(act_unassign(fx->a, fay, "NOPE", false), -ENOENT);
	assert_licences_counted(fx->st);
	/* a released assignment does not block a new one */
	assert_int_equal(act_assign(fx->a, eve, "X", NULL, 0), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM assignments WHERE person_id = %lld", eve), 2);
}

static void
test_recurring(void **state)
{
	struct fixture *fx = *state;
	long long gus = person_add(fx->st, "gus", "active");
	long long hal = person_add(fx->st, "hal", "active");

	course_add(fx->st, "ANNUAL", -1);
	assert_int_equal(act_assign(fx->a, gus, "ANNUAL", "2025-06-01", 365), 0);
	assert_int_equal(act_assign(fx->a, hal, "ANNUAL", "2025-06-01", 365), 0);
	sqlf(fx->st, "UPDATE assignments SET status = 'completed', started_at = '2025-04-01T00:00:00Z', "
	     "completed_at = '2025-05-01T00:00:00Z' WHERE person_id = %lld", gus);
	sqlf(fx->st, "UPDATE assignments SET status = 'completed', started_at = '2026-04-01T00:00:00Z', "
	     "completed_at = '2026-05-01T00:00:00Z' WHERE person_id = %lld", hal);
	/* gus completed 396 days ago: a new cycle; hal 31 days ago: nothing */
	assert_int_equal(act_assign(fx->a, gus, "ANNUAL", "2026-07-01", 365), 0);
	assert_int_equal(act_assign(fx->a, hal, "ANNUAL", "2026-07-01", 365), ACT_NOCHANGE);
	assert_rows(fx->st, "archived|2025-05-01T00:00:00Z|2025-06-01\nenrolled||2026-07-01",
		    "SELECT status, completed_at, due FROM assignments WHERE person_id = %lld ORDER BY id", gus);
	assert_rows(fx->st, "recur|ANNUAL: completed 396 days ago, every 365 days: cycle archived",
		    "SELECT action, detail FROM audit_log WHERE action = 'recur'");
	/* without recur_days a completed course stays done */
	assert_int_equal(act_assign(fx->a, hal, "ANNUAL", NULL, 0), ACT_NOCHANGE);
	assert_int_equal(act_assign(fx->a, gus, "ANNUAL", "2026-13-01", 0), -EINVAL);
}

static void
test_state_machine(void **state)
{
	struct fixture *fx = *state;
	long long ivy = person_add(fx->st, "ivy", "invited");
	long long jon = person_add(fx->st, "jon", "active");

	assert_int_equal(act_status(fx->a, ivy, ACT_INVITE, NULL), 0);
	assert_rows(fx->st, "invite|ivy", "SELECT kind, username FROM outbox");
	assert_int_equal(act_status(fx->a, jon, ACT_INVITE, NULL), -EINVAL);
	assert_int_equal(act_status(fx->a, jon, ACT_ARCHIVE, NULL), -EINVAL);
	assert_non_null(strstr(act_message(fx->a), "disable it first"));
	assert_int_equal(act_status(fx->a, jon, ACT_RESTORE, NULL), -EINVAL);

	/* a rule disables; an operator's disable takes it over; the rule can
	 * then no longer enable */
	act_set_actor(fx->a, "plugin:disable_rules");
	assert_int_equal(act_status(fx->a, jon, ACT_DISABLE, "HR status leaver"), 0);
	assert_rows(fx->st, "disabled|disable_rules|active", "SELECT status, status_reason, prev_status "
		    "FROM people WHERE id = %lld", jon);
	assert_int_equal(act_status(fx->a, jon, ACT_DISABLE, NULL), ACT_NOCHANGE);
	act_set_actor(fx->a, "operator:root");
	assert_int_equal(act_status(fx->a, jon, ACT_DISABLE, NULL), 0);
	assert_rows(fx->st, "disabled|operator|active", "SELECT status, status_reason, prev_status "
		    "FROM people WHERE id = %lld", jon);
	act_set_actor(fx->a, "plugin:disable_rules");
	assert_int_equal(act_status(fx->a, jon, ACT_ENABLE, NULL), -EPERM);
	act_set_actor(fx->a, "operator:root");
	assert_int_equal(act_status(fx->a, jon, ACT_ENABLE, NULL), 0);
	assert_rows(fx->st, "active|", "SELECT status, status_reason FROM people WHERE id = %lld", jon);
	assert_int_equal(act_status(fx->a, jon, ACT_ENABLE, NULL), ACT_NOCHANGE);

	/* archive, then restore: present in the directory -> the old status */
	assert_int_equal(act_status(fx->a, jon, ACT_DISABLE, NULL), 0);
	assert_int_equal(act_status(fx->a, jon, ACT_ARCHIVE, NULL), 0);
	assert_int_equal(act_status(fx->a, jon, ACT_ENABLE, NULL), -EINVAL);
	assert_int_equal(act_status(fx->a, jon, ACT_DISABLE, NULL), ACT_NOCHANGE);
	assert_int_equal(act_status(fx->a, jon, ACT_RESTORE, NULL), 0);
	assert_rows(fx->st, "active|", "SELECT status, status_reason FROM people WHERE id = %lld", jon);
	/* missing from the directory -> disabled as missing, which the sync undoes */
	assert_int_equal(act_status(fx->a, ivy, ACT_DISABLE, NULL), 0);
	assert_int_equal(act_status(fx->a, ivy, ACT_ARCHIVE, NULL), 0);
	sqlf(fx->st, "UPDATE people SET missing_since = '%s' WHERE id = %lld", NOW, ivy);
	assert_int_equal(act_status(fx->a, ivy, ACT_RESTORE, NULL), 0);
	assert_rows(fx->st, "disabled|missing|invited", "SELECT status, status_reason, prev_status "
		    "FROM people WHERE id = %lld", ivy);
	assert_rows(fx->st, "invite\ndisable\ndisable\nenable\ndisable\narchive\nrestore\n"
		    "disable\narchive\nrestore", "SELECT action FROM audit_log ORDER BY id");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log WHERE run_id IS NOT NULL"), 0);
}

static void
test_remove(void **state)
{
	struct fixture *fx = *state;
	long long kim = person_add(fx->st, "kim", "active");
	long long lou = person_add(fx->st, "lou", "active");
	long long id;

	course_add(fx->st, "ONE", 1);
	assert_int_equal(act_assign(fx->a, kim, "ONE", NULL, 0), 0);
	assert_int_equal(act_assign(fx->a, lou, "ONE", NULL, 0), 0);
	assert_int_equal(act_set_field(fx->a, kim, "badge", "7"), 0);
	act_set_actor(fx->a, "plugin:archive_rules");
	assert_int_equal(act_remove(fx->a, kim), -EPERM);
	act_set_actor(fx->a, "operator:root");
	assert_int_equal(act_remove(fx->a, kim), 0);
	assert_int_equal(act_find_person(fx->a, "kim", &id), -ENOENT);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM person_fields"), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM outbox WHERE username = 'kim'"), 0);
	/* the audit trail stays, detached from the purged row */
	assert_rows(fx->st, "|kim|purged (was active) with 1 assignment",
		    "SELECT person_id, subject, detail FROM audit_log WHERE action = 'remove'");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log WHERE subject = 'kim' "
				 "AND person_id IS NOT NULL"), 0);
	/* kim's licence went to lou */
	assert_rows(fx->st, "enrolled", "SELECT status FROM assignments WHERE person_id = %lld", lou);
	assert_rows(fx->st, "1", "SELECT licences_in_use FROM courses WHERE code = 'ONE'");
	assert_licences_counted(fx->st);
}

static void
test_fields(void **state)
{
	struct fixture *fx = *state;
	long long max = person_add(fx->st, "max", "active");

	sqlf(fx->st, "INSERT INTO person_fields (person_id, name, value) VALUES (%lld, 'cost_centre', "
	     "'ENG')", max);
	assert_int_equal(act_set_field(fx->a, max, "cost_centre", "OPS"), -EPERM);
	assert_int_equal(act_set_field(fx->a, max, "Bad-Name", "x"), -EINVAL);
	assert_int_equal(act_set_field(fx->a, max, "onboarding", "started"), 0);
	assert_int_equal(act_set_field(fx->a, max, "onboarding", "started"), ACT_NOCHANGE);
	assert_rows(fx->st, "cost_centre|ENG|\nonboarding|started|operator:root",
		    "SELECT name, value, source FROM person_fields ORDER BY name");
	assert_int_equal(act_set_field(fx->a, max, "onboarding", NULL), 0);
	assert_int_equal(act_set_field(fx->a, max, "onboarding", NULL), ACT_NOCHANGE);
	assert_rows(fx->st, "set-field|onboarding = \"started\"\nset-field|onboarding = (none)",
		    "SELECT action, detail FROM audit_log ORDER BY id");
	assert_int_equal(act_notify(fx->a, max, "welcome", "hello"), 0);
	assert_int_equal(act_notify(fx->a, max, "Not A Kind", NULL), -EINVAL);
	assert_rows(fx->st, "welcome|max|hello", "SELECT kind, username, message FROM outbox");
}

/* One sync of one person with a cost_centre custom field, as sync.c does it. */
static void
sync_one(struct store *st, const char *cost_centre)
{
	static const char *const cname[] = { "cost_centre" };
	const char *cval[] = { cost_centre };
	struct person_rec pr = {
		.dir_id = "id-oli", .dn = "uid=oli,dc=x", .dn_norm = "uid=oli,dc=x",
		.ncustom = 1, .custom_name = cname, .custom_value = cval,
	};
	struct recon_opts o = { .now = NOW, .complete = true };
	struct plan_counts c;
	struct recon *rc = NULL;

	pr.field[F_USERNAME] = "oli";
	assert_int_equal(recon_stage_begin(st, &rc), 0);
	assert_int_equal(recon_stage_person(rc, &pr), 0);
	assert_int_equal(recon_stage_end(rc), 0);
	assert_int_equal(store_run_start(st, NOW, &o.run_id), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(recon_plan(rc, &o, &c), 0);
	assert_int_equal(recon_apply(rc, &o), 0);
	assert_int_equal(store_commit(st), 0);
	recon_free(rc);
}

static void
test_fields_survive_sync(void **state)
{
	struct fixture *fx = *state;
	long long oli;

	act_free(fx->a);
	fx->a = NULL;
	assert_int_equal(store_commit(fx->st), 0);
	sync_one(fx->st, "C1");
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(act_new(fx->st, NOW, 0, &fx->a), 0);
	act_set_actor(fx->a, "plugin:sample");
	assert_int_equal(act_find_person(fx->a, "oli", &oli), 0);
	assert_int_equal(act_set_field(fx->a, oli, "badge", "B7"), 0);
	act_free(fx->a);
	fx->a = NULL;
	assert_int_equal(store_commit(fx->st), 0);
	/* the directory changes its field: the plugin's stays */
	sync_one(fx->st, "C2");
	assert_rows(fx->st, "badge|B7|plugin:sample\ncost_centre|C2|",
		    "SELECT name, value, source FROM person_fields ORDER BY name");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log WHERE action = 'update'"), 1);
	/* and a sync that changes nothing sees no change in the plugin's field */
	sync_one(fx->st, "C2");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log WHERE action = 'update'"), 1);
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(act_new(fx->st, NOW, 0, &fx->a), 0);
}

static void
test_courses_and_settle(void **state)
{
	struct fixture *fx = *state;
	long long ned = person_add(fx->st, "ned", "invited");
	long long id;

	assert_int_equal(act_course_define(fx->a, "bad code", NULL, -1, false), -EINVAL);
	assert_int_equal(act_course_define(fx->a, "NEW", "New course", 1, false), 0);
	assert_int_equal(act_course_define(fx->a, "NEW", "New course", 1, false), -EEXIST);
	assert_int_equal(act_course_define(fx->a, "NEW", "New course", 1, true), ACT_NOCHANGE);
	assert_rows(fx->st, "NEW|New course|1|operator:root",
		    "SELECT code, title, licence_limit, source FROM courses");
	assert_int_equal(act_assign(fx->a, ned, "NOPE", NULL, 0), -ENOENT);
	assert_int_equal(act_assign(fx->a, ned, "NEW", NULL, 0), 0);
	/* the platform activates ned behind rosterd's back; settling enrols */
	sqlf(fx->st, "UPDATE people SET status = 'active' WHERE id = %lld", ned);
	assert_int_equal(act_settle(fx->a), 0);
	assert_rows(fx->st, "enrolled", "SELECT status FROM assignments");
	assert_int_equal(act_find_person(fx->a, "NED", &id), 0);
	assert_int_equal(id, ned);
}

static void
test_dates(void **state)
{
	(void)state;
	assert_true(act_date_ok("2026-02-28"));
	assert_true(act_date_ok("2028-02-29"));
	assert_false(act_date_ok("2026-02-29"));
	assert_false(act_date_ok("2026-13-01"));
	assert_false(act_date_ok("2026-1-01"));
	assert_false(act_date_ok("+026-01-01"));
	assert_false(act_date_ok("2026-01-01x"));
	assert_false(act_date_ok(""));
	assert_true(act_code_ok("SEC-101.v2"));
	assert_false(act_code_ok("SEC 101"));
}

/* The status of person's assignments, oldest first, comma-separated. */
#define statuses(fx, person) \
	sql_rows((fx)->st, "SELECT group_concat(status) FROM (SELECT status FROM assignments " \
		 "WHERE person_id = %lld ORDER BY id)", (person))

static void
test_assign_until(void **state)
{
	struct fixture *fx = *state;
	long long ann = person_add(fx->st, "ann", "active");

	course_add(fx->st, "C", -1);
	assert_int_equal(act_assign_until(fx->a, ann, "C", NULL, "2026-05-31", 0), -EINVAL);
	assert_string_equal(act_message(fx->a), "access cannot end on 2026-05-31: that day has passed");
	assert_int_equal(act_assign_until(fx->a, ann, "C", NULL, "2026-06-31", 0), -EINVAL);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM assignments"), 0);
	/* the last day of access may be today */
	assert_int_equal(act_assign_until(fx->a, ann, "C", "2026-06-20", "2026-06-01", 0), 0);
	assert_string_equal(act_message(fx->a), "ann: C due 2026-06-20, access until 2026-06-01: enrolled");
	assert_rows(fx->st, "enrolled|2026-06-20|2026-06-01", "SELECT status, due, expires FROM assignments");
	assert_int_equal(act_expire(fx->a, NULL), ACT_NOCHANGE);
	assert_rows(fx->st, "enrolled", "SELECT status FROM assignments");
}

static void
test_expire(void **state)
{
	struct fixture *fx = *state;
	long long ann = person_add(fx->st, "ann", "active");
	long long bob = person_add(fx->st, "bob", "active");
	long long cy = person_add(fx->st, "cy", "active");
	long long dee = person_add(fx->st, "dee", "invited");
	long long n = -1;
	struct act_counts c;
	struct act *run = NULL;

	/* a sync run expires: its own handle, with the run's id */
	sqlf(fx->st, "INSERT INTO sync_runs (id, started_at, outcome) VALUES (7, '%s', 'running')", NOW);
	assert_int_equal(act_new(fx->st, NOW, 7, &run), 0);
	act_set_actor(run, "sync");
	course_add(fx->st, "LIM", 1);
	course_add(fx->st, "FREE", -1);
	assert_int_equal(act_assign_until(fx->a, ann, "LIM", "2026-06-10", "2026-06-30", 0), 0);
	assert_int_equal(act_assign(fx->a, bob, "LIM", NULL, 0), 0);
	assert_int_equal(act_assign_until(fx->a, cy, "FREE", NULL, "2026-06-30", 0), 0);
	assert_int_equal(act_assign_until(fx->a, dee, "FREE", NULL, "2026-06-30", 0), 0);
	assert_int_equal(act_assign_until(fx->a, bob, "FREE", NULL, "2026-06-30", 0), 0);
	assert_string_equal(statuses(fx, dee), "pending");
	/* cy has started; bob has completed FREE; all three ended on 2026-05-31 */
	sqlf(fx->st, "UPDATE assignments SET status = 'in_progress', started_at = '%s' "
	     "WHERE person_id = %lld", NOW, cy);
	sqlf(fx->st, "UPDATE assignments SET status = 'completed', completed_at = '%s' "
	     "WHERE person_id = %lld AND course_id = (SELECT id FROM courses WHERE code = 'FREE')",
	     NOW, bob);
	sqlf(fx->st, "UPDATE assignments SET expires = '2026-05-31' WHERE expires IS NOT NULL");
	assert_int_equal(act_expire(run, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(statuses(fx, ann), "expired");
	assert_string_equal(statuses(fx, bob), "enrolled,completed");   /* got ann's licence */
	assert_string_equal(statuses(fx, cy), "expired");
	assert_string_equal(statuses(fx, dee), "expired");
	assert_rows(fx->st, "expired|" NOW, "SELECT status, ended_at FROM assignments WHERE person_id = %lld", ann);
	/* ann's never-started licence went back and on to bob; cy keeps hers */
	assert_rows(fx->st, "ann|LIM|" NOW "\ncy|FREE|\nbob|FREE|\nbob|LIM|",
		    "SELECT p.username, c.code, l.released_at FROM licences l JOIN assignments a "
		    "ON a.id = l.assignment_id JOIN people p ON p.id = a.person_id JOIN courses c "
		    "ON c.id = a.course_id ORDER BY l.id");
	assert_licences_counted(fx->st);
	assert_rows(fx->st,
		    "sync|7|ann|LIM: access ended 2026-05-31 (was enrolled): never started, released\n"
		    "sync|7|cy|FREE: access ended 2026-05-31 (was in_progress): its record kept\n"
		    "sync|7|dee|FREE: access ended 2026-05-31 (was pending): never started, released",
		    "SELECT actor, run_id, subject, detail FROM audit_log WHERE action = 'expire' ORDER BY id");
	assert_rows(fx->st, "ann|LIM|2026-06-10|access ended 2026-05-31|7\ncy|FREE||access ended "
		    "2026-05-31|7\ndee|FREE||access ended 2026-05-31|7",
		    "SELECT username, course, due, message, run_id FROM outbox WHERE kind = 'expired' "
		    "ORDER BY id");
	act_counts(run, &c);
	assert_int_equal(c.expired, 3);
	assert_int_equal(act_expire(run, &n), ACT_NOCHANGE);
	assert_int_equal(n, 0);
	act_free(run);
}

static void
test_rules_do_not_assign_again(void **state)
{
	struct fixture *fx = *state;
	long long ann = person_add(fx->st, "ann", "active");

	course_add(fx->st, "C", -1);
	act_set_actor(fx->a, "plugin:course_rules");
	assert_int_equal(act_assign_until(fx->a, ann, "C", NULL, "2026-06-30", 0), 0);
	/* released (unassigned): a rule assigns again */
	assert_int_equal(act_unassign(fx->a, ann, "C", true), 0);
	assert_int_equal(act_assign_until(fx->a, ann, "C", NULL, "2026-06-30", 0), 0);
	assert_string_equal(statuses(fx, ann), "released,enrolled");
	/* expired: it does not, an operator does */
	sqlf(fx->st, "UPDATE assignments SET expires = '2026-05-01' WHERE status = 'enrolled'");
	assert_int_equal(act_expire(fx->a, NULL), 0);
	assert_int_equal(act_assign_until(fx->a, ann, "C", NULL, "2026-07-30", 0), ACT_NOCHANGE);
	assert_string_equal(act_message(fx->a), "ann: access to C expired: only an operator assigns it again");
	assert_int_equal(act_assign(fx->a, ann, "C", NULL, 0), ACT_NOCHANGE);
	assert_string_equal(statuses(fx, ann), "released,expired");
	act_set_actor(fx->a, "operator:root");
	assert_int_equal(act_assign(fx->a, ann, "C", NULL, 0), 0);
	assert_string_equal(statuses(fx, ann), "released,expired,enrolled");
}

static void
test_set_expiry(void **state)
{
	struct fixture *fx = *state;
	long long ann = person_add(fx->st, "ann", "active");
	long long bob = person_add(fx->st, "bob", "active");

	course_add(fx->st, "C", -1);
	assert_int_equal(act_assign(fx->a, ann, "C", NULL, 0), 0);
	assert_int_equal(act_set_expiry(fx->a, ann, "C", "2026-12-31"), 0);
	assert_string_equal(act_message(fx->a), "ann: C: access until 2026-12-31 (was no end)");
	assert_int_equal(act_set_expiry(fx->a, ann, "C", "2026-12-31"), ACT_NOCHANGE);
	assert_int_equal(act_set_expiry(fx->a, ann, "C", NULL), 0);
	assert_rows(fx->st, "operator:root|expiry|C: access until 2026-12-31 (was no end)\n"
		    "operator:root|expiry|C: access until no end (was 2026-12-31)",
		    "SELECT actor, action, detail FROM audit_log WHERE action = 'expiry' ORDER BY id");
	assert_rows(fx->st, "", "SELECT expires FROM assignments");
	assert_int_equal(act_set_expiry(fx->a, ann, "C", "2026-02-30"), -EINVAL);
	assert_int_equal(act_set_expiry(fx->a, bob, "C", "2026-12-31"), -ENOENT);
	assert_int_equal(act_set_expiry(fx->a, ann, "NOPE", "2026-12-31"), -ENOENT);
	/* a day past: expired now */
	assert_int_equal(act_set_expiry(fx->a, ann, "C", "2026-05-01"), 0);
	assert_string_equal(act_message(fx->a), "ann: C: access until 2026-05-01 (was no end): the "
			    "day has passed, expired");
	assert_string_equal(statuses(fx, ann), "expired");
	assert_int_equal(act_set_expiry(fx->a, ann, "C", "2026-12-31"), -ENOENT);
	/* completed training keeps its access */
	assert_int_equal(act_assign(fx->a, bob, "C", NULL, 0), 0);
	sqlf(fx->st, "UPDATE assignments SET status = 'completed' WHERE person_id = %lld", bob);
	assert_int_equal(act_set_expiry(fx->a, bob, "C", "2026-12-31"), -EINVAL);
}

static void
test_archive_assignment(void **state)
{
	struct fixture *fx = *state;
	long long ann = person_add(fx->st, "ann", "active");

	course_add(fx->st, "C", 5);
	assert_int_equal(act_archive_assignment(fx->a, ann, "C", false, NULL, NULL), -ENOENT);
	assert_int_equal(act_assign(fx->a, ann, "C", "2026-06-10", 0), 0);
	assert_int_equal(act_archive_assignment(fx->a, ann, "C", false, NULL, NULL), -EINVAL);
	assert_string_equal(act_message(fx->a), "ann: C is enrolled: only completed training is archived");
	sqlf(fx->st, "UPDATE assignments SET status = 'completed', completed_at = '%s'", NOW);
	assert_int_equal(act_archive_assignment(fx->a, ann, "C", false, NULL, NULL), 0);
	assert_string_equal(act_message(fx->a), "ann: C: completed, archived (kept in the history)");
	assert_rows(fx->st, "archived|" NOW "|" NOW, "SELECT status, completed_at, ended_at FROM assignments");
	assert_rows(fx->st, "active", "SELECT status FROM people");
	assert_rows(fx->st, "assignment-archive|ann|C: completed, archived (kept in the history)",
		    "SELECT action, subject, detail FROM audit_log WHERE action = 'assignment-archive'");
	/* again, assigned anew in the same step */
	assert_int_equal(act_assign(fx->a, ann, "C", NULL, 0), 0);
	sqlf(fx->st, "UPDATE assignments SET status = 'completed' WHERE status = 'enrolled'");
	assert_int_equal(act_archive_assignment(fx->a, ann, "C", true, "2026-09-30", "2026-12-31"), 0);
	assert_string_equal(act_message(fx->a), "ann: C: completed, archived (kept in the history); "
			    "assigned again: C due 2026-09-30, access until 2026-12-31: enrolled");
	assert_rows(fx->st, "archived||\narchived||\nenrolled|2026-09-30|2026-12-31",
		    "SELECT status, CASE WHEN status = 'enrolled' THEN due END, expires FROM assignments "
		    "ORDER BY id");
	assert_licences_counted(fx->st);
}

static void
test_role_pin(void **state)
{
	struct fixture *fx = *state;
	long long ann = person_add(fx->st, "ann", "active");

	assert_int_equal(store_state_put(fx->st, "hierarchy", "digest\n0 0 0"), 0);
	assert_int_equal(act_set_role(fx->a, ann, "boss"), -EINVAL);
	assert_int_equal(act_set_role(fx->a, ann, NULL), ACT_NOCHANGE);
	assert_int_equal(act_set_role(fx->a, ann, "admin"), 0);
	assert_rows(fx->st, "admin|operator|" NOW, "SELECT role, role_source, updated_at FROM people");
	assert_int_equal(act_set_role(fx->a, ann, "admin"), ACT_NOCHANGE);
	assert_int_equal(act_set_role(fx->a, ann, "manager"), 0);
	/* pinning leaves the hierarchy's digest: nothing it depends on changed */
	assert_rows(fx->st, "1", "SELECT count(*) FROM state WHERE key = 'hierarchy'");
	assert_int_equal(act_set_role(fx->a, ann, NULL), 0);
	assert_rows(fx->st, "manager|directory", "SELECT role, role_source FROM people");
	assert_rows(fx->st, "0", "SELECT count(*) FROM state WHERE key = 'hierarchy'");
	assert_rows(fx->st, "operator:root|role|learner -> admin, pinned by the operator\n"
		    "operator:root|role|admin -> manager, pinned by the operator\n"
		    "operator:root|role|manager: back to the directory's rules from the next sync run",
		    "SELECT actor, action, detail FROM audit_log ORDER BY id");
	act_set_actor(fx->a, "plugin:roles");
	assert_int_equal(act_set_role(fx->a, ann, "admin"), -EPERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_needs_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_until_active, setup, teardown),
		cmocka_unit_test_setup_teardown(test_licence_pool_runs_dry_and_refills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_keeps_training_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unassign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recurring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fields_survive_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_courses_and_settle, setup, teardown),
		cmocka_unit_test(test_dates),
		cmocka_unit_test_setup_teardown(test_assign_until, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_do_not_assign_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_assignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_pin, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
