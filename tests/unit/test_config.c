/*
 * test_config.c: config.c loads good files with the documented defaults and
 * refuses bad ones with "file:line: key: what is wrong".
 */
#include "unit.h"

#include <libconfig.h>
#include <limits.h>

/* A minimal valid config; %s is extra text put inside sync = { }. */
static const char minimal[] =
	"ldap = {\n"                                              /* 1 */
	"  uri = \"ldap://127.0.0.1:3389\";\n"                    /* 2 */
	"  users = { base = \"ou=people,dc=example,dc=com\"; };\n" /* 3 */
	"};\n"                                                    /* 4 */
	"store = { path = \"learning.db\"; };\n"                  /* 5 */
	"sync = { %s };\n";                                       /* 6 */

struct fixture {
	char *dir;
	char err[4096];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->dir = tmpdir_make();
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* Load text as a config file; returns conf_load's result. */
static int
load(struct fixture *fx, const char *text, int flags, struct conf **cf)
{
	char *path = file_write(fx->dir, "rosterd.conf", text, 0640);
	int r;

	*cf = NULL;
	r = conf_load(path, flags, cf, fx->err, sizeof(fx->err));
	free(path);
	return r;
}

static void
load_minimal(struct fixture *fx, const char *sync_extra, int flags, int want, struct conf **cf)
{
	char text[2048];

	snprintf(text, sizeof(text), minimal, sync_extra);
	assert_int_equal(load(fx, text, flags, cf), want);
}

static void
test_defaults(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char want[600];

	load_minimal(fx, "", 0, 0, &cf);
	assert_int_equal(cf->ldap.page_size, 1000);
	assert_int_equal(cf->ldap.timeout, 30);
	assert_int_equal(cf->ldap.network_timeout, 10);
	assert_false(cf->ldap.starttls);
	assert_string_equal(cf->ldap.users.filter, "(objectClass=inetOrgPerson)");
	assert_int_equal(cf->ldap.users.scope, SCOPE_SUB);
	assert_string_equal(cf->ldap.id_attr, "entryUUID");
	assert_string_equal(cf->ldap.attr[F_USERNAME], "uid");
	assert_string_equal(cf->ldap.attr[F_SECONDARY_MANAGER], "secretary");
	assert_int_equal(cf->sync.max_disable, 500);
	assert_true(cf->sync.max_disable_percent == 10.0);
	assert_int_equal(cf->sync.initial_status, INITIAL_INVITED);
	assert_int_equal(cf->sync.on_missing, MISSING_DISABLE);
	assert_int_equal(cf->sync.interval, 900);
	assert_int_equal(cf->store.busy_timeout, 5000);
	/* relative store path: taken from the config file's directory */
	snprintf(want, sizeof(want), "%s/learning.db", fx->dir);
	assert_string_equal(cf->store.path, want);
	conf_free(cf);
}

/* The shipped example must be a valid config (its password file need not exist). */
static void
test_example_is_valid(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf = NULL;
	const char *top = getenv("ROSTERD_TOP");
	char path[512];

	snprintf(path, sizeof(path), "%s/conf/rosterd.conf", top ? top : ".");
	assert_int_equal(conf_load(path, 0, &cf, fx->err, sizeof(fx->err)), 0);
	assert_string_equal(cf->ldap.custom[0].name, "cost_centre");
	assert_string_equal(cf->ldap.users.disabled_values[0], "TRUE");
	conf_free(cf);
}

static void
test_unknown_key_names_line(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char want[600];

	load_minimal(fx, "max_disabel = 3;", 0, -EINVAL, &cf);
	snprintf(want, sizeof(want), "%s/rosterd.conf:6: sync.max_disabel: unknown key", fx->dir);
	assert_string_equal(fx->err, want);
	assert_null(cf);
}

static void
test_wrong_type(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	load_minimal(fx, "interval = \"15m\";", 0, -EINVAL, &cf);
	assert_non_null(strstr(fx->err, ":6: sync.interval: must be a whole number"));
}

static void
test_out_of_range(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx,
		"ldap = {\n uri = \"ldap://h\";\n page_size = 0;\n"
		" users = { base = \"dc=x\"; };\n};\nstore = { path = \"/tmp/x.db\"; };\n",
		0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.page_size: 0 is out of range (1 to 100000)"));
}

static void
test_bad_word(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	load_minimal(fx, "initial_status = \"enabled\";", 0, -EINVAL, &cf);
	assert_non_null(strstr(fx->err, ":6: sync.initial_status: \"enabled\" is not one of "
			       "\"invited\", \"active\""));
}

/* A config whose groups section is groups_text (line 4). */
static int
load_groups(struct fixture *fx, const char *groups_text, struct conf **cf)
{
	char text[1024];

	snprintf(text, sizeof(text), "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\"; };\n"
		 " groups = { base = \"ou=groups,dc=x\"; %s };\n};\nstore = { path = \"x.db\"; };\n",
		 groups_text);
	return load(fx, text, 0, cf);
}

static void
test_member_attributes(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	/* the default, one name, none, several */
	assert_int_equal(load_groups(fx, "", &cf), 0);
	assert_int_equal(cf->ldap.groups.nmember_attrs, 1);
	assert_string_equal(cf->ldap.groups.member_attrs[0], "member");
	assert_int_equal(cf->ldap.groups.member_style, MEMBERS_DN);
	conf_free(cf);
	assert_int_equal(load_groups(fx, "member_attribute = \"memberUid\";", &cf), 0);
	assert_int_equal(cf->ldap.groups.nmember_attrs, 1);
	assert_int_equal(cf->ldap.groups.member_style, MEMBERS_UID);
	conf_free(cf);
	assert_int_equal(load_groups(fx, "member_attribute = \"\";", &cf), 0);
	assert_int_equal(cf->ldap.groups.nmember_attrs, 0);
	assert_null(cf->ldap.groups.member_attrs[0]);
	conf_free(cf);
	assert_int_equal(load_groups(fx, "member_attribute = [ \"member\", \"uniqueMember\" ];",
				     &cf), 0);
	assert_int_equal(cf->ldap.groups.nmember_attrs, 2);
	assert_string_equal(cf->ldap.groups.member_attrs[1], "uniqueMember");
	assert_null(cf->ldap.groups.member_attrs[2]);
	assert_int_equal(cf->ldap.groups.member_style, MEMBERS_UNIQUE);
	conf_free(cf);
	/* refused, each with its line */
	assert_int_equal(load_groups(fx, "member_attribute = [ \"member\", \"memberUid\" ];", &cf),
			 -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.groups.member_attribute: memberUid (usernames) "
			       "cannot be read with member or uniqueMember (DNs)"));
	assert_int_equal(load_groups(fx, "member_attribute = [ \"member\", \"owner\" ];", &cf),
			 -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.groups.member_attribute: \"owner\" is not one "
			       "of \"member\", \"uniqueMember\", \"memberUid\""));
	assert_int_equal(load_groups(fx, "member_attribute = [ \"member\", \"member\" ];", &cf),
			 -EINVAL);
	assert_non_null(strstr(fx->err, "\"member\" is named twice"));
	assert_int_equal(load_groups(fx, "member_attribute = \"members\";", &cf), -EINVAL);
	assert_non_null(strstr(fx->err, "\"memberUid\", \"\""));
	assert_int_equal(load_groups(fx, "member_attribute = 1;", &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.groups.member_attribute: must be a string, or an "
			       "array of strings"));
	assert_int_equal(load_groups(fx, "member_attribute = ( \"member\", 2 );", &cf), -EINVAL);
	assert_non_null(strstr(fx->err, "must be a string in double quotes"));
}

static void
test_missing_base(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { };\n};\n"
			      "store = { path = \"x.db\"; };\n", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.users.base: missing"));
}

static void
test_syntax_error(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = ; };\n};\n",
			      0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, "rosterd.conf:3: syntax error"));
}

static void
test_every_error_reported(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	int lines = 1;

	load_minimal(fx, "interval = 1; max_disable = -1; on_missing = \"drop\";", 0, -EINVAL, &cf);
	for (const char *p = fx->err; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);
	assert_non_null(strstr(fx->err, "sync.interval"));
	assert_non_null(strstr(fx->err, "sync.max_disable"));
	assert_non_null(strstr(fx->err, "sync.on_missing"));
}

static void
test_bad_filter_and_uri(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx,
		"ldap = {\n uri = \"http://h\";\n"
		" users = { base = \"dc=x\"; filter = \"objectClass=person\"; };\n};\n"
		"store = { path = \"x.db\"; };\n", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":2: ldap.uri: \"http://h\" is not an ldap://"));
	assert_non_null(strstr(fx->err, ":3: ldap.users.filter: \"objectClass=person\" is not a "
			       "filter in parentheses"));
}

static void
test_password_file_mode(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char text[2048], *pw;

	pw = file_write(fx->dir, "bind.pw", "s3cret\n", 0644);
	snprintf(text, sizeof(text),
		 "ldap = {\n uri = \"ldaps://h\";\n bind_dn = \"cn=r,dc=x\";\n"
		 " bind_password_file = \"bind.pw\";\n users = { base = \"dc=x\"; };\n};\n"
		 "store = { path = \"x.db\"; };\n");
	/* with secrets checked, a readable-by-others file is refused at its line */
	assert_int_equal(load(fx, text, CONF_CHECK_SECRETS, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.bind_password_file: "));
	assert_non_null(strstr(fx->err, "mode 0644"));
	assert_null(strstr(fx->err, "s3cret"));
	/* rosterctl does not read secrets */
	assert_int_equal(load(fx, text, 0, &cf), 0);
	conf_free(cf);
	/* owner-only is accepted */
	assert_int_equal(chmod(pw, 0600), 0);
	assert_int_equal(load(fx, text, CONF_CHECK_SECRETS, &cf), 0);
	assert_non_null(strstr(cf->ldap.bind_password_file, "/bind.pw"));
	conf_free(cf);
	free(pw);
}

/* rosterd refuses a password sent in clear over the network unless
 * ldap.allow_plaintext_bind says so; loopback, ldaps://, StartTLS and
 * anonymous binds are fine; rosterctl (no CONF_CHECK_SECRETS) never binds. */
static void
test_plaintext_bind(void **state)
{
	static const char fmt[] =
		"ldap = {\n uri = \"%s\";\n bind_dn = \"cn=r,dc=x\";\n"
		" bind_password_file = \"bind.pw\";\n users = { base = \"dc=x\"; };\n%s};\n"
		"store = { path = \"x.db\"; };\n";
	static const struct {
		const char *uri, *extra;
		int want;
	} cases[] = {
		{ "ldap://127.0.0.1:3389 ldap://ldap.example.com", "", -EINVAL },
		{ "ldap://ldap.example.com", " allow_plaintext_bind = true;\n", 0 },
		{ "ldap://ldap.example.com", " starttls = true;\n", 0 },
		{ "ldaps://ldap.example.com ldap://[::1]", "", 0 },
		{ "ldapi://%2Frun%2Fldapi ldap://localhost", "", 0 },
	};
	struct fixture *fx = *state;
	struct conf *cf;
	char text[2048], *pw = file_write(fx->dir, "bind.pw", "s3cret\n", 0600);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), fmt, cases[i].uri, cases[i].extra);
		assert_int_equal(load(fx, text, CONF_CHECK_SECRETS, &cf), cases[i].want);
		if (cases[i].want == 0)
			conf_free(cf);
	}
	snprintf(text, sizeof(text), fmt, "ldap://127.0.0.1:3389 ldap://ldap.example.com", "");
	assert_int_equal(load(fx, text, CONF_CHECK_SECRETS, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":2: ldap.uri: \"ldap://ldap.example.com\" would send "
			       "the bind password in clear"));
	assert_non_null(strstr(fx->err, "allow_plaintext_bind"));
	assert_int_equal(load(fx, text, 0, &cf), 0);
	assert_false(cf->ldap.allow_plaintext_bind);
	conf_free(cf);
	/* anonymous: no password to protect */
	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\"; };\n"
			      "};\nstore = { path = \"x.db\"; };\n", CONF_CHECK_SECRETS, &cf), 0);
	conf_free(cf);
	free(pw);
}

/* store.mode: octal in a string, default 0660; the owner must read and
 * write, others must not write. */
static void
test_store_mode(void **state)
{
	static const struct {
		const char *text, *err;
		unsigned want;
	} cases[] = {
		{ "", NULL, 0660 },
		{ "mode = \"0640\";", NULL, 0640 },
		{ "mode = \"600\";", NULL, 0600 },
		{ "mode = \"0666\";", ":5: store.mode: \"0666\" lets every local account write", 0 },
		{ "mode = \"0460\";", ":5: store.mode: \"0460\" must let the owner read and write", 0 },
		{ "mode = \"0778\";", ":5: store.mode: \"0778\" is not a mode in octal", 0 },
		{ "mode = \"01660\";", ":5: store.mode: \"01660\" is not a mode in octal", 0 },
		{ "mode = \"-660\";", ":5: store.mode: \"-660\" is not a mode in octal", 0 },
		{ "mode = \"\";", ":5: store.mode: must be a mode in octal", 0 },
		{ "mode = 0660;", ":5: store.mode: must be a string", 0 },
	};
	struct fixture *fx = *state;
	struct conf *cf;
	char text[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "ldap = {\n uri = \"ldap://h\";\n"
			 " users = { base = \"dc=x\"; };\n};\nstore = { path = \"x.db\"; %s };\n",
			 cases[i].text);
		if (cases[i].err == NULL) {
			assert_int_equal(load(fx, text, 0, &cf), 0);
			assert_int_equal(cf->store.mode, cases[i].want);
			conf_free(cf);
		} else {
			assert_int_equal(load(fx, text, 0, &cf), -EINVAL);
			if (strstr(fx->err, cases[i].err) == NULL)
				fail_msg("%s: want \"%s\", got \"%s\"", cases[i].text, cases[i].err,
					 fx->err);
		}
	}
}

/* A string that is not UTF-8 (a Latin-1 base, a plugin's setting) is an
 * error at its line: such a value broke rosterctl runs for 20 runs. */
static void
test_strings_utf8(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n"
			      " users = { base = \"ou=Vente\xe9,dc=x\"; };\n};\n"
			      "store = { path = \"x.db\"; };\n"
			      "plugins = ( { name = \"x\"; note = \"caf\xe9\"; } );\n", 0, &cf),
			 -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.users.base: is not valid UTF-8"));
	assert_non_null(strstr(fx->err, ":6: plugins[0].note: is not valid UTF-8"));
	/* UTF-8 is fine */
	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n"
			      " users = { base = \"ou=Vente\xc3\xa9,dc=x\"; };\n};\n"
			      "store = { path = \"x.db\"; };\n", 0, &cf), 0);
	conf_free(cf);
}

static void
test_bind_dn_needs_password(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n bind_dn = \"cn=r,dc=x\";\n"
			      " users = { base = \"dc=x\"; };\n};\nstore = { path = \"x.db\"; };\n",
			      0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.bind_dn: needs bind_password_file"));
}

static void
test_disabled_attribute_needs_values(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\";\n"
			      " disabled_attribute = \"nsAccountLock\"; };\n};\n"
			      "store = { path = \"x.db\"; };\n", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.users.disabled_attribute: needs disabled_values"));
	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\";\n"
			      " disabled_attribute = \"userAccountControl\"; disabled_bitmask = 2; };\n"
			      "};\nstore = { path = \"x.db\"; };\n", 0, &cf), 0);
	assert_int_equal(cf->ldap.users.disabled_bitmask, 2);
	conf_free(cf);
}

static void
test_custom_fields(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\"; };\n"
			      " attributes = { email = \"\"; custom = { badge_id = \"badge\";\n"
			      " Cost-Centre = \"cc\"; }; };\n};\nstore = { path = \"x.db\"; };\n",
			      0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":5: ldap.attributes.custom.Cost-Centre: field names use"));
	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\"; };\n"
			      " attributes = { email = \"\"; custom = { badge_id = \"badge\"; }; };\n"
			      "};\nstore = { path = \"x.db\"; };\n", 0, &cf), 0);
	/* "" leaves a field unmapped */
	assert_null(cf->ldap.attr[F_EMAIL]);
	assert_int_equal(cf->ldap.ncustom, 1);
	assert_string_equal(cf->ldap.custom[0].attr, "badge");
	conf_free(cf);
}

/* The plugins list: names and paths are the core's, every other key is the
 * plugin's (checked when it is loaded, not here). */
static void
test_plugins_list(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char text[2048], want[600];

	snprintf(text, sizeof(text), minimal, "");
	strcat(text, "plugins = ( { name = \"disable_rules\"; grace_runs = 3; anything = [ 1 ]; },\n"
	       "  { name = \"mine\"; path = \"lib/mine.so\"; } );\n");
	assert_int_equal(load(fx, text, 0, &cf), 0);
	assert_int_equal(cf->nplugins, 2);
	assert_string_equal(cf->plugins[0].name, "disable_rules");
	assert_string_equal(cf->plugins[0].path, PLUGINDIR "/disable_rules.so");
	assert_int_equal(cf->plugins[0].line, 7);
	assert_int_equal(cf->plugins[0].index, 0);
	snprintf(want, sizeof(want), "%s/lib/mine.so", fx->dir);
	assert_string_equal(cf->plugins[1].path, want);
	assert_int_equal(cf->plugins[1].line, 8);
	assert_non_null(cf->plugins[1].setting);
	conf_free(cf);

	snprintf(text, sizeof(text), minimal, "");
	strcat(text, "plugins = ( { name = \"x\"; }, { grace_runs = 3; } );\n");
	assert_int_equal(load(fx, text, 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":7: plugins[1].name: missing: which plugin to load"));
}

static void
test_empty_filter_and_lone_password(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\";\n bind_password_file = \"pw\";\n"
			      " users = { base = \"dc=x\"; filter = \"\"; };\n};\n"
			      "store = { path = \"x.db\"; };\n", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.bind_password_file: needs bind_dn"));
	assert_non_null(strstr(fx->err, ":4: ldap.users.filter: \"\" is not a filter"));
}

static void
test_too_many_custom_fields(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char text[8192] = "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\"; };\n"
			  " attributes = { custom = {\n";

	for (int i = 0; i <= CONF_MAX_CUSTOM; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "f%d = \"a%d\";\n", i, i);
	strcat(text, "}; };\n};\nstore = { path = \"x.db\"; };\n");
	assert_int_equal(load(fx, text, 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.attributes.custom: 65 fields; at most 64"));
}

/* Load the minimal config with "key = value;" put inside sync = { } and
 * expect it refused with "FILE:6: sync.KEY: shown is out of range (...)". */
static void
refused_in_sync(struct fixture *fx, const char *key, const char *value, const char *shown,
		const char *range)
{
	struct conf *cf;
	char extra[128], want[800];

	snprintf(extra, sizeof(extra), "%s = %s;", key, value);
	load_minimal(fx, extra, 0, -EINVAL, &cf);
	snprintf(want, sizeof(want), "%s/rosterd.conf:6: sync.%s: %s is out of range (%s)", fx->dir,
		 key, shown, range);
	assert_string_equal(fx->err, want);
	assert_null(cf);
}

/* Integers of 2^31 or more, and below -2^31, are refused, not wrapped as
 * libconfig alone would (4294967296 to 0, 4294968296 to 1000): the message
 * shows the value, or as written when it is beyond 64 bits. */
static void
test_big_integers_refused(void **state)
{
	static const char *const values[][2] = {
		{ "2147483648", "2147483648" }, { "4294967296", "4294967296" },
		{ "4294968296", "4294968296" }, { "-1", "-1" }, { "-2147483649", "-2147483649" },
		{ "-9223372036854775808", "-9223372036854775808" },
		{ "-99999999999999999999", "-99999999999999999999" },
		{ "99999999999999999999", "99999999999999999999" },
		{ "0x100000000", "4294967296" }, { "0xFFFFFFFF", "4294967295" },
		{ "0x10000000000000000", "0x10000000000000000" },
	};
	struct fixture *fx = *state;
	struct conf *cf;
	char text[2048], want[800];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		refused_in_sync(fx, "max_disable", values[i][0], values[i][1], "0 to 2147483647");
		snprintf(text, sizeof(text), "ldap = {\n uri = \"ldap://h\";\n page_size = %s;\n"
			 " users = { base = \"dc=x\"; };\n};\nstore = { path = \"x.db\"; };\n",
			 values[i][0]);
		assert_int_equal(load(fx, text, 0, &cf), -EINVAL);
		snprintf(want, sizeof(want), "%s/rosterd.conf:3: ldap.page_size: %s is out of range "
			 "(1 to 100000)", fx->dir, values[i][1]);
		assert_string_equal(fx->err, want);
	}
	/* a number key too: not wrapped to 0 and taken */
	refused_in_sync(fx, "max_disable_percent", "4294967296", "4294967296", "0 to 100");
}

/* A value that fits a key's range is taken exactly, however large. */
static void
test_big_integers_taken(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	const char *text = "ldap = {\n uri = \"ldap://h\";\n users = { base = \"dc=x\";\n"
			   " disabled_attribute = \"userAccountControl\"; disabled_bitmask = %s; };\n"
			   "};\nstore = { path = \"x.db\"; };\n";
	char buf[1024];

	snprintf(buf, sizeof(buf), text, "8589934594");   /* 2^33 + 2 */
	assert_int_equal(load(fx, buf, 0, &cf), 0);
	assert_true(cf->ldap.users.disabled_bitmask == 8589934594LL);
	conf_free(cf);
	snprintf(buf, sizeof(buf), text, "0x80000000");   /* not -2^31 */
	assert_int_equal(load(fx, buf, 0, &cf), 0);
	assert_true(cf->ldap.users.disabled_bitmask == 2147483648LL);
	conf_free(cf);
	snprintf(buf, sizeof(buf), text, "9223372036854775807");
	assert_int_equal(load(fx, buf, 0, &cf), 0);
	assert_true(cf->ldap.users.disabled_bitmask == 9223372036854775807LL);
	conf_free(cf);
	load_minimal(fx, "max_disable = 2147483647;", 0, 0, &cf);
	assert_int_equal(cf->sync.max_disable, 2147483647);
	conf_free(cf);
	/* strings, comments and floats that hold big numbers are left alone */
	load_minimal(fx, "/* 4294967296 */ mode = \"poll\"; # 4294967296\n"
		     "max_disable_percent = 42949672.96e-6;", 0, 0, &cf);
	assert_true(cf->sync.max_disable_percent > 42.9 && cf->sync.max_disable_percent < 43.0);
	conf_free(cf);
}

struct int_keys {
	struct fixture *fx;
	int n;
	bool page_size, max_disable;
};

/* The minimal config as libconfig writes it, with the integer key at path
 * added and written as the literal value (no suffix); *line is its line. */
static char *
config_with(const char *path, const char *value, int *line)
{
	static const char base[] =
		"ldap = { uri = \"ldap://h\"; users = { base = \"dc=x\";"
		" disabled_attribute = \"a\"; disabled_values = [ \"y\" ]; }; };"
		"store = { path = \"x.db\"; };";
	const long long mark = 1234567890123LL;
	config_setting_t *g;
	config_t cfg;
	char name[128], *part, *save = NULL, *text = NULL, *at, *out;
	size_t len = 0;
	FILE *f;

	config_init(&cfg);
	assert_int_equal(config_read_string(&cfg, base), CONFIG_TRUE);
	g = config_root_setting(&cfg);
	snprintf(name, sizeof(name), "%s", path);
	for (part = strtok_r(name, ".", &save); part != NULL; part = strtok_r(NULL, ".", &save)) {
		config_setting_t *next = config_setting_get_member(g, part);
		if (save[0] == '\0')
			next = config_setting_add(g, part, CONFIG_TYPE_INT64);
		else if (next == NULL)
			next = config_setting_add(g, part, CONFIG_TYPE_GROUP);
		assert_non_null(next);
		g = next;
	}
	assert_int_equal(config_setting_set_int64(g, mark), CONFIG_TRUE);
	f = open_memstream(&text, &len);
	config_write(&cfg, f);
	fclose(f);
	config_destroy(&cfg);
	at = strstr(text, "1234567890123L");
	assert_non_null(at);
	*line = 1;
	for (const char *p = text; p < at; p++)
		*line += *p == '\n';
	*at = '\0';
	assert_true(asprintf(&out, "%s%s%s", text, value, at + strlen("1234567890123L")) > 0);
	free(text);
	return out;
}

/* Expect path = value refused at its line as out of [min, max], or, with
 * min > max, taken. */
static void
expect_int(struct fixture *fx, const char *path, const char *value, long long min,
	   long long max, bool taken)
{
	struct conf *cf = NULL;
	char *text, *file, want[800];
	int line, r;

	text = config_with(path, value, &line);
	file = file_write(fx->dir, "rosterd.conf", text, 0640);
	r = conf_load(file, 0, &cf, fx->err, sizeof(fx->err));
	if (taken) {
		if (r != 0)
			print_error("%s = %s: %s\n", path, value, fx->err);
		assert_int_equal(r, 0);
		conf_free(cf);
	} else {
		snprintf(want, sizeof(want), "%s:%d: %s: %s is out of range (%lld to %lld)", file,
			 line, path, value, min, max);
		assert_string_equal(fx->err, want);
		assert_int_equal(r, -EINVAL);
	}
	free(file);
	free(text);
}

static int
one_int_key(const char *path, long long min, long long max, void *arg)
{
	struct int_keys *k = arg;
	char v[32];

	k->n++;
	k->page_size |= strcmp(path, "ldap.page_size") == 0 && min == 1 && max == 100000;
	k->max_disable |= strcmp(path, "sync.max_disable") == 0 && min == 0 && max == INT_MAX;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)max + 1);
	expect_int(k->fx, path, v, min, max, false);
	snprintf(v, sizeof(v), "%lld", max);
	expect_int(k->fx, path, v, min, max, true);
	snprintf(v, sizeof(v), "%lld", min);
	expect_int(k->fx, path, v, min, max, true);
	if (min > LLONG_MIN) {
		snprintf(v, sizeof(v), "%lld", min - 1);
		expect_int(k->fx, path, v, min, max, false);
	}
	return 0;
}

/* Every integer key of config.c's table is range-checked: its maximum and
 * minimum are taken, one past either is refused at its line. */
static void
test_every_int_key_range_checked(void **state)
{
	struct int_keys k = { .fx = *state };

	assert_int_equal(conf_foreach_int_key(one_int_key, &k), 0);
	assert_true(k.n >= 9);
	assert_true(k.page_size);
	assert_true(k.max_disable);
}

static int
int_key_documented(const char *path, long long min, long long max, void *arg)
{
	const char *page = arg;
	char want[256];

	snprintf(want, sizeof(want), ".It Cm %s Pq integer, %lld to %lld,", path, min, max);
	if (strstr(page, want) == NULL)
		print_error("rosterd.conf.5 does not say: %s\n", want);
	return strstr(page, want) == NULL;
}

/* rosterd.conf(5) states the range of every integer key as the table has it. */
static void
test_int_ranges_documented(void **state)
{
	const char *top = getenv("ROSTERD_TOP");
	char path[512], *page;
	long n;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/rosterd.conf.5", top ? top : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	page = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(page, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_int_equal(conf_foreach_int_key(int_key_documented, page), 0);
	free(page);
}

static void
test_unreadable_file(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf = NULL;
	char path[600];

	snprintf(path, sizeof(path), "%s/nope.conf", fx->dir);
	assert_int_equal(conf_load(path, 0, &cf, fx->err, sizeof(fx->err)), -ENOENT);
	assert_non_null(strstr(fx->err, "nope.conf: cannot read: No such file"));
	assert_null(cf);
}

/* @include "FILE" takes a relative FILE from the config's directory, not
 * from the current one; an absolute FILE as it is; a directory with a quote
 * in its name still works. */
static void
test_include_from_config_dir(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf = NULL;
	char text[2048], fmt[2048], sub[600], cwd[PATH_MAX], *f;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(sub, sizeof(sub), "%s/a \"dir\\", fx->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	free(file_write(sub, "sync.inc", "max_disable = 7;\n", 0640));
	f = file_write(fx->dir, "abs.inc", "interval = 61;\n", 0640);
	snprintf(fmt, sizeof(fmt), minimal, "\n  @include \"a \\\"dir\\\\/sync.inc\"\n"
		 "  @include \"%s\"\n");
	snprintf(text, sizeof(text), fmt, f);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(load(fx, text, 0, &cf), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(cf->sync.max_disable, 7);
	assert_int_equal(cf->sync.interval, 61);
	conf_free(cf);
	free(f);
	/* a file that is not there: named in the error */
	snprintf(text, sizeof(text), minimal, "\n  @include \"nowhere.inc\"\n");
	assert_int_equal(load(fx, text, 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, "rosterd.conf:7: syntax error: cannot open include file"));
}

/* A config with text inside ldap = { } besides the uri and the users base. */
static int
load_ldap(struct fixture *fx, const char *ldap_extra, int flags, struct conf **cf)
{
	char text[2048];

	snprintf(text, sizeof(text), "ldap = {\n uri = \"ldap://127.0.0.1\";\n"
		 " users = { base = \"dc=x\"; };\n %s\n};\nstore = { path = \"x.db\"; };\n",
		 ldap_extra);
	return load(fx, text, flags, cf);
}

static void
test_preset_fills_what_is_not_written(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load_ldap(fx, "preset = \"ad\";", 0, &cf), 0);
	assert_string_equal(cf->ldap.preset, "ad");
	assert_string_equal(cf->ldap.users.filter, "(&(objectClass=user)(objectCategory=person))");
	assert_string_equal(cf->ldap.users.disabled_attribute, "userAccountControl");
	assert_int_equal(cf->ldap.users.disabled_bitmask, 2);
	assert_string_equal(cf->ldap.groups.filter, "(objectClass=group)");
	assert_int_equal(cf->ldap.groups.nmember_attrs, 1);
	assert_string_equal(cf->ldap.groups.member_attrs[0], "member");
	assert_true(cf->ldap.groups.nested);
	assert_string_equal(cf->ldap.id_attr, "objectGUID");
	assert_string_equal(cf->ldap.attr[F_USERNAME], "sAMAccountName");
	assert_string_equal(cf->ldap.attr[F_DISPLAY_NAME], "displayName");
	assert_string_equal(cf->ldap.attr[F_DEPARTMENT], "department");
	assert_string_equal(cf->ldap.attr[F_EMAIL], "mail");   /* a default it keeps */
	conf_free(cf);
	assert_int_equal(load_ldap(fx, "groups = { primary_group = true; };", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.groups.primary_group: needs ldap.groups.base"));
	assert_int_equal(load_ldap(fx, "preset = \"389ds\";", 0, &cf), 0);
	assert_string_equal(cf->ldap.id_attr, "nsUniqueId");
	assert_string_equal(cf->ldap.users.disabled_attribute, "nsAccountLock");
	assert_int_equal(cf->ldap.users.ndisabled_values, 1);
	assert_string_equal(cf->ldap.users.disabled_values[0], "true");
	assert_string_equal(cf->ldap.attr[F_DISPLAY_NAME], "cn");
	conf_free(cf);
	assert_int_equal(load_ldap(fx, "preset = \"freeipa\";", 0, &cf), 0);
	assert_string_equal(cf->ldap.id_attr, "ipaUniqueID");
	assert_string_equal(cf->ldap.groups.filter, "(objectClass=ipaUserGroup)");
	conf_free(cf);
	assert_int_equal(load_ldap(fx, "preset = \"openldap\";", 0, &cf), 0);
	assert_string_equal(cf->ldap.id_attr, "entryUUID");
	assert_null(cf->ldap.users.disabled_attribute);
	conf_free(cf);
}

static void
test_preset_explicit_keys_win(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load_ldap(fx, "preset = \"ad\"; attributes = { display_name = \"cn\";"
				   " employee_number = \"\"; id = \"objectSid\"; };"
				   " groups = { base = \"dc=g\"; nested = false; };", 0, &cf), 0);
	assert_string_equal(cf->ldap.attr[F_DISPLAY_NAME], "cn");
	assert_null(cf->ldap.attr[F_EMPLOYEE_NUMBER]);   /* "" unmaps, preset or not */
	assert_string_equal(cf->ldap.id_attr, "objectSid");
	assert_false(cf->ldap.groups.nested);
	assert_false(cf->ldap.groups.primary_group);   /* opt-in, even for AD */
	assert_string_equal(cf->ldap.groups.filter, "(objectClass=group)");
	assert_string_equal(cf->ldap.attr[F_USERNAME], "sAMAccountName");
	conf_free(cf);
	/* the disabled flag is the file's whole, or the preset's whole */
	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\"; preset = \"ad\";\n"
			      " users = { base = \"dc=x\"; disabled_attribute = \"employeeType\";\n"
			      "  disabled_values = [ \"left\" ]; };\n};\n"
			      "store = { path = \"x.db\"; };\n", 0, &cf), 0);
	assert_string_equal(cf->ldap.users.disabled_attribute, "employeeType");
	assert_int_equal(cf->ldap.users.disabled_bitmask, 0);
	assert_string_equal(cf->ldap.users.disabled_values[0], "left");
	conf_free(cf);
	/* a file that names the attribute alone does not borrow the preset's
	 * bitmask: it must say which values disable */
	assert_int_equal(load(fx, "ldap = {\n uri = \"ldap://h\"; preset = \"ad\";\n"
			      " users = { base = \"dc=x\"; disabled_attribute = \"employeeType\"; };\n"
			      "};\nstore = { path = \"x.db\"; };\n", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":3: ldap.users.disabled_attribute: needs disabled_values "
			       "or disabled_bitmask"));
}

static void
test_preset_unknown(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;

	assert_int_equal(load_ldap(fx, "preset = \"novell\";", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.preset: \"novell\" is not one of \"openldap\", "
			       "\"ad\", \"389ds\", \"freeipa\""));
}

static void
test_sasl(void **state)
{
	struct fixture *fx = *state;
	struct conf *cf;
	char *key;

	assert_int_equal(load_ldap(fx, "sasl_mech = \"GSSAPI\"; keytab = \"k.keytab\";", 0, &cf),
			 0);
	assert_string_equal(cf->ldap.sasl_mech, "GSSAPI");
	assert_non_null(strstr(cf->ldap.keytab, "/k.keytab"));
	assert_true(cf->ldap.keytab[0] == '/');
	conf_free(cf);
	assert_int_equal(load_ldap(fx, "sasl_mech = \"PLAIN\";", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, "ldap.sasl_mech: \"PLAIN\" is not one of"));
	assert_int_equal(load_ldap(fx, "sasl_mech = \"GSSAPI\"; bind_dn = \"cn=x\";", 0, &cf),
			 -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.bind_dn: not used by a SASL bind"));
	assert_int_equal(load_ldap(fx, "keytab = \"k.keytab\";", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.keytab: only for sasl_mech = \"GSSAPI\""));
	assert_int_equal(load_ldap(fx, "cert_file = \"c.pem\";", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, ":4: ldap.cert_file: needs key_file"));
	assert_int_equal(load_ldap(fx, "sasl_mech = \"EXTERNAL\";", 0, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, "ldap.sasl_mech: EXTERNAL needs TLS"));
	assert_int_equal(load_ldap(fx, "sasl_mech = \"EXTERNAL\"; starttls = true;", 0, &cf),
			 -EINVAL);
	assert_non_null(strstr(fx->err, "ldap.sasl_mech: EXTERNAL over TLS needs cert_file"));
	/* a key file is a secret: private to its owner */
	key = file_write(fx->dir, "c.key", "key\n", 0644);
	assert_int_equal(load_ldap(fx, "sasl_mech = \"EXTERNAL\"; starttls = true;"
				   " cert_file = \"c.pem\"; key_file = \"c.key\";",
				   CONF_CHECK_SECRETS, &cf), -EINVAL);
	assert_non_null(strstr(fx->err, "ldap.key_file: "));
	assert_non_null(strstr(fx->err, "c.key: mode 0644 lets others read it"));
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(load_ldap(fx, "sasl_mech = \"EXTERNAL\"; starttls = true;"
				   " cert_file = \"c.pem\"; key_file = \"c.key\";",
				   CONF_CHECK_SECRETS, &cf), 0);
	conf_free(cf);
	free(key);
	/* EXTERNAL over ldapi:// needs no certificate */
	assert_int_equal(load(fx, "ldap = { uri = \"ldapi:///\"; sasl_mech = \"EXTERNAL\";"
			      " users = { base = \"dc=x\"; }; };\nstore = { path = \"x.db\"; };\n",
			      0, &cf), 0);
	conf_free(cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_is_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_names_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_base, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_error_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_filter_and_uri, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_dn_needs_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plaintext_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_attribute_needs_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_custom_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugins_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_filter_and_lone_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_custom_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_integers_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_integers_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_int_key_range_checked, setup, teardown),
		cmocka_unit_test(test_int_ranges_documented),
		cmocka_unit_test_setup_teardown(test_include_from_config_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preset_fills_what_is_not_written, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_preset_explicit_keys_win, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preset_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sasl, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
