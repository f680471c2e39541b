/*
 * view.h: read-only views of the people and groups in the store: what the
 * plugin host hands plugins (the SDK's person and group views, a person's
 * custom fields and groups) and what rosterctl shows (user show, group
 * show). Both read through these functions, so each view is one statement.
 *
 * Use: view_person() or view_person_named() reads a person into a struct
 * view_person, view_group() a group into a struct view_group; the lists (a
 * person's fields, their groups) are handed to a callback, one item a call.
 *
 * Ownership: a view returned through an out-parameter is one allocation, its
 * strings included, that belongs to the caller: valid until the caller frees
 * it (view_person_free(), view_group_free(); plain free() for a string), and
 * independent of the store, which may go on or be closed meanwhile. Strings
 * handed to a callback are valid during the call only. The store is
 * borrowed for the call.
 *
 * Errors: 0, -ENOENT (no such person, group or field), -ENOMEM, or the
 * store's negative errno (store_errmsg() says why). Nothing here logs.
 */
#ifndef ROSTERD_VIEW_H
#define ROSTERD_VIEW_H

#include <stdbool.h>

#include "store.h"

/* Where a person is seen from, for their missing_days and missing_runs. */
struct view_run {
	const char *now;      /* RFC 3339 */
	long long run_id;     /* the run in progress, left out of the recorded
	                         runs counted; 0 none */
	bool complete;        /* the run in progress counts as one more complete
	                         run that did not find them */
	bool batch;           /* unless it is a batch of persist mode that did not
	                         find them first */
};

/* A person. Strings are UTF-8, NULL when the store has no value. */
struct view_person {
	long long id;
	const char *username, *email, *given_name, *family_name, *display_name,
		*employee_number, *department, *location, *title, *role, *status,
		*status_reason, *status_since, *manager, *secondary_manager, *dn, *dir_id,
		*missing_since, *member_since, *created_at, *updated_at;
	bool dir_disabled;    /* the directory's disabled flag */
	int missing_days;     /* whole days from the run's now since missing_since;
	                         -1 while present */
	int missing_runs;     /* complete runs since then, the run's included;
	                         0 while present */
};

/* The person with this id, or this username, seen from run (NULL: now, no
 * run in progress). A username is compared as LDAP compares a uid
 * (fold.h: username_key): "ÅLICE" and " ålice " name ålice; -ENOENT for a
 * blank one. */
int view_person(struct store *st, long long id, const struct view_run *run,
		struct view_person **out);
int view_person_named(struct store *st, const char *username, const struct view_run *run,
		      struct view_person **out);
void view_person_free(struct view_person *p);

/* The id of the person with this username (compared as above). */
int view_person_id(struct store *st, const char *username, long long *id);
/* The username of person id, as a string the caller frees. */
int view_username(struct store *st, long long id, char **out);

/* The person's custom field name, as a string the caller frees. */
int view_person_field(struct store *st, long long id, const char *name, char **out);

/* Callbacks of the lists: a non-zero return stops the list, which returns it. */
typedef int (*view_field_fn)(const char *name, const char *value, void *arg);
typedef int (*view_name_fn)(const char *name, void *arg);

/* Each custom field of person id, by name. */
int view_person_fields(struct store *st, long long id, view_field_fn fn, void *arg);
/* The name of each group person id is in, nesting flattened, by name (ASCII
 * case ignored, then DN); groups deleted from the directory whose
 * memberships the sync has not yet removed only when deleted is set. */
int view_person_groups(struct store *st, long long id, bool deleted, view_name_fn fn,
		       void *arg);

/* A group. */
struct view_group {
	long long id;
	const char *name, *dn, *dir_id, *created_at, *updated_at;
	const char *description;   /* or NULL */
	const char *via;           /* the member group the person asked about is in
	                              it through, when not directly; else NULL */
	bool present;              /* false: deleted from the directory */
};

/* Group id, with via for person (0: none). */
int view_group(struct store *st, long long id, long long person, struct view_group **out);
void view_group_free(struct view_group *g);

#endif
