/*
 * config.c: read and validate rosterd.conf (libconfig).
 *
 * The file is checked against a table of the keys rosterd knows: an unknown
 * key, a value of the wrong type or out of range is an error that names the
 * file, the line and the key. Every problem is reported, not just the first.
 * Relative paths are resolved against the directory holding the file.
 */
#include "util.h"
#include "conf.h"

#include <stdarg.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef PLUGINDIR
#define PLUGINDIR "/usr/local/lib/rosterd/plugins"
#endif

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

/* Directory attribute of each field when the config does not name one. */
static const char *const field_defaults[NFIELDS] = {
	[F_USERNAME] = "uid",
	[F_EMAIL] = "mail",
	[F_GIVEN_NAME] = "givenName",
	[F_FAMILY_NAME] = "sn",
	[F_DISPLAY_NAME] = "cn",
	[F_EMPLOYEE_NUMBER] = "employeeNumber",
	[F_DEPARTMENT] = "departmentNumber",
	[F_LOCATION] = "l",
	[F_TITLE] = "title",
	[F_MANAGER] = "manager",
	[F_SECONDARY_MANAGER] = "secretary",
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

enum ktype { K_STRING, K_INT, K_NUMBER, K_BOOL, K_GROUP, K_STRINGS, K_ANY_STRINGS, K_LIST };

struct key {
	const char *name;
	enum ktype type;
	const struct key *children;   /* for K_GROUP */
};

static const struct key users_keys[] = {
	{ "base", K_STRING, NULL },
	{ "filter", K_STRING, NULL },
	{ "scope", K_STRING, NULL },
	{ "disabled_attribute", K_STRING, NULL },
	{ "disabled_values", K_STRINGS, NULL },
	{ "disabled_bitmask", K_INT, NULL },
	{ NULL, 0, NULL },
};

static const struct key groups_keys[] = {
	{ "base", K_STRING, NULL },
	{ "filter", K_STRING, NULL },
	{ "scope", K_STRING, NULL },
	{ "member_attribute", K_STRING, NULL },
	{ "name_attribute", K_STRING, NULL },
	{ "description_attribute", K_STRING, NULL },
	{ "nested", K_BOOL, NULL },
	{ NULL, 0, NULL },
};

static const struct key attr_keys[] = {
	{ "id", K_STRING, NULL },
	{ "username", K_STRING, NULL },
	{ "email", K_STRING, NULL },
	{ "given_name", K_STRING, NULL },
	{ "family_name", K_STRING, NULL },
	{ "display_name", K_STRING, NULL },
	{ "employee_number", K_STRING, NULL },
	{ "department", K_STRING, NULL },
	{ "location", K_STRING, NULL },
	{ "title", K_STRING, NULL },
	{ "manager", K_STRING, NULL },
	{ "secondary_manager", K_STRING, NULL },
	{ "member_of", K_STRING, NULL },
	{ "custom", K_ANY_STRINGS, NULL },
	{ NULL, 0, NULL },
};

static const struct key ldap_keys[] = {
	{ "uri", K_STRING, NULL },
	{ "starttls", K_BOOL, NULL },
	{ "ca_file", K_STRING, NULL },
	{ "bind_dn", K_STRING, NULL },
	{ "bind_password_file", K_STRING, NULL },
	{ "bind_password_credential", K_STRING, NULL },
	{ "page_size", K_INT, NULL },
	{ "timeout", K_INT, NULL },
	{ "network_timeout", K_INT, NULL },
	{ "users", K_GROUP, users_keys },
	{ "groups", K_GROUP, groups_keys },
	{ "attributes", K_GROUP, attr_keys },
	{ NULL, 0, NULL },
};

static const struct key store_keys[] = {
	{ "path", K_STRING, NULL },
	{ "busy_timeout", K_INT, NULL },
	{ NULL, 0, NULL },
};

static const struct key sync_keys[] = {
	{ "mode", K_STRING, NULL },
	{ "interval", K_INT, NULL },
	{ "interval_jitter", K_INT, NULL },
	{ "retry_delay", K_INT, NULL },
	{ "initial_status", K_STRING, NULL },
	{ "on_missing", K_STRING, NULL },
	{ "max_disable", K_INT, NULL },
	{ "max_disable_percent", K_NUMBER, NULL },
	{ "max_membership_removals_percent", K_NUMBER, NULL },
	{ NULL, 0, NULL },
};

static const struct key metrics_keys[] = {
	{ "textfile", K_STRING, NULL },
	{ NULL, 0, NULL },
};

static const struct key top_keys[] = {
	{ "ldap", K_GROUP, ldap_keys },
	{ "store", K_GROUP, store_keys },
	{ "sync", K_GROUP, sync_keys },
	{ "roles", K_LIST, NULL },
	{ "plugins", K_LIST, NULL },
	{ "metrics", K_GROUP, metrics_keys },
	{ NULL, 0, NULL },
};

/* ---- error reporting ---------------------------------------------------- */

struct ctx {
	const char *file;
	int flags;
	char *dir;            /* directory of the file, for relative paths */
	char *err;
	size_t errlen;
	int nerr;
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
setting_path(const config_setting_t *s, char *buf, size_t len);

void
conf_setting_where(const struct config_setting_t *s, char *path, size_t len, unsigned *line)
{
	setting_path(s, path, len);
	*line = config_setting_source_line(s);
}

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

static const char *
type_word(enum ktype t)
{
	switch (t) {
	case K_STRING: return "a string in double quotes";
	case K_INT: return "a whole number";
	case K_NUMBER: return "a number";
	case K_BOOL: return "true or false";
	case K_GROUP: return "a group { ... }";
	case K_STRINGS: return "an array of strings [ \"...\" ]";
	case K_ANY_STRINGS: return "a group of name = \"attribute\" pairs";
	case K_LIST: return "a list ( ... )";
	}
	return "?";
}

static bool
type_ok(const config_setting_t *s, enum ktype t)
{
	int st = config_setting_type(s);

	switch (t) {
	case K_STRING: return st == CONFIG_TYPE_STRING;
	case K_INT: return st == CONFIG_TYPE_INT || st == CONFIG_TYPE_INT64;
	case K_NUMBER: return st == CONFIG_TYPE_INT || st == CONFIG_TYPE_INT64 ||
		       st == CONFIG_TYPE_FLOAT;
	case K_BOOL: return st == CONFIG_TYPE_BOOL;
	case K_GROUP: return st == CONFIG_TYPE_GROUP;
	case K_STRINGS: return st == CONFIG_TYPE_ARRAY || st == CONFIG_TYPE_LIST;
	case K_ANY_STRINGS: return st == CONFIG_TYPE_GROUP;
	case K_LIST: return st == CONFIG_TYPE_LIST;
	}
	return false;
}

/* Check every setting inside group g against keys, recursively. */
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
		} else if (k->type == K_STRINGS || k->type == K_ANY_STRINGS) {
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

/* ---- typed getters (the tree is already type-checked) ------------------- */

static const config_setting_t *
get(const config_t *cfg, const char *path)
{
	return config_lookup(cfg, path);
}

/* A copy of the string at path, or of def when absent; "" gives NULL when
 * empty_is_null. Returns false only when out of memory. */
static bool
get_str(const config_t *cfg, const char *path, const char *def, bool empty_is_null,
	char **out)
{
	const config_setting_t *s = get(cfg, path);
	const char *v = s ? config_setting_get_string(s) : def;

	*out = NULL;
	if (v == NULL || (empty_is_null && v[0] == '\0'))
		return true;
	*out = strdup(v);
	return *out != NULL;
}

static long long
get_int(const config_t *cfg, const char *path, long long def)
{
	const config_setting_t *s = get(cfg, path);

	return s ? config_setting_get_int64(s) : def;
}

static double
get_number(const config_t *cfg, const char *path, double def)
{
	const config_setting_t *s = get(cfg, path);

	if (s == NULL)
		return def;
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		return config_setting_get_float(s);
	return (double)config_setting_get_int64(s);
}

static bool
get_bool(const config_t *cfg, const char *path, bool def)
{
	const config_setting_t *s = get(cfg, path);

	return s ? config_setting_get_bool(s) : def;
}

/* Check that the integer at path lies in [lo, hi]; store it in *v. */
static void
range_int(struct ctx *c, const config_t *cfg, const char *path, long long def,
	  long long lo, long long hi, int *v)
{
	long long x = get_int(cfg, path, def);

	if (x < lo || x > hi) {
		ctx_error(c, get(cfg, path), path, "%lld is out of range (%lld to %lld)", x, lo, hi);
		return;
	}
	*v = (int)x;
}

/* Pick which word of words the string at path is; -1 with an error if none. */
static int
one_of(struct ctx *c, const config_t *cfg, const char *path, const char *def,
       const char *const *words)
{
	const config_setting_t *s = get(cfg, path);
	const char *v = s ? config_setting_get_string(s) : def;
	char list[256] = "";

	for (int i = 0; words[i] != NULL; i++)
		if (strcmp(v, words[i]) == 0)
			return i;
	for (int i = 0; words[i] != NULL; i++)
		str_appendf(list, sizeof(list), "%s\"%s\"", i ? ", " : "", words[i]);
	ctx_error(c, s, path, "\"%s\" is not one of %s", v, list);
	return -1;
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

/* ---- loading ------------------------------------------------------------ */

void
conf_free(struct conf *cf)
{
	if (cf == NULL)
		return;
	free(cf->path);
	free(cf->ldap.uri);
	free(cf->ldap.ca_file);
	free(cf->ldap.bind_dn);
	free(cf->ldap.bind_password_file);
	free(cf->ldap.bind_password_credential);
	free(cf->ldap.users.base);
	free(cf->ldap.users.filter);
	free(cf->ldap.users.disabled_attribute);
	for (size_t i = 0; i < cf->ldap.users.ndisabled_values; i++)
		free(cf->ldap.users.disabled_values[i]);
	free(cf->ldap.users.disabled_values);
	free(cf->ldap.groups.base);
	free(cf->ldap.groups.filter);
	free(cf->ldap.groups.member_attribute);
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

static void
load_ldap(struct ctx *c, const config_t *cfg, struct conf *cf, bool *oom)
{
	const config_setting_t *s;
	char key[64];

	if (get(cfg, "ldap") == NULL) {
		ctx_error(c, NULL, "ldap", "missing: the directory to read from");
		return;
	}
	if (!get_str(cfg, "ldap.uri", NULL, true, &cf->ldap.uri))
		*oom = true;
	if (cf->ldap.uri == NULL) {
		ctx_error(c, get(cfg, "ldap"), "ldap.uri", "missing");
	} else {
		char *copy = strdup(cf->ldap.uri), *save = NULL;
		int n = 0;
		if (copy == NULL) {
			*oom = true;
			return;
		}
		for (char *u = strtok_r(copy, " \t", &save); u; u = strtok_r(NULL, " \t", &save)) {
			n++;
			if (strncasecmp(u, "ldap://", 7) != 0 && strncasecmp(u, "ldaps://", 8) != 0 &&
			    strncasecmp(u, "ldapi://", 8) != 0)
				ctx_error(c, get(cfg, "ldap.uri"), "ldap.uri",
					  "\"%s\" is not an ldap://, ldaps:// or ldapi:// URI", u);
		}
		free(copy);
		if (n == 0)
			ctx_error(c, get(cfg, "ldap.uri"), "ldap.uri", "empty");
	}
	cf->ldap.starttls = get_bool(cfg, "ldap.starttls", false);
	if (!get_str(cfg, "ldap.ca_file", NULL, true, &cf->ldap.ca_file))
		*oom = true;
	if (cf->ldap.ca_file && cf->ldap.ca_file[0] != '/') {
		char *a = abs_path(c, cf->ldap.ca_file);
		free(cf->ldap.ca_file);
		cf->ldap.ca_file = a;
		if (a == NULL)
			*oom = true;
	}
	if (!get_str(cfg, "ldap.bind_dn", NULL, true, &cf->ldap.bind_dn))
		*oom = true;
	if (!get_str(cfg, "ldap.bind_password_file", NULL, true, &cf->ldap.bind_password_file) ||
	    !get_str(cfg, "ldap.bind_password_credential", NULL, true,
		     &cf->ldap.bind_password_credential))
		*oom = true;
	if (cf->ldap.bind_password_file && cf->ldap.bind_password_credential)
		ctx_error(c, get(cfg, "ldap.bind_password_credential"),
			  "ldap.bind_password_credential",
			  "give bind_password_file or bind_password_credential, not both");
	if (!cf->ldap.bind_dn && (cf->ldap.bind_password_file || cf->ldap.bind_password_credential))
		ctx_error(c, get(cfg, cf->ldap.bind_password_file ? "ldap.bind_password_file" :
				 "ldap.bind_password_credential"),
			  cf->ldap.bind_password_file ? "ldap.bind_password_file" :
			  "ldap.bind_password_credential", "needs bind_dn: whom to bind as");
	if (cf->ldap.bind_dn && !cf->ldap.bind_password_file && !cf->ldap.bind_password_credential)
		ctx_error(c, get(cfg, "ldap.bind_dn"), "ldap.bind_dn",
			  "needs bind_password_file or bind_password_credential");
	if (cf->ldap.bind_password_file) {
		char *a = abs_path(c, cf->ldap.bind_password_file), *pw = NULL, err[512];
		free(cf->ldap.bind_password_file);
		cf->ldap.bind_password_file = a;
		if (a == NULL) {
			*oom = true;
		} else if ((c->flags & CONF_CHECK_SECRETS) &&
			   secret_read(a, true, &pw, err, sizeof(err)) < 0) {
			ctx_error(c, get(cfg, "ldap.bind_password_file"),
				  "ldap.bind_password_file", "%s", err);
		}
		secret_free(pw);
	}
	if (cf->ldap.bind_password_credential &&
	    (strchr(cf->ldap.bind_password_credential, '/') ||
	     strcmp(cf->ldap.bind_password_credential, "..") == 0 ||
	     strcmp(cf->ldap.bind_password_credential, ".") == 0))
		ctx_error(c, get(cfg, "ldap.bind_password_credential"),
			  "ldap.bind_password_credential", "must be a plain name, not a path");

	range_int(c, cfg, "ldap.page_size", 1000, 1, 100000, &cf->ldap.page_size);
	range_int(c, cfg, "ldap.timeout", 30, 1, 86400, &cf->ldap.timeout);
	range_int(c, cfg, "ldap.network_timeout", 10, 1, 3600, &cf->ldap.network_timeout);

	/* users */
	if (get(cfg, "ldap.users") == NULL)
		ctx_error(c, get(cfg, "ldap"), "ldap.users", "missing: where the people are");
	if (!get_str(cfg, "ldap.users.base", NULL, true, &cf->ldap.users.base) ||
	    !get_str(cfg, "ldap.users.filter", "(objectClass=inetOrgPerson)", false,
		     &cf->ldap.users.filter))
		*oom = true;
	if (cf->ldap.users.base == NULL && get(cfg, "ldap.users") != NULL)
		ctx_error(c, get(cfg, "ldap.users"), "ldap.users.base", "missing");
	if (cf->ldap.users.filter && !filter_plausible(cf->ldap.users.filter))
		ctx_error(c, get(cfg, "ldap.users.filter"), "ldap.users.filter",
			  "\"%s\" is not a filter in parentheses", cf->ldap.users.filter);
	{
		static const char *const scopes[] = { "sub", "one", NULL };
		int sc = one_of(c, cfg, "ldap.users.scope", "sub", scopes);
		cf->ldap.users.scope = sc == 1 ? SCOPE_ONE : SCOPE_SUB;
	}
	if (!get_str(cfg, "ldap.users.disabled_attribute", NULL, true,
		     &cf->ldap.users.disabled_attribute))
		*oom = true;
	s = get(cfg, "ldap.users.disabled_values");
	if (s != NULL) {
		int n = config_setting_length(s);
		cf->ldap.users.disabled_values = calloc((size_t)n + 1, sizeof(char *));
		if (cf->ldap.users.disabled_values == NULL) {
			*oom = true;
		} else {
			for (int i = 0; i < n; i++) {
				const char *v = config_setting_get_string_elem(s, i);
				if (v == NULL)
					continue;
				cf->ldap.users.disabled_values[cf->ldap.users.ndisabled_values] = strdup(v);
				if (cf->ldap.users.disabled_values[cf->ldap.users.ndisabled_values++] == NULL)
					*oom = true;
			}
		}
	}
	cf->ldap.users.disabled_bitmask = get_int(cfg, "ldap.users.disabled_bitmask", 0);
	if (cf->ldap.users.disabled_bitmask < 0)
		ctx_error(c, get(cfg, "ldap.users.disabled_bitmask"), "ldap.users.disabled_bitmask",
			  "must not be negative");
	if (cf->ldap.users.disabled_attribute == NULL &&
	    (cf->ldap.users.ndisabled_values > 0 || cf->ldap.users.disabled_bitmask != 0))
		ctx_error(c, get(cfg, "ldap.users"), "ldap.users.disabled_attribute",
			  "missing: disabled_values and disabled_bitmask need it");
	if (cf->ldap.users.disabled_attribute != NULL &&
	    cf->ldap.users.ndisabled_values == 0 && cf->ldap.users.disabled_bitmask == 0)
		ctx_error(c, get(cfg, "ldap.users.disabled_attribute"),
			  "ldap.users.disabled_attribute",
			  "needs disabled_values or disabled_bitmask to say which values disable");

	/* groups: synced when ldap.groups.base is set */
	if (!get_str(cfg, "ldap.groups.base", NULL, true, &cf->ldap.groups.base) ||
	    !get_str(cfg, "ldap.groups.filter", "(objectClass=groupOfNames)", false,
		     &cf->ldap.groups.filter) ||
	    !get_str(cfg, "ldap.groups.member_attribute", "member", true,
		     &cf->ldap.groups.member_attribute) ||
	    !get_str(cfg, "ldap.groups.name_attribute", "cn", false,
		     &cf->ldap.groups.name_attr) ||
	    !get_str(cfg, "ldap.groups.description_attribute", "description", true,
		     &cf->ldap.groups.description_attr) ||
	    !get_str(cfg, "ldap.attributes.member_of", NULL, true, &cf->ldap.member_of_attr))
		*oom = true;
	if (cf->ldap.groups.filter && !filter_plausible(cf->ldap.groups.filter))
		ctx_error(c, get(cfg, "ldap.groups.filter"), "ldap.groups.filter",
			  "\"%s\" is not a filter in parentheses", cf->ldap.groups.filter);
	{
		/* "" reads no members from the groups (memberOf gives them). */
		static const char *const members[] = { "member", "uniqueMember", "memberUid", "",
						       NULL };
		static const char *const scopes[] = { "sub", "one", NULL };
		int m = one_of(c, cfg, "ldap.groups.member_attribute", "member", members);
		int sc = one_of(c, cfg, "ldap.groups.scope", "sub", scopes);
		cf->ldap.groups.member_style = m == 2 ? MEMBERS_UID : m == 1 ? MEMBERS_UNIQUE :
					       MEMBERS_DN;
		cf->ldap.groups.scope = sc == 1 ? SCOPE_ONE : SCOPE_SUB;
	}
	if (cf->ldap.groups.name_attr != NULL && cf->ldap.groups.name_attr[0] == '\0')
		ctx_error(c, get(cfg, "ldap.groups.name_attribute"), "ldap.groups.name_attribute",
			  "must name an attribute: every group needs a name");
	cf->ldap.groups.nested = get_bool(cfg, "ldap.groups.nested", true);
	if (cf->ldap.member_of_attr != NULL && cf->ldap.groups.base == NULL)
		ctx_error(c, get(cfg, "ldap.attributes.member_of"), "ldap.attributes.member_of",
			  "needs ldap.groups.base: the groups it names are read from there");

	/* attributes */
	if (!get_str(cfg, "ldap.attributes.id", "entryUUID", true, &cf->ldap.id_attr))
		*oom = true;
	if (cf->ldap.id_attr == NULL)
		ctx_error(c, get(cfg, "ldap.attributes.id"), "ldap.attributes.id",
			  "must name the attribute with each entry's stable id");
	for (int f = 0; f < NFIELDS; f++) {
		snprintf(key, sizeof(key), "ldap.attributes.%s", field_names[f]);
		if (!get_str(cfg, key, field_defaults[f], true, &cf->ldap.attr[f]))
			*oom = true;
	}
	if (cf->ldap.attr[F_USERNAME] == NULL)
		ctx_error(c, get(cfg, "ldap.attributes.username"), "ldap.attributes.username",
			  "must name an attribute: every person needs a username");
	s = get(cfg, "ldap.attributes.custom");
	if (s != NULL && config_setting_length(s) > CONF_MAX_CUSTOM) {
		ctx_error(c, s, "ldap.attributes.custom", "%d fields; at most %d are supported",
			  config_setting_length(s), CONF_MAX_CUSTOM);
	} else if (s != NULL) {
		int n = config_setting_length(s);
		cf->ldap.custom = calloc((size_t)n + 1, sizeof(*cf->ldap.custom));
		if (cf->ldap.custom == NULL) {
			*oom = true;
			return;
		}
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			const char *v = config_setting_get_string(e);
			char path[128];
			if (v == NULL)
				continue;
			snprintf(path, sizeof(path), "ldap.attributes.custom.%s", config_setting_name(e));
			if (!name_ok(config_setting_name(e)))
				ctx_error(c, e, path, "field names use a-z, 0-9 and _ only");
			if (v[0] == '\0')
				ctx_error(c, e, path, "must name a directory attribute");
			cf->ldap.custom[cf->ldap.ncustom].name = strdup(config_setting_name(e));
			cf->ldap.custom[cf->ldap.ncustom].attr = strdup(v);
			if (!cf->ldap.custom[cf->ldap.ncustom].name ||
			    !cf->ldap.custom[cf->ldap.ncustom].attr)
				*oom = true;
			cf->ldap.ncustom++;
		}
	}
}

/* roles = ( { group = "lms-admins"; role = "admin"; }, ... ): a group by name
 * or DN, and the role its effective members get. */
static void
load_roles(struct ctx *c, const config_t *cfg, struct conf *cf, bool *oom)
{
	static const char *const roles[] = { "learner", "manager", "admin", NULL };
	const config_setting_t *s = get(cfg, "roles");
	int n = s ? config_setting_length(s) : 0;

	if (n == 0)
		return;
	if (cf->ldap.groups.base == NULL)
		ctx_error(c, s, "roles", "needs ldap.groups.base: roles come from groups");
	cf->roles = calloc((size_t)n, sizeof(*cf->roles));
	if (cf->roles == NULL) {
		*oom = true;
		return;
	}
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
			const config_setting_t *f = config_setting_get_elem(e, j);
			const char *name = config_setting_name(f);
			if (strcmp(name, "group") != 0 && strcmp(name, "role") != 0)
				ctx_error(c, f, key, "unknown key \"%s\" (known: group, role)", name);
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
		cf->roles[cf->nroles].group = strdup(group);
		cf->roles[cf->nroles].role = (enum role)k;
		if (cf->roles[cf->nroles++].group == NULL)
			*oom = true;
	}
}

static void
load_rest(struct ctx *c, const config_t *cfg, struct conf *cf, bool *oom)
{
	static const char *const modes[] = { "poll", NULL };
	static const char *const statuses[] = { "invited", "active", NULL };
	static const char *const missing[] = { "disable", "keep", NULL };
	char *p = NULL;
	int v;

	if (get(cfg, "store") == NULL)
		ctx_error(c, NULL, "store", "missing: where the learning store is");
	if (!get_str(cfg, "store.path", NULL, true, &p))
		*oom = true;
	if (p == NULL && get(cfg, "store") != NULL)
		ctx_error(c, get(cfg, "store"), "store.path", "missing");
	if (p != NULL) {
		cf->store.path = abs_path(c, p);
		if (cf->store.path == NULL)
			*oom = true;
		free(p);
	}
	range_int(c, cfg, "store.busy_timeout", 5000, 0, 600000, &cf->store.busy_timeout);

	one_of(c, cfg, "sync.mode", "poll", modes);
	range_int(c, cfg, "sync.interval", 900, 10, 7 * 86400, &cf->sync.interval);
	range_int(c, cfg, "sync.interval_jitter", 0, 0, 86400, &cf->sync.interval_jitter);
	range_int(c, cfg, "sync.retry_delay", 30, 1, 86400, &cf->sync.retry_delay);
	v = one_of(c, cfg, "sync.initial_status", "invited", statuses);
	cf->sync.initial_status = v == 1 ? INITIAL_ACTIVE : INITIAL_INVITED;
	v = one_of(c, cfg, "sync.on_missing", "disable", missing);
	cf->sync.on_missing = v == 1 ? MISSING_KEEP : MISSING_DISABLE;
	range_int(c, cfg, "sync.max_disable", 500, 0, INT_MAX, &cf->sync.max_disable);
	cf->sync.max_disable_percent = get_number(cfg, "sync.max_disable_percent", 10.0);
	if (!(cf->sync.max_disable_percent >= 0.0 && cf->sync.max_disable_percent <= 100.0))
		ctx_error(c, get(cfg, "sync.max_disable_percent"), "sync.max_disable_percent",
			  "%g is out of range (0 to 100)", cf->sync.max_disable_percent);

	cf->sync.max_membership_removals_percent =
		get_number(cfg, "sync.max_membership_removals_percent", 10.0);
	if (!(cf->sync.max_membership_removals_percent >= 0.0 &&
	      cf->sync.max_membership_removals_percent <= 100.0))
		ctx_error(c, get(cfg, "sync.max_membership_removals_percent"),
			  "sync.max_membership_removals_percent", "%g is out of range (0 to 100)",
			  cf->sync.max_membership_removals_percent);

	load_roles(c, cfg, cf, oom);

	if (!get_str(cfg, "metrics.textfile", NULL, true, &p))
		*oom = true;
	if (p != NULL) {
		cf->metrics.textfile = abs_path(c, p);
		if (cf->metrics.textfile == NULL)
			*oom = true;
		free(p);
	}
}

/* The plugins list: each entry a group with a name (a-z 0-9 _, unique) and
 * an optional path; every other key of an entry is the plugin's, checked by
 * its init when the plugin is loaded. */
static void
load_plugins(struct ctx *c, const config_t *cfg, struct conf *cf, bool *oom)
{
	const config_setting_t *list = get(cfg, "plugins");
	int n = list ? config_setting_length(list) : 0;
	char key[64];

	if (n == 0)
		return;
	cf->plugins = calloc((size_t)n, sizeof(*cf->plugins));
	if (cf->plugins == NULL) {
		*oom = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const config_setting_t *name = config_setting_get_member(e, "name");
		const config_setting_t *path = config_setting_get_member(e, "path");
		struct conf_plugin *p = &cf->plugins[cf->nplugins];
		const char *v;

		snprintf(key, sizeof(key), "plugins[%d]", i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			ctx_error(c, e, key, "must be a group { name = \"...\"; ... }");
			continue;
		}
		snprintf(key, sizeof(key), "plugins[%d].name", i);
		if (name == NULL) {
			ctx_error(c, e, key, "missing: which plugin to load");
			continue;
		}
		v = config_setting_get_string(name);
		if (v == NULL || !name_ok(v) || strlen(v) > 64) {
			ctx_error(c, name, key, "must be a plugin name: 1 to 64 of a-z, 0-9 and _");
			continue;
		}
		for (size_t k = 0; k < cf->nplugins; k++)
			if (strcmp(cf->plugins[k].name, v) == 0)
				ctx_error(c, name, key, "\"%s\" is loaded already by plugins[%d]", v,
					  cf->plugins[k].index);
		if (path != NULL) {
			snprintf(key, sizeof(key), "plugins[%d].path", i);
			if (config_setting_get_string(path) == NULL ||
			    config_setting_get_string(path)[0] == '\0') {
				ctx_error(c, path, key, "must be the path of a shared object");
				continue;
			}
			p->path = abs_path(c, config_setting_get_string(path));
		} else if (asprintf(&p->path, "%s/%s.so", PLUGINDIR, v) < 0) {
			p->path = NULL;
		}
		p->name = strdup(v);
		p->setting = e;
		p->index = i;
		p->line = config_setting_source_line(e);
		cf->nplugins++;
		if (p->name == NULL || p->path == NULL)
			*oom = true;
	}
}

int
conf_load(const char *path, int flags, struct conf **out, char *err, size_t errlen)
{
	struct ctx c = { .file = path, .flags = flags, .err = err, .errlen = errlen };
	struct conf *cf = NULL;
	char *copy = NULL, *real = NULL;
	bool oom = false;
	config_t *cfg = calloc(1, sizeof(*cfg));
	int r = 0;

	err[0] = '\0';
	if (cfg == NULL)
		return -ENOMEM;
	config_init(cfg);
	if (access(path, R_OK) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (config_read_file(cfg, path) != CONFIG_TRUE) {
		if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
			r = -EIO;
			snprintf(err, errlen, "%s: cannot read", path);
		} else {
			r = -EINVAL;
			snprintf(err, errlen, "%s:%d: syntax error: %s",
				 config_error_file(cfg) ? config_error_file(cfg) : path,
				 config_error_line(cfg), config_error_text(cfg));
		}
		goto out;
	}
	real = realpath(path, NULL);
	copy = strdup(real ? real : path);
	if (copy == NULL) {
		r = -ENOMEM;
		goto out;
	}
	c.dir = dirname(copy);

	check_group(&c, config_root_setting(cfg), top_keys);
	cf = calloc(1, sizeof(*cf));
	if (cf == NULL || (cf->path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* Values are read only from a tree whose types are right. */
	if (c.nerr == 0) {
		load_ldap(&c, cfg, cf, &oom);
		load_rest(&c, cfg, cf, &oom);
		load_plugins(&c, cfg, cf, &oom);
	}
	if (oom) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
	} else if (c.nerr > 0) {
		r = -EINVAL;
	}
out:
	free(copy);
	free(real);
	if (r < 0) {
		config_destroy(cfg);
		free(cfg);
		conf_free(cf);
		return r;
	}
	/* Kept: the plugins read their own settings from it when loaded. */
	cf->tree = cfg;
	*out = cf;
	return 0;
}
