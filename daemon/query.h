/*
 * query.h: read-only views of the store for rosterctl (jansson values):
 * people, reports, groups, runs, status, courses, assignments, the outbox.
 *
 * Use: each call reads in its own statement; objects handed to a callback
 * are freed after it returns (take a reference to keep one); objects
 * returned through out-parameters belong to the caller (json_decref). One
 * person or group is read through view.h, as the plugin host reads them.
 * Errors are negative errno codes; store_errmsg() says more of -EIO.
 */
#ifndef ROSTERD_QUERY_H
#define ROSTERD_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "libtypes.h"
#include "store.h"

/* One person as the JSON object of rosterctl user show; -ENOENT if none. */
int query_user(struct store *st, const char *username, struct json_t **out);
/* NULL (or 0) fields match everyone; given together, all must match. The ids
 * come from query_person_id() and query_group_find(). */
struct user_filter {
	const char *status, *location, *department, *role;
	long long manager_id;   /* the direct reports of this person... */
	bool below;             /* ...or, when set, everyone below them */
	long long group_id;     /* the effective members of this group */
	/* A substring of the username, given, family or display name or the
	 * e-mail address, case and accents ignored (fold.h); NULL: none. */
	const char *search;
	/* Custom fields that must have exactly these values: fields[2 * i] is
	 * a name, fields[2 * i + 1] its value, for i < nfields. */
	const char *const *fields;
	size_t nfields;
};
/* Call fn with one JSON object per matching person, by username. The object
 * is freed after the call. Stops at fn's first non-zero return. */
typedef int (*query_row_fn)(struct json_t *row, void *arg);
int query_user_list(struct store *st, const struct user_filter *f, query_row_fn fn, void *arg);
/* The columns of a user listing: the profile fields (username, email,
 * given_name, family_name, display_name, status, status_reason, role,
 * employee_number, department, location, title, member_since, dn,
 * directory_id, created_at, updated_at), manager, secondary_manager, groups
 * (an array of names) and field:NAME (a custom field). Whether name is one. */
bool query_user_column_known(const char *name);
/* The columns of an export when none are asked for: the profile fields but
 * dn, directory_id, created_at and updated_at, the managers, then field:NAME
 * for each custom field name the store holds, by name. 0 with *cols (an
 * array of *n strings, freed with query_columns_free()) set, or an error. */
int query_user_columns_default(struct store *st, char ***cols, size_t *n);
void query_columns_free(char **cols, size_t n);
/* As query_user_list, but each object has exactly the keys cols[0..ncols),
 * in that order (query_user_column_known ones: -EINVAL otherwise). */
int query_user_rows(struct store *st, const struct user_filter *f, const char *const *cols,
		    size_t ncols, query_row_fn fn, void *arg);
/* For completion: the usernames ("users"), course codes ("courses") or
 * names of present groups ("groups") that start with prefix (ASCII case
 * ignored), in order, as objects {"name": ...}; -EINVAL another kind. */
int query_names(struct store *st, const char *kind, const char *prefix, query_row_fn fn,
		void *arg);
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
 * name, NULL as null), then give s back (stmt_done). Stops at fn's first
 * non-zero return and returns it; -ENOMEM, or the store's error. */
int query_each_row(struct stmt *s, query_row_fn fn, void *arg);
/* People by status, the last run, runs awaiting approval and "totals":
 * counters over every run (runs_<outcome>, changes applied, directory errors). */
int query_status(struct store *st, struct json_t **out);
/* The last limit runs, newest first, one JSON object each. */
int query_runs(struct store *st, int limit, query_row_fn fn, void *arg);
/* The same of kind ("full", "refresh", "incremental"; NULL: every kind);
 * with collapse, a stretch of successive incremental runs that changed
 * nothing is one object: its id the newest's, started_at the first's,
 * duration and entries_read summed, runs how many (1 for any other run). */
int query_runs_of(struct store *st, int limit, const char *kind, bool collapse, query_row_fn fn,
		  void *arg);
/* Approve held run id; -ENOENT no such run, -EINVAL not an unused held run. */
int query_run_approve(struct store *st, long long id, const char *operator_name,
		      char *err, size_t errlen);

/* Every course, by code, with its pool: licence_limit, in_use, and how many
 * assignments are pending, waiting, enrolled, in_progress, completed. */
int query_courses(struct store *st, query_row_fn fn, void *arg);
/* One course as that object; -ENOENT if none. */
int query_course(struct store *st, const char *code, struct json_t **out);
/* The course's assignments, current ones first, by username. */
int query_course_assignments(struct store *st, const char *code, query_row_fn fn, void *arg);
/* The outbox, oldest first: the unsent notifications, or all. */
int query_outbox(struct store *st, bool all, query_row_fn fn, void *arg);
/* A person's assignments: the current ones, then the history (released,
 * archived, expired), by course code: code, status, due, expires,
 * assigned_at, completed_at, ended_at, source, title, started_at,
 * progress. */
int query_access(struct store *st, long long person, query_row_fn fn, void *arg);

/* ---- query_activity.c ------------------------------------------------------ */
/* The activity report from from to to (YYYY-MM-DD, from <= to, inclusive),
 * as of now (RFC 3339): a row a month, the first and last clipped to the
 * range, with the keys of query_activity_columns (NULL-ended): month, from,
 * to, then people created, invited (invitations queued), activated
 * (verified), disabled, enabled, archived, restored, removed, assignments
 * made, completed, overdue (due in the month, that day past, not completed
 * by it; released ones left out), expired, and licences_in_use at the
 * month's end (now for the month under way, null for one to come). -E2BIG
 * beyond QUERY_ACTIVITY_MONTHS months. */
#define QUERY_ACTIVITY_MONTHS 1200
extern const char *const query_activity_columns[];
int query_activity(struct store *st, const char *from, const char *to, const char *now,
		   query_row_fn fn, void *arg);
/* The last day (YYYY-MM-DD) of month (text starting YYYY-MM) into out. */
void query_month_end(const char *month, char out[11]);
/* Add to o (user show's object of person id) role_source and activity:
 * {"assignments": {STATUS: count, ...}, "last_change": {at, by, action,
 * detail} or null}. */
int query_user_activity(struct store *st, long long id, struct json_t *o);

#endif
