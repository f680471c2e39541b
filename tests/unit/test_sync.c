/*
 * test_sync.c: whole sync runs (sync_run) against the memory source and a
 * real store file, each checking the outcome, the exit code and the store:
 * a first sync, a resync that changes nothing, an incomplete people read
 * and an incomplete group read, a held run then approved, a plugin error
 * rolled back (the real failing test plugin), a stop asked mid-read and
 * while waiting, a source that cannot connect, a dry run; the source's
 * kept state; the window of persist mode over several runs; the thresholds
 * and when a persist batch closes, pure; and the table of sync_verdict(),
 * what happened to how a run ends.
 */
#include "storefix.h"

#include <libgen.h>

#define MAX_ENTRIES 16

struct fx {
	char *dir;
	char tdir[512];            /* the build's tests/plugins/ */
	struct conf *cf;
	struct plugins *h;
	struct store *st;          /* the test's own look into the store */
	struct source_mem m;
	struct source *src;
	struct source_entry people[MAX_ENTRIES], groups[MAX_ENTRIES];
	const char *members[MAX_ENTRIES][MAX_ENTRIES];
	char *pool[256];           /* strings the entries point to */
	size_t npool;
	/* The progress callback stops the run at this step once entries_read
	 * reaches stop_at; -1: never. */
	long long stop_at;
	enum sync_step stop_step;
	struct sync_result res;
	char log[65536];           /* what the last run logged */
	char plan[65536];          /* what the last dry run printed */
};

static const char *keep(struct fx *fx, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* A string that lives as long as the fixture. */
static const char *
keep(struct fx *fx, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	assert_true(fx->npool < sizeof(fx->pool) / sizeof(fx->pool[0]));
	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) > 0);
	va_end(ap);
	return fx->pool[fx->npool++] = s;
}

static const char *
dn_norm(struct fx *fx, const char *dn)
{
	char *norm = NULL;

	assert_int_equal(dn_normalize(dn, strlen(dn), &norm), 0);
	assert_true(fx->npool < sizeof(fx->pool) / sizeof(fx->pool[0]));
	return fx->pool[fx->npool++] = norm;
}

/* Add a person the source hands out, as the LDAP source would map it. */
static void
add_person(struct fx *fx, const char *user)
{
	struct source_entry *e = &fx->people[fx->m.npeople++];
	struct person_rec *p = &e->person;

	assert_true(fx->m.npeople <= MAX_ENTRIES);
	memset(e, 0, sizeof(*e));
	e->dn = keep(fx, "uid=%s,ou=people,dc=example,dc=com", user);
	p->dn = e->dn;
	p->dn_norm = dn_norm(fx, e->dn);
	p->dir_id = keep(fx, "id-%s", user);
	p->field[F_USERNAME] = user;
	p->field[F_EMAIL] = keep(fx, "%s@example.com", user);
	p->field[F_GIVEN_NAME] = "Given";
	p->field[F_FAMILY_NAME] = user;
	p->field[F_DISPLAY_NAME] = keep(fx, "Given %s", user);
}

/* Add a group of these people (usernames, NULL-ended). */
static void
add_group(struct fx *fx, const char *name, const char *const *users)
{
	size_t i = fx->m.ngroups++, n = 0;
	struct source_entry *e = &fx->groups[i];
	struct group_rec *g = &e->group;

	assert_true(fx->m.ngroups <= MAX_ENTRIES);
	memset(e, 0, sizeof(*e));
	e->dn = keep(fx, "cn=%s,ou=groups,dc=example,dc=com", name);
	g->dn = e->dn;
	g->dn_norm = dn_norm(fx, e->dn);
	g->dir_id = keep(fx, "g-%s", name);
	g->name = name;
	for (; *users != NULL; users++, n++)
		fx->members[i][n] = dn_norm(fx, keep(fx, "uid=%s,ou=people,dc=example,dc=com",
						     *users));
	g->nmembers = n;
	g->members = fx->members[i];
}

/* Add an entry the source rejects, with the person's id when known. */
static void
add_reject(struct fx *fx, const char *dn, const char *why, const char *dir_id)
{
	struct source_entry *e = &fx->people[fx->m.npeople++];

	assert_true(fx->m.npeople <= MAX_ENTRIES);
	memset(e, 0, sizeof(*e));
	e->dn = dn;
	e->reject = why;
	e->person.dir_id = dir_id;
}

/* Forget the entries: the next run's source starts empty. */
static void
clear_entries(struct fx *fx)
{
	fx->m.npeople = fx->m.ngroups = 0;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(fx->tdir, sizeof(fx->tdir), "%s/plugins", dirname(exe));   /* BUILD/tests */
	fx->dir = tmpdir_make();
	fx->st = store_fresh(fx->dir);
	fx->m = (struct source_mem){
		.people = fx->people, .groups = fx->groups, .people_limit = -1,
		.groups_limit = -1, .wait_at = -1,
	};
	fx->stop_at = -1;
	assert_int_equal(source_mem_new(&fx->m, &fx->src), 0);
	*state = fx;
	return 0;
}

static void
unload(struct fx *fx)
{
	plugins_free(fx->h);
	conf_free(fx->cf);
	fx->h = NULL;
	fx->cf = NULL;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	unload(fx);
	fx->src->ops->free(fx->src);
	store_close(fx->st);
	tmpdir_remove(fx->dir);
	for (size_t i = 0; i < fx->npool; i++)
		free(fx->pool[i]);
	free(fx);
	return 0;
}

/* Write rosterd.conf (groups under ou=groups when groups; sync_keys and
 * plugin_list as given) and load it and its plugins. */
static void
load(struct fx *fx, bool groups, const char *sync_keys, const char *plugin_list)
{
	char *text = NULL, *path, err[8192] = "";

	unload(fx);
	assert_true(asprintf(&text,
		"ldap = {\n"
		"  uri = \"ldap://127.0.0.1:1\";\n"
		"  users = { base = \"ou=people,dc=example,dc=com\"; };\n"
		"  %s\n"
		"};\n"
		"store = { path = \"learning.db\"; };\n"
		"sync = { max_disable_percent = 100.0; max_membership_removals_percent = 100.0;\n"
		"  %s };\n"
		"plugins = ( %s );\n",
		groups ? "groups = { base = \"ou=groups,dc=example,dc=com\"; };" : "",
		sync_keys, plugin_list) > 0);
	path = file_write(fx->dir, "rosterd.conf", text, 0640);
	if (conf_load(path, 0, &fx->cf, err, sizeof(err)) < 0)
		fail_msg("conf_load: %s\n%s", err, text);
	if (plugins_load(fx->cf, &fx->h, err, sizeof(err)) < 0)
		fail_msg("plugins_load: %s", err);
	free(text);
	free(path);
}

static int
progress(void *arg, enum sync_step step, long long read)
{
	struct fx *fx = arg;

	return fx->stop_at >= 0 && step == fx->stop_step && read >= fx->stop_at;
}

/* Read all of f (at most len - 1 bytes) into buf. */
static void
slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
}

/* One run with the memory source (its state: state); what it logs goes to
 * fx->log, what a dry run prints to fx->plan. Returns the exit code. */
static int
run(struct fx *fx, bool dry_run, const char *state)
{
	FILE *logf = tmpfile(), *plan = tmpfile();
	struct sync_opts o = {
		.dry_run = dry_run, .plan_out = plan, .progress = progress, .progress_arg = fx,
		.plugins = fx->h, .source = fx->src,
	};
	int saved, r;

	assert_non_null(logf);
	assert_non_null(plan);
	fx->m.state = state;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(logf), STDERR_FILENO) >= 0);
	r = sync_run(fx->cf, &o, &fx->res);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	slurp(logf, fx->log, sizeof(fx->log));
	slurp(plan, fx->plan, sizeof(fx->plan));
	fclose(logf);
	fclose(plan);
	assert_int_equal(r, fx->res.exit_code == EXIT_OK ? 0 : -EIO);
	return fx->res.exit_code;
}

#define assert_contains(hay, needle) do { \
	if (strstr((hay), (needle)) == NULL) \
		fail_msg("[%s] not in:\n%s", (needle), (hay)); \
} while (0)

/* The people as "username|status|reason", by username. */
#define assert_people(fx, want) \
	assert_rows((fx)->st, (want), "SELECT username, status, coalesce(status_reason, '-') " \
		    "FROM people ORDER BY username")

/* The source's state kept in the store ("" when none). */
static const char *
kept_state(struct fx *fx)
{
	return sql_rows(fx->st, "SELECT value FROM state WHERE key = 'source:memory'");
}

/* ---- runs --------------------------------------------------------------------- */

static void
test_first_sync(void **state)
{
	struct fx *fx = *state;

	load(fx, true, "max_reject_percent = 50.0;", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	add_person(fx, "carol");
	add_reject(fx, "uid=broken,ou=people,dc=example,dc=com", "no uid", NULL);
	add_group(fx, "staff", (const char *[]){ "alice", "bob", NULL });

	assert_int_equal(run(fx, false, "cookie-1"), EXIT_OK);
	assert_int_equal(fx->res.outcome, RUN_OK);
	assert_int_equal(fx->res.run_id, 1);
	assert_int_equal(fx->res.entries_read, 4);
	assert_int_equal(fx->res.c.created, 3);
	assert_false(fx->res.stopped);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|invited|-");
	assert_rows(fx->st, "1|ok|4|3|1|memory:|1|1|2|",
		    "SELECT id, outcome, entries_read, created, rejected, directory_uri, "
		    "groups_read, groups_complete, memberships_joined, coalesce(error, '') "
		    "FROM sync_runs");
	assert_rows(fx->st, "uid=broken,ou=people,dc=example,dc=com|no uid",
		    "SELECT dn, reason FROM run_rejects WHERE run_id = 1");
	assert_rows(fx->st, "staff|alice\nstaff|bob",
		    "SELECT g.name, p.username FROM group_membership m JOIN groups g "
		    "ON g.id = m.group_id JOIN people p ON p.id = m.person_id ORDER BY 1, 2");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log WHERE run_id = 1 "
				 "AND action = 'create'"), 3);
	/* The source was given no kept state; its state is kept now. */
	assert_null(source_mem_kept(fx->src));
	assert_string_equal(kept_state(fx), "cookie-1");
	assert_contains(fx->log, "run 1 ok: 4 entries read from memory:; 3 created");
	assert_contains(fx->log, "entry \"uid=broken,ou=people,dc=example,dc=com\" rejected: "
			"no uid");
}

static void
test_resync_no_change(void **state)
{
	struct fx *fx = *state;
	long long audit;
	char updated[64];

	load(fx, true, "", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	add_person(fx, "carol");
	add_group(fx, "staff", (const char *[]){ "alice", "bob", NULL });
	assert_int_equal(run(fx, false, "cookie-1"), EXIT_OK);
	audit = sql_int(fx->st, "SELECT count(*) FROM audit_log");
	snprintf(updated, sizeof(updated), "%s",
		 sql_rows(fx->st, "SELECT max(updated_at) FROM people"));

	assert_int_equal(run(fx, false, "cookie-2"), EXIT_OK);
	assert_int_equal(fx->res.outcome, RUN_OK);
	assert_int_equal(fx->res.run_id, 2);
	assert_int_equal(fx->res.c.created, 0);
	assert_int_equal(fx->res.c.updated, 0);
	assert_int_equal(fx->res.c.disabled, 0);
	assert_int_equal(fx->res.c.unchanged, 3);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|invited|-");
	assert_rows(fx->st, "2|ok|3|0|0|3|0|0", "SELECT id, outcome, entries_read, created, "
		    "updated, unchanged, memberships_joined, memberships_left FROM sync_runs "
		    "ORDER BY id DESC LIMIT 1");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log"), audit);
	assert_rows(fx->st, updated, "SELECT max(updated_at) FROM people");
	/* The second run was given the first's state, and kept its own. */
	assert_string_equal(source_mem_kept(fx->src), "cookie-1");
	assert_string_equal(kept_state(fx), "cookie-2");
}

/* Name a person already in the store by id: unchanged, or gone. */
static void
add_named(struct fx *fx, const char *user, enum source_kind kind)
{
	struct source_entry *e = &fx->people[fx->m.npeople++];

	assert_true(fx->m.npeople <= MAX_ENTRIES);
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->dn = "";
	e->person.dir_id = keep(fx, "id-%s", user);
}

/* A source that names only what changed (a refresh with a cookie): the
 * people it does not name are as they were, those it names gone are
 * missing, and a run that names no group keeps the groups. */
static void
test_changes_only(void **state)
{
	struct fx *fx = *state;

	load(fx, true, "", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	add_person(fx, "carol");
	add_person(fx, "dave");
	add_group(fx, "staff", (const char *[]){ "alice", "bob", NULL });
	assert_int_equal(run(fx, false, "c1"), EXIT_OK);

	/* bob changed, carol is gone, dave unchanged by name; alice unnamed;
	 * erin is new; no group sent. */
	clear_entries(fx);
	fx->m.people_changes_only = fx->m.groups_changes_only = true;
	add_person(fx, "bob");
	fx->people[0].person.field[F_EMAIL] = "bob@new.example.com";
	add_named(fx, "carol", SOURCE_GONE);
	add_named(fx, "dave", SOURCE_UNCHANGED);
	add_person(fx, "erin");
	assert_int_equal(run(fx, false, "c2"), EXIT_OK);
	assert_int_equal(fx->res.outcome, RUN_OK);
	assert_int_equal(fx->res.c.created, 1);
	assert_int_equal(fx->res.c.updated, 1);
	assert_int_equal(fx->res.c.disabled, 1);
	assert_int_equal(fx->res.c.unchanged, 2);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|disabled|missing\n"
		      "dave|invited|-\nerin|invited|-");
	assert_rows(fx->st, "bob@new.example.com", "SELECT email FROM people WHERE username = 'bob'");
	assert_rows(fx->st, "staff|alice\nstaff|bob",
		    "SELECT g.name, p.username FROM group_membership m JOIN groups g "
		    "ON g.id = m.group_id JOIN people p ON p.id = m.person_id ORDER BY 1, 2");
	assert_rows(fx->st, "2|ok|4|-1", "SELECT id, outcome, entries_read, "
		    "coalesce(groups_complete, -1) FROM sync_runs ORDER BY id DESC LIMIT 1");
	assert_string_equal(kept_state(fx), "c2");
	assert_contains(fx->log, "4 changes since the last run (1 gone)");

	/* Nothing changed: nobody read, nobody missing, nothing written. */
	clear_entries(fx);
	assert_int_equal(run(fx, false, "c3"), EXIT_OK);
	assert_int_equal(fx->res.outcome, RUN_OK);
	assert_int_equal(fx->res.entries_read, 0);
	assert_int_equal(fx->res.c.disabled, 0);
	assert_int_equal(fx->res.c.unchanged, 4);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|disabled|missing\n"
		      "dave|invited|-\nerin|invited|-");

	/* The same changes in a whole read would be four people gone: a read
	 * that names only changes must never be taken for one that names all. */
	fx->m.people_changes_only = false;
	assert_int_equal(run(fx, false, "c4"), EXIT_HELD);
	assert_int_equal(fx->res.outcome, RUN_HELD);
	assert_string_equal(kept_state(fx), "c3");
}

/* A whole read (a present phase) may name a person unchanged and then send
 * their entry whole: the entry is taken (updated), not rejected as read
 * twice. */
static void
test_present_then_entry(void **state)
{
	struct fx *fx = *state;

	load(fx, false, "", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	clear_entries(fx);
	add_named(fx, "alice", SOURCE_UNCHANGED);
	add_named(fx, "bob", SOURCE_UNCHANGED);
	add_person(fx, "bob");
	fx->people[2].person.field[F_EMAIL] = "bob@new.example.com";
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	assert_int_equal(fx->res.c.rejected, 0);
	assert_int_equal(fx->res.c.updated, 1);
	assert_int_equal(fx->res.c.unchanged, 1);
	assert_rows(fx->st, "bob@new.example.com", "SELECT email FROM people WHERE username = 'bob'");
	assert_people(fx, "alice|invited|-\nbob|invited|-");
}

/* A source that names only changes cannot be trusted with people it does
 * not know: those missing before stay missing, unnamed. */
static void
test_changes_only_missing_stay(void **state)
{
	struct fx *fx = *state;

	load(fx, false, "", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	clear_entries(fx);
	add_person(fx, "alice");
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	assert_people(fx, "alice|invited|-\nbob|disabled|missing");

	clear_entries(fx);
	fx->m.people_changes_only = true;
	add_named(fx, "bob", SOURCE_UNCHANGED);
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	assert_int_equal(fx->res.c.enabled, 0);
	assert_people(fx, "alice|invited|-\nbob|disabled|missing");
}

/* More rejects than sync.max_reject_percent of a whole read: the run is
 * incomplete (exit 1, no one disabled), not ok; 100 turns the check off
 * (issue 15 item 1). */
static void
test_rejects_over_share(void **state)
{
	struct fx *fx = *state;
	const char *names[] = { "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9" };

	load(fx, false, "", "");
	for (size_t i = 0; i < 10; i++)
		add_person(fx, names[i]);
	assert_int_equal(run(fx, false, NULL), EXIT_OK);

	/* p8 and p9 come back without a username: 2 of 10, over 10% */
	fx->m.npeople = 8;
	add_reject(fx, "uid=p8,ou=people,dc=example,dc=com", "no uid", NULL);
	add_reject(fx, "uid=p9,ou=people,dc=example,dc=com", "no uid", NULL);
	assert_int_equal(run(fx, false, NULL), EXIT_FAIL);
	assert_int_equal(fx->res.outcome, RUN_INCOMPLETE);
	assert_rows(fx->st, "incomplete|2 of the 10 entries read were rejected (20.0%), over "
		    "sync.max_reject_percent (10%)",
		    "SELECT outcome, error FROM sync_runs ORDER BY id DESC LIMIT 1");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM people WHERE status = 'disabled'"),
			 0);
	assert_contains(fx->log, "no one will be disabled by this run");

	/* the same read within a wider share: ok, and the two are missing */
	load(fx, false, "max_reject_percent = 25.0;", "");
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	assert_int_equal(fx->res.c.disabled, 2);

	/* every entry rejected: incomplete; unless the check is off (100) */
	load(fx, false, "", "");
	clear_entries(fx);
	for (size_t i = 0; i < 3; i++)
		add_reject(fx, keep(fx, "uid=%s,ou=people,dc=example,dc=com", names[i]), "no uid",
			   NULL);
	assert_int_equal(run(fx, false, NULL), EXIT_FAIL);
	assert_int_equal(fx->res.outcome, RUN_INCOMPLETE);
	load(fx, false, "max_reject_percent = 100.0;", "");
	assert_int_not_equal(run(fx, false, NULL), EXIT_FAIL);
}

/* A mapped attribute absent from every entry of a whole read while most of
 * the store's people have a value for it (a misspelt attribute name) holds
 * the run, dry runs say so, and an approval of that plan lets the next run
 * through; a read of the changes only is not judged (issue 15 item 1). */
static void
test_attribute_absent_held(void **state)
{
	struct fx *fx = *state;
	char err[512];

	load(fx, false, "", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	add_person(fx, "carol");
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	for (size_t i = 0; i < fx->m.npeople; i++)
		fx->people[i].person.field[F_EMAIL] = NULL;

	assert_int_equal(run(fx, true, NULL), EXIT_HELD);
	assert_contains(fx->plan, "this run would be held: the directory sent no value of "
			"ldap.attributes.email (\"mail\", which 3 of the 3 enabled people have) "
			"in any of the 3 entries read");
	assert_int_equal(run(fx, false, NULL), EXIT_HELD);
	assert_int_equal(fx->res.outcome, RUN_HELD);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM people WHERE email IS NULL"), 0);
	assert_int_equal(run(fx, false, NULL), EXIT_HELD);

	/* approved: the next run with the same plan goes through */
	assert_int_equal(query_run_approve(fx->st, fx->res.run_id, "tester", err, sizeof(err)),
			 0);
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	assert_int_equal(fx->res.c.updated, 3);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM people WHERE email IS NULL"), 3);

	/* the store has no e-mails now: a read without any is fine */
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
}

/* Directory text cannot forge a line of the dry run's plan, the plan
 * operators are told to read before approving a run (issue 15 item 9). */
static void
test_dry_run_escapes(void **state)
{
	struct fx *fx = *state;

	load(fx, false, "max_reject_percent = 100.0;", "");
	add_person(fx, "alice");
	add_reject(fx, "uid=x\ndisable  alice                \"uid=alice\"", "no uid\x1b[2J", NULL);
	assert_int_equal(run(fx, true, NULL), EXIT_OK);
	if (strstr(fx->plan, "\ndisable") != NULL || strchr(fx->plan, '\x1b') != NULL)
		fail_msg("directory text reached the plan raw:\n%s", fx->plan);
	if (strcasestr(fx->plan, "uid=x\\x0adisable") == NULL)
		fail_msg("the DN is not shown escaped:\n%s", fx->plan);
}

static void
test_incomplete_people(void **state)
{
	struct fx *fx = *state;

	load(fx, false, "", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	add_person(fx, "carol");
	assert_int_equal(run(fx, false, "cookie-1"), EXIT_OK);

	/* One entry, then the read ends short: bob and carol are not found,
	 * and no one is disabled. */
	fx->m.people_limit = 1;
	assert_int_equal(run(fx, false, "cookie-2"), EXIT_FAIL);
	assert_int_equal(fx->res.outcome, RUN_INCOMPLETE);
	assert_int_equal(fx->res.entries_read, 1);
	assert_int_equal(fx->res.c.disabled, 0);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|invited|-");
	assert_rows(fx->st, "incomplete|1|0|memory source: the people read ends after 1 "
		    "entries, as told", "SELECT outcome, entries_read, disabled, error "
		    "FROM sync_runs WHERE id = 2");
	assert_contains(fx->log, "directory read incomplete after 1 entries: memory source: "
			"the people read ends after 1 entries, as told; no one will be disabled");
	/* The source keeps no state after a short read: the old one stays. */
	assert_string_equal(kept_state(fx), "cookie-1");

	/* Its search fails at once: nothing read, still no one disabled. */
	fx->m.people_limit = 0;
	assert_int_equal(run(fx, false, NULL), EXIT_FAIL);
	assert_int_equal(fx->res.outcome, RUN_INCOMPLETE);
	assert_int_equal(fx->res.entries_read, 0);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|invited|-");
}

static void
test_incomplete_groups(void **state)
{
	struct fx *fx = *state;

	load(fx, true, "", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	add_person(fx, "carol");
	add_group(fx, "staff", (const char *[]){ "alice", "bob", NULL });
	assert_int_equal(run(fx, false, NULL), EXIT_OK);

	/* People whole (carol gone), the group search fails: carol is
	 * disabled, but the group and its members stay. */
	clear_entries(fx);
	add_person(fx, "alice");
	add_person(fx, "bob");
	add_group(fx, "staff", (const char *[]){ "alice", NULL });
	fx->m.groups_limit = 0;
	assert_int_equal(run(fx, false, NULL), EXIT_FAIL);
	assert_int_equal(fx->res.outcome, RUN_INCOMPLETE);
	assert_int_equal(fx->res.c.disabled, 1);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|disabled|missing");
	assert_rows(fx->st, "incomplete|0|0|0|memory source: the groups read ends after 0 "
		    "entries, as told", "SELECT outcome, groups_complete, groups_deleted, "
		    "memberships_left, error FROM sync_runs WHERE id = 2");
	assert_rows(fx->st, "alice\nbob", "SELECT p.username FROM group_membership m JOIN people p "
		    "ON p.id = m.person_id ORDER BY 1");
	assert_contains(fx->log, "group search incomplete after 0 groups");

	/* Whole again: bob leaves the group. */
	fx->m.groups_limit = -1;
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	assert_rows(fx->st, "ok|1|1", "SELECT outcome, groups_complete, memberships_left "
		    "FROM sync_runs WHERE id = 3");
	assert_rows(fx->st, "alice", "SELECT p.username FROM group_membership m JOIN people p "
		    "ON p.id = m.person_id ORDER BY 1");
}

static void
test_held_then_approved(void **state)
{
	struct fx *fx = *state;
	char err[512];

	load(fx, false, "max_disable = 1;", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	add_person(fx, "carol");
	add_person(fx, "dave");
	assert_int_equal(run(fx, false, "cookie-1"), EXIT_OK);

	/* carol and dave gone: 2 disables, over max_disable = 1. */
	clear_entries(fx);
	add_person(fx, "alice");
	add_person(fx, "bob");
	assert_int_equal(run(fx, false, "cookie-2"), EXIT_HELD);
	assert_int_equal(fx->res.outcome, RUN_HELD);
	assert_int_equal(fx->res.run_id, 2);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|invited|-\ndave|invited|-");
	assert_rows(fx->st, "held|2 disables exceed sync.max_disable (1)|1",
		    "SELECT outcome, error, length(plan_digest) = 16 FROM sync_runs WHERE id = 2");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log WHERE run_id = 2"), 0);
	assert_string_equal(kept_state(fx), "cookie-1");
	assert_contains(fx->log, "run 2 held: 2 disables exceed sync.max_disable (1); nothing "
			"was changed");

	/* Held again until an operator approves; then the same plan goes
	 * through, once. */
	assert_int_equal(query_run_approve(fx->st, 2, "tester", err, sizeof(err)), 0);
	assert_int_equal(run(fx, false, "cookie-3"), EXIT_OK);
	assert_int_equal(fx->res.outcome, RUN_OK);
	assert_int_equal(fx->res.c.disabled, 2);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|disabled|missing\n"
		      "dave|disabled|missing");
	assert_rows(fx->st, "3", "SELECT approval_used_by FROM sync_runs WHERE id = 2");
	assert_rows(fx->st, "ok|2", "SELECT outcome, disabled FROM sync_runs WHERE id = 3");
	assert_string_equal(kept_state(fx), "cookie-3");
	assert_contains(fx->log, "going ahead as an operator approved this plan");
}

static void
test_plugin_error_rolled_back(void **state)
{
	struct fx *fx = *state;
	char plugins[1024];

	snprintf(plugins, sizeof(plugins), "{ name = \"failing\"; path = \"%s/failing.so\"; "
		 "fail_on = \"created\"; when = \"bob\"; }", fx->tdir);
	load(fx, false, "", plugins);
	add_person(fx, "alice");
	add_person(fx, "bob");

	assert_int_equal(run(fx, false, "cookie-1"), EXIT_FAIL);
	assert_int_equal(fx->res.outcome, RUN_FAILED);
	assert_false(fx->res.stopped);
	assert_people(fx, "");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit_log"), 0);
	/* The record keeps what the plan would have done; none of it was. */
	assert_rows(fx->st, "1|failed|2|2", "SELECT id, outcome, entries_read, created "
		    "FROM sync_runs");
	assert_contains(sql_rows(fx->st, "SELECT error FROM sync_runs"),
			"plugin failing failed on the created event of \"bob\"");
	assert_string_equal(kept_state(fx), "");
	assert_contains(fx->log, "the whole run is rolled back");
	assert_contains(fx->log, "run 1 failed after");
}

static void
test_stop_mid_read(void **state)
{
	struct fx *fx = *state;

	load(fx, false, "", "");
	add_person(fx, "alice");
	add_person(fx, "bob");
	add_person(fx, "carol");

	/* Asked to stop after the second entry. */
	fx->stop_at = 2;
	fx->stop_step = SYNC_READING;
	assert_int_equal(run(fx, false, "cookie-1"), EXIT_FAIL);
	assert_int_equal(fx->res.outcome, RUN_FAILED);
	assert_true(fx->res.stopped);
	assert_int_equal(fx->res.entries_read, 2);
	assert_people(fx, "");
	assert_rows(fx->st, "1|failed|2|stopped before it ended (rosterd was asked to stop)",
		    "SELECT id, outcome, entries_read, error FROM sync_runs");
	assert_string_equal(kept_state(fx), "");

	/* Asked while the source waits for its server before the second entry. */
	fx->stop_at = 0;
	fx->stop_step = SYNC_WAITING;
	fx->m.wait_at = 1;
	assert_int_equal(run(fx, false, NULL), EXIT_FAIL);
	assert_true(fx->res.stopped);
	assert_int_equal(fx->res.entries_read, 1);
	assert_people(fx, "");
	assert_rows(fx->st, "failed|1|stopped before it ended (rosterd was asked to stop)",
		    "SELECT outcome, entries_read, error FROM sync_runs WHERE id = 2");

	/* Not asked: the run goes through. */
	fx->stop_at = -1;
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	assert_false(fx->res.stopped);
	assert_people(fx, "alice|invited|-\nbob|invited|-\ncarol|invited|-");
}

static void
test_connect_fails(void **state)
{
	struct fx *fx = *state;

	load(fx, false, "", "");
	add_person(fx, "alice");

	fx->m.begin_error = -ENOKEY;
	assert_int_equal(run(fx, false, NULL), EXIT_CONFIG);
	assert_int_equal(fx->res.outcome, RUN_FAILED);
	fx->m.begin_error = -EHOSTUNREACH;
	assert_int_equal(run(fx, false, NULL), EXIT_UNREACHABLE);
	assert_int_equal(fx->res.outcome, RUN_FAILED);
	assert_people(fx, "");
	assert_rows(fx->st, "1|failed||memory source: begin fails, as told (Required key not "
		    "available)\n2|failed||memory source: begin fails, as told (No route to host)",
		    "SELECT id, outcome, directory_uri, error FROM sync_runs");
	assert_contains(fx->log, "directory: memory source: begin fails");
}

static void
test_dry_run(void **state)
{
	struct fx *fx = *state;

	load(fx, false, "", "");
	add_person(fx, "alice");
	add_person(fx, "bob");

	assert_int_equal(run(fx, true, "cookie-1"), EXIT_OK);
	assert_int_equal(fx->res.outcome, RUN_OK);
	assert_int_equal(fx->res.run_id, 0);
	assert_int_equal(fx->res.c.created, 2);
	assert_contains(fx->plan, "create   alice");
	assert_contains(fx->plan, "plan: 2 to create, 0 to update (0 moved), 0 to disable");
	assert_people(fx, "");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM sync_runs"), 0);
	assert_string_equal(kept_state(fx), "");
}

/* ---- the verdict ------------------------------------------------------------ */

struct verdict_row {
	const char *what;
	struct run_facts f;
	enum run_outcome outcome;
	int exit_code;
	bool recorded;
};

#define WHOLE .complete = true
#define PASSED .gate = GATE_PASSED

/* sync_verdict's table, row by row. */
static const struct verdict_row verdict_rows[] = {
	{ "whole", { WHOLE, PASSED }, RUN_OK, EXIT_OK, true },
	{ "whole, groups whole", { WHOLE, .groups_read = true, .groups_complete = true, PASSED },
	  RUN_OK, EXIT_OK, true },
	{ "whole, approved", { WHOLE, .gate = GATE_APPROVED }, RUN_OK, EXIT_OK, true },
	{ "whole, dry run", { WHOLE, PASSED, .dry_run = true }, RUN_OK, EXIT_OK, false },
	{ "people whole, groups not", { WHOLE, .groups_read = true, PASSED },
	  RUN_INCOMPLETE, EXIT_FAIL, true },
	{ "people not whole", { PASSED }, RUN_INCOMPLETE, EXIT_FAIL, true },
	{ "people not whole, groups whole", { .groups_read = true, .groups_complete = true,
	  PASSED }, RUN_INCOMPLETE, EXIT_FAIL, true },
	{ "not whole, approved", { .gate = GATE_APPROVED }, RUN_INCOMPLETE, EXIT_FAIL, true },
	{ "not whole, dry run", { PASSED, .dry_run = true }, RUN_INCOMPLETE, EXIT_FAIL, false },
	{ "held", { WHOLE, .gate = GATE_HELD }, RUN_HELD, EXIT_HELD, true },
	{ "held, not whole", { .gate = GATE_HELD }, RUN_HELD, EXIT_HELD, true },
	{ "held, dry run", { WHOLE, .gate = GATE_HELD, .dry_run = true }, RUN_HELD, EXIT_HELD,
	  false },
	{ "stopped reading", { .stopped = true }, RUN_FAILED, EXIT_FAIL, true },
	{ "stopped before commit", { .stopped = true, WHOLE, PASSED }, RUN_FAILED, EXIT_FAIL,
	  true },
	{ "stopped, dry run", { .stopped = true, .dry_run = true }, RUN_FAILED, EXIT_FAIL, false },
	{ "open failed", { .failed = PHASE_OPEN, .error = -EBUSY }, RUN_FAILED, EXIT_FAIL, false },
	{ "open failed, dry run", { .failed = PHASE_OPEN, .error = -EIO, .dry_run = true },
	  RUN_FAILED, EXIT_FAIL, false },
	{ "store password unreadable", { .failed = PHASE_OPEN, .error = -ENOKEY }, RUN_FAILED,
	  EXIT_CONFIG, false },
	{ "password unreadable", { .failed = PHASE_CONNECT, .error = -ENOKEY }, RUN_FAILED,
	  EXIT_CONFIG, true },
	{ "password unreadable, dry run", { .failed = PHASE_CONNECT, .error = -ENOKEY,
	  .dry_run = true }, RUN_FAILED, EXIT_CONFIG, false },
	{ "no server", { .failed = PHASE_CONNECT, .error = -EHOSTUNREACH }, RUN_FAILED,
	  EXIT_UNREACHABLE, true },
	{ "bind refused", { .failed = PHASE_CONNECT, .error = -EACCES }, RUN_FAILED,
	  EXIT_UNREACHABLE, true },
	{ "TLS failed", { .failed = PHASE_CONNECT, .error = -EPROTO }, RUN_FAILED,
	  EXIT_UNREACHABLE, true },
	{ "connect out of memory", { .failed = PHASE_CONNECT, .error = -ENOMEM }, RUN_FAILED,
	  EXIT_UNREACHABLE, true },
	{ "staging people failed", { .failed = PHASE_PEOPLE, .error = -EIO }, RUN_FAILED,
	  EXIT_FAIL, true },
	{ "-ENOKEY past connect", { .failed = PHASE_PEOPLE, .error = -ENOKEY }, RUN_FAILED,
	  EXIT_FAIL, true },
	{ "staging groups failed", { .failed = PHASE_GROUPS, .error = -EIO, WHOLE }, RUN_FAILED,
	  EXIT_FAIL, true },
	{ "store locked", { .failed = PHASE_PLAN, .error = -EBUSY, WHOLE }, RUN_FAILED,
	  EXIT_FAIL, true },
	{ "apply failed", { .failed = PHASE_APPLY, .error = -EIO, WHOLE }, RUN_FAILED,
	  EXIT_FAIL, true },
	{ "hierarchy failed", { .failed = PHASE_HIERARCHY, .error = -EIO, WHOLE }, RUN_FAILED,
	  EXIT_FAIL, true },
	{ "plugin failed", { .failed = PHASE_PLUGINS, .error = -ECANCELED, WHOLE }, RUN_FAILED,
	  EXIT_FAIL, true },
	{ "plugin failed, dry run", { .failed = PHASE_PLUGINS, .error = -ECANCELED, WHOLE,
	  .dry_run = true }, RUN_FAILED, EXIT_FAIL, false },
	{ "gate's digest failed", { .failed = PHASE_GATE, .error = -EIO, WHOLE }, RUN_FAILED,
	  EXIT_FAIL, true },
	{ "commit failed", { .failed = PHASE_COMMIT, .error = -EIO, WHOLE, PASSED }, RUN_FAILED,
	  EXIT_FAIL, true },
	{ "commit failed, approved", { .failed = PHASE_COMMIT, .error = -EIO, WHOLE,
	  .gate = GATE_APPROVED }, RUN_FAILED, EXIT_FAIL, true },
};

static void
test_verdict_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(verdict_rows) / sizeof(verdict_rows[0]); i++) {
		const struct verdict_row *w = &verdict_rows[i];
		struct run_verdict v = sync_verdict(&w->f);

		if (v.outcome != w->outcome || v.exit_code != w->exit_code ||
		    v.recorded != w->recorded)
			fail_msg("%s: %s, exit %d, recorded %d; want %s, exit %d, recorded %d",
				 w->what, run_outcome_name(v.outcome), v.exit_code, v.recorded,
				 run_outcome_name(w->outcome), w->exit_code, w->recorded);
	}
}

/* Every combination of facts: what must hold whatever the table says. */
static void
check_combination(const struct run_facts *f)
{
	struct run_verdict v = sync_verdict(f);
	struct run_facts g = *f;
	bool ended_early = f->failed != PHASE_NONE || f->stopped;
	bool whole = f->complete && (!f->groups_read || f->groups_complete);

	assert_true(v.outcome != RUN_RUNNING);
	assert_int_equal(v.exit_code == EXIT_OK, v.outcome == RUN_OK);
	assert_int_equal(v.exit_code == EXIT_HELD, v.outcome == RUN_HELD);
	assert_int_equal(v.outcome == RUN_FAILED, ended_early);
	assert_int_equal(v.outcome == RUN_HELD, !ended_early && f->gate == GATE_HELD);
	assert_int_equal(v.outcome == RUN_OK, !ended_early && f->gate != GATE_HELD && whole);
	assert_int_equal(v.exit_code == EXIT_CONFIG, (f->failed == PHASE_CONNECT ||
			 f->failed == PHASE_OPEN) && f->error == -ENOKEY);
	assert_int_equal(v.exit_code == EXIT_UNREACHABLE,
			 f->failed == PHASE_CONNECT && f->error != -ENOKEY);
	assert_int_equal(v.recorded, !f->dry_run && f->failed != PHASE_OPEN);
	/* A dry run ends as the real run would; it only records nothing. */
	g.dry_run = !f->dry_run;
	assert_int_equal(sync_verdict(&g).outcome, v.outcome);
	assert_int_equal(sync_verdict(&g).exit_code, v.exit_code);
}

static void
test_verdict_every_combination(void **state)
{
	static const int errors[] = { 0, -ENOKEY, -EHOSTUNREACH, -EIO, -ECANCELED };
	static const enum sync_gate gates[] = { GATE_NOT_REACHED, GATE_PASSED, GATE_APPROVED,
						GATE_HELD };
	long long n = 0;

	(void)state;
	for (int p = PHASE_NONE; p < PHASE_COUNT; p++)
	for (size_t e = 0; e < sizeof(errors) / sizeof(errors[0]); e++)
	for (size_t gi = 0; gi < sizeof(gates) / sizeof(gates[0]); gi++)
	for (unsigned bits = 0; bits < 32; bits++) {
		struct run_facts f = {
			.failed = (enum sync_phase)p, .error = p == PHASE_NONE ? 0 : errors[e],
			.gate = gates[gi], .stopped = bits & 1, .complete = bits & 2,
			.groups_read = bits & 4, .groups_complete = bits & 8, .dry_run = bits & 16,
		};
		check_combination(&f);
		n++;
	}
	assert_int_equal(n, PHASE_COUNT * 5 * 4 * 32);
}

/* The thresholds, pure: a window adds the disables of the runs before to a
 * run that disables someone, and the people they disabled to the base of
 * the percentage. */
static void
test_thresholds(void **state)
{
	struct conf cf = { 0 };
	char why[512] = "";

	(void)state;
	cf.sync.max_disable = 5;
	cf.sync.max_disable_percent = 10.0;
	cf.sync.max_membership_removals_percent = 100.0;
	cf.sync.threshold_window = 3600;
	assert_true(sync_within_thresholds(&cf, &(struct gate_counts){ .found = -1,
		    .enabled = 100, .disabled = 1, .window = 4 }, why, sizeof(why)));
	assert_false(sync_within_thresholds(&cf, &(struct gate_counts){ .found = -1,
		     .enabled = 100, .disabled = 1, .window = 5 }, why, sizeof(why)));
	assert_string_equal(why, "6 disables (1 in this run, 5 before it in the last 3600 s: "
			    "sync.threshold_window) exceed sync.max_disable (5)");
	/* No disable of its own: never held for the window. */
	assert_true(sync_within_thresholds(&cf, &(struct gate_counts){ .found = -1,
		    .enabled = 100, .window = 50 }, why, sizeof(why)));
	/* 6 of the 55 enabled before the window: 10.9%. */
	cf.sync.max_disable = 1000;
	assert_false(sync_within_thresholds(&cf, &(struct gate_counts){ .found = -1,
		     .enabled = 50, .disabled = 1, .window = 5 }, why, sizeof(why)));
	assert_contains(why, "6 disables (1 in this run, 5 before it in the last 3600 s: "
			"sync.threshold_window) are 10.9% of 55 enabled people");
	assert_true(sync_within_thresholds(&cf, &(struct gate_counts){ .found = -1,
		    .enabled = 50, .disabled = 5 }, why, sizeof(why)));
	/* A whole read that found nobody; a read of changes that found none. */
	assert_false(sync_within_thresholds(&cf, &(struct gate_counts){ .found = 0,
		     .enabled = 10 }, why, sizeof(why)));
	assert_true(sync_within_thresholds(&cf, &(struct gate_counts){ .found = -1,
		    .enabled = 10 }, why, sizeof(why)));
}

/* When a batch of persist mode closes, pure. */
static void
test_batch_closes(void **state)
{
	(void)state;
	assert_false(source_batch_closes(0, 1e6, 50, 1000));   /* nothing yet */
	assert_false(source_batch_closes(1, 10, 50, 1000));
	assert_true(source_batch_closes(1, 50, 50, 1000));
	assert_false(source_batch_closes(999, 49.9, 50, 1000));
	assert_true(source_batch_closes(1000, 0, 50, 1000));
	assert_true(source_batch_closes(1, 0, 0, 1000));        /* batch_ms 0: one a batch */
	assert_true(source_batch_closes(1, 0, 50, 1));
}

/* sync.mode "persist": the disables of the runs within sync.threshold_window
 * add up; the run that takes them over sync.max_disable is held; an approval
 * starts the window again. Outside persist mode the window does not count. */
static void
test_window_held(void **state)
{
	struct fx *fx = *state;
	const char *const users[] = { "alice", "bob", "carol", "dave", "erin" };
	char err[256];

	load(fx, false, "mode = \"persist\"; max_disable = 2; threshold_window = 3600;", "");
	for (size_t i = 0; i < 5; i++)
		add_person(fx, users[i]);
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	fx->m.people_changes_only = true;
	for (size_t i = 0; i < 2; i++) {
		clear_entries(fx);
		add_named(fx, users[i], SOURCE_GONE);
		assert_int_equal(run(fx, false, NULL), EXIT_OK);
		assert_int_equal(fx->res.c.disabled, 1);
	}
	clear_entries(fx);
	add_named(fx, "carol", SOURCE_GONE);
	assert_int_equal(run(fx, false, NULL), EXIT_HELD);
	assert_contains(fx->log, "3 disables (1 in this run, 2 before it in the last 3600 s: "
			"sync.threshold_window) exceed sync.max_disable (2)");
	assert_int_equal(query_run_approve(fx->st, fx->res.run_id, "tester", err, sizeof(err)), 0);
	add_named(fx, "dave", SOURCE_GONE);
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
	assert_int_equal(fx->res.c.disabled, 2);
	assert_people(fx, "alice|disabled|missing\nbob|disabled|missing\ncarol|disabled|missing\n"
		      "dave|disabled|missing\nerin|invited|-");
	/* The window is persist mode's: a refresh run is held only for its own. */
	load(fx, false, "mode = \"refresh\"; max_disable = 2; threshold_window = 3600;", "");
	clear_entries(fx);
	add_named(fx, "erin", SOURCE_GONE);
	assert_int_equal(run(fx, false, NULL), EXIT_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_no_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_only_missing_stay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_present_then_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_people, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_then_approved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_error_rolled_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_mid_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_over_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attribute_absent_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_held, setup, teardown),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_batch_closes),
		cmocka_unit_test(test_verdict_table),
		cmocka_unit_test(test_verdict_every_combination),
	};

	log_init("rosterd", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
