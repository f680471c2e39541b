/*
 * readahead.h: a source's entries read ahead by a thread of their own, so
 * that reading and mapping the directory (libldap, attrmap.c) overlaps
 * with what the run does with each entry (a first load writes it into the
 * store: load.h).
 *
 * Use, for one read of a source (source.h) at a time: the run calls the
 * source's read() as ever, then ahead_start(); ahead_next() in place of
 * the source's next() until it returns 0 or less; ahead_stop(), before the
 * run calls the source again (complete(), the next read()). Between the two
 * the thread alone calls the source: the caller reads none of its fields.
 *
 * The thread copies each entry into batches of a bounded queue (a few
 * hundred KiB at most): an entry handed out by ahead_next() stays valid
 * until the next call. While the source waits for the server, it asks its
 * interrupt (source.h); the thread's answers whether ahead_next() was told
 * to stop, and ahead_next() asks the source's own interrupt, in the
 * caller's thread, every quarter of a second while it waits for an entry:
 * a stop reaches the source as it would without the thread. Errors are
 * negative errno codes; nothing here logs.
 */
#ifndef ROSTERD_READAHEAD_H
#define ROSTERD_READAHEAD_H

#include "source.h"

struct ahead;

/* Start reading src ahead (its read() has begun): 0, -ENOMEM, or another
 * negative errno when the thread cannot start (the caller then reads src
 * itself). */
int ahead_start(struct source *src, struct ahead **out);
/* As the source's next(): 1 with *e filled (valid until the next call), 0
 * at the end of the read, -ECANCELED when the source's interrupt asked to
 * stop, another negative errno when the source failed or a copy could not
 * be made. */
int ahead_next(struct ahead *a, struct source_entry *e);
/* Stop the thread (at once if the read is not over: the source's next()
 * then returns -ECANCELED to it) and free a; the source is the caller's
 * again. NULL-safe. */
void ahead_stop(struct ahead *a);

#endif
