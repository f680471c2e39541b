/*
 * source.h: where a sync run reads the directory from. A source is a small
 * table of functions; the run (sync.c) drives every source the same way, so
 * each feeds the same staging, plan, plugins, audit and safety gate.
 *
 * Sources: the paged LDAP search of the config (source_ldap.c, the default),
 * RFC 4533 refreshOnly and refreshAndPersist (source_ldap.c), Active
 * Directory's uSNChanged (source_usn.c), and one that hands out records held
 * in memory (source_mem.c, for the unit tests).
 *
 * Use, per run, in this order:
 *   begin(kept)             connect; kept is the state a run kept before
 *   read(SOURCE_PEOPLE)     start reading people: before staging begins, so
 *                           that a server finds its first page meanwhile
 *   next() until 0          each entry, mapped: a person, or a rejection
 *   complete()              whether that read was whole (err: why not)
 *   read(SOURCE_GROUPS), next() until 0, complete()
 *                           the same for groups, when the config has them
 *   state()                 what to keep for the next run; the run keeps it
 *                           in its own transaction, so only when it commits
 *   end()                   disconnect; safe whatever came before
 *
 * Entries come out mapped (struct person_rec, struct group_rec of recon.h):
 * how directory attributes become fields is the source's business (the
 * LDAP source maps with attrmap.c), so the run knows no attribute list and a
 * source that holds records needs none.
 *
 * Ownership: whoever creates a source frees it (ops->free); sync_run() frees
 * only the LDAP source it makes when sync_opts.source is NULL. Records, DNs
 * and texts handed out belong to the source and stay valid until its next
 * call. A source borrows the config it was made with. Nothing here logs:
 * what went wrong is in err, and the run logs it.
 */
#ifndef ROSTERD_SOURCE_H
#define ROSTERD_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "recon.h"

enum source_read { SOURCE_PEOPLE, SOURCE_GROUPS };

/* What an entry of a read is. A source that reads what changed since its
 * last run (RFC 4533) also names entries that did not change, and entries
 * that are gone, by directory id alone (person.dir_id; dn may be ""). */
enum source_kind {
	SOURCE_ENTRY,        /* an entry as it is now (or rejected) */
	SOURCE_UNCHANGED,    /* as it was at the last run this source kept */
	SOURCE_GONE,         /* deleted or moved out of the search */
};

/* One entry of the read in progress. */
struct source_entry {
	enum source_kind kind;
	const char *dn;            /* as the directory gave it */
	const char *reject;        /* NULL: taken; else why it is not */
	/* Reading people: the person. A rejected one has at most person.dir_id
	 * (NULL when it could not be read), so that the person it belongs to
	 * is not taken for missing. */
	struct person_rec person;
	/* Reading groups: the group (partial: the server sent only part of
	 * its members). A rejected group has nothing more. */
	struct group_rec group;
};

struct source;

struct source_ops {
	/* "ldap", "memory": the kept state goes under the key "source:NAME". */
	const char *name;
	/* Connect. 0, or as dir_connect(): -EHOSTUNREACH no server answered,
	 * -EACCES bind refused, -EPROTO TLS failed, -ENOKEY the password cannot
	 * be read, -ENOMEM. kept: the state a run kept before (NULL: none). */
	int (*begin)(struct source *s, const char *kept);
	/* Start reading people or groups. 0, or negative when the source cannot
	 * read at all (no memory). A search that fails is not an error here: the
	 * read then ends at once, not whole. */
	int (*read)(struct source *s, enum source_read what);
	/* The next entry of the read: 1 with *e filled, 0 when the read has
	 * ended (complete() says how), -ECANCELED when the interrupt asked to
	 * stop, another negative code when the source failed (no memory). */
	int (*next)(struct source *s, struct source_entry *e);
	/* After next() returned 0: whether that read was whole. */
	bool (*complete)(const struct source *s);
	/* After a read that was whole: true when it named every entry there is
	 * (one it did not name is gone: a full read, or a refresh with a
	 * present phase), false when it named only what changed (one it did
	 * not name is as it was: a refresh that sent deletions; for groups, no
	 * entry at all means the groups are as they were). NULL function:
	 * always true. */
	bool (*whole)(const struct source *s);
	/* After read(SOURCE_PEOPLE), before its first entry: true when the
	 * read is expected to name only what changed (a refresh with a
	 * cookie), so staging need not load every person of the store up
	 * front. A hint: whole() still says, at the end, what the read was.
	 * NULL function: always false. */
	bool (*changes_only)(const struct source *s);
	/* After a whole people read, before the groups: read again the people
	 * at these n DNs; their entries then come from next() as a read's do
	 * (one that is no longer there, or no longer in the search, does not
	 * come), and complete() says whether all could be asked for. For a
	 * directory that changes links itself without marking their holders
	 * changed (recon_stale_holders()). 0 or -ENOMEM. NULL function: the
	 * source's reads give every changed entry. */
	int (*reread)(struct source *s, const char *const *dns, size_t n);
	/* After the reads: what the run read, as its record says: "full" (every
	 * entry), "refresh" (what changed since the last run) or "incremental"
	 * (a batch of the changes a persistent search pushed). NULL function:
	 * always "full". */
	const char *(*kind)(const struct source *s);
	/* The state to keep for the next run, or NULL to keep what is kept.
	 * NULL function: the source keeps no state (the paged search). */
	const char *(*state)(const struct source *s);
	void (*end)(struct source *s);
	/* NULL-safe. */
	void (*free)(struct source *s);
};

/* The part every source shares; a source's own struct starts with it. */
struct source {
	const struct source_ops *ops;
	/* Set by the source. */
	const char *uri;          /* where it reads from, once begun */
	long long bad_dns;        /* manager and memberOf values left out: not DNs */
	long long bad_members;    /* group member values left out: not valid */
	char err[2048];           /* what failed, or why a read was not whole */
	char note[512];           /* a warning for the run to log (after begin
				     and after each read), then to clear */
	char info[256];           /* the same for what is worth saying only */
	/* Set by the run before begin(), and changed between reads if need
	 * be (readahead.h): while the source waits for a server, it calls
	 * interrupt(interrupt_arg) now and then (from the thread that called
	 * next()), and stops (next() returns -ECANCELED) when that returns
	 * non-zero. NULL: never asked. */
	int (*interrupt)(void *arg);
	void *interrupt_arg;
	/* Set by the run before read(SOURCE_GROUPS): true when the people read
	 * was whole and changed nothing group member values are matched
	 * against (no one new, moved, renamed, gone or back), so a source that
	 * reads changes need not send every group again for the people's sake. */
	bool members_same;
};

/* What a source that waits for a server through dir.c asks (dir_set_interrupt,
 * arg the source): the source's interrupt as it is at that moment, which the
 * run may change between reads (readahead.h); 0 when it has none. */
int source_interrupt(void *arg);

/* The paged LDAP search of cf (ldap.users, ldap.groups), mapped by
 * ldap.attributes. 0 or -ENOMEM. */
int source_ldap_new(const struct conf *cf, struct source **out);
/* The same directory read by RFC 4533 refreshOnly: what changed since the
 * cookie kept by the last run that committed (source_ldap.c says how; a
 * server without the sync control is read as source_ldap_new's). With
 * ldap.attributes.id objectGUID (Active Directory) the source of
 * source_usn.c instead: what changed since the kept update sequence number. */
int source_refresh_new(const struct conf *cf, struct source **out);

/* The same directory followed by RFC 4533 refreshAndPersist, for the
 * service (sync.mode "persist"): a session of two persistent searches
 * (people and groups, each on its own connection) that outlives the runs.
 * The run that begins it reads their refresh stage as a refresh run does
 * (from the kept cookie, or from nothing); the session then stays open
 * after the run's end(), and each later run is a batch: the changes the
 * server pushed since, handed out as a refresh names them (entries, gone
 * by id), until the server has sent nothing more, sync.batch_ms after the
 * batch's first change, sync.batch_max changes, or an entry the batch
 * already named (it starts the next batch). The cookie of the last change
 * handed out is the state to keep. A server without the sync control is
 * read in full, and no session stays open. The caller closes a session
 * whose run did not commit (source_persist_close), so that the next
 * begin() resumes from the cookie kept in the store. */
int source_persist_new(const struct conf *cf, struct source **out);
enum persist_state {
	PERSIST_CLOSED,        /* no session: the next begin() starts one */
	PERSIST_LIVE,          /* a session waits for changes */
	PERSIST_UNSUPPORTED,   /* the last start found no content synchronisation */
};
enum persist_state source_persist_state(const struct source *s);
/* Whether cf's directory may be followed so: not Active Directory (entries
 * named by objectGUID), which has no persistent search and which
 * source_refresh_new reads by uSNChanged. A directory that turns out to
 * offer no content synchronisation is read in full (PERSIST_UNSUPPORTED).
 * Pure. */
bool source_persist_possible(const struct conf *cf);
/* Without waiting: 1 when a change waits for a batch, 0 when none, or
 * negative when the session broke (err says why; it is then closed). */
int source_persist_poll(struct source *s);
/* The session's sockets, to wait on with poll(2) after source_persist_poll()
 * found nothing: how many were put into fds (at most 2). */
int source_persist_fds(const struct source *s, int fds[2]);
/* Whether the server still answers the session's connections (ldap.timeout
 * at most): 0, or negative when not (err says why; the session is closed). */
int source_persist_ping(struct source *s);
/* The next run of the live session is the periodic one (the pass over what
 * depends on time, every sync.interval): it takes the
 * changes waiting, if any, as a batch does, and is recorded as a refresh
 * run (all the changes since the kept cookie), so that it counts among the
 * grace runs. */
void source_persist_tick(struct source *s);
/* End the session; the next begin() starts one from the kept cookie, or from
 * nothing (a full refresh) when from_nothing. */
void source_persist_close(struct source *s, bool from_nothing);
/* When the session's last refresh from nothing was made (time(2)); 0: not
 * known. */
long long source_persist_full_at(const struct source *s);
/* Whether a batch closes before its next change, having handed out n
 * changes, the first of them elapsed_ms ago (batch_ms, batch_max: the
 * config's). Pure. */
bool source_batch_closes(long long n, double elapsed_ms, int batch_ms, int batch_max);

/* What the memory source hands out, and how it ends. Borrowed: it must
 * outlive the source. */
struct source_mem {
	const struct source_entry *people;   /* in this order */
	size_t npeople;
	const struct source_entry *groups;
	size_t ngroups;
	/* A read ends, not whole, after this many entries (0: its search
	 * fails at once); -1: it hands out all and is whole. */
	long long people_limit, groups_limit;
	/* Before handing out people entry number wait_at (from 0), wait for
	 * the "server", a second at most, asking the interrupt every 10 ms
	 * (a stop ends the read: -ECANCELED). -1: never. */
	long long wait_at;
	int begin_error;          /* begin() fails with this; 0: it does not */
	const char *state;        /* kept after a run whose reads were whole; NULL: none */
	/* The reads name only what changed (whole() false), as a refresh
	 * with a cookie does: entries of kind SOURCE_UNCHANGED and
	 * SOURCE_GONE, or none, stand for the rest. */
	bool people_changes_only, groups_changes_only;
};
/* A source that hands out m's entries. 0 or -ENOMEM. */
int source_mem_new(const struct source_mem *m, struct source **out);
/* The kept state the memory source's last begin() was given; NULL: none. */
const char *source_mem_kept(const struct source *s);

#endif
