/*
 * load.h: the first load of a store that has no people yet (load.c), used
 * by reconcile.c and hierarchy.c only.
 *
 * A first sync would stage every person, plan a create for each and copy
 * them into the store; the load writes each person read straight into the
 * store instead (the person and their custom fields; the hierarchy audits
 * their creation), in one bulk write transaction (store.h: store_bulk_begin)
 * that the run commits only after the read is over and judged, as any
 * run. It keeps the key of each person's normalised DN (and, for groups
 * that name members by username, of the username as NOCASE compares it)
 * with their id, so that the hierarchy finds managers and members without
 * a query each (keyset.h).
 *
 * Use: load_begin() before the read; load_person() per person taken;
 * load_person_id() and load_username_id() after it; load_free(). What the
 * load wrote is undone with load_undo(), which hands each person loaded
 * back first, in the order read, so that the caller can stage them as a run
 * that does not load would have (the way out when the load meets what only
 * staging's rules can settle: two entries with one id or username). The
 * handle borrows the store and the options, which must outlive it. Errors
 * are negative errno codes; store_errmsg() then says what the store
 * refused. Nothing here logs.
 */
#ifndef ROSTERD_LOAD_H
#define ROSTERD_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "recon.h"

struct load;

/* Begin a load of the store st: its write transaction is open when this
 * returns 0. -ENOTEMPTY when the store has people (nothing is begun),
 * else as store_bulk_begin(). by_username: group members are usernames
 * (memberUid), keep the usernames' keys too. */
int load_begin(struct store *st, const struct recon_opts *o, bool by_username,
	       struct load **out);
/* Write the person p, whose username's comparison key is key and whose
 * content hash is hash (reconcile.c: person_hash), with their custom
 * fields. -EEXIST when a person loaded
 * before has the same directory id or username (nothing of p is written). */
int load_person(struct load *ld, const struct person_rec *p, const char *key, int64_t hash);
/* How many people were loaded. */
long long load_count(const struct load *ld);
/* The id of the person loaded with this normalised DN (or, by_username,
 * this username as NOCASE compares it), 0 when none; -1 when two people
 * share its key, so that the caller must ask the store. */
long long load_person_id(const struct load *ld, const char *dn, size_t n);
long long load_username_id(const struct load *ld, const char *username, size_t n);
/* Whether any two people loaded share the key of their DN (or username):
 * then load_person_id() cannot answer alone. */
bool load_keys_shared(const struct load *ld);

/* Free the keys: load_person_id() and load_username_id() answer 0 from
 * then on. */
void load_forget_keys(struct load *ld);

/* What load_undo() hands back: a person as loaded. */
typedef int (*load_person_fn)(const struct person_rec *p, const char *key, int64_t hash,
			      void *arg);
/* Hand every person loaded to fn, in the order loaded, then delete what
 * the load wrote (people, custom fields): the store is as it
 * was, in the same transaction. Stops at fn's first non-zero return and
 * returns it (nothing deleted). */
int load_undo(struct load *ld, load_person_fn fn, void *arg);
/* NULL-safe; the transaction stays open (it is the run's). */
void load_free(struct load *ld);

#endif
