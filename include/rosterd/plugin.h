/*
 * rosterd/plugin.h: the SDK for rosterd rule plugins (see rosterd-plugin(3)).
 *
 * A plugin is a shared object that exports one constant descriptor,
 *
 *     ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
 *         ROSTERD_PLUGIN_HEAD, .name = "mine", .version = "1.0",
 *         .init = ..., .on_event = ..., .run_end = ..., .fini = ...,
 *     };
 *
 * rosterd loads the plugins its configuration lists, in order, and hands each
 * the events of every sync run. Plugins decide; rosterd acts: a plugin changes
 * nothing itself, it calls the functions of the host table, and rosterd
 * applies each call inside the run's transaction and writes it to the audit
 * log as "plugin:<name>". A callback that returns an error rolls the whole
 * run back.
 *
 * Compatibility: ABI major versions differ only when something a built
 * plugin relies on changes; rosterd refuses a plugin of another major. Within
 * a major, structures only grow at their end and carry their size, so a
 * plugin built against an older minor works with a newer rosterd, and a
 * plugin that uses something added in a later minor checks the size first
 * (ROSTERD_HAS()).
 *
 * Ownership: every pointer the host hands a plugin (events, person and group
 * views, strings, settings) is the host's and valid only during the call it
 * came with, except settings, which stay valid until fini. The plugin's state
 * is the plugin's: it allocates it in init and frees it in fini.
 *
 * This header needs only the C11 standard headers.
 */
#ifndef ROSTERD_PLUGIN_H
#define ROSTERD_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ROSTERD_PLUGIN_ABI_MAJOR 1
#define ROSTERD_PLUGIN_ABI_MINOR 1

/* The name of the symbol rosterd looks up in a plugin. */
#define ROSTERD_PLUGIN_DESCRIPTOR "rosterd_plugin_descriptor"

/* Export the descriptor even when the plugin is built with
 * -fvisibility=hidden (recommended: it exports nothing else). */
#if defined(__GNUC__)
#define ROSTERD_PLUGIN_EXPORT __attribute__((visibility("default")))
#define ROSTERD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ROSTERD_PLUGIN_EXPORT
#define ROSTERD_PRINTF(f, a)
#endif

/* Whether a structure that carries its size in a member named size has
 * member m (one added in a later minor version). */
#define ROSTERD_HAS(p, type, m) \
	((p)->size >= offsetof(type, m) + sizeof(((type *)0)->m))

/* ---- events ----------------------------------------------------------------
 * In each run, the events come in this order of kinds (all of one kind, then
 * the next), each kind by username; then run_end is called once.
 */
enum rosterd_event_kind {
	ROSTERD_EV_CREATED = 1,       /* a person appeared in the directory */
	ROSTERD_EV_UPDATED = 2,       /* profile fields changed: see changed */
	ROSTERD_EV_DIR_DISABLED = 3,  /* the directory's disabled flag was set */
	ROSTERD_EV_MISSING = 4,       /* a complete run did not find the person:
	                                 sent in the first such run and in each
	                                 later one while they are invited or
	                                 active (see missing_runs) */
	ROSTERD_EV_REAPPEARED = 5,    /* back: found again after being missing, or
	                                 the directory's flag cleared; see flags */
	ROSTERD_EV_MANAGER_CHANGED = 6, /* primary or secondary manager changed */
	ROSTERD_EV_GROUP_JOINED = 7,  /* effective membership gained: see group */
	ROSTERD_EV_GROUP_LEFT = 8,    /* effective membership lost: see group */
	ROSTERD_EV_RUN_END = 9,       /* the kind of the event run_end receives */
};

/* flags of ROSTERD_EV_REAPPEARED */
#define ROSTERD_BACK_PRESENT 1u       /* found again after being missing */
#define ROSTERD_BACK_FLAG_CLEARED 2u  /* no longer disabled in the directory */

/* Account states (rosterd.conf(5), rosterctl(8)); also query bits. */
#define ROSTERD_ST_INVITED 1u
#define ROSTERD_ST_ACTIVE 2u
#define ROSTERD_ST_DISABLED 4u
#define ROSTERD_ST_ARCHIVED 8u

/* A read-only view of a person, valid during the call it was handed to.
 * Strings are UTF-8; NULL means no value. */
struct rosterd_person {
	size_t size;
	const char *username;
	const char *email;
	const char *given_name;
	const char *family_name;
	const char *display_name;
	const char *employee_number;
	const char *department;
	const char *location;
	const char *title;
	const char *role;              /* "learner", "manager" or "admin" */
	const char *status;            /* "invited", "active", "disabled", "archived" */
	const char *status_reason;     /* why disabled: "missing", "directory",
	                                  "operator" or a plugin's name; else NULL */
	const char *status_since;      /* RFC 3339 time of the last status change */
	const char *manager;           /* primary manager's username, or NULL */
	const char *secondary_manager; /* username, or NULL */
	const char *dn;                /* the entry's DN as the directory spells it */
	bool dir_disabled;             /* the directory's disabled flag is set */
	const char *missing_since;     /* RFC 3339: first complete run that did not
	                                  find the person; NULL while present */
	int missing_days;              /* whole days since missing_since; -1 present */
	int missing_runs;              /* complete runs, this one included, that did
	                                  not find the person; 0 while present (of
	                                  persist mode's later batches, only the
	                                  current one counts) */
	const char *member_since;      /* RFC 3339: when the account was created */
};

/* A read-only view of a group. */
struct rosterd_group {
	size_t size;
	const char *name;
	const char *dn;
	const char *description;       /* or NULL */
	const char *via;               /* for a membership through nesting: the
	                                  member group it came through; else NULL */
};

struct rosterd_event {
	size_t size;
	int kind;                      /* enum rosterd_event_kind */
	const char *now;               /* the run's time, RFC 3339 UTC */
	long long run_id;              /* 0 in a dry run */
	bool dry_run;                  /* actions are shown, then rolled back */
	bool complete;                 /* the directory read was complete: only
	                                  then may anyone be disabled or archived */
	const struct rosterd_person *person;   /* NULL for RUN_END */
	const char *const *changed;    /* UPDATED: names of the changed fields,
	                                  NULL-ended ("email", "title", "fields"
	                                  for custom fields, "dn"); else NULL */
	const struct rosterd_group *group;     /* GROUP_JOINED, GROUP_LEFT */
	const char *old_manager;       /* MANAGER_CHANGED: the previous primary
	                                  manager's username, or NULL */
	unsigned flags;                /* REAPPEARED: ROSTERD_BACK_* */
};

/* ---- the plugin's configuration ------------------------------------------
 * A plugin's entry of the plugins list in rosterd.conf, minus name and path,
 * is its own: rosterd checks nothing else in it. The plugin reads it through
 * the host table's setting functions in init and should refuse keys it does
 * not know (setting_check) and report each problem with setting_error, which
 * writes "file:line: plugins[N].key: message" as rosterd does for its own keys.
 */
struct rosterd_setting;            /* opaque */

enum rosterd_setting_type {
	ROSTERD_SETTING_NONE = 0,      /* no such setting */
	ROSTERD_SETTING_STRING,
	ROSTERD_SETTING_INT,
	ROSTERD_SETTING_FLOAT,
	ROSTERD_SETTING_BOOL,
	ROSTERD_SETTING_GROUP,         /* { key = value; ... } */
	ROSTERD_SETTING_LIST,          /* ( ... ) or [ ... ] */
};

/* ---- the host --------------------------------------------------------------- */
struct rosterd_ctx;

/* Which people rosterd_host.people_foreach visits. Zero means "any". */
struct rosterd_query {
	size_t size;
	unsigned statuses;             /* ROSTERD_ST_* bits; 0: every status */
	int min_status_days;           /* in their status for at least this long */
	bool missing;                  /* only people the directory no longer has */
	const char *has_field;         /* only people with this custom field */
	const char *completed_course;  /* only people whose current assignment of
	                                  this course is completed ... */
	int completed_days;            /* ... at least this many days ago */
};

typedef int (*rosterd_person_fn)(struct rosterd_ctx *ctx, const struct rosterd_person *p,
				 void *arg);

#define ROSTERD_LOG_ERR 3
#define ROSTERD_LOG_WARN 4
#define ROSTERD_LOG_INFO 6
#define ROSTERD_LOG_DEBUG 7

/* What the host does for a plugin. Every function that returns int returns 0
 * or a negative errno. Actions name people by username and courses by code;
 * each change is applied in the run's transaction and audited. An action that
 * finds nothing to do (a course already assigned, a person already disabled)
 * returns 0 and records nothing. Common errors: -ENOENT no such person or
 * course; -EINVAL not allowed from the person's state or a bad argument;
 * -EPERM not the plugin's to do (an operator's decision, a directory field);
 * -EAGAIN a disable or archive in a run whose read was incomplete; -ENOTCONN
 * outside a run (in init or fini). rosterd logs why; a plugin may pass the
 * error on to roll the run back, or carry on. */
struct rosterd_host {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;

	void (*log)(struct rosterd_ctx *ctx, int level, const char *fmt, ...) ROSTERD_PRINTF(3, 4);

	/* Assign a course unless the person has a current assignment of it. due
	 * is YYYY-MM-DD or NULL. An invited person's assignment is pending; an
	 * active person's takes a licence, or waits for one when the course's
	 * pool is empty. recur_days > 0: a current assignment completed at least
	 * that long ago is archived and a new one assigned. */
	int (*assign_course)(struct rosterd_ctx *ctx, const char *username, const char *course,
			     const char *due, int recur_days);
	/* Give back a never-started assignment this plugin made; a started one,
	 * or one someone else made, is left as it is (and 0 returned). */
	int (*unassign_course)(struct rosterd_ctx *ctx, const char *username, const char *course);
	/* Account states. disable: invited/active -> disabled, status_reason the
	 * plugin's name. enable: disabled -> the status it had (not if an
	 * operator disabled it). archive: disabled -> archived; never-started
	 * assignments are released and their licences go back to the pool. why
	 * goes into the audit log. */
	int (*disable)(struct rosterd_ctx *ctx, const char *username, const char *why);
	int (*enable)(struct rosterd_ctx *ctx, const char *username, const char *why);
	int (*archive)(struct rosterd_ctx *ctx, const char *username, const char *why);
	/* Set a custom field (value NULL: remove it). Fields the directory fills
	 * (ldap.attributes.custom) are refused. name: a-z, 0-9, _. */
	int (*set_field)(struct rosterd_ctx *ctx, const char *username, const char *name,
			 const char *value);
	/* Queue a notification for the platform's mailer (rosterctl outbox).
	 * kind: a-z, 0-9, _ and -. */
	int (*notify)(struct rosterd_ctx *ctx, const char *username, const char *kind,
		      const char *message);

	/* Settings: s names a group, list or value of the plugin's own setting;
	 * name (NULL: s itself) a member of a group. Getters return 0 with *out
	 * set, -ENOENT when there is no such member, -EINVAL when it has another
	 * type; setting_float takes a whole number too. */
	const struct rosterd_setting *(*setting_get)(const struct rosterd_setting *s,
						     const char *name);
	const struct rosterd_setting *(*setting_at)(const struct rosterd_setting *s, int i);
	int (*setting_count)(const struct rosterd_setting *s);
	const char *(*setting_name)(const struct rosterd_setting *s);
	int (*setting_type)(const struct rosterd_setting *s);
	int (*setting_string)(const struct rosterd_setting *s, const char *name, const char **out);
	int (*setting_int)(const struct rosterd_setting *s, const char *name, long long *out);
	int (*setting_float)(const struct rosterd_setting *s, const char *name, double *out);
	int (*setting_bool)(const struct rosterd_setting *s, const char *name, bool *out);
	/* Report a problem with setting s (NULL: the plugin's whole entry);
	 * returns -EINVAL, for init to return. */
	int (*setting_error)(struct rosterd_ctx *ctx, const struct rosterd_setting *s,
			     const char *fmt, ...) ROSTERD_PRINTF(3, 4);
	/* Report every member of group s whose name is not in known (NULL-ended);
	 * returns how many, so init can fail when it is not 0. */
	int (*setting_check)(struct rosterd_ctx *ctx, const struct rosterd_setting *s,
			     const char *const *known);

	/* A person's custom field, or NULL. */
	const char *(*person_field)(struct rosterd_ctx *ctx, const struct rosterd_person *p,
				    const char *name);
	/* A person's effective groups (nesting flattened), by name. */
	int (*person_groups)(struct rosterd_ctx *ctx, const struct rosterd_person *p,
			     const char *const **names, size_t *n);
	/* Call fn for each person q selects, by username (outside on_event and
	 * run_end, -ENOTCONN; nested, -EBUSY). Stops at fn's first non-zero
	 * return and returns it. */
	int (*people_foreach)(struct rosterd_ctx *ctx, const struct rosterd_query *q,
			      rosterd_person_fn fn, void *arg);

	/* The plugin's own small key/value state, kept in the store with the
	 * run (a rolled-back run keeps none of its changes). state_get copies the
	 * value into buf and returns its length, or -ENOENT, or -ENOSPC when it
	 * does not fit; state_set with value NULL removes the key. */
	int (*state_get)(struct rosterd_ctx *ctx, const char *key, char *buf, size_t len);
	int (*state_set)(struct rosterd_ctx *ctx, const char *key, const char *value);

	/* In init only: a course this plugin's configuration defines. rosterd
	 * creates or updates it at the start of each run. licences < 0: no
	 * limit. */
	int (*define_course)(struct rosterd_ctx *ctx, const char *code, const char *title,
			     long long licences);

	/* ABI 1.1 (check with ROSTERD_HAS(ctx->host, struct rosterd_host,
	 * assign_course_until)): assign_course with access until expires
	 * (YYYY-MM-DD, the last day; NULL: no end; a day already past is
	 * -EINVAL). When it has passed, a sync run sets the assignment
	 * "expired" (a never-started one gives its licence back). A course
	 * whose last assignment expired is not assigned again by a plugin:
	 * only an operator does that (0, nothing done). */
	int (*assign_course_until)(struct rosterd_ctx *ctx, const char *username,
				   const char *course, const char *due, const char *expires,
				   int recur_days);
};

/* What a plugin is handed in every call. */
struct rosterd_ctx {
	size_t size;
	const struct rosterd_host *host;
	const char *name;              /* the name rosterd.conf gives the plugin */
};

/* ---- the descriptor ---------------------------------------------------------- */
struct rosterd_plugin {
	uint32_t abi_major;            /* ROSTERD_PLUGIN_ABI_MAJOR */
	uint32_t abi_minor;            /* ROSTERD_PLUGIN_ABI_MINOR */
	size_t size;                   /* sizeof(struct rosterd_plugin) */
	const char *name;              /* what the plugin calls itself */
	const char *version;           /* the plugin's own version */
	unsigned flags;                /* ROSTERD_PLUGIN_* */
	/* Check cfg (the plugin's entry in the plugins list) and set up *state.
	 * Called once at start-up, and by rosterd -n. Return 0, or a negative
	 * errno after reporting with setting_error; rosterd then exits 2. */
	int (*init)(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg, void **state);
	/* One event (never RUN_END). May be NULL. */
	int (*on_event)(struct rosterd_ctx *ctx, void *state, const struct rosterd_event *ev);
	/* After the last event of the run (ev->kind is ROSTERD_EV_RUN_END; no
	 * person). The place for rules that depend on time rather than on a
	 * change: grace periods, archival, recurring training. May be NULL. */
	int (*run_end)(struct rosterd_ctx *ctx, void *state, const struct rosterd_event *ev);
	/* Free state. May be NULL. */
	void (*fini)(void *state);
};

/* flags: this plugin decides who is disabled. While one is loaded, the
 * sync's built-in rule (disable on the first complete run that misses a
 * person, or when the directory flag is set) is off. */
#define ROSTERD_PLUGIN_DISABLES 1u

/* The first three members of a descriptor, as this header defines them. */
#define ROSTERD_PLUGIN_HEAD \
	.abi_major = ROSTERD_PLUGIN_ABI_MAJOR, .abi_minor = ROSTERD_PLUGIN_ABI_MINOR, \
	.size = sizeof(struct rosterd_plugin)

#ifdef __cplusplus
}
#endif

#endif
