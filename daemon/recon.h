/*
 * recon.h: staging what a run read, and reconciling the store with it in SQL
 * (reconcile.c: people; hierarchy.c: managers, groups, memberships, roles).
 *
 * Use, in this order, per run:
 *   recon_stage_begin()               staging tables, before the read
 *   recon_stage_person/group/...()    one call per entry read
 *   recon_stage_end()                 the read is over
 *   store_begin()                     the run's write transaction
 *   recon_plan(), recon_apply(), recon_hierarchy()
 *   recon_events_foreach(), recon_plan_foreach(), recon_rejects_foreach()
 *   store_commit() or store_rollback(), then recon_free()
 * The handle borrows the store (which must outlive it) and owns its staging
 * tables. Records passed in (person_rec, group_rec) are copied at once.
 * Errors are negative errno codes; store_errmsg() then says what the store
 * refused. The temporary tables and what reconcile.c and hierarchy.c share
 * are in recon_priv.h.
 */
#ifndef ROSTERD_RECON_H
#define ROSTERD_RECON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"

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
	bool member_of_read;            /* memberOf was asked for (even if none) */
	size_t nmember_of;
	const char *const *member_of;   /* normalised DNs of the person's groups */
	const char *primary_group;      /* AD's primaryGroupID; NULL: none */
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
	size_t nmember_of;            /* nested groups read from memberOf: */
	const char *const *member_of; /* normalised DNs of the groups it is in */
	const char *token;            /* AD's primaryGroupToken; NULL: none */
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
	/* people_enabled: 0 (not counted) when nothing the thresholds weigh
	 * needs it: a read of the changes that plans no disable, no plugin */
};

struct recon;
struct recon_opts;

/* Create the temporary staging tables and start filling them. Staging writes
 * only the connection's temporary database: no lock on the store is held
 * while the directory is read, so the platform's writers are never blocked. */
int recon_stage_begin(struct store *st, struct recon **out);
/* As recon_stage_begin(), for a read expected to name only what changed
 * (RFC 4533 with a cookie): the store's people are not loaded up front, only
 * when the read turns out to need them (a present phase, or more entries
 * than loading them costs). What the plan decides is the same. */
int recon_stage_begin_changes(struct store *st, struct recon **out);
/* As recon_stage_begin(), for a run that may load a store with no people
 * yet (load.h): when the store has none, the people read are written
 * straight into it instead of staged, in a write transaction that this
 * opens (store.h: store_bulk_begin) and the run commits, after the read,
 * as any run. The calls that follow are the same; the plan is then the
 * creates loaded. o must outlive the handle. */
int recon_stage_begin_load(struct store *st, const struct recon_opts *o, struct recon **out);
/* Whether the people are being loaded (the write transaction is open). */
bool recon_loading(const struct recon *rc);
/* Stage one person. Returns 0, or -EEXIST when an entry staged before has the
 * same username or directory id (this later entry is then not staged). */
int recon_stage_person(struct recon *rc, const struct person_rec *p);
/* Record that an entry with this id was read though it was rejected, so the
 * person it belongs to is not taken for missing. */
int recon_stage_seen(struct recon *rc, const char *dir_id);
/* A source that reads what changed since its last run (RFC 4533) names
 * people by directory id: unchanged, they count as read with the content
 * the store has (as an entry read with the same hash); gone, they are
 * missing. After a read that named only the changes,
 * recon_stage_rest_unchanged() takes everyone of the store it did not name
 * (and not missing before) as unchanged: -EAGAIN when people were added to
 * the store since staging began, -ENOTUNIQ when two of them share a key. */
int recon_stage_unchanged(struct recon *rc, const char *dir_id);
int recon_stage_gone(struct recon *rc, const char *dir_id);
int recon_stage_rest_unchanged(struct recon *rc);
/* After a whole people read (and recon_stage_rest_unchanged(), if called):
 * 1 when what it staged may change what group member values resolve to
 * (someone new, with another DN or username, going missing or back), 0 when
 * it cannot, or a negative errno. */
int recon_stage_members_may_change(struct recon *rc);
/* After a whole read that named people unchanged (recon_stage_unchanged):
 * fn(arg, dn) for each person it named unchanged whose stored manager or
 * secondary manager DN is that of a person of the store it did not name
 * (gone, moved out, out of the filter). A directory that removes or
 * rewrites such links itself (Active Directory) does not mark their holders
 * changed, so their entries must be read again. 0, or negative: a store
 * error, or what fn returned. */
int recon_stale_holders(struct recon *rc, int (*fn)(void *arg, const char *dn), void *arg);
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
	bool groups_same;                /* not searched: the source says no
	                                    group changed since the last run */
	bool plugin_disables;            /* a plugin decides who is disabled: plan
	                                    no disable (re-enables still) */
	bool events;                     /* plugins are loaded: keep what the
	                                    events need (recon_events_foreach) */
};
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

/* After recon_apply, in the same transaction: resolve managers by normalised
 * DN, sync the groups and their direct and effective membership, derive the
 * roles; each change is applied, audited and kept (temp table "hier") for the
 * plan printer and the plugins. Leaves happen only when every search they
 * depend on was complete. Counts in c. */
int recon_hierarchy(struct recon *rc, const struct recon_opts *o, struct hier_counts *c);
/* Make the next run work managers, groups and roles out again, as if their
 * inputs had changed (a role given back to the directory's rules): 0 or
 * -EIO. In the caller's transaction. */
int recon_hierarchy_forget(struct store *st);

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
	long long via_id;          /* GROUP_JOINED: the group the person came
	                              through when not group_id itself; else 0 */
	long long old_manager_id;  /* MANAGER_CHANGED: the primary before; 0 none */
	unsigned flags;            /* REAPPEARED: ROSTERD_BACK_* */
};
typedef int (*recon_event_fn)(const struct recon_event *e, void *arg);
/* After recon_apply and recon_hierarchy: call fn for each event of the run,
 * by kind, then username (then group name). Stops at fn's first non-zero
 * return and returns it. */
int recon_events_foreach(struct recon *rc, recon_event_fn fn, void *arg);
typedef int (*recon_reject_fn)(const char *dn, const char *reason, void *arg);
/* Where a run's time went inside the phases (seconds): writing the audit
 * log, while applying the plan and while working out the hierarchy. */
struct recon_times {
	double audit_apply, audit_hierarchy;
};
/* rc NULL: all zero. */
void recon_times(const struct recon *rc, struct recon_times *t);
int recon_rejects_foreach(struct recon *rc, recon_reject_fn fn, void *arg);

#endif
