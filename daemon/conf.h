/*
 * conf.h: the configuration file (libconfig), loaded and validated at once.
 *
 * Use: conf_load() parses, checks every key and returns a struct conf that the
 * caller owns and frees with conf_free(); every string in it belongs to it.
 * A failure writes "file:line: key: what is wrong" lines into err. Integers
 * are read as 64-bit: a value outside a key's range is refused, never wrapped.
 * The other
 * modules only read a struct conf; rosterd replaces it as a whole on SIGHUP.
 * The plugins' own settings stay in conf.tree, which the plugin host reads.
 */
#ifndef ROSTERD_CONF_H
#define ROSTERD_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "libtypes.h"

/* The person fields filled from directory attributes, in store column order. */
enum field {
	F_USERNAME, F_EMAIL, F_GIVEN_NAME, F_FAMILY_NAME, F_DISPLAY_NAME,
	F_EMPLOYEE_NUMBER, F_DEPARTMENT, F_LOCATION, F_TITLE,
	F_MANAGER, F_SECONDARY_MANAGER,
	NFIELDS
};
/* The config key and store column name of a field ("given_name"). */
const char *field_name(enum field f);
/* Its column in the store's people table ("manager_dn" for manager). */
const char *field_column(enum field f);
/* Whether the field holds a DN (normalised before it is stored). */
bool field_is_dn(enum field f);

enum initial_status { INITIAL_INVITED, INITIAL_ACTIVE };
/* How a run reads the directory: everything (a paged search), what changed
 * since the last run (RFC 4533 refreshOnly), or the changes as they are made
 * (refreshAndPersist, under the service). MODE_POLL is the old name of
 * MODE_FULL. */
enum sync_mode { MODE_FULL, MODE_REFRESH, MODE_POLL, MODE_PERSIST };
enum on_missing { MISSING_DISABLE, MISSING_KEEP };
enum search_scope { SCOPE_SUB, SCOPE_ONE };
/* How a group names its members: DNs (member), DNs of which some may have an
 * optional #'bits'B suffix (uniqueMember, alone or with member), or
 * usernames (memberUid). */
enum member_style { MEMBERS_DN, MEMBERS_UNIQUE, MEMBERS_UID };
/* A person's access level on the platform, lowest first. */
enum role { ROLE_LEARNER, ROLE_MANAGER, ROLE_ADMIN };

struct conf_role {
	char *group;       /* group name or DN */
	enum role role;
};

#define CONF_MAX_CUSTOM 64   /* custom fields per person */

struct conf_custom {
	char *name;        /* field name in the store */
	char *attr;        /* directory attribute */
};


/* An entry of the plugins list. Its keys other than name and path are the
 * plugin's own, read by its init through the SDK's setting functions. */
struct conf_plugin {
	char *name;        /* a-z 0-9 _, unique */
	char *path;        /* absolute; default PLUGINDIR/name.so */
	const struct config_setting_t *setting;   /* the entry, in conf.tree */
	int index;         /* in the list */
	unsigned line;
};

struct conf {
	char *path;        /* the file this came from */
	struct {
		char *uri;     /* space-separated list */
		char *preset;  /* ldap.preset as written; NULL: none */
		bool starttls;
		bool allow_plaintext_bind; /* a password over ldap:// without TLS */
		char *ca_file; /* NULL: system store */
		char *bind_dn; /* NULL: anonymous */
		char *bind_password_file;       /* absolute; NULL if not set */
		char *bind_password_credential; /* name under $CREDENTIALS_DIRECTORY */
		char *sasl_mech;   /* "EXTERNAL", "GSSAPI"; NULL: simple bind */
		char *keytab;      /* absolute; GSSAPI's client keytab; NULL: none */
		char *cert_file, *key_file;     /* absolute; client certificate */
		int page_size;
		int timeout;
		int network_timeout;
		struct {
			char *base, *filter;
			enum search_scope scope;
			char *disabled_attribute;        /* NULL: none */
			char **disabled_values;
			size_t ndisabled_values;
			long long disabled_bitmask;
		} users;
		struct {
			char *base, *filter;       /* base NULL: no group sync */
			char **member_attrs;       /* NULL-ended; none: from memberOf */
			size_t nmember_attrs;
			char *name_attr, *description_attr;
			enum search_scope scope;
			enum member_style member_style;
			bool nested;
			bool primary_group;  /* AD: primaryGroupID to primaryGroupToken */
			int range_size;      /* ask for members this many at a time; 0: as sent */
		} groups;
		char *member_of_attr;           /* NULL: membership only from groups */
		char *id_attr;
		char *attr[NFIELDS];            /* NULL: field not mapped */
		struct conf_custom *custom;
		size_t ncustom;
	} ldap;
	struct {
		char *path;    /* absolute; NULL with url */
		char *url;     /* PostgreSQL: a libpq connection string; NULL with path */
		char *schema;  /* PostgreSQL: the schema of rosterd's tables */
		char *password_file;        /* PostgreSQL: NULL, or where the password is */
		char *password_credential;  /* PostgreSQL: or the systemd credential's name */
		int busy_timeout;
		char *mode_text;   /* store.mode as written */
		unsigned mode;     /* its permission bits, for files created */
		bool bulk_load;    /* a store with no people is loaded in bulk */
	} store;
	struct {
		enum sync_mode mode;
		int full_every;       /* refresh: a full refresh this often (s); 0 never */
		int batch_ms;         /* persist: a batch closes this long after its first change */
		int batch_max;        /* persist: or at this many changes */
		int threshold_window; /* persist: disables counted over this many seconds */
		int interval;
		int interval_jitter;  /* up to this many seconds added at random */
		int retry_delay;      /* first retry after an unreachable directory */
		enum initial_status initial_status;
		enum on_missing on_missing;
		int max_disable;
		double max_disable_percent;
		double max_membership_removals_percent;
		double max_reject_percent;   /* 100: off */
	} sync;
	struct conf_role *roles;            /* config roles, in order */
	size_t nroles;
	struct {
		char *textfile;  /* absolute; NULL: no metrics file */
	} metrics;
	struct conf_plugin *plugins;   /* in the order listed */
	size_t nplugins;
	struct config_t *tree;         /* the parsed file, for the plugins' settings */
};

enum conf_flags {
	CONF_CHECK_SECRETS = 1,  /* check that the password file exists and is private */
};
/* Load and validate path. On failure returns -EINVAL (or -ENOENT, -ENOMEM) and
 * writes one "file:line: key: what is wrong" line per problem into err. */
int conf_load(const char *path, int flags, struct conf **out, char *err, size_t errlen);
void conf_free(struct conf *cf);
/* The store the config names (store_conf.c): opened with store.h's flags,
 * as store_open_at() does (-ENOKEY: its password cannot be read); its name
 * for messages (the path or the URL). */
struct store;
int conf_store_open(const struct conf *cf, int flags, struct store **out, char *err,
		    size_t errlen);
const char *conf_store_name(const struct conf *cf);
/* Call fn with the path ("ldap.page_size") and the allowed range of each
 * integer key of the configuration, in the order of config.c's table; stops
 * at fn's first result other than 0 and returns it, else 0. For the tests
 * and the documentation: the table is the source of truth. */
int conf_foreach_int_key(int (*fn)(const char *path, long long min, long long max, void *arg),
			 void *arg);
/* Where a setting of the file is, for messages: its path in the form the
 * config errors use ("plugins[0].rules[2].due_days") and its line. */
void conf_setting_where(const struct config_setting_t *s, char *path, size_t len,
			unsigned *line);

#endif
