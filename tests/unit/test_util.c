/*
 * test_util.c: util.c's text escaping for terminals and logs, and how
 * secret_read() refuses what is not a private regular file (a FIFO without
 * hanging, a symbolic link with the reason).
 */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>

/* text_escape of s, compared with want; and text_safe's verdict. */
static void
check_escape(const char *s, size_t len, const char *want, bool safe, unsigned want_cp)
{
	char *out = (char *)"unset";
	unsigned cp = 0;

	assert_int_equal(text_escape(s, len, &out), 0);
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(text_safe(s, len, &cp), safe);
	if (!safe)
		assert_int_equal(cp, want_cp);
}

static void
test_escape_plain_text_unchanged(void **state)
{
	(void)state;
	check_escape("", 0, "", true, 0);
	check_escape("alice", 5, "alice", true, 0);
	/* UTF-8 letters, CJK, a backslash of a DN: as they are */
	check_escape("Jos\xc3\xa9 \xe6\x9d\x8e cn=Smith\\, John", 25,
		     "Jos\xc3\xa9 \xe6\x9d\x8e cn=Smith\\, John", true, 0);
}

static void
test_escape_controls(void **state)
{
	(void)state;
	/* a line feed that would forge a line of the dry run's plan */
	check_escape("bob\ndisable  alice", 18, "bob\\x0adisable  alice", false, 0x0a);
	check_escape("\x1b[31mred", 8, "\\x1b[31mred", false, 0x1b);
	check_escape("a\tb\rc", 5, "a\\x09b\\x0dc", false, 0x09);
	check_escape("del\x7f", 4, "del\\x7f", false, 0x7f);
	check_escape("nul\0x", 5, "nul\\x00x", false, 0);
	/* C1: U+0085 (NEL), U+009B (CSI) */
	check_escape("a\xc2\x85z\xc2\x9b", 6, "a\\u0085z\\u009B", false, 0x85);
	/* U+00A0, the first after C1, is fine */
	check_escape("\xc2\xa0", 2, "\xc2\xa0", true, 0);
}

static void
test_escape_bidi(void **state)
{
	(void)state;
	/* U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LRI, U+2069 PDI, U+202A LRE */
	check_escape("evil\xe2\x80\xaegpj.exe", 14, "evil\\u202Egpj.exe", false, 0x202e);
	check_escape("\xe2\x81\xa6x\xe2\x81\xa9", 7, "\\u2066x\\u2069", false, 0x2066);
	check_escape("\xe2\x80\xaa", 3, "\\u202A", false, 0x202a);
	/* neighbours that are not controls: U+2029, U+202F, U+2065, U+206A */
	check_escape("\xe2\x80\xa9\xe2\x80\xaf", 6, "\xe2\x80\xa9\xe2\x80\xaf", true, 0);
	check_escape("\xe2\x81\xa5\xe2\x81\xaa", 6, "\xe2\x81\xa5\xe2\x81\xaa", true, 0);
}

static void
test_escape_bad_utf8(void **state)
{
	(void)state;
	/* Latin-1, a lone continuation byte, a truncated sequence, an overlong
	 * slash, a surrogate: each bad byte as \xNN, the rest kept */
	check_escape("Jos\xe9!", 5, "Jos\\xe9!", false, 0xfffd);
	check_escape("\x80" "a", 2, "\\x80a", false, 0xfffd);
	check_escape("ab\xe2\x80", 4, "ab\\xe2\\x80", false, 0xfffd);
	check_escape("\xc0\xaf", 2, "\\xc0\\xaf", false, 0xfffd);
	check_escape("\xed\xa0\x80", 3, "\\xed\\xa0\\x80", false, 0xfffd);
}

struct fx {
	char *dir;
	char err[512];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_make();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void
on_alarm(int sig)
{
	(void)sig;
	fail_msg("secret_read hung on a FIFO");
}

static void
test_secret_fifo_refused_without_hanging(void **state)
{
	struct fx *f = *state;
	char path[600], *pw = NULL;

	snprintf(path, sizeof(path), "%s/bind.pw", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	signal(SIGALRM, on_alarm);
	alarm(5);
	assert_int_equal(secret_read(path, true, &pw, f->err, sizeof(f->err)), -EINVAL);
	alarm(0);
	assert_null(pw);
	assert_non_null(strstr(f->err, "a FIFO, not a regular file"));
	assert_non_null(strstr(f->err, path));
}

static void
test_secret_symlink_reason(void **state)
{
	struct fx *f = *state;
	char *target = file_write(f->dir, "real.pw", "secret\n", 0600);
	char link[600], *pw = NULL;

	snprintf(link, sizeof(link), "%s/bind.pw", f->dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(secret_read(link, true, &pw, f->err, sizeof(f->err)), -ELOOP);
	assert_null(pw);
	assert_non_null(strstr(f->err, "a symbolic link, not followed"));
	assert_null(strstr(f->err, "Too many levels"));
	/* the file itself reads */
	assert_int_equal(secret_read(target, true, &pw, f->err, sizeof(f->err)), 0);
	assert_string_equal(pw, "secret");
	secret_free(pw);
	free(target);
}

static void
test_secret_directory_named(void **state)
{
	struct fx *f = *state;
	char *pw = NULL;

	assert_int_equal(secret_read(f->dir, true, &pw, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "a directory, not a regular file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_plain_text_unchanged),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_escape_bidi),
		cmocka_unit_test(test_escape_bad_utf8),
		cmocka_unit_test_setup_teardown(test_secret_fifo_refused_without_hanging, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_secret_symlink_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_directory_named, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
