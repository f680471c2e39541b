/*
 * plugins.h: the plugin host (include/rosterd/plugin.h): loads the rule
 * plugins, hands them a run's events and applies what they ask through
 * actions.h, in the run's transaction.
 *
 * Ownership: the host belongs to whoever loaded it (plugins_free()); it
 * borrows the config, which must outlive it, and the run's store between
 * plugins_begin() and plugins_end(). Views and strings handed to a plugin
 * are valid for the call only.
 */
#ifndef ROSTERD_PLUGINS_H
#define ROSTERD_PLUGINS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "store.h"

struct plugins;

/* What the plugins did in a run (counted by the host, plugin.c). */
struct plugin_counts {
	long long disabled, archived, enabled, assigned, unassigned, waiting, granted,
		fields, notified;
};

/* The sync run drives the host:
 *
 *   plugins_load(cf)              at start-up (and rosterd -n): dlopen and
 *                                 init every configured plugin, in order
 *   per run, inside its write transaction, after the plan is applied:
 *     plugins_begin(run)          the store, the run's time, id, completeness
 *     plugins_event(ev)...        events in kind order (see plugin.h)
 *     plugins_run_end()           each plugin's run_end, then licences granted
 *       or plugins_settle()       licences granted only (a batch of persist
 *                                 mode between the runs that call run_end)
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

struct plugin_run {
	struct store *st;      /* in a write transaction */
	const char *now;       /* the run's time, RFC 3339 */
	long long run_id;      /* 0 in a dry run */
	bool complete;         /* the directory read was complete */
	bool dry_run;
	bool batch;            /* a batch of persist mode (person views: missing_runs) */
};

/* One event for the plugins. The host reads the person and group from the
 * store, so it needs only their ids. */
struct plugin_event {
	int kind;              /* ROSTERD_EV_CREATED .. ROSTERD_EV_GROUP_LEFT */
	long long person_id;
	const char *changed;   /* UPDATED: changed field names, space-separated
	                          ("email title fields"); else NULL */
	long long group_id;    /* GROUP_JOINED, GROUP_LEFT */
	long long via_group_id;    /* GROUP_JOINED: the group the person came
	                              through when not group_id itself; else 0 */
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
int plugins_settle(struct plugins *h);
void plugins_counts(const struct plugins *h, struct plugin_counts *c);
int plugins_actions_foreach(struct plugins *h, plugin_action_fn fn, void *arg);
const char *plugins_error(const struct plugins *h);
/* The last audit_log id before plugins_begin: the plugins' actions of the run
 * are the rows after it. */
long long plugins_audit_mark(const struct plugins *h);
void plugins_end(struct plugins *h);
void plugins_free(struct plugins *h);

#endif
