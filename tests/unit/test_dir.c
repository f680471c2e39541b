/*
 * test_dir.c: dir_range_parse() reads the range option of an attribute
 * description as Active Directory writes it ("member;range=0-1499",
 * "member;range=1500-*"), tells a plain attribute and another attribute or
 * option from it, and refuses a range it cannot read.
 */
#include "unit.h"

#include <limits.h>

/* dir_range_parse() of desc (a C string) for name, which must give want. */
static struct dir_range
parse(const char *desc, const char *name, int want)
{
	struct dir_range rg = { .lo = 77, .hi = 77 };
	int r = dir_range_parse(desc, strlen(desc), name, &rg);

	if (r != want)
		fail_msg("dir_range_parse(\"%s\", \"%s\") = %d, want %d", desc, name, r, want);
	return rg;
}

static void
test_ranges(void **state)
{
	static const struct {
		const char *desc, *name;
		struct dir_range want;
	} cases[] = {
		{ "member;range=0-1499", "member", { .lo = 0, .hi = 1499 } },
		{ "member;range=1500-*", "member", { .lo = 1500, .last = true } },
		{ "Member;Range=3-3", "member", { .lo = 3, .hi = 3 } },   /* case does not matter */
		{ "memberOf;RANGE=0-*", "memberof", { .lo = 0, .last = true } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dir_range rg = parse(cases[i].desc, cases[i].name, 1);

		assert_int_equal(rg.lo, cases[i].want.lo);
		assert_int_equal(rg.last, cases[i].want.last);
		if (!rg.last)
			assert_int_equal(rg.hi, cases[i].want.hi);
	}
}

/* The largest index there is, and one digit more. */
static void
test_limits(void **state)
{
	char desc[64];
	struct dir_range rg;

	(void)state;
	snprintf(desc, sizeof(desc), "member;range=0-%lu", ULONG_MAX);
	rg = parse(desc, "member", 1);
	assert_true(rg.hi == ULONG_MAX);
	snprintf(desc, sizeof(desc), "member;range=0-%lu0", ULONG_MAX);
	parse(desc, "member", -EINVAL);
	snprintf(desc, sizeof(desc), "member;range=%lu9-*", ULONG_MAX);
	parse(desc, "member", -EINVAL);
}

static void
test_plain_and_others(void **state)
{
	/* another attribute, or another option */
	static const char *const others[][2] = {
		{ "memberOf", "member" }, { "memberOf;range=0-1", "member" },
		{ "member", "memberOf" }, { "mem", "member" }, { "member;lang-en", "member" },
		{ "member;binary", "member" }, { "member;ran", "member" },
		{ "uniqueMember;range=0-*", "member" },
	};
	struct dir_range rg = parse("member", "member", 0);

	(void)state;
	assert_int_equal(rg.lo, 77);   /* left alone */
	parse("MEMBER", "member", 0);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		parse(others[i][0], others[i][1], -ENOENT);
}

static void
test_unreadable(void **state)
{
	static const char *const bad[] = {
		"member;range=", "member;range=0", "member;range=0-", "member;range=-5",
		"member;range=*-*",
		"member;range=5-3",   /* ends before it starts */
		"member;range=0-1x", "member;range=0-**", "member;range=0-1499;binary",
		"member;range= 0-1", "member;range=+0-1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse(bad[i], "member", -EINVAL);
}

/* The length is respected: what follows it is not read. */
static void
test_length(void **state)
{
	static const char buf[] = "member;range=10-19" "99-*";
	struct dir_range rg;

	(void)state;
	assert_int_equal(dir_range_parse(buf, 18, "member", &rg), 1);
	assert_int_equal(rg.lo, 10);
	assert_int_equal(rg.hi, 19);
	assert_int_equal(dir_range_parse(buf, 6, "member", &rg), 0);
	assert_int_equal(dir_range_parse(buf, 16, "member", &rg), -EINVAL);
}

/* A password goes in clear only over ldap:// to a host other than the
 * loopback, without StartTLS. */
static void
test_cleartext_uris(void **state)
{
	(void)state;
	assert_true(dir_uri_cleartext("ldap://ldap.example.com", false));
	assert_true(dir_uri_cleartext("LDAP://ldap.example.com:389/", false));
	assert_true(dir_uri_cleartext("ldap://192.0.2.1", false));
	assert_true(dir_uri_cleartext("ldap://[2001:db8::1]:389", false));
	/* a name that only looks like the loopback resolves through DNS */
	assert_true(dir_uri_cleartext("ldap://127.999.0.1", false));
	assert_true(dir_uri_cleartext("ldap://127.0.0.1.example.com", false));
	assert_true(dir_uri_cleartext("ldap://localhost.example.com", false));
	/* ldap:/// is libldap's default host, not known to be the loopback */
	assert_true(dir_uri_cleartext("ldap:///", false));
	assert_true(dir_uri_cleartext("ldap://%zz", false));
	assert_false(dir_uri_cleartext("ldap://ldap.example.com", true));
	assert_false(dir_uri_cleartext("ldaps://ldap.example.com", false));
	assert_false(dir_uri_cleartext("ldapi://%2Frun%2Fslapd%2Fldapi", false));
	assert_false(dir_uri_cleartext("ldap://127.0.0.1:3389", false));
	assert_false(dir_uri_cleartext("ldap://127.1.2.3", false));
	assert_false(dir_uri_cleartext("ldap://[::1]:389", false));
	assert_false(dir_uri_cleartext("ldap://LocalHost", false));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_plain_and_others),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_cleartext_uris),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
