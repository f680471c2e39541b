/*
 * test_dn.c: dn_normalize() gives one canonical form for every spelling of a
 * DN (RFC 4514: case, spacing, escapes, multi-valued RDNs, OIDs) and refuses
 * what is not a DN.
 */
#include "unit.h"

/* The normal form of dn (asserting success). */
static char *
norm(const char *dn)
{
	char *out = NULL;
	int r = dn_normalize(dn, strlen(dn), &out);

	if (r != 0)
		fail_msg("dn_normalize(\"%s\") = %d", dn, r);
	return out;
}

static void
expect(const char *dn, const char *want)
{
	char *got = norm(dn);

	if (strcmp(got, want) != 0)
		fail_msg("dn_normalize(\"%s\")\n  got  \"%s\"\n  want \"%s\"", dn, got, want);
	free(got);
}

static void
same(const char *a, const char *b)
{
	char *na = norm(a), *nb = norm(b);

	if (strcmp(na, nb) != 0)
		fail_msg("\"%s\" -> \"%s\" but \"%s\" -> \"%s\"", a, na, b, nb);
	free(na);
	free(nb);
}

static void
test_case_and_spacing(void **state)
{
	(void)state;
	expect("UID=Alice,OU=People,DC=Example,DC=com", "uid=alice,ou=people,dc=example,dc=com");
	expect("uid=alice , ou=people,  dc=example ,dc=com", "uid=alice,ou=people,dc=example,dc=com");
	expect("cn= John   Smith ,dc=x", "cn=john smith,dc=x");
	same("CN=Alice Smith,OU=People,DC=example,DC=com",
	     "cn=alice smith,ou=people,dc=example,dc=com");
}

/* Plain DNs (names for types; letters, digits, '.', '-', '_' in values) take
 * a short path: their normal form must be the general path's, which the same
 * DN with spaces after its commas and at its end takes. */
static void
test_plain_dns_as_the_general_path(void **state)
{
	static const char type_first[] = "aBcDlOuUx";
	static const char type_rest[] = "aBcD0123-";
	static const char value_chars[] = "aZy9_.-Q0";
	unsigned seed = 12345;
	char dn[256], spaced[512];

	(void)state;
	expect("UID=U000001,OU=People,DC=Example,DC=Com", "uid=u000001,ou=people,dc=example,dc=com");
	expect("x-Type=-a.b_c", "x-type=-a.b_c");
	for (int k = 0; k < 2000; k++) {
		int nrdn = 1 + (int)(seed % 4), len = 0, slen = 0;

		for (int r = 0; r < nrdn; r++) {
			int tl, vl;

			seed = seed * 1103515245u + 12345u;
			tl = (int)(seed >> 8) % 4;
			vl = 1 + (int)(seed >> 16) % 6;
			if (r > 0) {
				len += snprintf(dn + len, sizeof(dn) - (size_t)len, ",");
				slen += snprintf(spaced + slen, sizeof(spaced) - (size_t)slen, ", ");
			}
			dn[len++] = type_first[(seed >> 4) % 9];
			for (int i = 0; i < tl; i++) {
				seed = seed * 1103515245u + 12345u;
				dn[len++] = type_rest[(seed >> 16) % 9];
			}
			dn[len++] = '=';
			for (int i = 0; i < vl; i++) {
				seed = seed * 1103515245u + 12345u;
				dn[len++] = value_chars[(seed >> 16) % 9];
			}
			dn[len] = '\0';
			slen += snprintf(spaced + slen, sizeof(spaced) - (size_t)slen, "%s",
					 strrchr(dn, ',') ? strrchr(dn, ',') + 1 : dn);
		}
		snprintf(spaced + slen, sizeof(spaced) - (size_t)slen, " ");
		same(dn, spaced);
	}
}

static void
test_escapes(void **state)
{
	(void)state;
	/* \, and \2C are the same character */
	same("cn=Smith\\, John,ou=people,dc=x", "cn=Smith\\2C John,ou=people,dc=x");
	same("cn=Smith\\, John,ou=people,dc=x", "cn=smith\\2c john,ou=people,dc=x");
	expect("cn=Smith\\2C John,dc=x", "cn=smith\\, john,dc=x");
	/* specials are escaped minimally, the rest decoded */
	expect("cn=a\\+b,dc=x", "cn=a\\+b,dc=x");
	expect("cn=\\\"q\\\",dc=x", "cn=\\\"q\\\",dc=x");
	expect("cn=x\\3Cy\\3E,dc=x", "cn=x\\<y\\>,dc=x");
	expect("cn=semi\\;colon,dc=x", "cn=semi\\;colon,dc=x");
	expect("cn=back\\\\slash,dc=x", "cn=back\\\\slash,dc=x");
	expect("cn=\\41bc,dc=x", "cn=abc,dc=x");
	/* a leading '#' is escaped, an inner one is not */
	expect("cn=\\#tag,dc=x", "cn=\\#tag,dc=x");
	expect("cn=a#b,dc=x", "cn=a#b,dc=x");
	/* '=' needs no escape inside a value */
	expect("cn=a\\=b,dc=x", "cn=a=b,dc=x");
}

static void
test_utf8(void **state)
{
	(void)state;
	/* non-ASCII letters fold too; hex-escaped UTF-8 is the same DN */
	expect("cn=ÅSE Ørsted,dc=x", "cn=åse ørsted,dc=x");
	same("cn=\\C3\\85se,dc=x", "cn=Åse,dc=x");
	same("CN=ZOË,DC=X", "cn=zoë,dc=x");
}

static void
test_multivalued_rdn(void **state)
{
	(void)state;
	same("cn=Alice+uid=a1,dc=x", "UID=A1+CN=alice,dc=x");
	expect("uid=a1+cn=Alice,dc=x", "cn=alice+uid=a1,dc=x");
}

static void
test_oids(void **state)
{
	(void)state;
	same("2.5.4.3=John,dc=x", "cn=john,dc=x");
	same("0.9.2342.19200300.100.1.1=jdoe,dc=x", "uid=jdoe,dc=x");
	/* an unknown OID stays as it is */
	expect("1.2.3.4=v,dc=x", "1.2.3.4=v,dc=x");
}

static void
test_binary_value(void **state)
{
	(void)state;
	/* a #BER value keeps its bytes, in lower-case hex */
	expect("cn=#04024869,dc=x", "cn=#04024869,dc=x");
}

static void
test_empty_dn(void **state)
{
	(void)state;
	expect("", "");
}

static void
test_invalid(void **state)
{
	static const char *const bad[] = {
		"not a dn", "=value,dc=x", "cn=a,,dc=x", "cn=a\\", "cn=a\\zz,dc=x",
	};
	char *out = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dn_normalize(bad[i], strlen(bad[i]), &out) != -EINVAL)
			fail_msg("\"%s\" was accepted as \"%s\"", bad[i], out ? out : "?");
	}
	/* a NUL inside the given length is not a DN */
	assert_int_equal(dn_normalize("cn=a\0b,dc=x", 11, &out), -EINVAL);
	/* invalid UTF-8 is not a DN value */
	assert_int_equal(dn_normalize("cn=\xff\xfe,dc=x", 10, &out), -EINVAL);
	assert_null(out);
}

static void
test_length_is_respected(void **state)
{
	char *out = NULL;

	(void)state;
	/* only the first len bytes are the DN */
	assert_int_equal(dn_normalize("uid=a,dc=xGARBAGE", 10, &out), 0);
	assert_string_equal(out, "uid=a,dc=x");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case_and_spacing),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_multivalued_rdn),
		cmocka_unit_test(test_oids),
		cmocka_unit_test(test_binary_value),
		cmocka_unit_test(test_plain_dns_as_the_general_path),
		cmocka_unit_test(test_empty_dn),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_length_is_respected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
