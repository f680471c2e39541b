/*
 * actions.h: changes made for a plugin or an operator, each audited.
 *
 * Use: act_new() inside a write transaction of the store, act_set_actor(),
 * then act_*() calls, then act_free() before the transaction ends. The handle
 * borrows the store; strings passed in are copied or used at once, except
 * the actor, which must outlive its use.
 */
#ifndef ROSTERD_ACTIONS_H
#define ROSTERD_ACTIONS_H

#include <stdbool.h>

#include "store.h"

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
		granted, waiting, released, recurred, fields, notified, expired;
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
/* Bind a person whose entry is gone from the directory (missing) to the
 * entry the latest run rejected because its username is theirs (an
 * account deleted and made again: a new stable id), records intact; the
 * next run takes that entry for them. Operators only; why goes into the
 * audit. -ENOENT: no such reject; -EINVAL: the person is not missing;
 * -EEXIST: the entry is another person's. */
int act_relink(struct act *a, long long person, const char *why);
/* Add a course (limit -1: no licence limit); an existing one is updated when
 * update is set, else -EEXIST. */
int act_course_define(struct act *a, const char *code, const char *title, long long limit,
		      bool update);
/* Assign a course unless a current assignment exists; due NULL or
 * YYYY-MM-DD. With recur_days, a current one completed at least that many
 * days ago is archived and a new one assigned. */
int act_assign(struct act *a, long long person, const char *code, const char *due,
	       int recur_days);
/* As act_assign, with access until expires (YYYY-MM-DD: the last day of
 * access; NULL: no end; a day already past is -EINVAL). A rule (an actor
 * that is no operator) does not assign again a course whose last
 * assignment expired: ACT_NOCHANGE. */
int act_assign_until(struct act *a, long long person, const char *code, const char *due,
		     const char *expires, int recur_days);
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
/* Set (NULL: no end) when access to the person's current assignment of
 * the course ends; a day already past expires it at once. Only unfinished
 * assignments (pending, waiting, enrolled, in_progress) have access to
 * end: a completed one is -EINVAL. */
int act_set_expiry(struct act *a, long long person, const char *code, const char *expires);
/* Expire every unfinished assignment whose last day of access is before
 * today (the handle's now, UTC): status 'expired', a never-started one's
 * licence back to the pool (its queue moves), an 'expired' notification.
 * *n (may be NULL) the number expired. */
int act_expire(struct act *a, long long *n);
/* Archive the person's completed assignment of the course (the record kept
 * in their history, no longer current); with again, assign it anew (due
 * and expires as act_assign_until takes them). */
int act_archive_assignment(struct act *a, long long person, const char *code, bool again,
			   const char *due, const char *expires);
/* Pin the person's role ("admin", "manager" or "learner": no sync changes
 * it), or with role NULL give it back to the directory's rules, which the
 * next sync run applies. Operators only (-EPERM). */
int act_set_role(struct act *a, long long person, const char *role);
bool act_date_ok(const char *s);
bool act_code_ok(const char *s);

#endif
