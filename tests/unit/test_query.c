/*
 * test_query.c: rosterctl's read views of the manager hierarchy and the
 * groups, on a real store filled as a sync leaves it: a four-level tree, a
 * manager 2-cycle and 3-cycle, a self-manager, a person with only a secondary
 * manager; nested groups with a cycle, a deleted group and two groups of the
 * same name. Every query must end on the cycles and never list a person
 * below themself.
 */
#include "unit.h"
#include "fold.h"

#include <jansson.h>

struct fixture {
	char *dir;
	struct store *st;
	json_t *rows;    /* what the last listing gave */
};

/* Run sql with the arguments bound to ?1, ?2, ... by the letters of fmt:
 * 't' a string (NULL binds NULL), 'i' an int; fail the test when it fails. */
static void
exec_args(struct store *st, const char *sql, const char *fmt, ...)
{
	struct stmt *s = NULL;
	va_list ap;

	if (store_prepare(st, sql, &s) < 0)
		fail_msg("%s: %s", sql, store_errmsg(st));
	va_start(ap, fmt);
	for (int i = 1; *fmt; fmt++, i++) {
		if (*fmt == 'i')
			assert_int_equal(stmt_bind_int(s, i, va_arg(ap, int)), 0);
		else
			assert_int_equal(stmt_bind_text(s, i, va_arg(ap, const char *)), 0);
	}
	va_end(ap);
	if (stmt_run(s) < 0)
		fail_msg("%s: %s", sql, store_errmsg(st));
	stmt_done(s);
}

static void
person(struct store *st, const char *username, const char *role, const char *status)
{
	exec_args(st, "INSERT INTO people (dir_id, dn, dn_norm, username, display_name, role, "
		  "status, member_since, status_changed_at, created_at, updated_at) VALUES "
		  "('id-' || lower(?1), 'uid=' || ?1 || ',ou=people,dc=example,dc=com', "
		  "'uid=' || lower(?1) || ',ou=people,dc=example,dc=com', ?1, 'Person ' || ?1, ?2, "
		  "?3, 't', 't', 't', 't')", "ttt", username, role, status);
}

static void
manager(struct store *st, const char *who, const char *kind, const char *mgr)
{
	exec_args(st, "INSERT INTO person_managers VALUES ((SELECT id FROM people WHERE "
		  "username = ?1), ?2, (SELECT id FROM people WHERE username = ?3))", "ttt", who,
		  kind, mgr);
}

static void
group(struct store *st, const char *dn, const char *name, int present)
{
	char *norm = NULL;

	assert_int_equal(dn_normalize(dn, strlen(dn), &norm), 0);
	exec_args(st, "INSERT INTO groups (dir_id, dn, dn_norm, name, description, present, "
		  "created_at, updated_at) VALUES ('gid-' || ?1, ?2, ?1, ?3, 'about ' || ?3, ?4, "
		  "'t', 't')", "ttti", norm, dn, name, present);
	free(norm);
}

/* A direct member: person user, or the group member_dn, of group dn. */
static void
member(struct store *st, const char *dn, const char *user, const char *member_dn)
{
	exec_args(st, "INSERT INTO group_members VALUES ((SELECT id FROM groups WHERE dn = ?1 "
		  "|| ',ou=groups,dc=example,dc=com'), (SELECT id FROM people WHERE username = ?2), "
		  "(SELECT id FROM groups WHERE dn = ?3 || ',ou=groups,dc=example,dc=com'))", "ttt",
		  dn, user, member_dn);
}

/* Effective membership: user is in group dn through group via. */
static void
in(struct store *st, const char *dn, const char *user, const char *via)
{
	exec_args(st, "INSERT INTO group_membership VALUES ((SELECT id FROM groups WHERE dn = ?1 "
		  "|| ',ou=groups,dc=example,dc=com'), (SELECT id FROM people WHERE username = ?2), "
		  "(SELECT id FROM groups WHERE dn = ?3 || ',ou=groups,dc=example,dc=com'), "
		  "'2026-11-21T10:00:00Z')", "ttt", dn, user, via);
}

static void
fill(struct store *st)
{
	/* the tree: ceo > cto > lead1 > dev1, dev2; cto > Lead2 > dev3; ceo > cfo > acct */
	static const char *const people[][3] = {
		{ "ceo", "admin", "active" }, { "cto", "manager", "active" },
		{ "cfo", "manager", "active" }, { "lead1", "manager", "active" },
		{ "Lead2", "manager", "invited" }, { "dev1", "learner", "active" },
		{ "dev2", "learner", "disabled" }, { "dev3", "learner", "active" },
		{ "acct", "learner", "active" },
		/* ann <-> ben, cal under ann; xa -> xb -> xc -> xa, xd under xa */
		{ "ann", "learner", "active" }, { "ben", "learner", "active" },
		{ "cal", "learner", "active" }, { "xa", "learner", "active" },
		{ "xb", "learner", "active" }, { "xc", "learner", "active" },
		{ "xd", "learner", "active" },
		/* only a secondary manager; their own manager */
		{ "sec", "learner", "active" }, { "me", "learner", "active" },
	};
	static const char *const edges[][3] = {
		{ "cto", "primary", "ceo" }, { "cfo", "primary", "ceo" },
		{ "lead1", "primary", "cto" }, { "Lead2", "primary", "cto" },
		{ "dev1", "primary", "lead1" }, { "dev2", "primary", "lead1" },
		{ "dev3", "primary", "Lead2" }, { "acct", "primary", "cfo" },
		{ "acct", "secondary", "cto" },
		{ "ann", "primary", "ben" }, { "ben", "primary", "ann" }, { "cal", "primary", "ann" },
		{ "xa", "primary", "xb" }, { "xb", "primary", "xc" }, { "xc", "primary", "xa" },
		{ "xd", "primary", "xa" },
		{ "sec", "secondary", "ceo" }, { "me", "primary", "me" },
	};

	assert_int_equal(store_begin(st), 0);
	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++)
		person(st, people[i][0], people[i][1], people[i][2]);
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		manager(st, edges[i][0], edges[i][1], edges[i][2]);

	/* all > eng, ops; eng > loop1 <-> loop2; two groups named staff; old is
	 * deleted but keeps its rows */
	group(st, "cn=all,ou=groups,dc=example,dc=com", "all", 1);
	group(st, "cn=eng,ou=groups,dc=example,dc=com", "eng", 1);
	group(st, "cn=ops,ou=groups,dc=example,dc=com", "ops", 1);
	group(st, "cn=loop1,ou=groups,dc=example,dc=com", "loop1", 1);
	group(st, "cn=loop2,ou=groups,dc=example,dc=com", "loop2", 1);
	group(st, "cn=staff,ou=paris,ou=groups,dc=example,dc=com", "staff", 1);
	group(st, "cn=Staff,ou=london,ou=groups,dc=example,dc=com", "Staff", 1);
	group(st, "cn=old,ou=groups,dc=example,dc=com", "old", 0);
	member(st, "cn=all", NULL, "cn=eng");
	member(st, "cn=all", NULL, "cn=ops");
	member(st, "cn=eng", "dev1", NULL);
	member(st, "cn=eng", "dev2", NULL);
	member(st, "cn=eng", "lead1", NULL);
	member(st, "cn=eng", NULL, "cn=loop1");
	member(st, "cn=loop1", "ann", NULL);
	member(st, "cn=loop1", NULL, "cn=loop2");
	member(st, "cn=loop2", "ben", NULL);
	member(st, "cn=loop2", NULL, "cn=loop1");
	member(st, "cn=ops", "acct", NULL);
	member(st, "cn=staff,ou=paris", "cfo", NULL);
	member(st, "cn=Staff,ou=london", "ceo", NULL);
	member(st, "cn=old", "xa", NULL);
	in(st, "cn=eng", "dev1", "cn=eng");
	in(st, "cn=eng", "dev2", "cn=eng");
	in(st, "cn=eng", "lead1", "cn=eng");
	in(st, "cn=eng", "ann", "cn=loop1");
	in(st, "cn=eng", "ben", "cn=loop2");
	in(st, "cn=loop1", "ann", "cn=loop1");
	in(st, "cn=loop1", "ben", "cn=loop2");
	in(st, "cn=loop2", "ben", "cn=loop2");
	in(st, "cn=loop2", "ann", "cn=loop1");
	in(st, "cn=ops", "acct", "cn=ops");
	in(st, "cn=all", "dev1", "cn=eng");
	in(st, "cn=all", "dev2", "cn=eng");
	in(st, "cn=all", "lead1", "cn=eng");
	in(st, "cn=all", "ann", "cn=loop1");
	in(st, "cn=all", "ben", "cn=loop2");
	in(st, "cn=all", "acct", "cn=ops");
	in(st, "cn=staff,ou=paris", "cfo", "cn=staff,ou=paris");
	in(st, "cn=Staff,ou=london", "ceo", "cn=Staff,ou=london");
	in(st, "cn=old", "xa", "cn=old");
	assert_int_equal(store_commit(st), 0);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[600], err[1024];

	fx->dir = tmpdir_make();
	snprintf(path, sizeof(path), "%s/learning.db", fx->dir);
	assert_int_equal(store_open(path, 1000, 0, &fx->st, err, sizeof(err)), 0);
	fill(fx->st);
	fx->rows = json_array();
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	json_decref(fx->rows);
	store_close(fx->st);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static int
collect(json_t *row, void *arg)
{
	return json_array_append(arg, row);
}

/* The rows collected, as "v1:v2,..." of the given keys (at most two), then
 * forgotten. Strings as they are, numbers and booleans as JSON. */
static char *
take(struct fixture *fx, const char *k1, const char *k2)
{
	static char buf[2048];
	json_t *row;
	size_t i;

	buf[0] = '\0';
	json_array_foreach(fx->rows, i, row) {
		const char *keys[] = { k1, k2 };
		for (size_t k = 0; k < 2 && keys[k] != NULL; k++) {
			json_t *v = json_object_get(row, keys[k]);
			char *t;
			if (v == NULL)
				fail_msg("row %zu has no key %s", i, keys[k]);
			t = json_is_string(v) ? strdup(json_string_value(v))
					      : json_dumps(v, JSON_ENCODE_ANY);
			assert_int_equal(str_appendf(buf, sizeof(buf), "%s%s", k ? ":" : i ? "," : "",
						     t), 0);
			free(t);
		}
	}
	json_array_clear(fx->rows);
	return buf;
}

static long long
pid(struct fixture *fx, const char *username)
{
	long long id = -1;

	assert_int_equal(query_person_id(fx->st, username, &id), 0);
	assert_true(id > 0);
	return id;
}

static char *
reports(struct fixture *fx, const char *username, bool all)
{
	assert_int_equal(query_reports(fx->st, pid(fx, username), all, collect, fx->rows), 0);
	return take(fx, "username", all ? "depth" : NULL);
}

static void
test_reports(void **state)
{
	struct fixture *fx = *state;
	long long id;

	assert_string_equal(reports(fx, "ceo", false), "cfo,cto");
	/* tree order: each person then the people below them, siblings by
	 * username whatever its case */
	assert_string_equal(reports(fx, "ceo", true),
			    "cfo:1,acct:2,cto:1,lead1:2,dev1:3,dev2:3,Lead2:2,dev3:3");
	assert_string_equal(reports(fx, "CTO", true), "lead1:1,dev1:2,dev2:2,Lead2:1,dev3:2");
	assert_string_equal(reports(fx, "lead1", false), "dev1,dev2");
	assert_string_equal(reports(fx, "dev1", true), "");
	/* a secondary manager is not in the reporting tree */
	assert_string_equal(reports(fx, "cto", false), "lead1,Lead2");

	/* each row has the person's manager (their parent in the tree) */
	assert_int_equal(query_reports(fx->st, pid(fx, "ceo"), true, collect, fx->rows), 0);
	assert_string_equal(take(fx, "username", "manager"),
			    "cfo:ceo,acct:cfo,cto:ceo,lead1:cto,dev1:lead1,dev2:lead1,Lead2:cto,"
			    "dev3:Lead2");

	assert_int_equal(query_person_id(fx->st, "nobody", &id), -ENOENT);
}

static void
test_reports_cycles(void **state)
{
	struct fixture *fx = *state;

	/* ann <-> ben: ann is below ben, and never below herself */
	assert_string_equal(reports(fx, "ann", false), "ben,cal");
	assert_string_equal(reports(fx, "ann", true), "ben:1,cal:1");
	assert_string_equal(reports(fx, "ben", true), "ann:1,cal:2");
	/* xa -> xb -> xc -> xa */
	assert_string_equal(reports(fx, "xa", true), "xc:1,xb:2,xd:1");
	assert_string_equal(reports(fx, "xb", true), "xa:1,xc:2,xd:2");
	/* their own manager */
	assert_string_equal(reports(fx, "me", false), "");
	assert_string_equal(reports(fx, "me", true), "");
}

static char *
chain(struct fixture *fx, const char *username)
{
	assert_int_equal(query_chain(fx->st, pid(fx, username), collect, fx->rows), 0);
	return take(fx, "username", "cycle");
}

static void
test_chain(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(query_chain(fx->st, pid(fx, "dev3"), collect, fx->rows), 0);
	assert_string_equal(take(fx, "level", "username"), "1:Lead2,2:cto,3:ceo");
	assert_string_equal(chain(fx, "dev1"), "lead1:false,cto:false,ceo:false");
	assert_string_equal(chain(fx, "ceo"), "");
	/* only a secondary manager: no chain of command */
	assert_string_equal(chain(fx, "sec"), "");
	assert_string_equal(chain(fx, "acct"), "cfo:false,ceo:false");
}

static void
test_chain_cycles(void **state)
{
	struct fixture *fx = *state;

	/* the walk ends at the first person met again, marked */
	assert_string_equal(chain(fx, "ann"), "ben:false,ann:true");
	assert_string_equal(chain(fx, "cal"), "ann:false,ben:false,ann:true");
	assert_string_equal(chain(fx, "xa"), "xb:false,xc:false,xa:true");
	assert_string_equal(chain(fx, "xd"), "xa:false,xb:false,xc:false,xa:true");
	assert_string_equal(chain(fx, "me"), "me:true");
	assert_int_equal(query_chain(fx->st, pid(fx, "xd"), collect, fx->rows), 0);
	assert_string_equal(take(fx, "level", NULL), "1,2,3,4");
}

static char *
list(struct fixture *fx, struct user_filter f)
{
	assert_int_equal(query_user_list(fx->st, &f, collect, fx->rows), 0);
	return take(fx, "username", NULL);
}

static long long
gid(struct fixture *fx, const char *name, bool deleted)
{
	char err[512];
	long long id = -1;

	if (query_group_find(fx->st, name, deleted, &id, err, sizeof(err)) != 0)
		fail_msg("query_group_find %s: %s", name, err);
	assert_true(id > 0);
	return id;
}

static void
test_user_list_filters(void **state)
{
	struct fixture *fx = *state;

	assert_string_equal(list(fx, (struct user_filter){ .manager_id = pid(fx, "cto") }),
			    "lead1,Lead2");
	assert_string_equal(list(fx, (struct user_filter){ .manager_id = pid(fx, "cto"),
							   .below = true }),
			    "dev1,dev2,dev3,lead1,Lead2");
	assert_string_equal(list(fx, (struct user_filter){ .manager_id = pid(fx, "ann"),
							   .below = true }), "ben,cal");
	assert_string_equal(list(fx, (struct user_filter){ .manager_id = pid(fx, "xc"),
							   .below = true }), "xa,xb,xd");
	assert_string_equal(list(fx, (struct user_filter){ .group_id = gid(fx, "eng", false) }),
			    "ann,ben,dev1,dev2,lead1");
	assert_string_equal(list(fx, (struct user_filter){ .group_id = gid(fx, "loop2", false) }),
			    "ann,ben");
	assert_string_equal(list(fx, (struct user_filter){ .role = "manager" }),
			    "cfo,cto,lead1,Lead2");
	assert_string_equal(list(fx, (struct user_filter){ .role = "admin" }), "ceo");
	/* combined, with each other and with the older filters */
	assert_string_equal(list(fx, (struct user_filter){ .group_id = gid(fx, "eng", false),
							   .manager_id = pid(fx, "lead1") }),
			    "dev1,dev2");
	assert_string_equal(list(fx, (struct user_filter){ .manager_id = pid(fx, "ceo"),
							   .below = true, .role = "learner" }),
			    "acct,dev1,dev2,dev3");
	assert_string_equal(list(fx, (struct user_filter){ .manager_id = pid(fx, "ceo"),
							   .below = true, .status = "disabled" }),
			    "dev2");
	assert_string_equal(list(fx, (struct user_filter){ .group_id = gid(fx, "all", false),
							   .status = "active", .role = "manager" }),
			    "lead1");
	/* no filter: everyone */
	assert_string_equal(list(fx, (struct user_filter){ 0 }),
			    "acct,ann,ben,cal,ceo,cfo,cto,dev1,dev2,dev3,lead1,Lead2,me,sec,"
			    "xa,xb,xc,xd");
}

/* A value the platform wrote that is not UTF-8 comes escaped, and the rows
 * after it still come (issue 15 item 5). */
static void
test_user_list_bad_utf8(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(store_exec(fx->st, "UPDATE people SET display_name = "
				    "CAST(X'4265FF6E' AS TEXT) WHERE username = 'ann'"), 0);
	assert_string_equal(list(fx, (struct user_filter){ 0 }),
			    "acct,ann,ben,cal,ceo,cfo,cto,dev1,dev2,dev3,lead1,Lead2,me,sec,"
			    "xa,xb,xc,xd");
	assert_int_equal(query_user_list(fx->st, &(struct user_filter){ 0 }, collect, fx->rows),
			 0);
	const char *got = take(fx, "username", "display_name");
	if (strcasestr(got, "ann:Be\\xff") == NULL)
		fail_msg("ann's display name is not escaped: %s", got);
}

static void
test_group_list(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(query_group_list(fx->st, false, collect, fx->rows), 0);
	assert_int_equal(json_array_size(fx->rows), 7);
	assert_true(json_is_true(json_object_get(json_array_get(fx->rows, 0), "present")));
	assert_string_equal(take(fx, "dn", NULL),
			    "cn=all,ou=groups,dc=example,dc=com,cn=eng,ou=groups,dc=example,dc=com,"
			    "cn=loop1,ou=groups,dc=example,dc=com,cn=loop2,ou=groups,dc=example,dc=com,"
			    "cn=ops,ou=groups,dc=example,dc=com,"
			    "cn=Staff,ou=london,ou=groups,dc=example,dc=com,"
			    "cn=staff,ou=paris,ou=groups,dc=example,dc=com");
	assert_int_equal(query_group_list(fx->st, false, collect, fx->rows), 0);
	assert_string_equal(take(fx, "name", "members"),
			    "all:0,eng:3,loop1:1,loop2:1,ops:1,Staff:1,staff:1");
	assert_int_equal(query_group_list(fx->st, false, collect, fx->rows), 0);
	assert_string_equal(take(fx, "effective_members", "nested_groups"),
			    "6:2,5:1,2:1,2:1,1:0,1:0,1:0");
	/* deleted groups only when asked, marked */
	assert_int_equal(query_group_list(fx->st, true, collect, fx->rows), 0);
	assert_string_equal(take(fx, "name", "present"),
			    "all:true,eng:true,loop1:true,loop2:true,old:false,ops:true,Staff:true,"
			    "staff:true");
}

static void
test_group_find(void **state)
{
	struct fixture *fx = *state;
	char err[1024];
	long long id = -1;

	/* by name, any case; by DN in any spelling; by directory id */
	assert_int_equal(query_group_find(fx->st, "ENG", false, &id, err, sizeof(err)), 0);
	assert_int_equal(id, gid(fx, "cn=eng,ou=groups,dc=example,dc=com", false));
	assert_int_equal(query_group_find(fx->st, "CN=Staff , OU=Paris,ou=groups,DC=example,dc=com",
					  false, &id, err, sizeof(err)), 0);
	assert_int_not_equal(id, gid(fx, "cn=staff,ou=london,ou=groups,dc=example,dc=com", false));
	assert_int_equal(id, gid(fx, "gid-cn=staff,ou=paris,ou=groups,dc=example,dc=com", false));

	/* two groups named staff: an error naming both DNs */
	id = -1;
	assert_int_equal(query_group_find(fx->st, "staff", false, &id, err, sizeof(err)), -EEXIST);
	assert_int_equal(id, -1);
	assert_non_null(strstr(err, "\"staff\" names several groups"));
	assert_non_null(strstr(err, "\n  cn=Staff,ou=london,ou=groups,dc=example,dc=com "));
	assert_non_null(strstr(err, "\n  cn=staff,ou=paris,ou=groups,dc=example,dc=com "));
	/* a short buffer: the list is cut, and says so */
	assert_int_equal(query_group_find(fx->st, "staff", false, &id, err, 60), -EEXIST);
	assert_int_equal(strlen(err), 59);
	assert_string_equal(err + 56, "...");

	/* a deleted group only when asked */
	assert_int_equal(query_group_find(fx->st, "old", false, &id, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no group \"old\""));
	assert_non_null(strstr(err, "deleted from the directory"));
	assert_int_equal(query_group_find(fx->st, "old", true, &id, err, sizeof(err)), 0);
	assert_int_equal(query_group_find(fx->st, "nosuch", false, &id, err, sizeof(err)), -ENOENT);
	assert_null(strstr(err, "deleted"));
	assert_int_equal(query_group_find(fx->st, "cn=eng,ou=elsewhere,dc=example,dc=com", false,
					  &id, err, sizeof(err)), -ENOENT);
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("%s is not a string", key);
	return json_string_value(v);
}

static void
test_group_show(void **state)
{
	struct fixture *fx = *state;
	json_t *o = NULL, *a;

	assert_int_equal(query_group(fx->st, gid(fx, "loop1", false), &o), 0);
	assert_string_equal(jstr(o, "name"), "loop1");
	assert_string_equal(jstr(o, "dn"), "cn=loop1,ou=groups,dc=example,dc=com");
	assert_string_equal(jstr(o, "description"), "about loop1");
	assert_true(json_is_true(json_object_get(o, "present")));
	assert_int_equal(json_integer_value(json_object_get(o, "members")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "effective_members")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "nested_groups")), 1);
	a = json_object_get(o, "parents");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(jstr(json_array_get(a, 0), "name"), "eng");
	assert_string_equal(jstr(json_array_get(a, 1), "dn"), "cn=loop2,ou=groups,dc=example,dc=com");
	assert_true(json_is_true(json_object_get(json_array_get(a, 1), "present")));
	a = json_object_get(o, "children");
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(jstr(json_array_get(a, 0), "name"), "loop2");
	json_decref(o);

	assert_int_equal(query_group(fx->st, gid(fx, "old", true), &o), 0);
	assert_true(json_is_false(json_object_get(o, "present")));
	assert_int_equal(json_array_size(json_object_get(o, "parents")), 0);
	json_decref(o);
	assert_int_equal(query_group(fx->st, 9999, &o), -ENOENT);

	/* direct members, then everyone with the group they came through */
	assert_int_equal(query_group_members(fx->st, gid(fx, "eng", false), false, collect,
					     fx->rows), 0);
	assert_string_equal(take(fx, "username", NULL), "dev1,dev2,lead1");
	assert_int_equal(query_group_members(fx->st, gid(fx, "eng", false), true, collect,
					     fx->rows), 0);
	assert_string_equal(take(fx, "username", "via"),
			    "ann:loop1,ben:loop2,dev1:eng,dev2:eng,lead1:eng");
	assert_int_equal(query_group_members(fx->st, gid(fx, "all", false), true, collect,
					     fx->rows), 0);
	assert_string_equal(take(fx, "username", "via_dn"),
			    "acct:cn=ops,ou=groups,dc=example,dc=com,"
			    "ann:cn=loop1,ou=groups,dc=example,dc=com,"
			    "ben:cn=loop2,ou=groups,dc=example,dc=com,"
			    "dev1:cn=eng,ou=groups,dc=example,dc=com,"
			    "dev2:cn=eng,ou=groups,dc=example,dc=com,"
			    "lead1:cn=eng,ou=groups,dc=example,dc=com");
	assert_int_equal(query_group_members(fx->st, gid(fx, "all", false), false, collect,
					     fx->rows), 0);
	assert_string_equal(take(fx, "username", NULL), "");
}

static void
test_user_show(void **state)
{
	struct fixture *fx = *state;
	json_t *o = NULL;
	char *s;

	/* effective groups, present ones only, by name */
	assert_int_equal(query_user(fx->st, "ann", &o), 0);
	s = json_dumps(json_object_get(o, "groups"), JSON_COMPACT);
	assert_string_equal(s, "[\"all\",\"eng\",\"loop1\",\"loop2\"]");
	free(s);
	assert_string_equal(jstr(o, "manager"), "ben");
	assert_true(json_is_null(json_object_get(o, "secondary_manager")));
	json_decref(o);
	assert_int_equal(query_user(fx->st, "xa", &o), 0);
	assert_int_equal(json_array_size(json_object_get(o, "groups")), 0);
	json_decref(o);
	assert_int_equal(query_user(fx->st, "acct", &o), 0);
	assert_string_equal(jstr(o, "manager"), "cfo");
	assert_string_equal(jstr(o, "secondary_manager"), "cto");
	json_decref(o);
	assert_int_equal(query_user(fx->st, "sec", &o), 0);
	assert_true(json_is_null(json_object_get(o, "manager")));
	assert_string_equal(jstr(o, "secondary_manager"), "ceo");
	json_decref(o);
}

/* Names, e-mail and custom fields for the search and column tests. */
static void
fill_search(struct store *st)
{
	if (store_exec(st,
		"UPDATE people SET given_name = 'Zoë', family_name = 'Ångström', "
		"display_name = 'Zoë Ångström', email = 'z.angstrom@example.com' "
		"WHERE username = 'dev1';"
		"UPDATE people SET display_name = 'STRASSE Weiß', email = 'ANN@Example.COM' "
		"WHERE username = 'ann';"
		"UPDATE people SET member_since = '2026-01-02T03:04:05Z' WHERE username = 'acct';"
		"INSERT INTO person_fields (person_id, name, value) SELECT id, 'cost_centre', CASE username "
		"WHEN 'dev1' THEN 'C1' WHEN 'dev2' THEN 'C2' ELSE 'C0' END FROM people;"
		"INSERT INTO person_fields (person_id, name, value) SELECT id, 'badge', 'B-' || username FROM people "
		"WHERE username IN ('dev1', 'dev2');") < 0)
		fail_msg("%s", store_errmsg(st));
}

static char *
search(struct fixture *fx, const char *text)
{
	return list(fx, (struct user_filter){ .search = text });
}

static void
test_fold(void **state)
{
	char *f = NULL;

	(void)state;
	assert_int_equal(text_fold("Zoë ÅNGSTRÖM", strlen("Zoë ÅNGSTRÖM"), &f), 0);
	assert_string_equal(f, "zoe angstrom");
	free(f);
	assert_int_equal(text_fold("Straße ﬁn", strlen("Straße ﬁn"), &f), 0);
	assert_string_equal(f, "strasse fin");
	free(f);
	assert_int_equal(text_fold("", 0, &f), 0);
	assert_string_equal(f, "");
	free(f);
	assert_int_equal(text_fold("a\xff", 2, &f), -EILSEQ);
	assert_true(text_fold_contains("Zoë", 4, "zoe"));
	assert_false(text_fold_contains("Zoë", 4, "zoa"));
	/* not UTF-8: bytes, ASCII case ignored */
	assert_true(text_fold_contains("ABC\xff", 4, "bc"));
}

static void
test_user_list_search(void **state)
{
	struct fixture *fx = *state;

	fill_search(fx->st);
	/* case and accents ignored, in every name and the e-mail */
	assert_string_equal(search(fx, "zoe"), "dev1");
	assert_string_equal(search(fx, "ZOË"), "dev1");
	assert_string_equal(search(fx, "ångström"), "dev1");
	assert_string_equal(search(fx, "angstrom@"), "dev1");
	assert_string_equal(search(fx, "strasse"), "ann");
	assert_string_equal(search(fx, "ann@example.com"), "ann");
	assert_string_equal(search(fx, "LEAD"), "lead1,Lead2");
	assert_string_equal(search(fx, "nobody"), "");
	/* combined with the other filters */
	assert_string_equal(list(fx, (struct user_filter){ .search = "lead", .status = "invited" }),
			    "Lead2");
	assert_string_equal(list(fx, (struct user_filter){ .search = "e",
		.group_id = gid(fx, "eng", false), .role = "manager" }), "lead1");
	/* the search function is gone after the call */
	assert_true(store_exec(fx->st, "SELECT rosterd_search('x')") < 0);
}

static void
test_user_list_fields(void **state)
{
	struct fixture *fx = *state;
	const char *const badge[] = { "badge", "B-dev2" };
	const char *const both[] = { "cost_centre", "C1", "badge", "B-dev1" };
	const char *const none[] = { "cost_centre", "C1", "badge", "B-dev2" };
	const char *const c0[] = { "cost_centre", "C0" };
	const char *const c1[] = { "cost_centre", "C1" };

	fill_search(fx->st);
	assert_string_equal(list(fx, (struct user_filter){ .fields = badge, .nfields = 1 }),
			    "dev2");
	assert_string_equal(list(fx, (struct user_filter){ .fields = both, .nfields = 2 }),
			    "dev1");
	assert_string_equal(list(fx, (struct user_filter){ .fields = none, .nfields = 2 }), "");
	/* the value exactly: case matters */
	assert_string_equal(list(fx, (struct user_filter){ .fields = (const char *const[]){
		"badge", "b-dev2" }, .nfields = 1 }), "");
	assert_string_equal(list(fx, (struct user_filter){ .fields = c0, .nfields = 1,
		.role = "admin" }), "ceo");
	assert_string_equal(list(fx, (struct user_filter){ .fields = c1, .nfields = 1,
		.search = "zoe" }), "dev1");
	assert_string_equal(list(fx, (struct user_filter){ .fields = c1, .nfields = 1,
		.search = "lead" }), "");
}

static void
test_user_columns(void **state)
{
	struct fixture *fx = *state;
	const char *const cols[] = {
		"username", "field:badge", "manager", "secondary_manager", "groups", "role",
		"member_since", "status_reason", "field:nothing",
	};
	char **def = NULL;
	size_t n = 0;
	json_t *row;
	char *s;

	fill_search(fx->st);
	assert_true(query_user_column_known("field:cost_centre"));
	assert_true(query_user_column_known("secondary_manager"));
	assert_false(query_user_column_known("field:"));
	assert_false(query_user_column_known("salary"));
	assert_int_equal(query_user_rows(fx->st, &(struct user_filter){ .search = "zoe" }, cols,
					 9, collect, fx->rows), 0);
	assert_int_equal(json_array_size(fx->rows), 1);
	row = json_array_get(fx->rows, 0);
	s = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, "{\"username\":\"dev1\",\"field:badge\":\"B-dev1\","
			    "\"manager\":\"lead1\",\"secondary_manager\":null,"
			    "\"groups\":[\"all\",\"eng\"],\"role\":\"learner\","
			    "\"member_since\":\"t\",\"status_reason\":null,\"field:nothing\":null}");
	free(s);
	json_array_clear(fx->rows);
	assert_int_equal(query_user_rows(fx->st, &(struct user_filter){ 0 },
					 (const char *const[]){ "username", "salary" }, 2,
					 collect, fx->rows), -EINVAL);
	/* the export's columns: profile, managers, then every custom field */
	assert_int_equal(query_user_columns_default(fx->st, &def, &n), 0);
	assert_int_equal(n, 17);
	assert_string_equal(def[0], "username");
	assert_string_equal(def[7], "role");
	assert_string_equal(def[12], "member_since");
	assert_string_equal(def[13], "manager");
	assert_string_equal(def[14], "secondary_manager");
	assert_string_equal(def[15], "field:badge");
	assert_string_equal(def[16], "field:cost_centre");
	query_columns_free(def, n);
}

static void
test_names(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(query_names(fx->st, "users", "LEA", collect, fx->rows), 0);
	assert_string_equal(take(fx, "name", NULL), "lead1,Lead2");
	assert_int_equal(query_names(fx->st, "users", "%", collect, fx->rows), 0);
	assert_string_equal(take(fx, "name", NULL), "");
	/* present groups only, a name once */
	assert_int_equal(query_names(fx->st, "groups", "", collect, fx->rows), 0);
	assert_string_equal(take(fx, "name", NULL), "all,eng,loop1,loop2,ops,Staff,staff");
	assert_int_equal(query_names(fx->st, "groups", "o", collect, fx->rows), 0);
	assert_string_equal(take(fx, "name", NULL), "ops");
	assert_int_equal(store_exec(fx->st, "INSERT INTO courses (code, title, created_at) "
				    "VALUES ('SEC101', 'x', 't'), ('SAFE_1', 'y', 't')"), 0);
	assert_int_equal(query_names(fx->st, "courses", "s", collect, fx->rows), 0);
	assert_string_equal(take(fx, "name", NULL), "SAFE_1,SEC101");
	assert_int_equal(query_names(fx->st, "courses", "SAFE_", collect, fx->rows), 0);
	assert_string_equal(take(fx, "name", NULL), "SAFE_1");
	assert_int_equal(query_names(fx->st, "people", "", collect, fx->rows), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_list_bad_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_show, setup, teardown),
		cmocka_unit_test(test_fold),
		cmocka_unit_test_setup_teardown(test_user_list_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_list_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
