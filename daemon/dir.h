/*
 * dir.h: the directory client over libldap; the only module that sees LDAP.
 *
 * Use: dir_connect() (URI failover, TLS, bind) gives a handle the caller
 * closes with dir_close(); dir_search() starts a paged search and dir_next()
 * hands out its entries one at a time (paging and AD range retrieval are
 * hidden); dir_values() reads the current entry's attributes. Pointers handed
 * out (DNs, values) belong to the handle and are valid until the next
 * dir_next(). Failures return negative errno codes; dir_error() holds the
 * text (what failed, the LDAP error, the server's diagnostic). Nothing here
 * logs.
 */
#ifndef ROSTERD_DIR_H
#define ROSTERD_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct dir;

/* One attribute value as read: binary-safe, not NUL-terminated. */
struct dir_val {
	const char *data;
	size_t len;
};

/* Connect to the first URI of the list that answers, set up TLS as configured
 * (certificate checking always on; a StartTLS failure never falls back to
 * plaintext) and bind. A password is never sent in clear over the network
 * unless ldap.allow_plaintext_bind says so: such a URI fails (-EPROTO).
 * Returns 0, -EHOSTUNREACH (no server answered), -EACCES (bind refused),
 * -EPROTO (TLS failed or would be needed), -ENOKEY (the password file or
 * credential cannot be read) or -ENOMEM, with detail in err. */
int dir_connect(const struct conf *cf, struct dir **out, char *err, size_t errlen);
void dir_close(struct dir *d);
/* Whether a simple bind with a password to uri would cross the network in
 * clear: an ldap:// URI, without StartTLS, to a host other than the loopback
 * (127.0.0.0/8, ::1, localhost). Never for ldaps:// and ldapi://; always for
 * a URI that does not parse. */
bool dir_uri_cleartext(const char *uri, bool starttls);
/* Whether cf binds with a password (bind_dn set) and one of its URIs would
 * send it in clear (dir_uri_cleartext); that URI is then copied into uri. */
bool dir_cleartext_bind(const struct conf *cf, char *uri, size_t len);
/* The URI the connection was made to. */
const char *dir_uri(const struct dir *d);

/* Start a paged subtree (or one-level) search returning attrs (a NULL-ended
 * list of distinct names). Entries then come from dir_next(). Returns 0 or
 * negative. */
int dir_search(struct dir *d, const char *base, enum search_scope scope,
	       const char *filter, const char *const *attrs);
/* Ask for attribute attr (when a search requests it) in ranges of size
 * values, from the first: "member;range=0-99", then "member;range=100-199"
 * and so on, as Active Directory's range retrieval takes them, instead of
 * as the server chooses to send it. Applies to the searches started after
 * it; attr NULL or size 0: none. Only a server whose root DSE says it is
 * Active Directory (supportedCapabilities) is asked so: another would send
 * no values of "member;range=0-99". */
void dir_set_range(struct dir *d, const char *attr, unsigned long size);
/* The next entry of the search: 1 with *dn set (valid until the next call),
 * 0 when the search has ended in success (the read is complete), or negative
 * when it ended any other way: -ERANGE (size limit), -ETIME (time limit),
 * -EPERM (admin limit), -EREMOTE (unfollowed referral), -ETIMEDOUT (no reply
 * in time), -ECONNRESET (connection lost), -EIO (other); dir_error() says more.
 * An attribute the server sends in ranges ("member;range=0-1499", as Active
 * Directory does past MaxValRange values) is fetched whole before the entry
 * is handed out, by base searches of the entry for the next ranges on the
 * same connection. When that fails, the entry is handed out with the values
 * read so far (dir_entry_ranged() says so), no later entry's ranges are
 * asked for, and a search that ends in success ends with that failure's
 * error instead: it is not complete. */
int dir_next(struct dir *d, const char **dn);
/* While dir_next() waits for the server, call fn(arg) every quarter of a
 * second; when it returns non-zero the search is abandoned and dir_next()
 * returns -ECANCELED. fn NULL: wait the whole ldap.timeout. */
void dir_set_interrupt(struct dir *d, int (*fn)(void *arg), void *arg);
/* Values of the current entry's attribute number i (index into the attrs
 * list given to dir_search), all its ranges joined; *n = 0 when it has
 * none. Valid until dir_next. */
const struct dir_val *dir_values(struct dir *d, size_t i, size_t *n);
/* Whether the current entry has a requested attribute whose values came in
 * part only: its further ranges could not be fetched. */
bool dir_entry_ranged(const struct dir *d);

/* A range option of an attribute description, "ATTR;range=LO-HI" (values LO
 * to HI, counted from 0) or "ATTR;range=LO-*" (LO to the last). */
struct dir_range {
	unsigned long lo, hi;   /* hi: when not last */
	bool last;
};
/* Whether the attribute description desc (len bytes, not NUL-terminated)
 * names the attribute name (ASCII case ignored): 0 plain, 1 with a range
 * option (in *rg), -EINVAL with a range option that is not LO-HI with
 * LO <= HI or LO-*, -ENOENT another attribute or another option. */
int dir_range_parse(const char *desc, size_t len, const char *name, struct dir_range *rg);
/* ---- content synchronisation (RFC 4533, refreshOnly) ---------------------
 *
 * dir_sync_search() asks for what changed in base/scope/filter since cookie
 * (NULL: everything, each entry as added); its items then come from
 * dir_next() like a search's entries, dir_sync_item() saying what each is:
 * an entry added or changed (its values read with dir_values()), an entry
 * unchanged and present, or an entry deleted (these two by entryUUID only;
 * an item of an ID set has the DN ""). dir_next() ends with 0 when the
 * server has sent all, or as a search fails, -ESTALE when the server
 * refuses the cookie (e-syncRefreshRequired: synchronise from nothing), and
 * -EOPNOTSUPP when it refuses the control (no syncprov on that database).
 * After the end, dir_sync_cookie() is the cookie to keep and
 * dir_sync_present_phase() says what the unmentioned entries are: with a
 * present phase, gone (every entry still there was presented or sent);
 * without one, unchanged (the deletions were sent). 389-DS names entries by
 * their nsUniqueId (its 16 bytes), not by entryUUID; it never sends a
 * present phase after a cookie, whatever its Sync Done says. */
enum dir_sync_kind { DIR_SYNC_ENTRY, DIR_SYNC_PRESENT, DIR_SYNC_DELETE };
int dir_sync_search(struct dir *d, const char *base, enum search_scope scope,
		    const char *filter, const char *const *attrs, const void *cookie,
		    size_t len);
/* What the current item is, and its entryUUID (16 bytes). */
enum dir_sync_kind dir_sync_item(const struct dir *d, unsigned char uuid[16]);
/* The newest cookie the server sent (NULL: none), valid until the next
 * search. */
const void *dir_sync_cookie(const struct dir *d, size_t *len);
bool dir_sync_present_phase(const struct dir *d);
/* The same in refreshAndPersist mode: dir_next() hands out the refresh
 * stage and returns 0 at its end (the Sync Info that says refreshDone), as
 * a refreshOnly search ends; dir_sync_cookie() and dir_sync_present_phase()
 * then say the same. The search goes on: its persist stage, the changes as
 * they are made, comes from dir_sync_poll(). -ENOTCONN when the server ends
 * the search, -ESTALE when it ends it asking for a refresh from nothing. */
int dir_persist_search(struct dir *d, const char *base, enum search_scope scope,
		       const char *filter, const char *const *attrs, const void *cookie,
		       size_t len);
/* As dir_next(), without waiting in a persist stage: -EAGAIN when the server
 * has sent nothing more yet. */
int dir_sync_poll(struct dir *d, const char **dn);
/* The connection's socket, to wait on with poll(2) for dir_sync_poll();
 * messages libldap has read already are not seen there, so poll once with
 * dir_sync_poll() before waiting. -1: none. */
int dir_fd(const struct dir *d);
/* Whether the server answers on this connection: a read of the root DSE
 * (ldap.timeout at most) while a search may be in progress. 0, or negative
 * as dir_next() (-ETIMEDOUT, -ECONNRESET); dir_error says why. */
int dir_ping(struct dir *d);
/* Whether the current entry came with attributes the search did not ask for
 * and without some it asked for: the server ignored the attribute list (as
 * 389-DS does with the entries of a refresh from a cookie: every user
 * attribute, no operational one), so an attribute absent is not known to be
 * cleared. */
bool dir_entry_short(const struct dir *d);
/* After a search that ended in success (dir_next() returned 0): read the n
 * entries of dns again, each by a base search with the search's filter and
 * attributes, several in flight at a time on the connection. dir_next() then
 * hands them out, in the order of dns, and dir_reread_index() says which of
 * dns the current one is; an entry gone or no longer matching the filter is
 * left out. dir_next() ends with 0, or with the first failure once the
 * replies in flight are taken (no further search is sent after it). What
 * the search itself gave (its cookie, its present phase) stays. Also in the
 * persist stage of a persistent search, which goes on after the re-reads:
 * dir_sync_poll() hands them out first, then ends them with 0 (the search
 * not ended). 0, -EINVAL (no search ended in success, none persisting),
 * -ENOMEM. */
int dir_reread(struct dir *d, const char *const *dns, size_t n);
size_t dir_reread_index(const struct dir *d);
/* Whether the server is 389 Directory Server (its root DSE's vendorName). */
bool dir_server_389ds(const struct dir *d);
/* Whether the server's root DSE lists the content synchronisation control
 * in supportedControl: 1, 0, or negative when it cannot be read (dir_error
 * says why). */
int dir_has_sync(struct dir *d);

/* Which of the n attribute names (names or OIDs, case ignored) the server's
 * schema defines (the attributeTypes of the subschemaSubentry the root DSE
 * names): known[i] for names[i]. 0, -ENOENT when the schema cannot be found
 * or read by this account, or negative as a search fails (dir_error says
 * why). */
int dir_schema_known(struct dir *d, const char *const *names, size_t n, bool *known);

/* The first value of attribute attr of entry dn ("": the root DSE), read by
 * a base search, into a new string the caller frees (NUL-terminated; a
 * binary value's length in *len when len is not NULL). 0, -ENOENT when the
 * entry has no such value or this account cannot read it, or negative as a
 * search fails (dir_error says why). */
int dir_read_value(struct dir *d, const char *dn, const char *attr, char **out, size_t *len);

/* Text of the last failure: what failed, the LDAP error and the server's
 * diagnostic message. */
const char *dir_error(const struct dir *d);
/* Escape a value for use inside a search filter (RFC 4515): *out is a new
 * string ("" for an empty value) the caller frees with free(). */
int dir_filter_escape(const char *in, size_t len, char **out);

#endif
