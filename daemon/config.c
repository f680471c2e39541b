/*
 * config.c: read and validate rosterd.conf (libconfig).
 *
 * Every key rosterd knows is one row of the table below: its path, its type,
 * its default, its allowed range or words, and where its value goes in
 * struct conf. One generic loader walks the table; the checks that relate
 * several keys (the URI list, the bind, the disabled flag, the group member
 * styles, custom fields, roles, the plugins list) are small named functions
 * run after it. An unknown key, a value of the wrong type, out of range or
 * not one of the allowed words is an error that names the file, the line and
 * the key; every problem is reported, not just the first. Relative paths are
 * resolved against the directory holding the file.
 *
 * Integers are 64-bit: libconfig 1.5 would read a literal without an L
 * suffix into 32 bits and wrap it (4294967296 as 0), so the text is given the
 * suffix where a literal needs it before libconfig parses it (widen_ints).
 */
#include "util.h"
#include "conf.h"
#include "dir.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef PLUGINDIR
#define PLUGINDIR "/usr/local/lib/rosterd/plugins"
#endif

/* The largest configuration file read: a file that never ends (a device)
 * must not take all memory. */
#define CONF_MAX_BYTES (16u << 20)

static const char *const field_names[NFIELDS] = {
	[F_USERNAME] = "username",
	[F_EMAIL] = "email",
	[F_GIVEN_NAME] = "given_name",
	[F_FAMILY_NAME] = "family_name",
	[F_DISPLAY_NAME] = "display_name",
	[F_EMPLOYEE_NUMBER] = "employee_number",
	[F_DEPARTMENT] = "department",
	[F_LOCATION] = "location",
	[F_TITLE] = "title",
	[F_MANAGER] = "manager",
	[F_SECONDARY_MANAGER] = "secondary_manager",
};

const char *
field_name(enum field f)
{
	return field_names[f];
}

const char *
field_column(enum field f)
{
	static const char *const dn_columns[NFIELDS] = {
		[F_MANAGER] = "manager_dn",
		[F_SECONDARY_MANAGER] = "secondary_manager_dn",
	};

	return dn_columns[f] ? dn_columns[f] : field_names[f];
}

bool
field_is_dn(enum field f)
{
	return f == F_MANAGER || f == F_SECONDARY_MANAGER;
}

/* ---- the table of known keys ------------------------------------------- */

enum ktype {
	K_STRING,   /* a char * copy; default sdef */
	K_INT,      /* an int or a long long in [min, max]; default def */
	K_NUMBER,   /* a double in [min, max], written with or without a fraction */
	K_BOOL,     /* a bool; default def */
	K_WORD,     /* one of words, its index stored into an enum; default words[0] */
	K_GROUP,    /* { ... } of the keys in children */
	K_STRINGS,  /* [ "...", ... ]: loaded by a named check */
	K_NAMES,    /* "..." or [ "...", ... ]: loaded by a named check */
	K_FIELDS,   /* { name = "attribute"; ... }: loaded by a named check */
	K_LIST,     /* ( ... ): loaded by a named check */
};

enum kflags {
	KF_REQUIRED = 1,     /* missing (or "" with KF_EMPTY_UNSET) is an error */
	KF_EMPTY_UNSET = 2,  /* "" is the same as leaving the key out */
	KF_ABS_PATH = 4,     /* a path, made absolute from the file's directory */
	KF_FILTER = 8,       /* an LDAP filter: in parentheses, balanced */
};

struct key {
	const char *name;            /* the last part of its path */
	enum ktype type;
	size_t off, size;            /* its field in struct conf; size 0: none */
	int flags;                   /* enum kflags */
	long long min, max;          /* K_INT, K_NUMBER */
	long long def;               /* K_INT, K_BOOL */
	double fdef;                 /* K_NUMBER */
	const char *sdef;            /* K_STRING */
	const char *const *words;    /* K_WORD; K_STRING: the only values allowed */
	const char *missing;         /* KF_REQUIRED: the message when it is not there */
	const char *empty;           /* K_STRING: "" is an error with this message */
	const struct key *children;  /* K_GROUP */
};

/* Where a key's value goes: the offset and size of a member of struct conf. */
#define AT(m) .off = offsetof(struct conf, m), .size = sizeof(((struct conf *)0)->m)

/* K_WORD stores a word's index into an enum field as an int. */
_Static_assert(sizeof(enum search_scope) == sizeof(int) &&
	       sizeof(enum initial_status) == sizeof(int) &&
	       sizeof(enum on_missing) == sizeof(int), "enums are ints");

static const char *const scope_words[] = { "sub", "one", NULL };
/* "poll", the name of a full run before refresh came, is taken as "full". */
static const char *const mode_words[] = { "full", "refresh", "poll", "persist", NULL };
static const char *const status_words[] = { "invited", "active", NULL };
static const char *const missing_words[] = { "disable", "keep", NULL };

static const struct key users_keys[] = {
	{ "base", K_STRING, AT(ldap.users.base), .flags = KF_REQUIRED | KF_EMPTY_UNSET,
	  .missing = "missing" },
	{ "filter", K_STRING, AT(ldap.users.filter), .flags = KF_FILTER,
	  .sdef = "(objectClass=inetOrgPerson)" },
	{ "scope", K_WORD, AT(ldap.users.scope), .words = scope_words },
	{ "disabled_attribute", K_STRING, AT(ldap.users.disabled_attribute),
	  .flags = KF_EMPTY_UNSET },
	{ .name = "disabled_values", .type = K_STRINGS },
	{ "disabled_bitmask", K_INT, AT(ldap.users.disabled_bitmask), .min = 0, .max = LLONG_MAX },
	{ .name = NULL },
};

static const struct key groups_keys[] = {
	{ "base", K_STRING, AT(ldap.groups.base), .flags = KF_EMPTY_UNSET },
	{ "filter", K_STRING, AT(ldap.groups.filter), .flags = KF_FILTER,
	  .sdef = "(objectClass=groupOfNames)" },
	{ "scope", K_WORD, AT(ldap.groups.scope), .words = scope_words },
	{ .name = "member_attribute", .type = K_NAMES },
	{ "name_attribute", K_STRING, AT(ldap.groups.name_attr), .sdef = "cn",
	  .empty = "must name an attribute: every group needs a name" },
	{ "description_attribute", K_STRING, AT(ldap.groups.description_attr),
	  .flags = KF_EMPTY_UNSET, .sdef = "description" },
	{ "nested", K_BOOL, AT(ldap.groups.nested), .def = true },
	{ "primary_group", K_BOOL, AT(ldap.groups.primary_group), .def = false },
	{ "range_size", K_INT, AT(ldap.groups.range_size), .min = 0, .max = 1000000, .def = 0 },
	{ .name = NULL },
};

/* A person's fields; "" leaves one unmapped, except the username. */
#define FIELD(f, key, def) \
	{ key, K_STRING, AT(ldap.attr[f]), .flags = KF_EMPTY_UNSET, .sdef = def }

static const struct key attr_keys[] = {
	{ "id", K_STRING, AT(ldap.id_attr), .sdef = "entryUUID",
	  .empty = "must name the attribute with each entry's stable id" },
	{ "username", K_STRING, AT(ldap.attr[F_USERNAME]), .sdef = "uid",
	  .empty = "must name an attribute: every person needs a username" },
	FIELD(F_EMAIL, "email", "mail"),
	FIELD(F_GIVEN_NAME, "given_name", "givenName"),
	FIELD(F_FAMILY_NAME, "family_name", "sn"),
	FIELD(F_DISPLAY_NAME, "display_name", "cn"),
	FIELD(F_EMPLOYEE_NUMBER, "employee_number", "employeeNumber"),
	FIELD(F_DEPARTMENT, "department", "departmentNumber"),
	FIELD(F_LOCATION, "location", "l"),
	FIELD(F_TITLE, "title", "title"),
	FIELD(F_MANAGER, "manager", "manager"),
	FIELD(F_SECONDARY_MANAGER, "secondary_manager", "secretary"),
	{ "member_of", K_STRING, AT(ldap.member_of_attr), .flags = KF_EMPTY_UNSET },
	{ .name = "custom", .type = K_FIELDS },
	{ .name = NULL },
};

static const char *const sasl_words[] = { "EXTERNAL", "GSSAPI", "", NULL };
static const char *const preset_words[] = { "openldap", "ad", "389ds", "freeipa", NULL };

static const struct key ldap_keys[] = {
	{ "uri", K_STRING, AT(ldap.uri), .flags = KF_REQUIRED | KF_EMPTY_UNSET,
	  .missing = "missing" },
	{ "preset", K_STRING, AT(ldap.preset), .words = preset_words },
	{ "starttls", K_BOOL, AT(ldap.starttls), .def = false },
	{ "allow_plaintext_bind", K_BOOL, AT(ldap.allow_plaintext_bind), .def = false },
	{ "ca_file", K_STRING, AT(ldap.ca_file), .flags = KF_EMPTY_UNSET | KF_ABS_PATH },
	{ "bind_dn", K_STRING, AT(ldap.bind_dn), .flags = KF_EMPTY_UNSET },
	{ "bind_password_file", K_STRING, AT(ldap.bind_password_file),
	  .flags = KF_EMPTY_UNSET | KF_ABS_PATH },
	{ "bind_password_credential", K_STRING, AT(ldap.bind_password_credential),
	  .flags = KF_EMPTY_UNSET },
	{ "sasl_mech", K_STRING, AT(ldap.sasl_mech), .flags = KF_EMPTY_UNSET,
	  .words = sasl_words },
	{ "keytab", K_STRING, AT(ldap.keytab), .flags = KF_EMPTY_UNSET | KF_ABS_PATH },
	{ "cert_file", K_STRING, AT(ldap.cert_file), .flags = KF_EMPTY_UNSET | KF_ABS_PATH },
	{ "key_file", K_STRING, AT(ldap.key_file), .flags = KF_EMPTY_UNSET | KF_ABS_PATH },
	{ "page_size", K_INT, AT(ldap.page_size), .min = 1, .max = 100000, .def = 1000 },
	{ "timeout", K_INT, AT(ldap.timeout), .min = 1, .max = 86400, .def = 30 },
	{ "network_timeout", K_INT, AT(ldap.network_timeout), .min = 1, .max = 3600, .def = 10 },
	{ .name = "users", .type = K_GROUP, .flags = KF_REQUIRED, .missing = "missing: where the people are",
	  .children = users_keys },
	{ .name = "groups", .type = K_GROUP, .children = groups_keys },
	{ .name = "attributes", .type = K_GROUP, .children = attr_keys },
	{ .name = NULL },
};

static const struct key store_keys[] = {
	{ "path", K_STRING, AT(store.path), .flags = KF_EMPTY_UNSET | KF_ABS_PATH },
	{ "url", K_STRING, AT(store.url), .flags = KF_EMPTY_UNSET },
	{ "schema", K_STRING, AT(store.schema), .sdef = "rosterd",
	  .empty = "must name a schema, such as \"rosterd\"" },
	{ "password_file", K_STRING, AT(store.password_file), .flags = KF_EMPTY_UNSET | KF_ABS_PATH },
	{ "password_credential", K_STRING, AT(store.password_credential),
	  .flags = KF_EMPTY_UNSET },
	{ "busy_timeout", K_INT, AT(store.busy_timeout), .min = 0, .max = 600000, .def = 5000 },
	/* octal in a string: libconfig reads 0660 as decimal 660 */
	{ "mode", K_STRING, AT(store.mode_text), .sdef = "0660",
	  .empty = "must be a mode in octal, such as \"0660\"" },
	{ "bulk_load", K_BOOL, AT(store.bulk_load), .def = true },
	{ .name = NULL },
};

static const struct key sync_keys[] = {
	{ "mode", K_WORD, AT(sync.mode), .words = mode_words },
	{ "full_every", K_INT, AT(sync.full_every), .min = 0, .max = 365 * 86400, .def = 86400 },
	{ "batch_ms", K_INT, AT(sync.batch_ms), .min = 0, .max = 60000, .def = 50 },
	{ "batch_max", K_INT, AT(sync.batch_max), .min = 1, .max = 100000, .def = 1000 },
	{ "threshold_window", K_INT, AT(sync.threshold_window), .min = 0, .max = 30 * 86400,
	  .def = 3600 },
	{ "interval", K_INT, AT(sync.interval), .min = 10, .max = 7 * 86400, .def = 900 },
	{ "interval_jitter", K_INT, AT(sync.interval_jitter), .min = 0, .max = 86400, .def = 0 },
	{ "retry_delay", K_INT, AT(sync.retry_delay), .min = 1, .max = 86400, .def = 30 },
	{ "initial_status", K_WORD, AT(sync.initial_status), .words = status_words },
	{ "on_missing", K_WORD, AT(sync.on_missing), .words = missing_words },
	{ "max_disable", K_INT, AT(sync.max_disable), .min = 0, .max = INT_MAX, .def = 500 },
	{ "max_disable_percent", K_NUMBER, AT(sync.max_disable_percent), .min = 0, .max = 100,
	  .fdef = 10.0 },
	{ "max_membership_removals_percent", K_NUMBER, AT(sync.max_membership_removals_percent),
	  .min = 0, .max = 100, .fdef = 10.0 },
	{ "max_reject_percent", K_NUMBER, AT(sync.max_reject_percent), .min = 0, .max = 100,
	  .fdef = 10.0 },
	{ .name = NULL },
};

static const struct key metrics_keys[] = {
	{ "textfile", K_STRING, AT(metrics.textfile), .flags = KF_EMPTY_UNSET | KF_ABS_PATH },
	{ .name = NULL },
};

static const struct key top_keys[] = {
	{ .name = "ldap", .type = K_GROUP, .flags = KF_REQUIRED, .missing = "missing: the directory to read from",
	  .children = ldap_keys },
	{ .name = "store", .type = K_GROUP, .flags = KF_REQUIRED, .missing = "missing: where the learning store is",
	  .children = store_keys },
	{ .name = "sync", .type = K_GROUP, .children = sync_keys },
	{ .name = "roles", .type = K_LIST },
	{ .name = "plugins", .type = K_LIST },
	{ .name = "metrics", .type = K_GROUP, .children = metrics_keys },
	{ .name = NULL },
};

/* ---- error reporting ---------------------------------------------------- */

/* An integer literal of the file beyond the 64-bit range: read as the
 * nearest 64-bit limit, and refused as written by the key it belongs to. */
struct huge {
	unsigned line;
	bool neg;
	char text[40];   /* as written, cut with "..." when longer */
};

struct ctx {
	const char *file;
	int flags;
	char *dir;            /* directory of the file, for relative paths */
	char *err;
	size_t errlen;
	int nerr;
	struct huge *huge;
	size_t nhuge;
	const config_t *tree;    /* the file's settings */
	config_t *preset;        /* ldap.preset's settings; NULL: none */
};

static void ctx_error(struct ctx *c, const config_setting_t *s, const char *key,
		      const char *fmt, ...) PRINTF_LIKE(4, 5);

/* Record "file:line: key: message" (line of s, or none when s is NULL). */
static void
ctx_error(struct ctx *c, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	unsigned line = s ? config_setting_source_line(s) : 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->nerr > 0)
		str_appendf(c->err, c->errlen, "\n");
	if (line > 0)
		str_appendf(c->err, c->errlen, "%s:%u: %s: %s", c->file, line, key, msg);
	else
		str_appendf(c->err, c->errlen, "%s: %s: %s", c->file, key, msg);
	c->nerr++;
}

/* The dotted path of a setting, for messages: "ldap.users.base". */
static void
setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *chain[16];
	int n = 0;

	buf[0] = '\0';
	for (; s != NULL && n < 16; s = config_setting_parent(s)) {
		if (config_setting_name(s) == NULL && config_setting_parent(s) == NULL)
			break;
		chain[n++] = s;
	}
	while (n-- > 0) {
		const config_setting_t *p = chain[n];
		if (config_setting_name(p) != NULL)
			str_appendf(buf, len, "%s%s", buf[0] ? "." : "", config_setting_name(p));
		else
			str_appendf(buf, len, "[%d]", config_setting_index(p));
	}
}

void
conf_setting_where(const struct config_setting_t *s, char *path, size_t len, unsigned *line)
{
	setting_path(s, path, len);
	*line = config_setting_source_line(s);
}

/* ---- integer literals wider than 32 bits -------------------------------- */

/* in[i], or NUL past the end. */
static char
at(const char *in, size_t len, size_t i)
{
	return i < len ? in[i] : '\0';
}

/* The end of the string that opens at in[i], counting its line feeds. */
static size_t
skip_string(const char *in, size_t len, size_t i, unsigned *line)
{
	for (i++; i < len && in[i] != '"'; i++) {
		if (in[i] == '\\' && i + 1 < len)
			i++;
		if (in[i] == '\n')
			(*line)++;
	}
	return i < len ? i + 1 : len;
}

/* The end of the comment that starts at in[i] (#, // or a C comment):
 * for a line comment its line feed, left for the caller to count. */
static size_t
skip_comment(const char *in, size_t len, size_t i, unsigned *line)
{
	if (in[i] != '/' || at(in, len, i + 1) != '*') {
		while (i < len && in[i] != '\n')
			i++;
		return i;
	}
	for (i += 2; i < len && !(in[i] == '*' && at(in, len, i + 1) == '/'); i++)
		if (in[i] == '\n')
			(*line)++;
	return i < len ? i + 2 : len;
}

enum lit { LIT_KEEP, LIT_WIDEN, LIT_HUGE };

/* Whether an exponent ("e5", "E-3") starts at in[j]. */
static bool
exponent_at(const char *in, size_t len, size_t j)
{
	char s = at(in, len, j + 1);

	if (at(in, len, j) != 'e' && at(in, len, j) != 'E')
		return false;
	if (s == '+' || s == '-')
		s = at(in, len, j + 2);
	return isdigit((unsigned char)s);
}

/* The end of the run of (hexadecimal) digits from in[j]. */
static size_t
skip_digits(const char *in, size_t len, size_t j, bool hex)
{
	while (j < len && (hex ? isxdigit((unsigned char)in[j]) : isdigit((unsigned char)in[j])))
		j++;
	return j;
}

/* The end of the number that starts at in[i] (a digit, a sign or a point),
 * taken as libconfig's scanner takes it, and what it needs: an integer
 * without suffix outside the 32-bit range the suffix (LIT_WIDEN), one beyond
 * the 64-bit range more (LIT_HUGE); a float or an integer with a suffix is
 * kept. in[len] is NUL. */
static size_t
scan_number(const char *in, size_t len, size_t i, enum lit *kind)
{
	size_t start = i + (in[i] == '+' || in[i] == '-'), j;
	bool hex = start == i && in[i] == '0' && (at(in, len, i + 1) == 'x' ||
		   at(in, len, i + 1) == 'X') && isxdigit((unsigned char)at(in, len, i + 2));
	unsigned long long u;
	long long v;

	*kind = LIT_KEEP;
	j = skip_digits(in, len, hex ? i + 2 : start, hex);
	if (!hex && (at(in, len, j) == '.' || exponent_at(in, len, j))) {
		if (at(in, len, j) == '.')
			j = skip_digits(in, len, j + 1, false);
		if (exponent_at(in, len, j))
			j = skip_digits(in, len, j + 2, false);
		return j;
	}
	if (j == start)
		return start > i ? start : i + 1;   /* a sign without digits */
	if (at(in, len, j) == 'L')
		return j + 1 + (at(in, len, j + 1) == 'L');
	errno = 0;
	if (hex) {
		u = strtoull(in + i + 2, NULL, 16);
		*kind = errno == ERANGE || u > LLONG_MAX ? LIT_HUGE :
			u > INT_MAX ? LIT_WIDEN : LIT_KEEP;
	} else {
		v = strtoll(in + i, NULL, 10);
		*kind = errno == ERANGE ? LIT_HUGE :
			v < INT_MIN || v > INT_MAX ? LIT_WIDEN : LIT_KEEP;
	}
	return j;
}

/* Whether a name (a key, true, false) of libconfig's can start with ch. */
static bool
name_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '*';
}

/* Remember the literal in[i..j) on line as beyond 64 bits. */
static int
huge_add(struct ctx *c, const char *in, size_t i, size_t j, unsigned line)
{
	struct huge *h = reallocarray(c->huge, c->nhuge + 1, sizeof(*h));
	size_t n = j - i;

	if (h == NULL)
		return -ENOMEM;
	c->huge = h;
	h = &c->huge[c->nhuge++];
	h->line = line;
	h->neg = in[i] == '-';
	if (n >= sizeof(h->text))
		n = sizeof(h->text) - 4;
	memcpy(h->text, in + i, n);
	strcpy(h->text + n, j - i > n ? "..." : "");
	return 0;
}

/* Whether in[i] ('@') starts an include directive as libconfig's scanner
 * takes it (at the start of a line, after blanks: @include "FILE"); *q is
 * then the index of the quote that opens FILE. */
static bool
include_at(const char *in, size_t len, size_t i, size_t *q)
{
	size_t j = i;

	while (j > 0 && (in[j - 1] == ' ' || in[j - 1] == '\t'))
		j--;
	if ((j > 0 && in[j - 1] != '\n') || len - i < 9 || strncmp(in + i, "@include", 8) != 0)
		return false;
	for (j = i + 8; j < len && (in[j] == ' ' || in[j] == '\t'); j++)
		;
	if (j == i + 8 || j >= len || in[j] != '"')
		return false;
	*q = j;
	return true;
}

/* Write dir and a slash to f as the inside of a libconfig string. */
static void
put_dir_literal(FILE *f, const char *dir)
{
	for (; *dir != '\0'; dir++) {
		if (*dir == '"' || *dir == '\\')
			fputc('\\', f);
		if (*dir == '\n')
			fputs("\\n", f);
		else
			fputc(*dir, f);
	}
	fputc('/', f);
}

/* libconfig 1.5 reads an integer literal without an L suffix into 32 bits
 * and wraps what does not fit. Copy the text in[0..len) (in[len] is NUL)
 * into *out with the suffix added to every such literal outside the 32-bit
 * range, so that libconfig reads it as 64-bit and exactly, and every one
 * beyond the 64-bit range replaced by the nearest limit and remembered in c.
 * A relative file name of an @include gets the config's directory (c->dir)
 * in front: libconfig would take it from the current directory (and its
 * include_dir would go in front of absolute names too). Strings and
 * comments are copied as they are, and no line moves. */
static int
widen_ints(struct ctx *c, const char *in, size_t len, char **out, size_t *outlen)
{
	FILE *f = open_memstream(out, outlen);
	size_t i = 0, from = 0, j;
	unsigned line = 1;
	enum lit kind;
	int r = 0;

	if (f == NULL)
		return -ENOMEM;
	while (i < len && r == 0) {
		char ch = in[i];

		if (ch == '\n') {
			line++;
			i++;
		} else if (ch == '@' && c->dir != NULL && include_at(in, len, i, &j)) {
			if (at(in, len, j + 1) != '/') {
				fwrite(in + from, 1, j + 1 - from, f);
				put_dir_literal(f, c->dir);
				from = j + 1;
			}
			i = skip_string(in, len, j, &line);
		} else if (ch == '"') {
			i = skip_string(in, len, i, &line);
		} else if (ch == '#' || (ch == '/' && (at(in, len, i + 1) == '/' ||
						      at(in, len, i + 1) == '*'))) {
			i = skip_comment(in, len, i, &line);
		} else if (name_start(ch)) {
			while (i < len && (name_start(in[i]) || in[i] == '-' || in[i] == '_' ||
					   (in[i] >= '0' && in[i] <= '9')))
				i++;
		} else if (isdigit((unsigned char)ch) || ch == '.' || ch == '+' || ch == '-') {
			j = scan_number(in, len, i, &kind);
			if (kind != LIT_KEEP) {
				fwrite(in + from, 1, (kind == LIT_WIDEN ? j : i) - from, f);
				if (kind == LIT_HUGE) {
					fputs(in[i] == '-' ? "-9223372036854775808" :
					      in[i] == '+' ? "+9223372036854775807" :
					      "9223372036854775807", f);
					r = huge_add(c, in, i, j, line);
				}
				fputc('L', f);
				from = j;
			}
			i = j;
		} else {
			i++;
		}
	}
	fwrite(in + from, 1, len - from, f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(*out);
		*out = NULL;
	}
	return r;
}

/* ---- presets -------------------------------------------------------------
 *
 * ldap.preset names a kind of directory; its keys below fill what the file
 * leaves out (an explicit key always wins; the disabled flag, its attribute
 * and values or bitmask, is taken whole from the file when the file sets any
 * of it). They are what the test suite syncs each server with
 * (docs/directories.md); FreeIPA's is 389-DS's with IPA's own id, classes and
 * display name, not tested against a server.
 */
struct preset {
	const char *name;
	const char *text;   /* libconfig: the keys the preset fills */
};

#define PRESET_GROUPS(filter) \
	"groups = { filter = \"" filter "\"; member_attribute = \"member\"; nested = true; };"

static const struct preset presets[] = {
	{ "openldap", "ldap = {"
	  " users = { filter = \"(objectClass=inetOrgPerson)\"; };"
	  PRESET_GROUPS("(objectClass=groupOfNames)")
	  " attributes = { id = \"entryUUID\"; username = \"uid\"; display_name = \"cn\"; };"
	  " };" },
	{ "ad", "ldap = {"
	  " users = { filter = \"(&(objectClass=user)(objectCategory=person))\";"
	  "  disabled_attribute = \"userAccountControl\"; disabled_bitmask = 2; };"
	  PRESET_GROUPS("(objectClass=group)")
	  " attributes = { id = \"objectGUID\"; username = \"sAMAccountName\";"
	  "  display_name = \"displayName\"; department = \"department\";"
	  "  employee_number = \"employeeID\"; };"
	  " };" },
	{ "389ds", "ldap = {"
	  " users = { filter = \"(objectClass=inetOrgPerson)\";"
	  "  disabled_attribute = \"nsAccountLock\"; disabled_values = [ \"true\" ]; };"
	  PRESET_GROUPS("(objectClass=groupOfNames)")
	  " attributes = { id = \"nsUniqueId\"; username = \"uid\"; display_name = \"cn\"; };"
	  " };" },
	{ "freeipa", "ldap = {"
	  " users = { filter = \"(objectClass=inetOrgPerson)\";"
	  "  disabled_attribute = \"nsAccountLock\"; disabled_values = [ \"true\" ]; };"
	  PRESET_GROUPS("(objectClass=ipaUserGroup)")
	  " attributes = { id = \"ipaUniqueID\"; username = \"uid\";"
	  "  display_name = \"displayName\"; };"
	  " };" },
};

/* Parse the preset the file names (ldap.preset) into c->preset; none, or a
 * name that is none of them (the key's own check says so): nothing.
 * Returns 0 or -ENOMEM. */
static int
preset_open(struct ctx *c, const config_t *cfg)
{
	const char *name = NULL;

	if (!config_lookup_string(cfg, "ldap.preset", &name))
		return 0;
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (strcmp(presets[i].name, name) != 0)
			continue;
		if ((c->preset = calloc(1, sizeof(*c->preset))) == NULL)
			return -ENOMEM;
		config_init(c->preset);
		/* the text is ours: it parses, or only for want of memory */
		return config_read_string(c->preset, presets[i].text) == CONFIG_TRUE ? 0 : -ENOMEM;
	}
	return 0;
}

static void
preset_close(struct ctx *c)
{
	if (c->preset != NULL)
		config_destroy(c->preset);
	free(c->preset);
	c->preset = NULL;
}

/* ---- helpers ------------------------------------------------------------ */

/* Whether the file itself says anything of the disabled flag. */
static bool
disabled_written(const config_t *cfg)
{
	return config_lookup(cfg, "ldap.users.disabled_attribute") != NULL ||
	       config_lookup(cfg, "ldap.users.disabled_values") != NULL ||
	       config_lookup(cfg, "ldap.users.disabled_bitmask") != NULL;
}

/* The setting at path: the file's, else the preset's (ldap.preset), else
 * NULL. The disabled flag is taken whole: from the preset only when the
 * file says nothing of it. */
static const config_setting_t *
get(const struct ctx *c, const config_t *cfg, const char *path)
{
	const config_setting_t *s = config_lookup(cfg, path);

	if (s != NULL || c->preset == NULL)
		return s;
	if (strncmp(path, "ldap.users.disabled_", 20) == 0 && disabled_written(cfg))
		return NULL;
	return config_lookup(c->preset, path);
}

/* An absolute form of path: relative ones are taken from the config's dir. */
static char *
abs_path(const struct ctx *c, const char *path)
{
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s/%s", c->dir, path) < 0)
		return NULL;
	return out;
}

/* Whether a filter looks like one: in parentheses, balanced. The server does
 * the full parse; this catches the common slip of a missing parenthesis. */
static bool
filter_plausible(const char *f)
{
	int depth = 0;

	if (f[0] != '(')
		return false;
	for (const char *p = f; *p; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			return false;
	}
	return depth == 0;
}

static bool
name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* ---- first pass: every key known, every value of its type --------------- */

static const char *
type_word(enum ktype t)
{
	switch (t) {
	case K_STRING: case K_WORD: return "a string in double quotes";
	case K_INT: return "a whole number";
	case K_NUMBER: return "a number";
	case K_BOOL: return "true or false";
	case K_GROUP: return "a group { ... }";
	case K_STRINGS: return "an array of strings [ \"...\" ]";
	case K_NAMES: return "a string, or an array of strings [ \"...\" ]";
	case K_FIELDS: return "a group of name = \"attribute\" pairs";
	case K_LIST: return "a list ( ... )";
	}
	return "?";
}

static bool
type_ok(const config_setting_t *s, enum ktype t)
{
	int st = config_setting_type(s);

	switch (t) {
	case K_STRING: case K_WORD: return st == CONFIG_TYPE_STRING;
	case K_INT: return st == CONFIG_TYPE_INT || st == CONFIG_TYPE_INT64;
	case K_NUMBER: return st == CONFIG_TYPE_INT || st == CONFIG_TYPE_INT64 ||
		       st == CONFIG_TYPE_FLOAT;
	case K_BOOL: return st == CONFIG_TYPE_BOOL;
	case K_GROUP: case K_FIELDS: return st == CONFIG_TYPE_GROUP;
	case K_STRINGS: return st == CONFIG_TYPE_ARRAY || st == CONFIG_TYPE_LIST;
	case K_NAMES: return st == CONFIG_TYPE_STRING || st == CONFIG_TYPE_ARRAY ||
		      st == CONFIG_TYPE_LIST;
	case K_LIST: return st == CONFIG_TYPE_LIST;
	}
	return false;
}

/* Check every setting inside group g against keys, recursively: each one
 * known, of its type, and the elements of string arrays and field groups
 * strings. */
static void
check_group(struct ctx *c, const config_setting_t *g, const struct key *keys)
{
	int n = config_setting_length(g);
	char path[256];

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct key *k;

		setting_path(s, path, sizeof(path));
		for (k = keys; k->name != NULL; k++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name == NULL) {
			ctx_error(c, s, path, "unknown key");
			continue;
		}
		if (!type_ok(s, k->type)) {
			ctx_error(c, s, path, "must be %s", type_word(k->type));
			continue;
		}
		if (k->type == K_GROUP) {
			check_group(c, s, k->children);
		} else if (k->type == K_STRINGS || k->type == K_FIELDS ||
			   (k->type == K_NAMES && config_setting_is_aggregate(s))) {
			int m = config_setting_length(s);
			for (int j = 0; j < m; j++) {
				const config_setting_t *e = config_setting_get_elem(s, (unsigned)j);
				if (config_setting_type(e) != CONFIG_TYPE_STRING) {
					setting_path(e, path, sizeof(path));
					ctx_error(c, e, path, "must be a string in double quotes");
				}
			}
		}
	}
}

/* ---- second pass: the values, by the table ------------------------------ */

/* Store v into the field of k: an int (or an enum) or a long long. */
static void
put_int(struct conf *cf, const struct key *k, long long v)
{
	char *to = (char *)cf + k->off;
	int i = (int)v;

	if (k->size == sizeof(long long))
		memcpy(to, &v, sizeof(v));
	else if (k->size == sizeof(int))
		memcpy(to, &i, sizeof(i));
}

/* What s, an integer at one of the 64-bit limits, was written as, when that
 * was a literal beyond 64 bits (the first such of its sign from its line on);
 * NULL when it holds the value written. */
static const char *
huge_text(const struct ctx *c, const config_setting_t *s, long long v)
{
	unsigned line = config_setting_source_line(s);
	const struct huge *best = NULL;

	if (v != LLONG_MAX && v != LLONG_MIN)
		return NULL;
	for (size_t i = 0; i < c->nhuge; i++)
		if (c->huge[i].neg == (v < 0) && c->huge[i].line >= line &&
		    (best == NULL || c->huge[i].line < best->line))
			best = &c->huge[i];
	return best ? best->text : NULL;
}

/* An integer key: s's value if in range, else its default. */
static void
load_int(struct ctx *c, const config_setting_t *s, const struct key *k, const char *path,
	 struct conf *cf)
{
	long long v = k->def;
	const char *huge;
	char text[32];

	if (s != NULL) {
		v = config_setting_get_int64(s);
		huge = huge_text(c, s, v);
		if (huge != NULL || v < k->min || v > k->max) {
			snprintf(text, sizeof(text), "%lld", v);
			ctx_error(c, s, path, "%s is out of range (%lld to %lld)",
				  huge ? huge : text, k->min, k->max);
			return;
		}
	}
	put_int(cf, k, v);
}

/* A number key: s's value, with or without a fraction, if in range. */
static void
load_number(struct ctx *c, const config_setting_t *s, const struct key *k, const char *path,
	    struct conf *cf)
{
	double v = k->fdef;
	const char *huge = NULL;
	char text[32];

	if (s != NULL && config_setting_type(s) == CONFIG_TYPE_FLOAT) {
		v = config_setting_get_float(s);
		snprintf(text, sizeof(text), "%g", v);
	} else if (s != NULL) {
		v = (double)config_setting_get_int64(s);
		huge = huge_text(c, s, config_setting_get_int64(s));
		snprintf(text, sizeof(text), "%lld", config_setting_get_int64(s));
	}
	if (s != NULL && (huge != NULL || !(v >= (double)k->min && v <= (double)k->max))) {
		ctx_error(c, s, path, "%s is out of range (%lld to %lld)", huge ? huge : text,
			  k->min, k->max);
		return;
	}
	memcpy((char *)cf + k->off, &v, sizeof(v));
}

/* The index of v in words; -1 with an error at s when it is none of them. */
static int
word_index(struct ctx *c, const config_setting_t *s, const char *path, const char *v,
	   const char *const *words)
{
	char list[256] = "";

	for (int i = 0; words[i] != NULL; i++)
		if (strcmp(v, words[i]) == 0)
			return i;
	for (int i = 0; words[i] != NULL; i++)
		str_appendf(list, sizeof(list), "%s\"%s\"", i ? ", " : "", words[i]);
	ctx_error(c, s, path, "\"%s\" is not one of %s", v, list);
	return -1;
}

/* A string key (g its group, NULL when absent): a copy of s's value or of
 * the default, checked as k says. Returns 0 or -ENOMEM. */
static int
load_string(struct ctx *c, const config_setting_t *g, const config_setting_t *s,
	    const struct key *k, const char *path, struct conf *cf)
{
	const char *v = s ? config_setting_get_string(s) : k->sdef;
	char *copy = NULL;

	if (v != NULL && k->words != NULL && word_index(c, s, path, v, k->words) < 0)
		return 0;
	if (v != NULL && v[0] == '\0' && k->empty != NULL) {
		ctx_error(c, s, path, "%s", k->empty);
		return 0;
	}
	if (v != NULL && v[0] == '\0' && (k->flags & KF_EMPTY_UNSET))
		v = NULL;
	if (v == NULL && (k->flags & KF_REQUIRED) && g != NULL)
		ctx_error(c, g, path, "%s", k->missing);
	if (v != NULL && (k->flags & KF_FILTER) && !filter_plausible(v))
		ctx_error(c, s, path, "\"%s\" is not a filter in parentheses", v);
	if (v == NULL)
		return 0;
	copy = (k->flags & KF_ABS_PATH) ? abs_path(c, v) : strdup(v);
	if (copy == NULL)
		return -ENOMEM;
	memcpy((char *)cf + k->off, &copy, sizeof(copy));
	return 0;
}

/* The keys of group g (NULL when absent: every key takes its default) into
 * cf; prefix is g's path. Returns 0 or -ENOMEM. */
static int
load_group(struct ctx *c, const config_setting_t *g, const char *prefix,
	   const struct key *keys, struct conf *cf)
{
	for (const struct key *k = keys; k->name != NULL; k++) {
		const config_setting_t *s = g ? config_setting_get_member(g, k->name) : NULL;
		char path[128];
		bool b;
		int r = 0, w;

		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", k->name);
		if (s == NULL && k->type != K_GROUP)
			s = get(c, c->tree, path);
		switch (k->type) {
		case K_GROUP:
			/* the line of the group that should hold it; none at the top */
			if (s == NULL && g != NULL && (k->flags & KF_REQUIRED))
				ctx_error(c, config_setting_parent(g) ? g : NULL, path, "%s",
					  k->missing);
			r = load_group(c, s, path, k->children, cf);
			break;
		case K_STRING:
			r = load_string(c, g, s, k, path, cf);
			break;
		case K_INT:
			load_int(c, s, k, path, cf);
			break;
		case K_NUMBER:
			load_number(c, s, k, path, cf);
			break;
		case K_BOOL:
			b = s ? config_setting_get_bool(s) : k->def != 0;
			memcpy((char *)cf + k->off, &b, sizeof(b));
			break;
		case K_WORD:
			w = s ? word_index(c, s, path, config_setting_get_string(s), k->words) : 0;
			if (w >= 0)
				put_int(cf, k, w);
			break;
		case K_STRINGS: case K_NAMES: case K_FIELDS: case K_LIST:
			break;   /* the named checks load these */
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the checks that relate several keys -------------------------------- */

/* ldap.uri: space-separated ldap://, ldaps:// and ldapi:// URIs, at least one. */
static int
check_uri(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	char *copy, *save = NULL;
	int n = 0;

	if (cf->ldap.uri == NULL)
		return 0;
	copy = strdup(cf->ldap.uri);
	if (copy == NULL)
		return -ENOMEM;
	for (char *u = strtok_r(copy, " \t", &save); u; u = strtok_r(NULL, " \t", &save)) {
		n++;
		if (strncasecmp(u, "ldap://", 7) != 0 && strncasecmp(u, "ldaps://", 8) != 0 &&
		    strncasecmp(u, "ldapi://", 8) != 0)
			ctx_error(c, get(c, cfg, "ldap.uri"), "ldap.uri",
				  "\"%s\" is not an ldap://, ldaps:// or ldapi:// URI", u);
	}
	free(copy);
	if (n == 0)
		ctx_error(c, get(c, cfg, "ldap.uri"), "ldap.uri", "empty");
	return 0;
}

/* The bind: a DN and one source of its password, or neither; with
 * CONF_CHECK_SECRETS, a password file that is there and private. */
static int
check_bind(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	const char *file = cf->ldap.bind_password_file, *cred = cf->ldap.bind_password_credential;
	const char *lone = file ? "ldap.bind_password_file" : "ldap.bind_password_credential";
	char *pw = NULL, err[512], uri[512];

	if (cf->ldap.sasl_mech != NULL) {
		if (cf->ldap.bind_dn || file || cred)
			ctx_error(c, get(c, cfg, cf->ldap.bind_dn ? "ldap.bind_dn" : lone),
				  cf->ldap.bind_dn ? "ldap.bind_dn" : lone, "not used by a SASL bind "
				  "(sasl_mech): the identity is the client certificate's (EXTERNAL) "
				  "or the keytab's (GSSAPI)");
		return 0;
	}
	if (file && cred)
		ctx_error(c, get(c, cfg, "ldap.bind_password_credential"),
			  "ldap.bind_password_credential",
			  "give bind_password_file or bind_password_credential, not both");
	if (!cf->ldap.bind_dn && (file || cred))
		ctx_error(c, get(c, cfg, lone), lone, "needs bind_dn: whom to bind as");
	if (cf->ldap.bind_dn && !file && !cred)
		ctx_error(c, get(c, cfg, "ldap.bind_dn"), "ldap.bind_dn",
			  "needs bind_password_file or bind_password_credential");
	if (file && (c->flags & CONF_CHECK_SECRETS) && secret_read(file, true, &pw, err,
								   sizeof(err)) < 0)
		ctx_error(c, get(c, cfg, "ldap.bind_password_file"), "ldap.bind_password_file",
			  "%s", err);
	secret_free(pw);
	if ((c->flags & CONF_CHECK_SECRETS) && !cf->ldap.allow_plaintext_bind &&
	    dir_cleartext_bind(cf, uri, sizeof(uri)))
		ctx_error(c, get(c, cfg, "ldap.uri"), "ldap.uri", "\"%s\" would send the bind password "
			  "in clear: use ldaps:// or starttls = true, or set allow_plaintext_bind = "
			  "true (loopback and ldapi:// need neither)", uri);
	if (cred && (strchr(cred, '/') || strcmp(cred, "..") == 0 || strcmp(cred, ".") == 0))
		ctx_error(c, get(c, cfg, "ldap.bind_password_credential"),
			  "ldap.bind_password_credential", "must be a plain name, not a path");
	return 0;
}

/* Whether every URI of cf's list that is not ldapi:// has TLS (ldaps://,
 * or ldap:// with StartTLS), and whether there is one such. */
static void
uris_tls(const struct conf *cf, bool *all, bool *any)
{
	char *list = strdup(cf->ldap.uri), *save = NULL;

	*all = list != NULL;
	*any = false;
	for (char *u = list ? strtok_r(list, " \t", &save) : NULL; u;
	     u = strtok_r(NULL, " \t", &save)) {
		if (strncasecmp(u, "ldapi://", 8) == 0)
			continue;
		*any = true;
		if (strncasecmp(u, "ldap://", 7) == 0 && !cf->ldap.starttls)
			*all = false;
	}
	free(list);
}

/* A SASL bind and the client certificate: the keytab only for GSSAPI; a
 * certificate and its key together; EXTERNAL only where the server can see
 * who connects: over TLS with a certificate, or ldapi://. With
 * CONF_CHECK_SECRETS, the key and the keytab private to their owner. */
static int
check_sasl(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	const char *mech = cf->ldap.sasl_mech;
	bool all = true, any = false;
	char err[512];

	if (cf->ldap.keytab && (mech == NULL || strcmp(mech, "GSSAPI") != 0))
		ctx_error(c, get(c, cfg, "ldap.keytab"), "ldap.keytab",
			  "only for sasl_mech = \"GSSAPI\" (Kerberos)");
	if ((cf->ldap.cert_file == NULL) != (cf->ldap.key_file == NULL))
		ctx_error(c, get(c, cfg, cf->ldap.cert_file ? "ldap.cert_file" : "ldap.key_file"),
			  cf->ldap.cert_file ? "ldap.cert_file" : "ldap.key_file",
			  "needs %s: a client certificate and its private key go together",
			  cf->ldap.cert_file ? "key_file" : "cert_file");
	if (cf->ldap.uri != NULL)
		uris_tls(cf, &all, &any);
	if (mech != NULL && strcmp(mech, "EXTERNAL") == 0 && cf->ldap.uri != NULL) {
		if (!all)
			ctx_error(c, get(c, cfg, "ldap.sasl_mech"), "ldap.sasl_mech",
				  "EXTERNAL needs TLS (ldaps:// or starttls = true) with a client "
				  "certificate, or ldapi://");
		else if (any && cf->ldap.cert_file == NULL)
			ctx_error(c, get(c, cfg, "ldap.sasl_mech"), "ldap.sasl_mech",
				  "EXTERNAL over TLS needs cert_file and key_file: the client "
				  "certificate is the identity");
	}
	if (!(c->flags & CONF_CHECK_SECRETS))
		return 0;
	if (cf->ldap.key_file && secret_check(cf->ldap.key_file, err, sizeof(err)) < 0)
		ctx_error(c, get(c, cfg, "ldap.key_file"), "ldap.key_file", "%s", err);
	if (cf->ldap.keytab && secret_check(cf->ldap.keytab, err, sizeof(err)) < 0)
		ctx_error(c, get(c, cfg, "ldap.keytab"), "ldap.keytab", "%s", err);
	return 0;
}

/* ldap.users.disabled_values, and the disabled flag as a whole: an
 * attribute, and values or a bitmask that say which of its values disable. */
static int
check_disabled(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	const config_setting_t *s = get(c, cfg, "ldap.users.disabled_values");
	const config_setting_t *mask = get(c, cfg, "ldap.users.disabled_bitmask");
	int n = s ? config_setting_length(s) : 0;
	/* as written: one out of range is reported once, as that */
	bool bits = mask != NULL && config_setting_get_int64(mask) != 0;
	char **values = NULL;

	if (n > 0 && (values = calloc((size_t)n + 1, sizeof(char *))) == NULL)
		return -ENOMEM;
	cf->ldap.users.disabled_values = values;
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(s, i);
		if (v == NULL)
			continue;
		if ((values[cf->ldap.users.ndisabled_values] = strdup(v)) == NULL)
			return -ENOMEM;
		cf->ldap.users.ndisabled_values++;
	}
	if (cf->ldap.users.disabled_attribute == NULL && (cf->ldap.users.ndisabled_values > 0 || bits))
		ctx_error(c, get(c, cfg, "ldap.users"), "ldap.users.disabled_attribute",
			  "missing: disabled_values and disabled_bitmask need it");
	if (cf->ldap.users.disabled_attribute != NULL && cf->ldap.users.ndisabled_values == 0 && !bits)
		ctx_error(c, get(c, cfg, "ldap.users.disabled_attribute"),
			  "ldap.users.disabled_attribute",
			  "needs disabled_values or disabled_bitmask to say which values disable");
	return 0;
}

/* Add the member attribute name v (at setting e, an element of a list when
 * list) to cf's list: 0 or -ENOMEM; a name that is not one of the three, or
 * given twice, is an error. */
static int
member_attr_add(struct ctx *c, const config_setting_t *e, bool list, const char *v,
		struct conf *cf)
{
	static const char *const names[] = { "member", "uniqueMember", "memberUid" };
	const char *path = "ldap.groups.member_attribute";
	size_t i;

	for (i = 0; i < 3 && strcmp(v, names[i]) != 0; i++)
		;
	if (i == 3) {
		ctx_error(c, e, path, "\"%s\" is not one of \"member\", \"uniqueMember\", "
			  "\"memberUid\"%s", v, list ? "" : ", \"\"");
		return 0;
	}
	for (size_t k = 0; k < cf->ldap.groups.nmember_attrs; k++)
		if (strcmp(cf->ldap.groups.member_attrs[k], v) == 0) {
			ctx_error(c, e, path, "\"%s\" is named twice", v);
			return 0;
		}
	if ((cf->ldap.groups.member_attrs[cf->ldap.groups.nmember_attrs] = strdup(v)) == NULL)
		return -ENOMEM;
	cf->ldap.groups.nmember_attrs++;
	return 0;
}

/* ldap.groups.member_attribute: one name, "" for none (memberOf gives the
 * members), or a list of names read together (groupOfNames and
 * groupOfUniqueNames side by side); by default "member". memberUid values
 * are usernames, so it goes alone. */
static int
load_member_attrs(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	const config_setting_t *s = get(c, cfg, "ldap.groups.member_attribute");
	bool list = s != NULL && config_setting_is_aggregate(s);
	int n = list ? config_setting_length(s) : 1, r = 0;

	if ((cf->ldap.groups.member_attrs = calloc((size_t)n + 1, sizeof(char *))) == NULL)
		return -ENOMEM;
	if (s == NULL)
		return member_attr_add(c, NULL, false, "member", cf);
	for (int i = 0; i < n && r == 0; i++) {
		const config_setting_t *e = list ? config_setting_get_elem(s, (unsigned)i) : s;
		const char *v = config_setting_get_string(e);

		if (v != NULL && (list || v[0] != '\0'))
			r = member_attr_add(c, e, list, v, cf);
	}
	for (size_t k = 0; r == 0 && cf->ldap.groups.nmember_attrs > 1 &&
			   k < cf->ldap.groups.nmember_attrs; k++)
		if (strcmp(cf->ldap.groups.member_attrs[k], "memberUid") == 0)
			ctx_error(c, s, "ldap.groups.member_attribute", "memberUid (usernames) "
				  "cannot be read with member or uniqueMember (DNs)");
	return r;
}

/* How the groups name their members, from ldap.groups.member_attribute, and
 * ldap.attributes.member_of, which names groups read from ldap.groups.base. */
static int
check_groups(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	int r = load_member_attrs(c, cfg, cf);

	if (r < 0)
		return r;
	cf->ldap.groups.member_style = MEMBERS_DN;
	for (size_t k = 0; k < cf->ldap.groups.nmember_attrs; k++)
		if (strcmp(cf->ldap.groups.member_attrs[k], "memberUid") == 0)
			cf->ldap.groups.member_style = MEMBERS_UID;
		else if (strcmp(cf->ldap.groups.member_attrs[k], "uniqueMember") == 0)
			cf->ldap.groups.member_style = MEMBERS_UNIQUE;
	if (cf->ldap.member_of_attr != NULL && cf->ldap.groups.base == NULL)
		ctx_error(c, get(c, cfg, "ldap.attributes.member_of"), "ldap.attributes.member_of",
			  "needs ldap.groups.base: the groups it names are read from there");
	if (cf->ldap.groups.primary_group && cf->ldap.groups.base == NULL)
		ctx_error(c, get(c, cfg, "ldap.groups.primary_group"), "ldap.groups.primary_group",
			  "needs ldap.groups.base: the primary groups are read from there");
	return 0;
}

/* ldap.attributes.custom: at most CONF_MAX_CUSTOM fields, each named with
 * a-z 0-9 _ and mapped to an attribute. */
static int
check_custom(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	const config_setting_t *s = get(c, cfg, "ldap.attributes.custom");
	int n = s ? config_setting_length(s) : 0;
	char path[128];

	if (n > CONF_MAX_CUSTOM) {
		ctx_error(c, s, "ldap.attributes.custom", "%d fields; at most %d are supported",
			  n, CONF_MAX_CUSTOM);
		return 0;
	}
	if (s == NULL)
		return 0;
	if ((cf->ldap.custom = calloc((size_t)n + 1, sizeof(*cf->ldap.custom))) == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e), *v = config_setting_get_string(e);
		struct conf_custom *f = &cf->ldap.custom[cf->ldap.ncustom];

		if (v == NULL)
			continue;
		snprintf(path, sizeof(path), "ldap.attributes.custom.%s", name);
		if (!name_ok(name))
			ctx_error(c, e, path, "field names use a-z, 0-9 and _ only");
		if (v[0] == '\0')
			ctx_error(c, e, path, "must name a directory attribute");
		f->name = strdup(name);
		f->attr = strdup(v);
		cf->ldap.ncustom++;
		if (f->name == NULL || f->attr == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* roles = ( { group = "lms-admins"; role = "admin"; }, ... ): a group by name
 * or DN, and the role its effective members get. */
static int
check_roles(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	static const char *const roles[] = { "learner", "manager", "admin", NULL };
	const config_setting_t *s = get(c, cfg, "roles");
	int n = s ? config_setting_length(s) : 0;

	if (n == 0)
		return 0;
	if (cf->ldap.groups.base == NULL)
		ctx_error(c, s, "roles", "needs ldap.groups.base: roles come from groups");
	if ((cf->roles = calloc((size_t)n, sizeof(*cf->roles))) == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *group = NULL, *role = NULL;
		char key[64];
		int k;

		snprintf(key, sizeof(key), "roles.[%d]", i);
		if (!config_setting_is_group(e)) {
			ctx_error(c, e, key, "must be { group = \"...\"; role = \"...\"; }");
			continue;
		}
		for (unsigned j = 0; j < (unsigned)config_setting_length(e); j++) {
			const char *name = config_setting_name(config_setting_get_elem(e, j));
			if (strcmp(name, "group") != 0 && strcmp(name, "role") != 0)
				ctx_error(c, config_setting_get_elem(e, j), key,
					  "unknown key \"%s\" (known: group, role)", name);
		}
		if (!config_setting_lookup_string(e, "group", &group) || group[0] == '\0') {
			ctx_error(c, e, key, "group: missing: a group name or DN");
			continue;
		}
		if (!config_setting_lookup_string(e, "role", &role)) {
			ctx_error(c, e, key, "role: missing: one of learner, manager, admin");
			continue;
		}
		for (k = 0; roles[k] != NULL && strcmp(roles[k], role) != 0; k++)
			;
		if (roles[k] == NULL) {
			ctx_error(c, config_setting_get_member(e, "role"), key,
				  "role: \"%s\" is not one of learner, manager, admin", role);
			continue;
		}
		cf->roles[cf->nroles].role = (enum role)k;
		if ((cf->roles[cf->nroles++].group = strdup(group)) == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* One entry of the plugins list into p: a group with a name (a-z 0-9 _,
 * unique) and an optional path. Returns 1 when taken, 0 when refused (with
 * an error), -ENOMEM. */
static int
plugin_entry(struct ctx *c, const struct conf *cf, const config_setting_t *e, int i,
	     struct conf_plugin *p)
{
	const config_setting_t *name = config_setting_get_member(e, "name");
	const config_setting_t *path = config_setting_get_member(e, "path");
	const char *v, *pv;
	char key[64];

	snprintf(key, sizeof(key), "plugins[%d]", i);
	if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
		ctx_error(c, e, key, "must be a group { name = \"...\"; ... }");
		return 0;
	}
	snprintf(key, sizeof(key), "plugins[%d].name", i);
	if (name == NULL) {
		ctx_error(c, e, key, "missing: which plugin to load");
		return 0;
	}
	v = config_setting_get_string(name);
	if (v == NULL || !name_ok(v) || strlen(v) > 64) {
		ctx_error(c, name, key, "must be a plugin name: 1 to 64 of a-z, 0-9 and _");
		return 0;
	}
	for (size_t k = 0; k < cf->nplugins; k++)
		if (strcmp(cf->plugins[k].name, v) == 0)
			ctx_error(c, name, key, "\"%s\" is loaded already by plugins[%d]", v,
				  cf->plugins[k].index);
	pv = path ? config_setting_get_string(path) : NULL;
	if (path != NULL && (pv == NULL || pv[0] == '\0')) {
		snprintf(key, sizeof(key), "plugins[%d].path", i);
		ctx_error(c, path, key, "must be the path of a shared object");
		return 0;
	}
	if (pv != NULL)
		p->path = abs_path(c, pv);
	else if (asprintf(&p->path, "%s/%s.so", PLUGINDIR, v) < 0)
		p->path = NULL;
	p->name = strdup(v);
	p->setting = e;
	p->index = i;
	p->line = config_setting_source_line(e);
	return p->name == NULL || p->path == NULL ? -ENOMEM : 1;
}

/* The plugins list, in its order; every key of an entry but name and path is
 * the plugin's, checked by its init when the plugin is loaded. */
static int
check_plugins(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	const config_setting_t *list = get(c, cfg, "plugins");
	int n = list ? config_setting_length(list) : 0;

	if (n == 0)
		return 0;
	if ((cf->plugins = calloc((size_t)n, sizeof(*cf->plugins))) == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		int r = plugin_entry(c, cf, config_setting_get_elem(list, (unsigned)i), i,
				     &cf->plugins[cf->nplugins]);
		if (r > 0 || r == -ENOMEM)
			cf->nplugins++;   /* a half-made entry is freed with the rest */
		if (r < 0)
			return r;
	}
	return 0;
}

/* The checks run once every key has its value, in this order. */
/* store.mode: octal permission bits that let the owner read and write, and
 * do not let others write. */
static int
check_store_mode(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	const char *t = cf->store.mode_text;
	char *end;
	unsigned long m;

	if (t == NULL)
		return 0;
	errno = 0;
	m = strtoul(t, &end, 8);
	if (errno != 0 || *end != '\0' || t[0] < '0' || t[0] > '7' || m > 0777) {
		ctx_error(c, get(c, cfg, "store.mode"), "store.mode",
			  "\"%s\" is not a mode in octal, such as \"0660\"", t);
		return 0;
	}
	if ((m & 0600) != 0600)
		ctx_error(c, get(c, cfg, "store.mode"), "store.mode",
			  "\"%s\" must let the owner read and write (0600)", t);
	else if (m & 0002)
		ctx_error(c, get(c, cfg, "store.mode"), "store.mode",
			  "\"%s\" lets every local account write the store", t);
	cf->store.mode = (unsigned)m;
	return 0;
}

/* Whether a postgresql:// URL names a password ("user:password@host"). */
static bool
store_url_has_password(const char *url)
{
	const char *a = strstr(url, "://"), *end;

	if (a == NULL)
		return false;
	a += 3;
	end = a + strcspn(a, "/?");
	for (const char *at = a; at < end; at++)
		if (*at == '@')
			return memchr(a, ':', (size_t)(at - a)) != NULL;
	return false;
}

/* The store: a file (path) or a PostgreSQL database (url, with its schema
 * and its password from a file or a systemd credential, never in the
 * config). */
static int
check_store(struct ctx *c, const config_t *cfg, struct conf *cf)
{
	const char *file = cf->store.password_file, *cred = cf->store.password_credential;
	const char *u = cf->store.url;
	char *pw = NULL, err[512];

	if (cf->store.path == NULL && u == NULL)
		ctx_error(c, get(c, cfg, "store"), "store.path", "missing (or store.url for PostgreSQL)");
	if (cf->store.path != NULL && u != NULL)
		ctx_error(c, get(c, cfg, "store.url"), "store.url", "give store.path (SQLite) or "
			  "store.url (PostgreSQL), not both");
	if (u == NULL && (file || cred))
		ctx_error(c, get(c, cfg, file ? "store.password_file" : "store.password_credential"),
			  file ? "store.password_file" : "store.password_credential",
			  "is for store.url (PostgreSQL) only");
	if (file && cred)
		ctx_error(c, get(c, cfg, "store.password_credential"), "store.password_credential",
			  "give password_file or password_credential, not both");
	if (u != NULL && (strstr(u, "password=") || store_url_has_password(u)))
		ctx_error(c, get(c, cfg, "store.url"), "store.url", "holds a password: put it in "
			  "store.password_file or store.password_credential");
	if (u != NULL && strncmp(u, "postgresql://", 13) != 0 && strncmp(u, "postgres://", 11) != 0)
		ctx_error(c, get(c, cfg, "store.url"), "store.url",
			  "\"%s\" is not a postgresql:// URL", u);
	for (const char *p = cf->store.schema; p && *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (p > cf->store.schema &&
		      *p >= '0' && *p <= '9'))) {
			ctx_error(c, get(c, cfg, "store.schema"), "store.schema", "\"%s\" is not a plain "
				  "lower-case name (letters, digits, _)", cf->store.schema);
			break;
		}
	if (file && (c->flags & CONF_CHECK_SECRETS) && secret_read(file, true, &pw, err,
								   sizeof(err)) < 0)
		ctx_error(c, get(c, cfg, "store.password_file"), "store.password_file", "%s", err);
	secret_free(pw);
	if (cred && (strchr(cred, '/') || strcmp(cred, "..") == 0 || strcmp(cred, ".") == 0))
		ctx_error(c, get(c, cfg, "store.password_credential"), "store.password_credential",
			  "must be a plain name, not a path");
	return check_store_mode(c, cfg, cf);
}

static int (*const checks[])(struct ctx *, const config_t *, struct conf *) = {
	check_uri, check_bind, check_sasl, check_disabled, check_groups, check_custom, check_roles,
	check_plugins, check_store,
};

/* ---- loading ------------------------------------------------------------ */

void
conf_free(struct conf *cf)
{
	if (cf == NULL)
		return;
	free(cf->path);
	free(cf->ldap.uri);
	free(cf->ldap.preset);
	free(cf->ldap.ca_file);
	free(cf->ldap.bind_dn);
	free(cf->ldap.bind_password_file);
	free(cf->ldap.bind_password_credential);
	free(cf->ldap.sasl_mech);
	free(cf->ldap.keytab);
	free(cf->ldap.cert_file);
	free(cf->ldap.key_file);
	free(cf->ldap.users.base);
	free(cf->ldap.users.filter);
	free(cf->ldap.users.disabled_attribute);
	for (size_t i = 0; i < cf->ldap.users.ndisabled_values; i++)
		free(cf->ldap.users.disabled_values[i]);
	free(cf->ldap.users.disabled_values);
	free(cf->ldap.groups.base);
	free(cf->ldap.groups.filter);
	for (size_t k = 0; k < cf->ldap.groups.nmember_attrs; k++)
		free(cf->ldap.groups.member_attrs[k]);
	free(cf->ldap.groups.member_attrs);
	free(cf->ldap.groups.name_attr);
	free(cf->ldap.groups.description_attr);
	free(cf->ldap.member_of_attr);
	for (size_t i = 0; i < cf->nroles; i++)
		free(cf->roles[i].group);
	free(cf->roles);
	free(cf->ldap.id_attr);
	for (int f = 0; f < NFIELDS; f++)
		free(cf->ldap.attr[f]);
	for (size_t i = 0; i < cf->ldap.ncustom; i++) {
		free(cf->ldap.custom[i].name);
		free(cf->ldap.custom[i].attr);
	}
	free(cf->ldap.custom);
	free(cf->store.path);
	free(cf->store.url);
	free(cf->store.schema);
	free(cf->store.password_file);
	free(cf->store.password_credential);
	free(cf->store.mode_text);
	free(cf->metrics.textfile);
	for (size_t i = 0; i < cf->nplugins; i++) {
		free(cf->plugins[i].name);
		free(cf->plugins[i].path);
	}
	free(cf->plugins);
	if (cf->tree != NULL)
		config_destroy(cf->tree);
	free(cf->tree);
	free(cf);
}

/* The whole of the file at path into *out (NUL-terminated) and *len: 0,
 * -EFBIG past CONF_MAX_BYTES, or another negative errno. */
static int
read_text(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, cap = 0;
	char *buf = NULL, *p;
	ssize_t got;
	int r = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (n + 1 >= cap) {
			cap = cap ? 2 * cap : 16384;
			if ((p = realloc(buf, cap)) == NULL) {
				r = -ENOMEM;
				break;
			}
			buf = p;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = got < 0 ? -errno : 0;
			break;
		}
		n += (size_t)got;
		if (n > CONF_MAX_BYTES) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Parse the file into cfg: read, widen its integers, hand it to libconfig.
 * A failure writes the one error line into c's buffer. */
static int
parse_file(struct ctx *c, config_t *cfg)
{
	char *text = NULL, *wide = NULL;
	size_t len = 0, wlen = 0;
	FILE *f = NULL;
	int r;

	r = read_text(c->file, &text, &len);
	if (r < 0) {
		snprintf(c->err, c->errlen, "%s: cannot read: %s", c->file, strerror(-r));
		return r;
	}
	r = widen_ints(c, text, len, &wide, &wlen);
	if (r == 0 && wlen > 0 && (f = fmemopen(wide, wlen, "r")) == NULL)
		r = -ENOMEM;
	if (r < 0)
		goto out;
	if ((f ? config_read(cfg, f) : config_read_string(cfg, "")) != CONFIG_TRUE) {
		const char *file = config_error_file(cfg) ? config_error_file(cfg) : c->file;
		if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
			r = -EIO;
			snprintf(c->err, c->errlen, "%s: cannot read", file);
		} else {
			r = -EINVAL;
			snprintf(c->err, c->errlen, "%s:%d: syntax error: %s", file,
				 config_error_line(cfg), config_error_text(cfg));
		}
	}
out:
	if (f != NULL)
		fclose(f);
	free(wide);
	free(text);
	return r;
}

/* Every string of the file under s, the plugins' settings too, must be
 * UTF-8: they go to the directory, into the store and onto terminals. */
static void
check_utf8(struct ctx *c, const config_setting_t *s)
{
	char path[256];
	int n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(s);
		if (!utf8_valid(v, strlen(v))) {
			setting_path(s, path, sizeof(path));
			ctx_error(c, s, path, "is not valid UTF-8");
		}
		return;
	}
	if (!config_setting_is_aggregate(s))
		return;
	n = config_setting_length(s);
	for (int i = 0; i < n; i++)
		check_utf8(c, config_setting_get_elem(s, (unsigned)i));
}

/* Check every key and load the values of cfg into a new *out; the errors
 * go into c. Returns 0, -EINVAL (errors written) or -ENOMEM. */
static int
load_tree(struct ctx *c, const config_t *cfg, const char *path, struct conf **out)
{
	struct conf *cf = calloc(1, sizeof(*cf));
	int r = 0;

	if (cf == NULL || (cf->path = strdup(path)) == NULL) {
		free(cf);
		return -ENOMEM;
	}
	check_utf8(c, config_root_setting(cfg));
	check_group(c, config_root_setting(cfg), top_keys);
	c->tree = cfg;
	/* Values are read only from a tree whose types are right. */
	if (c->nerr == 0 && (r = preset_open(c, cfg)) == 0) {
		r = load_group(c, config_root_setting(cfg), "", top_keys, cf);
		for (size_t i = 0; r == 0 && i < sizeof(checks) / sizeof(checks[0]); i++)
			r = checks[i](c, cfg, cf);
	}
	if (r == 0 && c->nerr > 0)
		r = -EINVAL;
	if (r < 0) {
		conf_free(cf);
		return r;
	}
	*out = cf;
	return 0;
}

int
conf_load(const char *path, int flags, struct conf **out, char *err, size_t errlen)
{
	struct ctx c = { .file = path, .flags = flags, .err = err, .errlen = errlen };
	struct conf *cf = NULL;
	char *copy = NULL, *real = NULL;
	config_t *cfg = calloc(1, sizeof(*cfg));
	int r;

	err[0] = '\0';
	if (cfg == NULL)
		return -ENOMEM;
	config_init(cfg);
	real = realpath(path, NULL);
	copy = strdup(real ? real : path);
	if (copy == NULL) {
		r = -ENOMEM;
		goto out;
	}
	c.dir = dirname(copy);
	r = parse_file(&c, cfg);
	if (r < 0)
		goto out;
	r = load_tree(&c, cfg, path, &cf);
	if (r == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
out:
	preset_close(&c);
	free(c.huge);
	free(copy);
	free(real);
	if (r < 0) {
		config_destroy(cfg);
		free(cfg);
		return r;
	}
	/* Kept: the plugins read their own settings from it when loaded. */
	cf->tree = cfg;
	*out = cf;
	return 0;
}

/* Call fn for each integer key under keys (prefix: their group's path). */
static int
each_int_key(const struct key *keys, const char *prefix,
	     int (*fn)(const char *path, long long min, long long max, void *arg), void *arg)
{
	for (const struct key *k = keys; k->name != NULL; k++) {
		char path[128];
		int r = 0;

		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", k->name);
		if (k->type == K_GROUP)
			r = each_int_key(k->children, path, fn, arg);
		else if (k->type == K_INT)
			r = fn(path, k->min, k->max, arg);
		if (r != 0)
			return r;
	}
	return 0;
}

int
conf_foreach_int_key(int (*fn)(const char *path, long long min, long long max, void *arg),
		     void *arg)
{
	return each_int_key(top_keys, "", fn, arg);
}
