/*
 * dir_sync.h: the messages of RFC 4533 content synchronisation, for dir.c
 * only (it names libldap's types; nothing else includes it).
 *
 * dir.c runs a content synchronisation like any search of its own (the same
 * waits, interrupts, entries and values); this module makes the Sync Request
 * control and reads what the server sends back: the Sync State control of
 * each entry, the Sync Info intermediate messages (new cookie, end of a
 * present or delete phase, a set of entryUUIDs) and the Sync Done control
 * of the search's result. The newest cookie and the meaning of the refresh
 * are kept in a struct dsync that dir.c owns. Nothing here logs or waits.
 */
#ifndef ROSTERD_DIR_SYNC_H
#define ROSTERD_DIR_SYNC_H

#include <lber.h>
#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>

/* What a content synchronisation has said so far. */
struct dsync {
	struct berval *cookie;     /* the newest cookie; NULL: none yet */
	bool done;                 /* the Sync Done control was read */
	bool refresh_deletes;      /* its refreshDeletes: TRUE, only deletions
				      were sent; FALSE, a present phase: what
				      was neither presented nor sent is gone */
	bool refresh_done;         /* refreshAndPersist: a Sync Info ended the
				      refresh stage (refresh_deletes then says
				      which phase it ended: delete or present) */
	BerVarray idset;           /* a syncIdSet being handed out */
	size_t idset_next;
	bool idset_deletes;        /* its UUIDs are deleted (else present) */
};

/* Free what s holds and clear it. */
void dsync_clear(struct dsync *s);
/* A critical Sync Request control for refreshOnly (persist: refreshAndPersist)
 * from cookie (NULL: from nothing). 0 or -ENOMEM; the caller frees it with
 * ldap_control_free(). */
int dsync_request(const struct berval *cookie, bool persist, LDAPControl **out);
/* The Sync State control of entry e: its state (LDAP_SYNC_PRESENT, _ADD,
 * _MODIFY, _DELETE) and entryUUID (16 bytes); a cookie it carries becomes
 * s's. 0, -EPROTO (missing or malformed: why in err), -ENOMEM. */
int dsync_entry(LDAP *ld, LDAPMessage *e, struct dsync *s, int *state,
		unsigned char uuid[16], char *err, size_t errlen);
/* A Sync Info intermediate message: cookies taken, an ID set kept in s to
 * be handed out. 0, 1 when msg is another intermediate response (to be
 * ignored), -EPROTO (why in err), -ENOMEM. */
int dsync_info(LDAP *ld, LDAPMessage *msg, struct dsync *s, char *err, size_t errlen);
/* The Sync Done control among a search result's controls. 0, -EPROTO
 * (missing or malformed), -ENOMEM. */
int dsync_done(LDAPControl **ctrls, struct dsync *s, char *err, size_t errlen);
/* The next UUID of the ID set in s: true with uuid and *deleted set, false
 * when the set is spent (and freed). */
bool dsync_idset_next(struct dsync *s, unsigned char uuid[16], bool *deleted);

#endif
