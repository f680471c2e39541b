/*
 * rosterd.h: the private interface between rosterd's modules, grouped by file.
 *
 * Layering: dir.c knows LDAP and no SQL; store.c, reconcile.c and query.c know
 * SQL and no LDAP; sync.c joins them and sees neither library's types. Functions
 * return 0 (or a count) on success and a negative errno-style code on failure;
 * out-parameters are set only on success. Lower layers put the detail of a
 * failure into an error buffer or an accessor; the caller that decides logs it.
 */
#ifndef ROSTERD_H
#define ROSTERD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ROSTERD_VERSION "0.1.0"
#define ROSTERD_DEFAULT_CONF "/etc/rosterd/rosterd.conf"

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* Exit codes of rosterd (the contract scripts rely on; see rosterd(8)). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,       /* failure, or an incomplete directory read */
	EXIT_CONFIG = 2,     /* bad configuration or usage */
	EXIT_UNREACHABLE = 3,/* no directory server could be reached and bound */
	EXIT_HELD = 4,       /* held by the safety threshold */
};

/* ---- log.c: printf-checked logging to stderr or the journal ------------- */
enum log_level { LOGL_ERR = 3, LOGL_WARN = 4, LOGL_INFO = 6, LOGL_DEBUG = 7 };

/* The journal MESSAGE_IDs of the end of a run (documented in rosterd(8));
 * fixed for ever, so that operators can filter on them. */
#define MSGID_RUN_COMPLETED "8999f25434b348139e27e1c1df575d89"
#define MSGID_RUN_FAILED    "03d2974b3b2c4a1ea16eb652d7800278"
#define MSGID_RUN_HELD      "e690c92b27fc41f4a276008b1c5b63e9"

/* Structured fields of one message (journal only); NULL members are left out. */
struct log_ctx {
	const char *message_id;   /* MSGID_* */
	const char *dn;           /* ROSTERD_DN */
	const char *user;         /* ROSTERD_USER */
	const char *plugin;       /* ROSTERD_PLUGIN */
};

/* Log to stderr, or to the journal when stderr is the journal's stream. */
void log_init(const char *progname, int verbose);
/* Log to stderr even under systemd (rosterd -d). */
void log_force_stderr(void);
/* Whether messages go to the journal natively. */
bool log_to_journal(void);
/* Tag every message with ROSTERD_RUN=run_id from now on; 0 stops. */
void log_set_run(long long run_id);
void log_msg(enum log_level lvl, const char *fmt, ...) PRINTF_LIKE(2, 3);
void log_fields(enum log_level lvl, const struct log_ctx *f, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
/* Draw (or redraw) a one-line progress report, only when stderr is a
 * terminal; the next message or log_progress_end() clears it. */
void log_progress(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_progress_end(void);
#define log_error(...) log_msg(LOGL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)

/* ---- util.c: small helpers shared by the daemon and rosterctl ----------- */
/* Append printf output to buf (size len) after what is there; never overflows.
 * Returns -ENOSPC when the text was truncated. */
int str_appendf(char *buf, size_t len, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Whether s[0..len) is well-formed UTF-8 with no NUL byte. */
bool utf8_valid(const char *s, size_t len);
/* The current time as an RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SSZ". */
void time_now_iso(char out[21]);
double time_mono(void);
/* Read a secret from path (at most one line; the line feed is dropped).
 * When check_mode is set, a file that its group or others can read or write is
 * refused with -EPERM. Caller frees with secret_free(). */
int secret_read(const char *path, bool check_mode, char **out, char *err, size_t errlen);
void secret_free(char *s);

/* ---- config.c: the configuration file (libconfig) ----------------------- */
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
enum on_missing { MISSING_DISABLE, MISSING_KEEP };
enum search_scope { SCOPE_SUB, SCOPE_ONE };
/* How a group names its members: DNs (member), DNs with an optional
 * #'bits'B suffix (uniqueMember), or usernames (memberUid). */
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

struct config_t;
struct config_setting_t;

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
		bool starttls;
		char *ca_file; /* NULL: system store */
		char *bind_dn; /* NULL: anonymous */
		char *bind_password_file;       /* absolute; NULL if not set */
		char *bind_password_credential; /* name under $CREDENTIALS_DIRECTORY */
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
			char *base, *filter, *member_attribute; /* base NULL: no group sync */
			char *name_attr, *description_attr;
			enum search_scope scope;
			enum member_style member_style;
			bool nested;
		} groups;
		char *member_of_attr;           /* NULL: membership only from groups */
		char *id_attr;
		char *attr[NFIELDS];            /* NULL: field not mapped */
		struct conf_custom *custom;
		size_t ncustom;
	} ldap;
	struct {
		char *path;    /* absolute */
		int busy_timeout;
	} store;
	struct {
		int interval;
		int interval_jitter;  /* up to this many seconds added at random */
		int retry_delay;      /* first retry after an unreachable directory */
		enum initial_status initial_status;
		enum on_missing on_missing;
		int max_disable;
		double max_disable_percent;
		double max_membership_removals_percent;
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
/* Where a setting of the file is, for messages: its path in the form the
 * config errors use ("plugins[0].rules[2].due_days") and its line. */
void conf_setting_where(const struct config_setting_t *s, char *path, size_t len,
			unsigned *line);

/* ---- dn.c: distinguished names (RFC 4514) ------------------------------- */
/* Canonical form of a DN for comparison: attribute types lower-cased (known
 * OIDs to names), values case-folded with inner spaces collapsed and outer
 * spaces dropped, escapes decoded and re-encoded minimally, multi-valued RDNs
 * sorted, no spaces around separators. Two DNs name the same entry when their
 * normal forms are equal. Returns 0, -EINVAL (not a DN) or -ENOMEM. */
int dn_normalize(const char *dn, size_t len, char **out);

/* ---- dir.c: the directory client over libldap --------------------------- */
struct dir;

/* One attribute value as read: binary-safe, not NUL-terminated. */
struct dir_val {
	const char *data;
	size_t len;
};

/* Connect to the first URI of the list that answers, set up TLS as configured
 * (certificate checking always on; a StartTLS failure never falls back to
 * plaintext) and bind. Returns 0, -EHOSTUNREACH (no server answered),
 * -EACCES (bind refused), -EPROTO (TLS failed), -ENOKEY (the password file or
 * credential cannot be read) or -ENOMEM, with detail in err. */
int dir_connect(const struct conf *cf, struct dir **out, char *err, size_t errlen);
void dir_close(struct dir *d);
/* The URI the connection was made to. */
const char *dir_uri(const struct dir *d);

/* Start a paged subtree (or one-level) search returning attrs (a NULL-ended
 * list of distinct names). Entries then come from dir_next(). Returns 0 or
 * negative. */
int dir_search(struct dir *d, const char *base, enum search_scope scope,
	       const char *filter, const char *const *attrs);
/* The next entry of the search: 1 with *dn set (valid until the next call),
 * 0 when the search has ended in success (the read is complete), or negative
 * when it ended any other way: -ERANGE (size limit), -ETIME (time limit),
 * -EPERM (admin limit), -EREMOTE (unfollowed referral), -ETIMEDOUT (no reply
 * in time), -ECONNRESET (connection lost), -EIO (other); dir_error() says more.
 * An attribute the server sends in ranges ("member;range=0-1499", as Active
 * Directory does past MaxValRange values) is fetched whole before the entry
 * is handed out, by base searches of the entry for the next ranges on the
 * same connection. When that fails, the entry is handed out with the values
 * read so far (dir_entry_ranged() says so), no later entry's ranges are
 * asked for, and a search that ends in success ends with that failure's
 * error instead: it is not complete. */
int dir_next(struct dir *d, const char **dn);
/* While dir_next() waits for the server, call fn(arg) every quarter of a
 * second; when it returns non-zero the search is abandoned and dir_next()
 * returns -ECANCELED. fn NULL: wait the whole ldap.timeout. */
void dir_set_interrupt(struct dir *d, int (*fn)(void *arg), void *arg);
/* Values of the current entry's attribute number i (index into the attrs
 * list given to dir_search), all its ranges joined; *n = 0 when it has
 * none. Valid until dir_next. */
const struct dir_val *dir_values(struct dir *d, size_t i, size_t *n);
/* Whether the current entry has a requested attribute whose values came in
 * part only: its further ranges could not be fetched. */
bool dir_entry_ranged(const struct dir *d);

/* A range option of an attribute description, "ATTR;range=LO-HI" (values LO
 * to HI, counted from 0) or "ATTR;range=LO-*" (LO to the last). */
struct dir_range {
	unsigned long lo, hi;   /* hi: when not last */
	bool last;
};
/* Whether the attribute description desc (len bytes, not NUL-terminated)
 * names the attribute name (ASCII case ignored): 0 plain, 1 with a range
 * option (in *rg), -EINVAL with a range option that is not LO-HI with
 * LO <= HI or LO-*, -ENOENT another attribute or another option. */
int dir_range_parse(const char *desc, size_t len, const char *name, struct dir_range *rg);
/* Text of the last failure: what failed, the LDAP error and the server's
 * diagnostic message. */
const char *dir_error(const struct dir *d);
/* Escape a value for use inside a search filter (RFC 4515): *out is a new
 * string ("" for an empty value) the caller frees with free(). */
int dir_filter_escape(const char *in, size_t len, char **out);

/* ---- store.c: the learning store (SQLite) ------------------------------- */
struct store;
typedef struct sqlite3 sqlite3;

enum store_flags {
	STORE_NOCREATE = 1,   /* fail with -ENOENT if the file does not exist */
	STORE_NOMIGRATE = 2,  /* leave migrations to store_migrate() (dry runs) */
	STORE_SAMESCHEMA = 4, /* refuse a schema other than this program's (rosterctl) */
};

/* Open (creating if needed) the store at path: WAL, foreign keys on, busy
 * timeout, pending migrations applied in one transaction. */
int store_open(const char *path, int busy_timeout_ms, int flags,
	       struct store **out, char *err, size_t errlen);
void store_close(struct store *st);
/* Apply pending migrations: in the open transaction if there is one (so a
 * dry run can roll them back), else in one of their own. */
int store_migrate(struct store *st, char *err, size_t errlen);
/* The schema version (PRAGMA user_version) after migrations. */
int store_schema_version(struct store *st);
int store_latest_version(void);
sqlite3 *store_db(struct store *st);
/* The last SQLite error, naming the store file ("PATH: message"); valid until
 * the next call. */
const char *store_errmsg(struct store *st);

/* Transactions: begin takes the write lock at once (BEGIN IMMEDIATE). */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);
bool store_in_txn(struct store *st);
/* Copy the WAL into the store file and truncate it, so that it does not keep
 * the size of the largest run: waits a moment at most for readers to leave
 * it, and returns -EBUSY if they did not (the next run tries again). */
int store_checkpoint(struct store *st);
/* Run a statement with no result rows (several, ';'-separated, allowed). */
int store_exec(struct store *st, const char *sql);
/* The state table: small values the runs keep by key (the hierarchy's
 * digest, the plugins' "plugin:<name>:<key>"). get copies the value into
 * buf and returns its length, or -ENOENT (no such key, buf ""), -ENOSPC
 * (longer than len - 1), -EIO; put sets it, or deletes it when value is
 * NULL: 0 or -EIO. */
int store_state_get(struct store *st, const char *key, char *buf, size_t len);
int store_state_put(struct store *st, const char *key, const char *value);

/* ---- reconcile.c: staging and set-based reconciliation in SQL ----------- */
/* A person as read from the directory, after mapping and normalisation. */
struct person_rec {
	const char *dir_id;
	const char *dn;
	const char *dn_norm;
	const char *field[NFIELDS]; /* NULL: no value */
	bool dir_disabled;
	size_t ncustom;
	const char *const *custom_name;
	const char *const *custom_value;
	size_t nmember_of;
	const char *const *member_of;   /* normalised DNs of the person's groups */
};

/* A group as read from the directory. */
struct group_rec {
	const char *dir_id;
	const char *dn;
	const char *dn_norm;
	const char *name;
	const char *description;      /* NULL: none */
	size_t nmembers;
	const char *const *members;   /* normalised DNs, or usernames (memberUid) */
	bool partial;                 /* the server sent only part of the members */
};

/* What a run did to the reporting tree, the groups and the roles. */
struct hier_counts {
	long long manager_changes, manager_warnings, manager_cycles,
		groups_read, groups_created, groups_updated, groups_deleted,
		members_ignored, joins, leaves, memberships_before, role_changes;
};

struct plan_counts {
	long long created, updated, renamed, disabled, dir_disabled_new,
		enabled, unchanged, rejected, people_enabled, people_total;
};

struct recon;

/* Create the temporary staging tables and start filling them. Staging writes
 * only the connection's temporary database: no lock on the store is held
 * while the directory is read, so the platform's writers are never blocked. */
int recon_stage_begin(struct store *st, struct recon **out);
/* Stage one person. Returns 0, or -EEXIST when an entry staged before has the
 * same username or directory id (this later entry is then not staged). */
int recon_stage_person(struct recon *rc, const struct person_rec *p);
/* Record that an entry with this id was read though it was rejected, so the
 * person it belongs to is not taken for missing. */
int recon_stage_seen(struct recon *rc, const char *dir_id);
/* Record a rejected entry and why. */
int recon_stage_reject(struct recon *rc, const char *dn, const char *reason);
/* Stage one group and its member values. -EEXIST: a group with the same id
 * was staged before (this one is not). */
int recon_stage_group(struct recon *rc, const struct group_rec *g);
/* Fill temp.stage_members (a row a member value) from the lists staged a
 * group each, for working the groups out; again, if called again. */
int recon_members_expand(struct recon *rc);
/* End staging (the directory read is over). */
int recon_stage_end(struct recon *rc);
/* Free the handle, ending a staging transaction still open; the staging
 * tables are left to the next recon_stage_begin() or store_close(). NULL-safe. */
void recon_free(struct recon *rc);

struct recon_opts {
	const char *now;                 /* run timestamp */
	long long run_id;                /* 0 in a dry run */
	bool complete;                   /* the directory read ended in success */
	enum on_missing on_missing;
	enum initial_status initial_status;
	const struct conf *cf;           /* groups, roles, users base */
	bool groups_read;                /* the groups were searched */
	bool groups_complete;            /* and that search ended in success */
	bool plugin_disables;            /* a plugin decides who is disabled: plan
	                                    no disable (re-enables still) */
	bool events;                     /* plugins are loaded: keep what the
	                                    events need (recon_events_foreach) */
};
/* Run sql to the end binding :now, :run and :initial where it names them (o
 * may be NULL); the number of rows changed, or -EIO. */
int recon_sql(struct recon *rc, const char *sql, const struct recon_opts *o);
/* The single integer a query returns, or -EIO. */
long long recon_count(struct recon *rc, const char *sql);
sqlite3 *recon_db(struct recon *rc);
struct store *recon_store(struct recon *rc);
/* A digest of everything staged about groups (entries, members, memberOf). */
uint64_t recon_group_digest(const struct recon *rc);
/* How many people recon_apply changed in a way that can move a manager or a
 * membership: created, a new DN, username or manager DN, missing or back. */
long long recon_people_changed(const struct recon *rc);
/* Inside a write transaction: compute the plan (temp table "plan") of creates,
 * updates, disables and enables, and count it. Staged entries whose username
 * is held by a person this run did not see are moved to the rejects. An
 * incomplete run plans no disable. */
int recon_plan(struct recon *rc, const struct recon_opts *o, struct plan_counts *c);
/* A digest of what the run takes away (the plan's disables, membership
 * leaves, and, unless audit_mark is -1, the plugins' disables and archivals
 * audited after that audit_log id), to recognise an identical held run. */
int recon_plan_digest(struct recon *rc, long long audit_mark, char out[17]);
/* Apply the plan to the store and write every change to the audit log and
 * the rejects to the run's record. Inside the same write transaction. */
int recon_apply(struct recon *rc, const struct recon_opts *o);

/* ---- hierarchy.c: managers, groups, memberships and roles --------------- */
/* After recon_apply, in the same transaction: resolve managers by normalised
 * DN, sync the groups and their direct and effective membership, derive the
 * roles; each change is applied, audited and kept (temp table "hier") for the
 * plan printer and the plugins. Leaves happen only when every search they
 * depend on was complete. Counts in c. */
int recon_hierarchy(struct recon *rc, const struct recon_opts *o, struct hier_counts *c);

/* One change of the plan, as handed to printers and (later) plugins. */
struct recon_change {
	long long person_id;   /* 0 for a person still to be created */
	const char *action;    /* create, update, disable, enable; manager, join,
	                        * leave, role, group_create, group_update, group_delete */
	const char *username;
	const char *dn;
	const char *reason;    /* why: "new entry", "changed: email title", ... */
};
typedef int (*recon_change_fn)(const struct recon_change *c, void *arg);
/* Call fn for every change of the plan, in a fixed order (create, update,
 * disable, enable; then by username). Stops at fn's first non-zero return. */
int recon_plan_foreach(struct recon *rc, recon_change_fn fn, void *arg);
/* One event for the plugins (kind: enum rosterd_event_kind). */
struct recon_event {
	int kind;
	long long person_id;
	const char *changed;       /* UPDATED: "email title fields" */
	long long group_id;        /* GROUP_JOINED, GROUP_LEFT */
	long long old_manager_id;  /* MANAGER_CHANGED: the primary before; 0 none */
	unsigned flags;            /* REAPPEARED: ROSTERD_BACK_* */
};
typedef int (*recon_event_fn)(const struct recon_event *e, void *arg);
/* After recon_apply and recon_hierarchy: call fn for each event of the run,
 * by kind, then username (then group name). Stops at fn's first non-zero
 * return and returns it. */
int recon_events_foreach(struct recon *rc, recon_event_fn fn, void *arg);
typedef int (*recon_reject_fn)(const char *dn, const char *reason, void *arg);
int recon_rejects_foreach(struct recon *rc, recon_reject_fn fn, void *arg);

/* ---- runs (store.c): the record of each sync run ----------------------- */
enum run_outcome { RUN_RUNNING, RUN_OK, RUN_INCOMPLETE, RUN_HELD, RUN_FAILED };
const char *run_outcome_name(enum run_outcome o);

/* What the plugins did in a run (counted by the host, plugin.c). */
struct plugin_counts {
	long long disabled, archived, enabled, assigned, unassigned, waiting, granted,
		fields, notified;
};

struct run_rec {
	long long id;
	enum run_outcome outcome;
	double duration;
	long long entries_read;
	struct plan_counts c;
	struct hier_counts h;
	struct plugin_counts pl;   /* what the plugins did */
	int groups_complete;    /* -1: groups not read */
	const char *error;      /* NULL when none */
	const char *digest;     /* plan digest of a held run */
	const char *uri;
};
/* Insert a run in state "running" (own transaction) and return its id. */
int store_run_start(struct store *st, const char *now, long long *id);
/* Write the run's final record (inside the current transaction if any). */
int store_run_finish(struct store *st, const struct run_rec *r);
/* Whether the latest held run has this digest, is approved, unused, and no
 * run has succeeded since: return 1 (and, when run_id > 0, mark it used by
 * that run) or 0. Inside a write transaction. */
int store_run_use_approval(struct store *st, const char *digest, long long run_id);
/* Runs left "running" by a process that died are marked failed. */
int store_runs_mark_crashed(struct store *st);

/* ---- attrmap.c: a directory entry to a person ------------------------- */
struct amap;

/* The attribute list to ask the directory for, and how each feeds a person. */
int amap_new(const struct conf *cf, struct amap **out);
void amap_free(struct amap *m);
/* The distinct attribute names to request, NULL-ended. */
const char *const *amap_attrs(const struct amap *m);
/* How the mapper reads the values of requested attribute number i. */
typedef const struct dir_val *(*amap_values_fn)(void *arg, size_t i, size_t *n);
/* Map the entry dn, whose values come from get(arg, i, &n), to a person.
 * Returns 0 with *p filled (valid until the next call), 1 when the entry is
 * rejected (why in reason; p->dir_id is set when the id was readable, so the
 * person is not taken for missing), or -ENOMEM. Counts invalid manager DNs. */
int amap_person(struct amap *m, const char *dn, amap_values_fn get, void *arg,
		struct person_rec *p, char *reason, size_t len);
/* How many manager/secondary manager/memberOf values were not DNs so far. */
long long amap_bad_dns(const struct amap *m);

/* The same for group entries (ldap.groups): id, name, description, members. */
struct gmap;
int gmap_new(const struct conf *cf, struct gmap **out);
void gmap_free(struct gmap *g);
const char *const *gmap_attrs(const struct gmap *g);
/* Map a group entry; returns 0, 1 (rejected, why in reason) or -ENOMEM.
 * Member values that are not DNs (or not UTF-8 usernames) are counted. */
int gmap_group(struct gmap *g, const char *dn, amap_values_fn get, void *arg,
	       struct group_rec *out, char *reason, size_t len);
long long gmap_bad_members(const struct gmap *g);

/* ---- sync.c: one sync run ----------------------------------------------- */
struct plugins;
/* What a run is doing, as told to the progress callback. */
enum sync_step {
	SYNC_READING,
	SYNC_APPLYING,
	SYNC_WAITING,   /* for the directory server: asks only whether to stop */
};
struct sync_opts {
	bool dry_run;
	FILE *plan_out;     /* where --dry-run prints the plan */
	/* Called after each entry read and between the steps that follow; a
	 * non-zero return stops the run: nothing is changed in the store and the
	 * run is recorded as failed. NULL: none. */
	int (*progress)(void *arg, enum sync_step step, long long entries_read);
	void *progress_arg;
	struct plugins *plugins;   /* loaded at start-up (plugin.c); never NULL */
};
struct sync_result {
	long long run_id;
	enum run_outcome outcome;
	int exit_code;
	bool stopped;           /* the progress callback stopped it */
	long long entries_read;
	struct plan_counts c;   /* the plan's counts (applied only when ok/incomplete) */
	double duration;
};
int sync_run(const struct conf *cf, const struct sync_opts *o, struct sync_result *res);

/* ---- notify.c: the service manager (sd_notify) ------------------------- */
/* Read the watchdog settings (WATCHDOG_USEC, WATCHDOG_PID). */
void notify_init(void);
/* Seconds between watchdog pings; 0 when there is no watchdog. */
double notify_watchdog_interval(void);
void notify_ready(void);
/* A human STATUS= line; sent only when it differs from the last one. */
void notify_status(const char *fmt, ...) PRINTF_LIKE(1, 2);
const char *notify_last_status(void);
/* WATCHDOG=1, at most once per notify_watchdog_interval(). */
void notify_watchdog(void);
void notify_reloading(void);
void notify_stopping(void);

/* ---- metrics.c: the Prometheus textfile -------------------------------- */
struct json_t;
/* Write query_status()'s figures in the Prometheus text format. */
int metrics_format(const struct json_t *status, FILE *out);
/* Replace path atomically with them. 0, or negative with detail in err. */
int metrics_write(const char *path, const struct json_t *status, char *err, size_t errlen);

/* ---- service.c: one run, or the service loop --------------------------- */
/* One run (--once, or --dry-run); SIGTERM/SIGINT stop it cleanly. Returns
 * the exit status. */
int service_once(struct conf *cf, struct plugins *plugins, bool dry_run);
/* The service loop until SIGTERM/SIGINT; *cf and *plugins may be replaced by
 * a reload (SIGHUP). Returns the exit status. */
int service_run(const char *conf_path, struct conf **cf, struct plugins **plugins);
/* The delay before retry number attempt (1, 2, ...) after the directory could
 * not be reached: first doubled each time up to cap, less up to a quarter
 * at random (rnd in [0, 1)). */
double service_backoff(int attempt, double first, double cap, double rnd);
/* ---- actions.c: changes made for a plugin or an operator, audited ------- */
/* A handle lives inside one write transaction of the store. Each action
 * writes an audit_log row per change (the actor set last, the run id) and
 * queues the notification it implies. Returns 0 when it changed something,
 * ACT_NOCHANGE when there was nothing to do, or a negative errno: -ENOENT (no
 * such person or course), -EINVAL (not allowed from the current state, or a
 * bad argument), -EPERM (not this actor's to do), -EBUSY (a started
 * assignment), -EEXIST, -EIO (the store; see store_errmsg). act_message()
 * says what happened or why not, in one line naming the person. */
struct act;
enum { ACT_NOCHANGE = 1 };
enum act_op { ACT_VERIFY, ACT_INVITE, ACT_DISABLE, ACT_ENABLE, ACT_ARCHIVE, ACT_RESTORE };
struct act_counts {
	long long disabled, enabled, archived, restored, removed, assigned, unassigned,
		granted, waiting, released, recurred, fields, notified;
};
int act_new(struct store *st, const char *now, long long run_id, struct act **out);
void act_free(struct act *a);
/* Who acts from now on: "operator:NAME", "plugin:NAME" or "sync" (the
 * string must outlive its use). */
void act_set_actor(struct act *a, const char *actor);
const char *act_message(const struct act *a);
void act_counts(const struct act *a, struct act_counts *c);
int act_find_person(struct act *a, const char *username, long long *id);
/* A state change (see the diagram in actions.c); why goes into the audit. */
int act_status(struct act *a, long long person, enum act_op op, const char *why);
/* Purge a person and their records: operators only. */
int act_remove(struct act *a, long long person);
/* Add a course (limit -1: no licence limit); an existing one is updated when
 * update is set, else -EEXIST. */
int act_course_define(struct act *a, const char *code, const char *title, long long limit,
		      bool update);
/* Assign a course unless a current assignment exists; due NULL or
 * YYYY-MM-DD. With recur_days, a current one completed at least that many
 * days ago is archived and a new one assigned. */
int act_assign(struct act *a, long long person, const char *code, const char *due,
	       int recur_days);
/* Give back a never-started assignment; own_only leaves alone one another
 * actor assigned. */
int act_unassign(struct act *a, long long person, const char *code, bool own_only);
/* Set (value NULL: remove) a custom field the directory does not own. */
int act_set_field(struct act *a, long long person, const char *name, const char *value);
/* Queue a notification of kind (a-z 0-9 _ -) for the person. */
int act_notify(struct act *a, long long person, const char *kind, const char *message);
/* Grant waiting and pending assignments of active people their licences,
 * as far as the pools allow (the platform may have activated people). */
int act_settle(struct act *a);
bool act_date_ok(const char *s);
bool act_code_ok(const char *s);

/* ---- setting.c: a plugin's own settings, for the SDK's host table ------- */
struct rosterd_setting;
const struct rosterd_setting *setting_get(const struct rosterd_setting *s, const char *name);
const struct rosterd_setting *setting_at(const struct rosterd_setting *s, int i);
int setting_count(const struct rosterd_setting *s);
const char *setting_name(const struct rosterd_setting *s);
int setting_type(const struct rosterd_setting *s);
int setting_string(const struct rosterd_setting *s, const char *name, const char **out);
int setting_int(const struct rosterd_setting *s, const char *name, long long *out);
int setting_float(const struct rosterd_setting *s, const char *name, double *out);
int setting_bool(const struct rosterd_setting *s, const char *name, bool *out);

/* ---- plugin.c: the plugin host (include/rosterd/plugin.h) --------------- */
/* The sync run drives the host:
 *
 *   plugins_load(cf)              at start-up (and rosterd -n): dlopen and
 *                                 init every configured plugin, in order
 *   per run, inside its write transaction, after the plan is applied:
 *     plugins_begin(run)          the store, the run's time, id, completeness
 *     plugins_event(ev)...        events in kind order (see plugin.h)
 *     plugins_run_end()           each plugin's run_end, then licences granted
 *     plugins_counts()            disables and archives, for the threshold
 *     plugins_actions_foreach()   what the plugins did (dry run: print it)
 *     commit or roll back, then
 *     plugins_end()               before the store is closed
 *   plugins_free()                at exit
 *
 * Every action a plugin asks for is applied at once through actions.c in the
 * caller's transaction and audited as "plugin:<name>". Any call that returns
 * a negative errno leaves the run to be rolled back; plugins_error() says why.
 */
struct plugins;

struct plugin_run {
	struct store *st;      /* in a write transaction */
	const char *now;       /* the run's time, RFC 3339 */
	long long run_id;      /* 0 in a dry run */
	bool complete;         /* the directory read was complete */
	bool dry_run;
};

/* One event for the plugins. The host reads the person and group from the
 * store, so it needs only their ids. */
struct plugin_event {
	int kind;              /* ROSTERD_EV_CREATED .. ROSTERD_EV_GROUP_LEFT */
	long long person_id;
	const char *changed;   /* UPDATED: changed field names, space-separated
	                          ("email title fields"); else NULL */
	long long group_id;    /* GROUP_JOINED, GROUP_LEFT */
	long long old_manager_id;  /* MANAGER_CHANGED: previous primary; 0 none */
	unsigned flags;        /* REAPPEARED: ROSTERD_BACK_PRESENT, _FLAG_CLEARED */
};

/* One action of this run, as the audit log has it. */
struct plugin_action {
	const char *actor;     /* "plugin:NAME", or "sync" for licences granted at
	                          the end of the run */
	const char *action;    /* assign, unassign, enrol, wait, recur, disable,
	                          enable, archive, set-field, notify, course-add,
	                          course-update */
	long long person_id;   /* 0 for a course */
	const char *subject;   /* username, or course code */
	const char *detail;
};
typedef int (*plugin_action_fn)(const struct plugin_action *a, void *arg);

/* Load and init the plugins cf lists (cf must outlive the host). On failure
 * returns -EINVAL (or -ENOMEM) with one "file:line: plugins[N]...: why" line
 * per problem in err: a missing, non-regular, group/world-writable file, a
 * wrong ABI (both versions named), a descriptor too small, a setting the
 * plugin refuses. No plugins configured: an empty host. */
int plugins_load(const struct conf *cf, struct plugins **out, char *err, size_t errlen);
size_t plugins_count(const struct plugins *h);
/* Whether a loaded plugin decides who is disabled (ROSTERD_PLUGIN_DISABLES):
 * the sync then plans no disable of its own, for missing people nor for the
 * directory flag. */
bool plugins_take_disable(const struct plugins *h);
int plugins_begin(struct plugins *h, const struct plugin_run *run);
int plugins_event(struct plugins *h, const struct plugin_event *ev);
int plugins_run_end(struct plugins *h);
void plugins_counts(const struct plugins *h, struct plugin_counts *c);
int plugins_actions_foreach(struct plugins *h, plugin_action_fn fn, void *arg);
const char *plugins_error(const struct plugins *h);
/* The last audit_log id before plugins_begin: the plugins' actions of the run
 * are the rows after it. */
long long plugins_audit_mark(const struct plugins *h);
void plugins_end(struct plugins *h);
void plugins_free(struct plugins *h);

/* ---- query.c: read-only views for rosterctl (jansson values) ----------- */
struct json_t;
/* One person as the JSON object of rosterctl user show; -ENOENT if none. */
int query_user(struct store *st, const char *username, struct json_t **out);
/* NULL (or 0) fields match everyone; given together, all must match. The ids
 * come from query_person_id() and query_group_find(). */
struct user_filter {
	const char *status, *location, *department, *role;
	long long manager_id;   /* the direct reports of this person... */
	bool below;             /* ...or, when set, everyone below them */
	long long group_id;     /* the effective members of this group */
};
/* Call fn with one JSON object per matching person, by username. The object
 * is freed after the call. Stops at fn's first non-zero return. */
typedef int (*query_row_fn)(struct json_t *row, void *arg);
int query_user_list(struct store *st, const struct user_filter *f, query_row_fn fn, void *arg);
/* The id of the person with this username (ASCII case ignored); -ENOENT. */
int query_person_id(struct store *st, const char *username, long long *id);
/* The people whose primary manager is person id, by username; with all, every
 * person below them, in tree order (each person followed by the people below
 * them), each with its depth (1 = direct) and manager. Terminates on manager
 * cycles and never lists the person themself. */
int query_reports(struct store *st, long long id, bool all, query_row_fn fn, void *arg);
/* The chain of command of person id: their primary manager (level 1), that
 * one's, and so on to the top. When a person repeats (a manager cycle), that
 * person's row comes once more, last, with "cycle" true, and the walk stops. */
int query_chain(struct store *st, long long id, query_row_fn fn, void *arg);
/* The group that name (its name, ASCII case ignored, its DN or its directory
 * id) stands for; groups deleted from the directory only when deleted is set.
 * -ENOENT none, -EEXIST several (err lists their DNs), -EIO. */
int query_group_find(struct store *st, const char *name, bool deleted, long long *id,
		     char *err, size_t errlen);
/* The groups, by name, with their member counts; deleted ones too if asked. */
int query_group_list(struct store *st, bool deleted, query_row_fn fn, void *arg);
/* One group as the JSON object of rosterctl group show; -ENOENT if none. */
int query_group(struct store *st, long long id, struct json_t **out);
/* The people in group id, by username: its direct members, or with effective
 * everyone in it through nested groups too, with the group they came through. */
int query_group_members(struct store *st, long long id, bool effective, query_row_fn fn,
			void *arg);
/* Hand each row of the prepared statement s to fn as an object (columns by
 * name, NULL as null), then finalize s. Stops at fn's first non-zero return
 * and returns it; -ENOMEM, -EIO. */
struct sqlite3_stmt;
int query_each_row(struct sqlite3_stmt *s, query_row_fn fn, void *arg);
/* People by status, the last run, runs awaiting approval and "totals":
 * counters over every run (runs_<outcome>, changes applied, directory errors). */
int query_status(struct store *st, struct json_t **out);
/* The last limit runs, newest first, one JSON object each. */
int query_runs(struct store *st, int limit, query_row_fn fn, void *arg);
/* Approve held run id; -ENOENT no such run, -EINVAL not an unused held run. */
int query_run_approve(struct store *st, long long id, const char *operator_name,
		      char *err, size_t errlen);

/* ---- query_courses.c: courses, assignments and the outbox for rosterctl -- */
/* Every course, by code, with its pool: licence_limit, in_use, and how many
 * assignments are pending, waiting, enrolled, in_progress, completed. */
int query_courses(struct store *st, query_row_fn fn, void *arg);
/* One course as that object; -ENOENT if none. */
int query_course(struct store *st, const char *code, struct json_t **out);
/* The course's assignments, current ones first, by username. */
int query_course_assignments(struct store *st, const char *code, query_row_fn fn, void *arg);
/* The outbox, oldest first: the unsent notifications, or all. */
int query_outbox(struct store *st, bool all, query_row_fn fn, void *arg);

#endif
