/*
 * test_reconcile.c: the set-based reconciliation on a real SQLite store:
 * creates, updates only on change, moves, disables (missing, directory flag)
 * only in complete runs, enables, username clashes and swaps, custom fields,
 * the plan digest, and a no-change run that writes nothing; people read
 * unchanged are not staged, with the same outcome as if they were; a read
 * expected to name only changes (lazy: the store's people not loaded)
 * plans the same, people missing before stay missing, and it loads them
 * after all when the read turns out to need them; the condition of the
 * index people_attention has one source.
 */
#include "unit.h"
#include "schema.h"
#include "view.h"

struct fixture {
	char *dir;
	struct store *st;
	struct recon *rc;
	struct plan_counts c;
	int applied_changes;
	enum initial_status initial;
	bool lazy;      /* stage as a read expected to name only changes */
};

/* A person to stage; NULL fields are absent. */
struct p {
	const char *id, *uid, *dn, *email;
	bool disabled;
	const char *cost_centre;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[600], err[512];

	fx->dir = tmpdir_make();
	snprintf(path, sizeof(path), "%s/learning.db", fx->dir);
	assert_int_equal(store_open(path, 1000, 0, &fx->st, err, sizeof(err)), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	recon_free(fx->rc);
	store_close(fx->st);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static long long
scalar(struct fixture *fx, const char *sql)
{
	struct stmt *s;
	long long v = -1;

	if (store_prepare(fx->st, sql, &s) < 0)
		fail_msg("%s\n  -> %s", sql, store_errmsg(fx->st));
	if (stmt_step(s) == 1)
		v = stmt_int(s, 0);
	stmt_done(s);
	return v;
}

static char *
text(struct fixture *fx, const char *sql)
{
	struct stmt *s;
	char *v = NULL;

	if (store_prepare(fx->st, sql, &s) < 0)
		fail_msg("%s\n  -> %s", sql, store_errmsg(fx->st));
	if (stmt_step(s) == 1 && stmt_text(s, 0))
		v = strdup(stmt_text(s, 0));
	stmt_done(s);
	return v;
}

static void
expect_text(struct fixture *fx, const char *sql, const char *want)
{
	char *got = text(fx, sql);

	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s\n  got  %s\n  want %s", sql, got ? got : "(null)", want);
	free(got);
}

/* Stage the people, leaving staging open; returns how many were refused as
 * clashes. */
static int
stage_open(struct fixture *fx, const struct p *ps, size_t n)
{
	static const char *const cname[] = { "cost_centre" };
	int clashes = 0;

	recon_free(fx->rc);
	fx->rc = NULL;
	assert_int_equal(fx->lazy ? recon_stage_begin_changes(fx->st, &fx->rc) :
			 recon_stage_begin(fx->st, &fx->rc), 0);
	for (size_t i = 0; i < n; i++) {
		char dn[256];
		const char *cval[] = { ps[i].cost_centre };
		struct person_rec pr = {
			.dir_id = ps[i].id,
			.dn = dn,
			.dir_disabled = ps[i].disabled,
			.ncustom = 1,
			.custom_name = cname,
			.custom_value = cval,
		};
		char *norm = NULL;
		int r;

		snprintf(dn, sizeof(dn), "%s", ps[i].dn ? ps[i].dn : "");
		if (ps[i].dn == NULL)
			snprintf(dn, sizeof(dn), "uid=%s,ou=people,dc=x", ps[i].uid);
		assert_int_equal(dn_normalize(dn, strlen(dn), &norm), 0);
		pr.dn_norm = norm;
		pr.field[F_USERNAME] = ps[i].uid;
		pr.field[F_EMAIL] = ps[i].email;
		r = recon_stage_person(fx->rc, &pr);
		free(norm);
		if (r == -EEXIST)
			clashes++;
		else
			assert_int_equal(r, 0);
	}
	return clashes;
}

/* Stage the people; returns how many were refused as clashes. */
static int
stage(struct fixture *fx, const struct p *ps, size_t n)
{
	int clashes = stage_open(fx, ps, n);

	assert_int_equal(recon_stage_end(fx->rc), 0);
	return clashes;
}

/* Plan and apply one run in a transaction; counts in fx->c. */
static void
run(struct fixture *fx, bool complete)
{
	static long long run_id;
	struct recon_opts o = {
		.now = "2026-11-21T12:00:00Z",
		.run_id = 0,
		.complete = complete,
		.on_missing = MISSING_DISABLE,
		.initial_status = fx->initial,
	};
	long long before;

	assert_int_equal(store_run_start(fx->st, o.now, &run_id), 0);
	o.run_id = run_id;
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(recon_plan(fx->rc, &o, &fx->c), 0);
	before = store_total_changes(fx->st);
	assert_int_equal(recon_apply(fx->rc, &o), 0);
	fx->applied_changes = (int)(store_total_changes(fx->st) - before);
	assert_int_equal(store_commit(fx->st), 0);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

static const struct p three[] = {
	{ "id-a", "alice", NULL, "alice@x", false, "C1" },
	{ "id-b", "bob", NULL, "bob@x", false, NULL },
	{ "id-c", "carol", NULL, NULL, false, "C3" },
};

static void
test_first_run_creates(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(stage(fx, three, 3), 0);
	run(fx, true);
	assert_int_equal(fx->c.created, 3);
	assert_int_equal(fx->c.updated, 0);
	assert_int_equal(fx->c.disabled, 0);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM people WHERE status = 'invited'"), 3);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM audit_log WHERE action = 'create' "
				"AND actor = 'sync' AND person_id IS NOT NULL"), 3);
	expect_text(fx, "SELECT group_concat(name || '=' || value) FROM person_fields",
		    "cost_centre=C1,cost_centre=C3");
}

static void
test_no_change_writes_nothing(void **state)
{
	struct fixture *fx = *state;

	stage(fx, three, 3);
	run(fx, true);
	stage(fx, three, 3);
	run(fx, true);
	assert_int_equal(fx->c.created + fx->c.updated + fx->c.disabled + fx->c.enabled, 0);
	assert_int_equal(fx->c.unchanged, 3);
	assert_int_equal(fx->applied_changes, 0);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM audit_log"), 3);
}

static void
test_update_only_what_changed(void **state)
{
	struct fixture *fx = *state;
	struct p changed[3];

	memcpy(changed, three, sizeof(changed));
	stage(fx, three, 3);
	run(fx, true);
	changed[1].email = "robert@x";
	changed[2].cost_centre = "C9";
	stage(fx, changed, 3);
	run(fx, true);
	assert_int_equal(fx->c.updated, 2);
	assert_int_equal(fx->c.unchanged, 1);
	expect_text(fx, "SELECT detail FROM audit_log WHERE action = 'update' AND subject = 'bob'",
		    "changed: email");
	expect_text(fx, "SELECT detail FROM audit_log WHERE action = 'update' AND subject = 'carol'",
		    "changed: fields");
	expect_text(fx, "SELECT email FROM people WHERE username = 'bob'", "robert@x");
	expect_text(fx, "SELECT value FROM person_fields f JOIN people p ON p.id = f.person_id "
		    "WHERE p.username = 'carol'", "C9");
	/* a custom field that goes away is removed */
	changed[2].cost_centre = NULL;
	stage(fx, changed, 3);
	run(fx, true);
	assert_int_equal(fx->c.updated, 1);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM person_fields f JOIN people p "
				"ON p.id = f.person_id WHERE p.username = 'carol'"), 0);
}

static void
test_move_keeps_the_row(void **state)
{
	struct fixture *fx = *state;
	struct p moved[3];

	memcpy(moved, three, sizeof(moved));
	stage(fx, three, 3);
	run(fx, true);
	moved[0].dn = "uid=alice,ou=leavers,dc=x";
	moved[1].dn = "UID=bob,OU=People,DC=x";   /* same DN, other spelling */
	stage(fx, moved, 3);
	run(fx, true);
	assert_int_equal(fx->c.updated, 2);
	assert_int_equal(fx->c.renamed, 1);
	assert_int_equal(fx->c.created, 0);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM people"), 3);
	expect_text(fx, "SELECT dn_norm FROM people WHERE dir_id = 'id-a'", "uid=alice,ou=leavers,dc=x");
	expect_text(fx, "SELECT dn FROM people WHERE dir_id = 'id-b'", "UID=bob,OU=People,DC=x");
}

static void
test_missing_disabled_only_when_complete(void **state)
{
	struct fixture *fx = *state;

	stage(fx, three, 3);
	run(fx, true);
	stage(fx, three, 2);               /* carol is gone */
	run(fx, false);                    /* ...but the read was incomplete */
	assert_int_equal(fx->c.disabled, 0);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM people WHERE status = 'disabled'"), 0);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM people WHERE missing_since IS NOT NULL"), 0);

	stage(fx, three, 2);
	run(fx, true);
	assert_int_equal(fx->c.disabled, 1);
	expect_text(fx, "SELECT status || ' ' || status_reason || ' ' || prev_status FROM people "
		    "WHERE username = 'carol'", "disabled missing invited");
	assert_int_equal(scalar(fx, "SELECT count(*) FROM people WHERE missing_since IS NOT NULL"), 1);
	/* data kept */
	assert_int_equal(scalar(fx, "SELECT count(*) FROM person_fields f JOIN people p "
				"ON p.id = f.person_id WHERE p.username = 'carol'"), 1);

	/* back again: enabled, same row, history kept */
	stage(fx, three, 3);
	run(fx, true);
	assert_int_equal(fx->c.enabled, 1);
	assert_int_equal(fx->c.created, 0);
	expect_text(fx, "SELECT status FROM people WHERE username = 'carol'", "invited");
	assert_int_equal(scalar(fx, "SELECT count(*) FROM people WHERE missing_since IS NOT NULL"), 0);
	expect_text(fx, "SELECT group_concat(action, ',') FROM (SELECT action FROM audit_log "
		    "WHERE subject = 'carol' ORDER BY id)", "create,disable,enable");
}

static void
test_directory_flag(void **state)
{
	struct fixture *fx = *state;
	struct p ps[3];

	fx->initial = INITIAL_ACTIVE;
	memcpy(ps, three, sizeof(ps));
	stage(fx, ps, 3);
	run(fx, true);
	ps[0].disabled = true;
	stage(fx, ps, 3);
	run(fx, false);                    /* incomplete: not even the flag disables */
	assert_int_equal(fx->c.disabled, 0);
	expect_text(fx, "SELECT status || ' ' || dir_disabled FROM people WHERE username = 'alice'",
		    "active 1");
	stage(fx, ps, 3);
	run(fx, true);
	assert_int_equal(fx->c.disabled, 1);
	assert_int_equal(fx->c.dir_disabled_new, 1);
	assert_int_equal(fx->c.updated, 0);       /* a flag is not a profile change */
	assert_int_equal(fx->c.unchanged, 2);     /* alice was not left alone */
	assert_int_equal(scalar(fx, "SELECT count(*) FROM audit_log WHERE subject = 'alice'"), 2);
	expect_text(fx, "SELECT status || ' ' || status_reason FROM people WHERE username = 'alice'",
		    "disabled directory");
	ps[0].disabled = false;
	stage(fx, ps, 3);
	run(fx, true);
	assert_int_equal(fx->c.enabled, 1);
	expect_text(fx, "SELECT status || ' ' || dir_disabled FROM people WHERE username = 'alice'",
		    "active 0");
	/* created already disabled in the directory */
	{
		struct p newbie[4];
		memcpy(newbie, ps, sizeof(ps));
		newbie[3] = (struct p){ "id-d", "dave", NULL, NULL, true, NULL };
		stage(fx, newbie, 4);
		run(fx, true);
		assert_int_equal(fx->c.created, 1);
		assert_int_equal(fx->c.disabled, 0);   /* nobody lost access */
		expect_text(fx, "SELECT status || ' ' || status_reason || ' ' || prev_status "
			    "FROM people WHERE username = 'dave'", "disabled directory active");
	}
}

static void
test_clash_in_one_run(void **state)
{
	struct fixture *fx = *state;
	struct p ps[] = {
		{ "id-a", "alice", NULL, NULL, false, NULL },
		{ "id-z", "ALICE", "uid=ALICE,ou=other,dc=x", NULL, false, NULL },
		{ "id-a", "alice2", "uid=alice2,ou=people,dc=x", NULL, false, NULL },
	};

	assert_int_equal(stage(fx, ps, 3), 2);
	run(fx, true);
	assert_int_equal(fx->c.created, 1);
	assert_int_equal(fx->c.rejected, 2);
	expect_text(fx, "SELECT reason FROM run_rejects WHERE dn = 'uid=ALICE,ou=other,dc=x'",
		    "username \"ALICE\" is also used by \"uid=alice,ou=people,dc=x\"");
	expect_text(fx, "SELECT reason FROM run_rejects WHERE dn = 'uid=alice2,ou=people,dc=x'",
		    "same id \"id-a\" as \"uid=alice,ou=people,dc=x\"");
}

/* Usernames are compared as LDAP compares a uid: Unicode case folding and
 * insignificant spaces, accents counting. The store and the lookups by name
 * (rosterctl, the plugin host) agree. */
static void
test_clash_unicode_case(void **state)
{
	struct fixture *fx = *state;
	struct p ps[] = {
		{ "id-a", "\xc3\x85LICE", "uid=A,dc=x", NULL, false, NULL },       /* ÅLICE */
		{ "id-b", "\xc3\xa5lice", "uid=b,dc=x", NULL, false, NULL },       /* ålice */
		{ "id-c", "alice", "uid=c,dc=x", NULL, false, NULL },
		{ "id-d", "u0000001", "uid=d,dc=x", NULL, false, NULL },
		{ "id-e", "U0000001 ", "uid=e,dc=x", NULL, false, NULL },
		{ "id-f", "stra\xc3\x9f" "e", "uid=f,dc=x", NULL, false, NULL },   /* straße */
		{ "id-g", "STRASSE", "uid=g,dc=x", NULL, false, NULL },
	};
	long long id;

	assert_int_equal(stage(fx, ps, 7), 3);
	run(fx, true);
	assert_int_equal(fx->c.created, 4);
	assert_int_equal(fx->c.rejected, 3);
	expect_text(fx, "SELECT reason FROM run_rejects WHERE dn = 'uid=b,dc=x'",
		    "username \"\xc3\xa5lice\" is also used by \"uid=A,dc=x\"");
	expect_text(fx, "SELECT reason FROM run_rejects WHERE dn = 'uid=e,dc=x'",
		    "username \"U0000001 \" is also used by \"uid=d,dc=x\"");
	expect_text(fx, "SELECT reason FROM run_rejects WHERE dn = 'uid=g,dc=x'",
		    "username \"STRASSE\" is also used by \"uid=f,dc=x\"");
	assert_int_equal(view_person_id(fx->st, "\xc3\xa5lice", &id), 0);
	expect_text(fx, "SELECT dir_id FROM people WHERE username_key = '\xc3\xa5lice'", "id-a");
	assert_int_equal(view_person_id(fx->st, " U0000001  ", &id), 0);
	assert_int_equal(view_person_id(fx->st, " ", &id), -ENOENT);
	assert_int_equal(view_person_id(fx->st, "u0000 001", &id), -ENOENT);
	assert_int_equal(view_person_id(fx->st, "ALICE", &id), 0);
	expect_text(fx, "SELECT username FROM people WHERE username_key = 'alice'", "alice");
	/* the other holds the username a later run brings */
	stage(fx, ps + 1, 1);
	run(fx, true);
	assert_int_equal(fx->c.created, 0);
	assert_int_equal(fx->c.rejected, 1);
}

static void
test_username_held_by_unseen_person(void **state)
{
	struct fixture *fx = *state;
	struct p later[] = {
		{ "id-a", "alice", NULL, NULL, false, NULL },
		{ "id-b", "bob", NULL, NULL, false, NULL },
		{ "id-new", "carol", "uid=carol,ou=new,dc=x", NULL, false, NULL },
	};

	stage(fx, three, 3);
	run(fx, true);
	/* carol's entry is gone; a new entry wants her username */
	stage(fx, later, 3);
	run(fx, true);
	assert_int_equal(fx->c.created, 0);
	assert_int_equal(fx->c.rejected, 1);
	assert_int_equal(fx->c.disabled, 1);
	expect_text(fx, "SELECT reason FROM run_rejects ORDER BY rowid DESC LIMIT 1",
		    "username \"carol\" belongs to \"uid=carol,ou=people,dc=x\" (invited), whose entry "
		    "this run did not find or take; if this is that person's entry made again, "
		    "\"rosterctl user relink carol\" binds them to it");
	expect_text(fx, "SELECT dir_id FROM people WHERE username = 'carol'", "id-c");
}

/* People read as the store has them are not staged at all: the plan sees
 * only the changed ones, and counts the others as unchanged. */
static void
test_unchanged_not_staged(void **state)
{
	struct fixture *fx = *state;
	struct p changed[3];

	stage(fx, three, 3);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM temp.stage_people"), 3);
	run(fx, true);
	stage(fx, three, 3);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM temp.stage_people"), 0);
	run(fx, true);
	assert_int_equal(fx->c.unchanged, 3);
	assert_int_equal(fx->applied_changes, 0);

	memcpy(changed, three, sizeof(changed));
	changed[1].email = "robert@x";
	stage(fx, changed, 3);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM temp.stage_people"), 1);
	run(fx, true);
	assert_int_equal(fx->c.updated, 1);
	assert_int_equal(fx->c.unchanged, 2);

	/* one person not read: disabled as missing */
	stage(fx, changed, 2);
	run(fx, true);
	assert_int_equal(fx->c.disabled, 1);
	assert_int_equal(fx->c.unchanged, 2);
}

/* A new entry that wants the username of a person read unchanged is
 * rejected, whichever came first in the read; the holder keeps it. */
static void
test_unchanged_holder_keeps_username(void **state)
{
	struct fixture *fx = *state;
	struct p later[4] = {
		{ "id-z", "ALICE", "uid=ALICE,ou=other,dc=x", NULL, false, NULL },
		three[0], three[1], three[2],
	};

	stage(fx, three, 3);
	run(fx, true);
	assert_int_equal(stage(fx, later, 4), 0);
	run(fx, true);
	assert_int_equal(fx->c.created, 0);
	assert_int_equal(fx->c.rejected, 1);
	assert_int_equal(fx->c.unchanged, 3);
	expect_text(fx, "SELECT reason FROM run_rejects ORDER BY rowid DESC LIMIT 1",
		    "username \"ALICE\" is also used by \"uid=alice,ou=people,dc=x\"");
	expect_text(fx, "SELECT dir_id || ' ' || status FROM people WHERE username = 'alice'",
		    "id-a invited");
}

/* A second entry with the id of a person read unchanged is rejected. */
static void
test_unchanged_duplicate_id(void **state)
{
	struct fixture *fx = *state;
	struct p again[4] = { three[0], three[1], three[2], three[0] };

	stage(fx, three, 3);
	run(fx, true);
	assert_int_equal(stage(fx, again, 4), 1);
	run(fx, true);
	assert_int_equal(fx->c.rejected, 1);
	assert_int_equal(fx->c.unchanged, 3);
	expect_text(fx, "SELECT reason FROM run_rejects ORDER BY rowid DESC LIMIT 1",
		    "same id \"id-a\" as an entry read before");
}

/* A person the directory still disables, enabled in the store by hand: the
 * entry reads the same as last time, and the run disables them again. */
static void
test_unchanged_but_enabled_by_hand(void **state)
{
	struct fixture *fx = *state;
	struct p ps[3];

	memcpy(ps, three, sizeof(ps));
	ps[2].disabled = true;
	stage(fx, ps, 3);
	run(fx, true);
	expect_text(fx, "SELECT status || ' ' || status_reason FROM people "
		    "WHERE username = 'carol'", "disabled directory");
	assert_int_equal(store_exec(fx->st, "UPDATE people SET status = 'active', "
				    "status_reason = NULL WHERE username = 'carol'"), 0);
	stage(fx, ps, 3);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM temp.stage_people"), 0);
	run(fx, true);
	assert_int_equal(fx->c.disabled, 1);
	assert_int_equal(fx->c.unchanged, 2);
	expect_text(fx, "SELECT status || ' ' || status_reason FROM people "
		    "WHERE username = 'carol'", "disabled directory");
}

/* Member values are staged as one list a group, and become a row a value
 * only when the groups are worked out. */
static void
test_member_lists(void **state)
{
	struct fixture *fx = *state;
	const char *members[] = { "uid=alice,ou=people,dc=x", "", "cn=a\\2Cb,ou=groups,dc=x" };
	const struct group_rec g = {
		.dir_id = "g-1", .dn = "cn=g,ou=groups,dc=x", .dn_norm = "cn=g,ou=groups,dc=x",
		.name = "g", .nmembers = 3, .members = members,
	};
	const struct group_rec empty = {
		.dir_id = "g-2", .dn = "cn=e,ou=groups,dc=x", .dn_norm = "cn=e,ou=groups,dc=x",
		.name = "e",
	};

	stage_open(fx, three, 3);
	assert_int_equal(recon_stage_group(fx->rc, &g), 0);
	assert_int_equal(recon_stage_group(fx->rc, &empty), 0);
	assert_int_equal(recon_stage_end(fx->rc), 0);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM temp.stage_groups"), 2);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM temp.stage_members"), 0);
	/* one list for the group with members, none for the empty one */
	expect_text(fx, "SELECT group_concat(group_dir_id) FROM temp.stage_member_lists", "g-1");
	assert_int_equal(recon_members_expand(fx->rc), 0);
	expect_text(fx, "SELECT group_concat(group_dir_id || '=' || value, '|') FROM "
		    "(SELECT * FROM temp.stage_members ORDER BY rowid)",
		    "g-1=uid=alice,ou=people,dc=x|g-1=|g-1=cn=a\\2Cb,ou=groups,dc=x");
	/* again: the same rows, not twice as many */
	assert_int_equal(recon_members_expand(fx->rc), 0);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM temp.stage_members"), 3);
}

static void
test_username_swap(void **state)
{
	struct fixture *fx = *state;
	struct p swapped[] = {
		{ "id-a", "bob", NULL, NULL, false, NULL },
		{ "id-b", "alice", NULL, NULL, false, NULL },
		{ "id-c", "carol", NULL, NULL, false, "C3" },
	};

	stage(fx, three, 3);
	run(fx, true);
	stage(fx, swapped, 3);
	run(fx, true);
	assert_int_equal(fx->c.updated, 2);   /* the two swapped; carol unchanged */
	assert_int_equal(fx->c.unchanged, 1);
	assert_int_equal(fx->c.rejected, 0);
	expect_text(fx, "SELECT username FROM people WHERE dir_id = 'id-a'", "bob");
	expect_text(fx, "SELECT username FROM people WHERE dir_id = 'id-b'", "alice");
}

static int
collect(const struct recon_change *c, void *arg)
{
	char *buf = arg;

	strcat(buf, c->action);
	strcat(buf, ":");
	strcat(buf, c->username);
	strcat(buf, " ");
	return 0;
}

static void
test_plan_order_and_digest(void **state)
{
	struct fixture *fx = *state;
	struct recon_opts o = { .now = "t", .complete = true, .on_missing = MISSING_DISABLE };
	struct p next[] = {
		{ "id-b", "bob", NULL, "new@x", false, NULL },
		{ "id-z", "zed", NULL, NULL, false, NULL },
		{ "id-y", "yan", NULL, NULL, false, NULL },
	};
	char order[512] = "", d1[17], d2[17], d3[17];

	stage(fx, three, 3);
	run(fx, true);
	stage(fx, next, 3);
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(recon_plan(fx->rc, &o, &fx->c), 0);
	assert_int_equal(recon_plan_foreach(fx->rc, collect, order), 0);
	assert_string_equal(order, "create:yan create:zed update:bob disable:alice disable:carol ");
	assert_int_equal(recon_plan_digest(fx->rc, -1, d1), 0);
	assert_int_equal(recon_plan(fx->rc, &o, &fx->c), 0);
	assert_int_equal(recon_plan_digest(fx->rc, -1, d2), 0);
	assert_string_equal(d1, d2);       /* same disables, same digest */
	assert_int_equal(store_rollback(fx->st), 0);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM people WHERE status = 'disabled'"), 0);

	stage(fx, next, 1);                 /* now yan and zed are not there: same disables */
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(recon_plan(fx->rc, &o, &fx->c), 0);
	assert_int_equal(recon_plan_digest(fx->rc, -1, d3), 0);
	assert_string_equal(d1, d3);
	assert_int_equal(store_rollback(fx->st), 0);

	stage(fx, three, 1);                /* bob and carol missing: other disables */
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(recon_plan(fx->rc, &o, &fx->c), 0);
	assert_int_equal(recon_plan_digest(fx->rc, -1, d3), 0);
	assert_string_not_equal(d1, d3);
	assert_int_equal(store_rollback(fx->st), 0);
}

/* Two groups with one id: the second is refused (and reported by sync.c). */
static void
test_group_same_id(void **state)
{
	struct fixture *fx = *state;
	const struct group_rec g = {
		.dir_id = "g-1", .dn = "cn=g,ou=groups,dc=x", .dn_norm = "cn=g,ou=groups,dc=x",
		.name = "g",
	};
	const struct group_rec again = {
		.dir_id = "g-1", .dn = "cn=h,ou=groups,dc=x", .dn_norm = "cn=h,ou=groups,dc=x",
		.name = "h",
	};

	stage_open(fx, three, 3);
	assert_int_equal(recon_stage_group(fx->rc, &g), 0);
	assert_int_equal(recon_stage_group(fx->rc, &again), -EEXIST);
	assert_int_equal(recon_stage_end(fx->rc), 0);
	expect_text(fx, "SELECT group_concat(name) FROM temp.stage_groups", "g");
}

/* The condition of the partial index people_attention is written once, in
 * schema/004_resync.sql, and compiled from there into the queries that name
 * the index (scripts/sqlnames2c.sh): the store's index says it in those
 * words, and a query that says it may use the index. Fails if a migration
 * changes the index and the markers are not moved with it. */

static void
test_attention_one_condition(void **state)
{
	struct fixture *fx = *state;
	struct stmt *s;
	char sql[2048];

	assert_non_null(strstr(schema_attention, "missing_since IS NOT NULL"));
	assert_null(strstr(schema_attention, "/*"));
	assert_null(strstr(schema_attention, ";"));
	assert_int_equal(store_prepare(fx->st, "SELECT instr(sql, ?1) > 0 FROM sqlite_schema "
				       "WHERE type = 'index' AND name = 'people_attention'", &s), 0);
	assert_int_equal(stmt_bind_text(s, 1, schema_attention), 0);
	assert_int_equal(stmt_step(s), 1);
	assert_int_equal(stmt_int(s, 0), 1);
	stmt_done(s);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM people INDEXED BY people_attention "
		 "WHERE (%s) AND dir_id > ''", schema_attention);
	if (store_prepare(fx->st, sql, &s) < 0)
		fail_msg("%s\n  -> %s", sql, store_errmsg(fx->st));
	assert_int_equal(stmt_step(s), 1);
	stmt_done(s);
}

static void
test_plan_needs_transaction(void **state)
{
	struct fixture *fx = *state;
	struct recon_opts o = { .now = "t", .complete = true };

	stage(fx, three, 3);
	assert_int_equal(recon_plan(fx->rc, &o, &fx->c), -EINVAL);
	assert_int_equal(recon_apply(fx->rc, &o), -EINVAL);
}

/* status|missing of one person, "status|1" when missing_since is set. */
static void
expect_status(struct fixture *fx, const char *uid, const char *want)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT status || '|' || (missing_since IS NOT NULL) "
		 "FROM people WHERE username = '%s'", uid);
	expect_text(fx, sql, want);
}

/* A read that names only changes, staged lazily: the plan is what it is
 * with the store's people loaded; missing people stay missing unless sent. */
static void
test_lazy_changes(void **state)
{
	struct fixture *fx = *state;
	struct p changed[3];

	stage(fx, three, 3);
	run(fx, true);
	stage(fx, three, 2);          /* carol missing */
	run(fx, true);
	expect_status(fx, "carol", "disabled|1");

	fx->lazy = true;
	memcpy(changed, three, sizeof(changed));
	changed[1].email = "robert@x";
	stage_open(fx, &changed[1], 1);
	assert_int_equal(recon_stage_rest_unchanged(fx->rc), 0);
	assert_int_equal(recon_stage_members_may_change(fx->rc), 0);
	assert_int_equal(recon_stage_end(fx->rc), 0);
	run(fx, true);
	assert_int_equal(fx->c.updated, 1);
	assert_int_equal(fx->c.unchanged, 1);
	assert_int_equal(fx->c.disabled, 0);
	assert_int_equal(fx->c.enabled, 0);
	expect_status(fx, "carol", "disabled|1");
	expect_text(fx, "SELECT email FROM people WHERE username = 'bob'", "robert@x");

	/* alice gone: missing, and members may change */
	stage_open(fx, NULL, 0);
	assert_int_equal(recon_stage_gone(fx->rc, "id-a"), 0);
	assert_int_equal(recon_stage_gone(fx->rc, "id-c"), 0);   /* missing already */
	assert_int_equal(recon_stage_rest_unchanged(fx->rc), 0);
	assert_int_equal(recon_stage_members_may_change(fx->rc), 1);
	assert_int_equal(recon_stage_end(fx->rc), 0);
	run(fx, true);
	assert_int_equal(fx->c.disabled, 1);
	assert_int_equal(fx->c.unchanged, 1);
	expect_status(fx, "alice", "disabled|1");
	expect_status(fx, "bob", "invited|0");

	/* carol sent again as she was: back */
	stage_open(fx, &three[2], 1);
	assert_int_equal(recon_stage_rest_unchanged(fx->rc), 0);
	assert_int_equal(recon_stage_members_may_change(fx->rc), 1);
	assert_int_equal(recon_stage_end(fx->rc), 0);
	run(fx, true);
	assert_int_equal(fx->c.enabled, 1);
	assert_int_equal(fx->c.unchanged, 1);
	expect_status(fx, "carol", "invited|0");
	expect_status(fx, "alice", "disabled|1");

	/* a person written to the store by someone else meanwhile: not
	 * taken for read unchanged */
	stage_open(fx, NULL, 0);
	assert_int_equal(store_exec(fx->st, "INSERT INTO people (dir_id, dn, dn_norm, username, "
				    "status, member_since, status_changed_at, created_at, updated_at) "
				    "VALUES ('id-x', 'uid=x', 'uid=x', 'x', 'active', '', '', '', '')"), 0);
	assert_int_equal(recon_stage_rest_unchanged(fx->rc), -EAGAIN);
}

/* Lazy staging loads the store's people after all for a present phase, or
 * once the entries outnumber what loading them costs; what was named
 * before counts. */
static void
test_lazy_switch(void **state)
{
	struct fixture *fx = *state;
	enum { N = 300 };
	static struct p many[N];
	static char ids[N][16], uids[N][16];

	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "id-%d", i);
		snprintf(uids[i], sizeof(uids[i]), "u%d", i);
		many[i] = (struct p){ .id = ids[i], .uid = uids[i] };
	}
	stage(fx, many, N);
	run(fx, true);
	assert_int_equal(fx->c.created, N);

	/* everyone sent again unchanged (a refused cookie: a refresh from
	 * nothing): past N / 32 + 256 entries the rest are only marked */
	fx->lazy = true;
	stage_open(fx, many, N);
	assert_int_equal(scalar(fx, "SELECT count(*) FROM temp.stage_people"), N / 32 + 256);
	assert_int_equal(recon_stage_rest_unchanged(fx->rc), 0);
	assert_int_equal(recon_stage_members_may_change(fx->rc), 0);
	assert_int_equal(recon_stage_end(fx->rc), 0);
	run(fx, true);
	assert_int_equal(fx->c.unchanged, N);
	assert_int_equal(fx->c.updated + fx->c.disabled + fx->c.created, 0);

	/* one changed, one gone, one named unchanged (a present phase) */
	many[0].email = "zero@x";
	stage_open(fx, many, 1);
	assert_int_equal(recon_stage_gone(fx->rc, "id-1"), 0);
	assert_int_equal(recon_stage_unchanged(fx->rc, "id-2"), 0);
	assert_int_equal(recon_stage_rest_unchanged(fx->rc), 0);
	assert_int_equal(recon_stage_end(fx->rc), 0);
	run(fx, true);
	assert_int_equal(fx->c.updated, 1);
	assert_int_equal(fx->c.disabled, 1);
	assert_int_equal(fx->c.unchanged, N - 2);
	expect_status(fx, "u1", "disabled|1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_run_creates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clash_unicode_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_change_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_only_what_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_keeps_the_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_disabled_only_when_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clash_in_one_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_username_held_by_unseen_person, setup, teardown),
		cmocka_unit_test_setup_teardown(test_username_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_not_staged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_holder_keeps_username, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_duplicate_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_but_enabled_by_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_order_and_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_needs_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_same_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attention_one_condition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_switch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
