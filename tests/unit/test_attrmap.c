/*
 * test_attrmap.c: amap_person() turns an entry's values into a person as
 * rosterd.conf(5) says, and rejects entries it cannot take, with a reason.
 */
#include "unit.h"

#include <strings.h>

/* An entry as the directory client would hand it: values by attribute name. */
struct fake_attr {
	const char *name;
	struct dir_val vals[4];
	size_t n;
};
struct fake_entry {
	const char *const *names;   /* the map's attribute list */
	struct fake_attr *attrs;
	size_t n;
};

static const struct dir_val *
fake_values(void *arg, size_t i, size_t *n)
{
	struct fake_entry *e = arg;
	const char *want = e->names[i];

	for (size_t k = 0; k < e->n; k++) {
		if (strcasecmp(e->attrs[k].name, want) == 0) {
			*n = e->attrs[k].n;
			return e->attrs[k].vals;
		}
	}
	*n = 0;
	return NULL;
}

#define V(s) { (s), sizeof(s) - 1 }

struct fixture {
	char *dir;
	struct conf *cf;
	struct amap *m;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[2048], *path;

	fx->dir = tmpdir_make();
	path = file_write(fx->dir, "r.conf",
		"ldap = { uri = \"ldap://h\";\n"
		" users = { base = \"dc=x\"; disabled_attribute = \"userAccountControl\";\n"
		"  disabled_values = [ \"Locked\" ]; disabled_bitmask = 2; };\n"
		" attributes = { id = \"objectGUID\"; department = \"departmentNumber\";\n"
		"  custom = { cost_centre = \"DepartmentNumber\"; phones = \"telephoneNumber\"; }; };\n"
		"};\nstore = { path = \"x.db\"; };\n", 0600);
	if (conf_load(path, 0, &fx->cf, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	free(path);
	assert_int_equal(amap_new(fx->cf, &fx->m), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	amap_free(fx->m);
	conf_free(fx->cf);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static int
map(struct fixture *fx, struct fake_attr *attrs, size_t n, struct person_rec *p,
    char *reason, size_t len)
{
	struct fake_entry e = { amap_attrs(fx->m), attrs, n };

	return amap_person(fx->m, "uid=a,ou=people,dc=x", fake_values, &e, p, reason, len);
}

static void
test_attribute_list_is_distinct(void **state)
{
	struct fixture *fx = *state;
	const char *const *a = amap_attrs(fx->m);
	size_t n = 0;

	for (; a[n] != NULL; n++)
		for (size_t k = 0; k < n; k++)
			if (strcasecmp(a[n], a[k]) == 0)
				fail_msg("\"%s\" requested twice", a[n]);
	/* id + 11 fields (departmentNumber once for both uses) + telephoneNumber
	 * + userAccountControl */
	assert_int_equal(n, 1 + 11 + 1 + 1);
	assert_string_equal(a[0], "objectGUID");
}

static void
test_full_entry(void **state)
{
	struct fixture *fx = *state;
	struct fake_attr attrs[] = {
		{ "objectguid", { { "\x01\xab\x00\xff", 4 } }, 1 },
		{ "uid", { V("alice"), V("alice2") }, 2 },
		{ "cn", { V("Zoë Smith") }, 1 },
		{ "departmentNumber", { V("D01"), V("D02") }, 2 },
		{ "telephoneNumber", { V("+47 1"), V("+47 2"), V("+47 3") }, 3 },
		{ "manager", { V("UID=Bob , OU=People,DC=x") }, 1 },
		{ "userAccountControl", { V("512") }, 1 },
	};
	struct person_rec p;
	char reason[256];

	assert_int_equal(map(fx, attrs, 7, &p, reason, sizeof(reason)), 0);
	/* binary ids become hex */
	assert_string_equal(p.dir_id, "01ab00ff");
	assert_string_equal(p.dn_norm, "uid=a,ou=people,dc=x");
	/* single-valued fields take the first value */
	assert_string_equal(p.field[F_USERNAME], "alice");
	assert_string_equal(p.field[F_DISPLAY_NAME], "Zoë Smith");
	assert_string_equal(p.field[F_DEPARTMENT], "D01");
	assert_null(p.field[F_EMAIL]);
	/* manager DNs are normalised */
	assert_string_equal(p.field[F_MANAGER], "uid=bob,ou=people,dc=x");
	/* custom fields keep every value */
	assert_int_equal(p.ncustom, 2);
	assert_string_equal(p.custom_name[0], "cost_centre");
	assert_string_equal(p.custom_value[0], "D01\nD02");
	assert_string_equal(p.custom_value[1], "+47 1\n+47 2\n+47 3");
	/* 512 has bit 2 clear: enabled */
	assert_false(p.dir_disabled);
}

/* A 16-byte binary id is a GUID: Active Directory's string form, the first
 * three groups byte-swapped; other binary ids stay hex. */
static void
test_guid_string_form(void **state)
{
	struct fixture *fx = *state;
	struct fake_attr attrs[] = {
		{ "objectGUID", { V("\x86\xfd\x9b\xc9\x26\xe0\x97\x43\x8a\x0b\x01\x02\x03\x04\x05\x06") }, 1 },
		{ "uid", { V("a") }, 1 },
	};
	struct person_rec p;
	char reason[256];

	assert_int_equal(map(fx, attrs, 2, &p, reason, sizeof(reason)), 0);
	assert_string_equal(p.dir_id, "c99bfd86-e026-4397-8a0b-010203040506");
	attrs[0].vals[0] = (struct dir_val)V("\x86\xfd\x9b\xc9\x26\xe0\x97\x43\x8a\x0b\x01\x02\x03\x04\x05");
	assert_int_equal(map(fx, attrs, 2, &p, reason, sizeof(reason)), 0);
	assert_string_equal(p.dir_id, "86fd9bc926e097438a0b0102030405");
}

static void
test_disabled_flag(void **state)
{
	struct fixture *fx = *state;
	struct fake_attr attrs[] = {
		{ "entryUUID", { V("x") }, 1 },
		{ "objectGUID", { V("id-1") }, 1 },
		{ "uid", { V("a") }, 1 },
		{ "userAccountControl", { V("514") }, 1 },
	};
	struct person_rec p;
	char reason[256];

	assert_int_equal(map(fx, attrs, 4, &p, reason, sizeof(reason)), 0);
	assert_string_equal(p.dir_id, "id-1");
	assert_true(p.dir_disabled);          /* 514 = 512 | 2 */
	attrs[3].vals[0] = (struct dir_val)V("locked");
	assert_int_equal(map(fx, attrs, 4, &p, reason, sizeof(reason)), 0);
	assert_true(p.dir_disabled);          /* listed value, any case */
	attrs[3].vals[0] = (struct dir_val)V("2x");
	assert_int_equal(map(fx, attrs, 4, &p, reason, sizeof(reason)), 0);
	assert_false(p.dir_disabled);         /* not a number, not listed */
}

static void
test_rejects(void **state)
{
	struct fixture *fx = *state;
	struct fake_attr no_id[] = { { "uid", { V("a") }, 1 } };
	struct fake_attr no_uid[] = { { "objectGUID", { V("id-2") }, 1 } };
	struct fake_attr bad_utf8[] = {
		{ "objectGUID", { V("id-3") }, 1 },
		{ "uid", { V("a") }, 1 },
		{ "sn", { { "\xc3\x28", 2 } }, 1 },
	};
	struct person_rec p;
	char reason[256];

	assert_int_equal(map(fx, no_id, 1, &p, reason, sizeof(reason)), 1);
	assert_string_equal(reason, "no objectGUID (the entry's stable id)");
	assert_null(p.dir_id);

	/* rejected, but its id is known so its person is not "missing" */
	assert_int_equal(map(fx, no_uid, 1, &p, reason, sizeof(reason)), 1);
	assert_string_equal(reason, "no username (attribute uid)");
	assert_string_equal(p.dir_id, "id-2");

	assert_int_equal(map(fx, bad_utf8, 3, &p, reason, sizeof(reason)), 1);
	assert_string_equal(reason, "sn (family_name) is not valid UTF-8");
	assert_string_equal(p.dir_id, "id-3");
}

/* A username is kept as LDAP prepares it for matching (RFC 4518
 * insignificant space): no space at either end, one between words, every
 * space separator a space; a blank one rejects the entry. */
static void
test_username_spaces(void **state)
{
	struct fixture *fx = *state;
	struct fake_attr attrs[] = {
		{ "objectGUID", { V("id-1") }, 1 },
		{ "uid", { V("  u0000001 ") }, 1 },
	};
	struct person_rec p;
	char reason[256];

	assert_int_equal(map(fx, attrs, 2, &p, reason, sizeof(reason)), 0);
	assert_string_equal(p.field[F_USERNAME], "u0000001");
	attrs[1].vals[0] = (struct dir_val)V(" ann \xc2\xa0 lee\xe3\x80\x80");
	assert_int_equal(map(fx, attrs, 2, &p, reason, sizeof(reason)), 0);
	assert_string_equal(p.field[F_USERNAME], "ann lee");
	attrs[1].vals[0] = (struct dir_val)V(" ");
	assert_int_equal(map(fx, attrs, 2, &p, reason, sizeof(reason)), 1);
	assert_string_equal(reason, "a blank username (attribute uid)");
	attrs[1].vals[0] = (struct dir_val)V("\xc2\xa0\xe2\x80\x83");
	assert_int_equal(map(fx, attrs, 2, &p, reason, sizeof(reason)), 1);
	assert_string_equal(reason, "a blank username (attribute uid)");
}

/* Usernames reach terminals, logs and the dry run's plan: a control
 * character or a bidi override in one rejects the entry. */
static void
test_username_controls_rejected(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *uid, *reason;
	} bad[] = {
		{ "bob\ndisable  alice", "(U+000A)" },
		{ "\x1b[2Jbob", "(U+001B)" },
		{ "bob\t", "(U+0009)" },
		{ "bob\x7f", "(U+007F)" },
		{ "bob\xc2\x9b", "(U+009B)" },
		{ "evil\xe2\x80\xae" "txt", "(U+202E)" },
		{ "\xe2\x81\xa6" "bob", "(U+2066)" },
	};
	struct fake_attr attrs[] = {
		{ "objectGUID", { V("id-9") }, 1 },
		{ "uid", { V("x") }, 1 },
	};
	struct person_rec p;
	char reason[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		attrs[1].vals[0] = (struct dir_val){ bad[i].uid, strlen(bad[i].uid) };
		assert_int_equal(map(fx, attrs, 2, &p, reason, sizeof(reason)), 1);
		assert_non_null(strstr(reason, "the username (attribute uid) has a control "
				       "character or a bidirectional override"));
		assert_non_null(strstr(reason, bad[i].reason));
		assert_string_equal(p.dir_id, "id-9");
	}
	/* letters beyond ASCII are fine */
	attrs[1].vals[0] = (struct dir_val)V("jos\xc3\xa9");
	assert_int_equal(map(fx, attrs, 2, &p, reason, sizeof(reason)), 0);
}

static void
test_bad_manager_is_counted_not_fatal(void **state)
{
	struct fixture *fx = *state;
	struct fake_attr attrs[] = {
		{ "objectGUID", { V("id-4") }, 1 },
		{ "uid", { V("a") }, 1 },
		{ "manager", { V("Bob Smith") }, 1 },
		{ "secretary", { V("uid=c,dc=x") }, 1 },
	};
	struct person_rec p;
	char reason[256];

	assert_int_equal(amap_bad_dns(fx->m), 0);
	assert_int_equal(map(fx, attrs, 4, &p, reason, sizeof(reason)), 0);
	assert_null(p.field[F_MANAGER]);
	assert_string_equal(p.field[F_SECONDARY_MANAGER], "uid=c,dc=x");
	assert_int_equal(amap_bad_dns(fx->m), 1);
}

/* ldap.groups.member_attribute as a list: the members of both attributes,
 * a uniqueMember's UID suffix stripped, a member's kept. */
static void
test_group_member_attributes(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf = NULL;
	struct gmap *g = NULL;
	struct group_rec rec;
	char err[2048], reason[256], *path;
	struct fake_attr attrs[] = {
		{ "entryUUID", { V("u1") }, 1 },
		{ "cn", { V("staff") }, 1 },
		{ "member", { V("uid=a,dc=x"), V("UID=B, DC=X") }, 2 },
		{ "uniquemember", { V("uid=c,dc=x#'0101'B"), V("not a dn") }, 2 },
	};
	struct fake_entry e = { NULL, attrs, 4 };

	path = file_write(fx->dir, "g.conf", "ldap = { uri = \"ldap://h\"; users = { base = \"dc=x\"; };\n"
			  " groups = { base = \"dc=x\"; member_attribute = [ \"member\", \"uniqueMember\" ]; };\n"
			  "};\nstore = { path = \"x.db\"; };\n", 0600);
	if (conf_load(path, 0, &cf, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	free(path);
	assert_int_equal(gmap_new(cf, &g), 0);
	e.names = gmap_attrs(g);
	assert_int_equal(gmap_group(g, "cn=staff,dc=x", fake_values, &e, &rec, reason,
				    sizeof(reason)), 0);
	assert_int_equal(rec.nmembers, 3);
	assert_string_equal(rec.members[0], "uid=a,dc=x");
	assert_string_equal(rec.members[1], "uid=b,dc=x");
	assert_string_equal(rec.members[2], "uid=c,dc=x");
	assert_int_equal(gmap_bad_members(g), 1);
	gmap_free(g);
	conf_free(cf);
}

/* UTF-8 checking, at every offset around the eight-byte ASCII steps: a NUL,
 * a stray continuation byte or a cut sequence anywhere is refused, a
 * two-byte or four-byte character anywhere is accepted. */
static void
test_utf8_offsets(void **state)
{
	char buf[40];

	(void)state;
	assert_true(utf8_valid(NULL, 0));
	for (size_t len = 1; len <= 24; len++) {
		memset(buf, 'a', sizeof(buf));
		assert_true(utf8_valid(buf, len));
		for (size_t pos = 0; pos < len; pos++) {
			memset(buf, 'a', sizeof(buf));
			buf[pos] = '\0';
			assert_false(utf8_valid(buf, len));
			buf[pos] = (char)0x80;
			assert_false(utf8_valid(buf, len));
			buf[pos] = (char)0xc3;   /* cut at the end, or followed by 'a' */
			assert_false(utf8_valid(buf, len));
			if (pos + 1 < len) {
				buf[pos + 1] = (char)0xa9;   /* e acute */
				assert_true(utf8_valid(buf, len));
			}
			if (pos + 3 < len) {
				memcpy(buf + pos, "\xf0\x9f\x98\x80", 4);
				assert_true(utf8_valid(buf, len));
				buf[pos + 3] = 'a';
				assert_false(utf8_valid(buf, len));
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attribute_list_is_distinct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_member_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_username_spaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guid_string_form, setup, teardown),
		cmocka_unit_test(test_utf8_offsets),
		cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_username_controls_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_manager_is_counted_not_fatal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
