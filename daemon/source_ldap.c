/*
 * source_ldap.c: the directory of the config as a source (source.h), read
 * by a paged search (source_ldap_new), by RFC 4533 refreshOnly
 * (source_refresh_new), or followed by RFC 4533 refreshAndPersist
 * (source_persist_new: the session, at the end of this file).
 *
 * It joins the directory client (dir.c: connection, searches, ranges) with
 * the attribute maps (attrmap.c): each entry dir_next() hands out is mapped
 * to a person or a group before it goes to the run. A search that ends in
 * anything but success ends the read, not whole, with dir_error()'s text.
 *
 * The refresh source keeps, through the run's state, a cookie for the
 * people and one for the groups, with a fingerprint of what was searched
 * (bases, scopes, filters, attribute lists) and when the last refresh from
 * nothing was made. People: what changed since the cookie, the unchanged
 * ones named when the server has a present phase, the deleted ones named
 * otherwise. Groups: when a person changed in a way members are matched by
 * (the run says: source.members_same), or the groups' own refresh says a
 * group did, every group is read again (a refresh from nothing,
 * which also gives the new cookie); otherwise none is read and the run
 * keeps the groups as they are. No cookie, one the server refuses, a
 * fingerprint that differs (the config changed) or a last refresh from
 * nothing older than sync.full_every: a refresh from nothing, every entry
 * sent, which is a full read. A cookie is kept only by a run whose reads
 * were both whole and that committed. A server without the sync control is
 * read by the paged search, which keeps no state.
 *
 * Entries come whole. A server may send the entries of a refresh from a
 * cookie without the attributes asked for (389-DS sends every user attribute
 * and no operational one: no nsUniqueId, no nsAccountLock); such an entry is
 * kept aside and, once the refresh has ended, read again by a base search
 * (dir_reread: several in flight), so that an attribute the server left out
 * is never taken for one cleared. Entries are named by the 16 bytes of
 * entryUUID (OpenLDAP) or of nsUniqueId (389-DS), written as the id
 * attribute writes them; an entry whose id is not the one the server names
 * it by ends the read, not whole.
 */
#include "attrmap.h"
#include "dir.h"
#include "source.h"
#include "util.h"
#include "source_ldap.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct source_ldap {
	struct source s;
	const struct conf *cf;
	struct dir *dir;
	struct amap *map;
	struct gmap *gmap;
	enum source_read what;   /* the read in progress */
	int search;              /* dir_search()'s result for it */
	int ended;               /* 0 reading; 1 ended whole; -1 ended short */
	char reason[1024];       /* why the current entry is rejected */

	/* source_refresh_new only */
	bool refresh;
	bool syncing;            /* the read in progress is a content sync */
	bool probing;            /* the groups' refresh, before deciding */
	bool whole;              /* whole() of the read that ended */
	long long handed;        /* items the read in progress handed out */
	long long people_changes;  /* entries added, changed or gone */
	bool changed;            /* the groups' refresh named a change */
	bool people_ok, groups_ok;  /* the reads ended whole */
	uint64_t fp;             /* of what is searched */
	long long full_at;       /* time of the last refresh from nothing */
	bool people_full, groups_full;  /* this run refreshes from nothing */
	struct cookie { unsigned char *data; size_t len; } kept_people, kept_groups,
		new_people, new_groups;
	char id[37];             /* the dir_id of an unchanged or gone entry */
	/* The entryUUIDs of the people a refresh from a cookie sent changed,
	 * sorted before the groups' refresh: a server that keeps a session log
	 * (slapd) names them gone to the groups' refresh as well. (Deletions
	 * are not kept: slapd, and 389-DS, send every deletion to every
	 * refresh, that of a group to the people's refresh too.) */
	unsigned char (*sent)[16];
	size_t nsent, sent_cap;
	char *state;             /* what state() hands out */
	bool unique_id;          /* ids are nsUniqueId's 8-8-8-8 (389-DS) */
	/* The entries the read in progress sent without every attribute asked
	 * for, read again when it has ended (rereading). */
	struct { char **dns; unsigned char (*uuid)[16]; size_t n, cap; } pend;
	bool rereading;

	/* source_persist_new only: a session (two persistent searches, each on
	 * its own connection) outlives the run that starts it; each later run
	 * is a batch of what they push. */
	bool persist;
	struct dir *pdir, *gdir; /* the people's and the groups' connections */
	bool live;               /* both searches are in their persist stage */
	bool unsupported;        /* the last start found no content sync */
	bool in_batch;           /* the run in progress is a batch */
	bool batch;              /* the read in progress is a batch's */
	bool stale;              /* the store's cookie went (rosterctl resync) */
	bool from_nothing;       /* the next session ignores the kept cookie */
	bool tick;               /* the next run is the periodic one (a refresh) */
	bool held, gheld;        /* an item of pdir (gdir) waits for the next
				    batch: that connection's current entry */
	const char *held_dn, *gheld_dn;
	double first_at;         /* when the batch's first item came */
	struct idset { unsigned char (*id)[16]; size_t n, cap; } ids;  /* the batch's */
};

static void pending_clear(struct source_ldap *l);

static const struct dir_val *
entry_values(void *arg, size_t i, size_t *n)
{
	return dir_values(arg, i, n);
}

/* ---- the operations, as source.h describes them ---------------------------- */

static int refresh_begin(struct source_ldap *l, const char *kept);

int
source_interrupt(void *arg)
{
	struct source *s = arg;

	return s->interrupt != NULL ? s->interrupt(s->interrupt_arg) : 0;
}

static int
ldap_begin(struct source *s, const char *kept)
{
	struct source_ldap *l = (struct source_ldap *)s;
	int r;

	if ((r = dir_connect(l->cf, &l->dir, s->err, sizeof(s->err))) < 0)
		return r;
	s->uri = dir_uri(l->dir);
	dir_set_interrupt(l->dir, source_interrupt, s);
	return l->refresh ? refresh_begin(l, kept) : 0;
}

/* Build the map the read of what needs: 0 or -ENOMEM. */
static int
maps_new(struct source_ldap *l, enum source_read what)
{
	int r = 0;

	if (what == SOURCE_PEOPLE && l->map == NULL && (r = amap_new(l->cf, &l->map)) < 0)
		snprintf(l->s.err, sizeof(l->s.err), "cannot build the attribute map");
	if (what == SOURCE_GROUPS && l->gmap == NULL && (r = gmap_new(l->cf, &l->gmap)) < 0)
		snprintf(l->s.err, sizeof(l->s.err), "cannot build the group map");
	return r;
}

/* Start the search of what: paged, or a content synchronisation from
 * cookie (NULL: from nothing) when sync. */
static void
search_start(struct source_ldap *l, enum source_read what, bool sync, const struct cookie *c)
{
	const struct conf *cf = l->cf;
	bool people = what == SOURCE_PEOPLE;
	const char *base = people ? cf->ldap.users.base : cf->ldap.groups.base;
	const char *filter = people ? cf->ldap.users.filter : cf->ldap.groups.filter;
	enum search_scope scope = people ? cf->ldap.users.scope : cf->ldap.groups.scope;
	const char *const *attrs = people ? amap_attrs(l->map) : gmap_attrs(l->gmap);

	l->syncing = sync;
	l->handed = 0;
	/* AD's groups have one member attribute: the first (member) */
	dir_set_range(l->dir, people || cf->ldap.groups.nmember_attrs == 0 ? NULL :
		      cf->ldap.groups.member_attrs[0],
		      people ? 0 : (unsigned long)cf->ldap.groups.range_size);
	if (sync && l->persist)
		l->search = dir_persist_search(l->dir, base, scope, filter, attrs,
					       c != NULL ? c->data : NULL, c != NULL ? c->len : 0);
	else if (sync)
		l->search = dir_sync_search(l->dir, base, scope, filter, attrs,
					    c != NULL ? c->data : NULL, c != NULL ? c->len : 0);
	else
		l->search = dir_search(l->dir, base, scope, filter, attrs);
}

static int refresh_read(struct source_ldap *l, enum source_read what);
static int batch_read(struct source_ldap *l, enum source_read what);

static int
ldap_read(struct source *s, enum source_read what)
{
	struct source_ldap *l = (struct source_ldap *)s;
	int r;

	l->what = what;
	l->ended = 0;
	l->whole = true;
	l->rereading = false;
	pending_clear(l);
	if ((r = maps_new(l, what)) < 0)
		return r;
	if (l->persist)
		l->dir = what == SOURCE_PEOPLE || l->gdir == NULL ? l->pdir : l->gdir;
	if (l->in_batch)
		return batch_read(l, what);
	if (l->refresh)
		return refresh_read(l, what);
	search_start(l, what, false, NULL);
	return 0;
}

int
source_map(struct source *s, struct dir *d, struct amap *map, struct gmap *gmap,
	   enum source_read what, const char *dn, struct source_entry *e, char *reason,
	   size_t len)
{
	int r;

	memset(e, 0, sizeof(*e));
	e->dn = dn;
	if (what == SOURCE_PEOPLE) {
		r = amap_person(map, dn, entry_values, d, &e->person, reason, len);
		s->bad_dns = amap_bad_dns(map);
	} else {
		r = gmap_group(gmap, dn, entry_values, d, &e->group, reason, len);
		e->group.partial = dir_entry_ranged(d);
		s->bad_members = gmap_bad_members(gmap);
	}
	if (r < 0) {
		snprintf(s->err, sizeof(s->err), "cannot map \"%s\": %s", dn, strerror(-r));
		return r;
	}
	if (r == 1)
		e->reject = reason;
	return 0;
}

/* Map the current entry, dn, for the read in progress: 0 (taken or
 * rejected) or -ENOMEM. */
static int
map_entry(struct source_ldap *l, const char *dn, struct source_entry *e)
{
	return source_map(&l->s, l->dir, l->map, l->gmap, l->what, dn, e, l->reason,
			  sizeof(l->reason));
}

static int sync_item(struct source_ldap *l, const char *dn, struct source_entry *e);
static int sync_ended(struct source_ldap *l, int r);
static int batch_next(struct source_ldap *l, struct source_entry *e);

static int
ldap_next(struct source *s, struct source_entry *e)
{
	struct source_ldap *l = (struct source_ldap *)s;
	const char *dn;
	int r;

	if (l->batch)
		return batch_next(l, e);
	for (;;) {
		if (l->ended != 0)
			return 0;
		r = l->search < 0 ? l->search : dir_next(l->dir, &dn);
		if (r == 1 && l->syncing)
			r = sync_item(l, dn, e);
		else if (r == 1)
			r = (r = map_entry(l, dn, e)) < 0 ? r : 1;
		else if (r != -ECANCELED && l->syncing)
			r = sync_ended(l, r);   /* 2: go on (a new search started) */
		else if (r != -ECANCELED) {
			l->ended = r == 0 ? 1 : -1;
			if (r < 0)
				snprintf(s->err, sizeof(s->err), "%s", dir_error(l->dir));
			r = 0;
		}
		if (r != 2)
			return r;
	}
}

static bool
ldap_complete(const struct source *s)
{
	return ((const struct source_ldap *)s)->ended == 1;
}

static bool
ldap_whole(const struct source *s)
{
	return ((const struct source_ldap *)s)->whole;
}

/* A refresh of the people from a cookie: what changed since. */
static bool
refresh_changes_only(const struct source *s)
{
	const struct source_ldap *l = (const struct source_ldap *)s;

	return l->refresh && l->syncing && l->what == SOURCE_PEOPLE && !l->people_full;
}

static void
ldap_end(struct source *s)
{
	struct source_ldap *l = (struct source_ldap *)s;

	amap_free(l->map);
	gmap_free(l->gmap);
	dir_close(l->dir);
	l->map = NULL;
	l->gmap = NULL;
	l->dir = NULL;
	s->uri = NULL;
}

static void
cookie_free(struct cookie *c)
{
	free(c->data);
	c->data = NULL;
	c->len = 0;
}

static void session_close(struct source_ldap *l);

static void
ldap_free(struct source *s)
{
	struct source_ldap *l = (struct source_ldap *)s;

	if (s == NULL)
		return;
	if (l->persist)
		session_close(l);
	ldap_end(s);
	cookie_free(&l->kept_people);
	cookie_free(&l->kept_groups);
	cookie_free(&l->new_people);
	cookie_free(&l->new_groups);
	free(l->sent);
	free(l->state);
	free(l->ids.id);
	pending_clear(l);
	free(l->pend.dns);
	free(l->pend.uuid);
	free(s);
}


/* ---- RFC 4533 refreshOnly ---------------------------------------------------- */

/* The hex of a cookie, "-" for none, into a new string; NULL: no memory. */
static char *
cookie_hex(const struct cookie *c)
{
	char *h = malloc(c->len > 0 ? 2 * c->len + 1 : 2);

	if (h == NULL)
		return NULL;
	if (c->data == NULL || c->len == 0)
		return strcpy(h, "-");
	for (size_t i = 0; i < c->len; i++)
		snprintf(h + 2 * i, 3, "%02x", c->data[i]);
	return h;
}

/* A cookie from n hex digits at h ("-": none): 0 or -EINVAL, -ENOMEM. */
static int
cookie_unhex(const char *h, size_t n, struct cookie *c)
{
	cookie_free(c);
	if (n == 1 && h[0] == '-')
		return 0;
	if (n == 0 || n % 2 != 0)
		return -EINVAL;
	if ((c->data = malloc(n / 2)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1) {
			cookie_free(c);
			return -EINVAL;
		}
		c->data[i] = (unsigned char)v;
	}
	c->len = n / 2;
	return 0;
}

/* A copy of the newest cookie d's search gave into c; none given: c keeps
 * what it has. */
static int
cookie_take_from(struct dir *d, struct cookie *c)
{
	size_t len = 0;
	const void *v = dir_sync_cookie(d, &len);
	unsigned char *copy;

	if (v == NULL || len == 0)
		return 0;
	if ((copy = malloc(len)) == NULL)
		return -ENOMEM;
	memcpy(copy, v, len);
	cookie_free(c);
	c->data = copy;
	c->len = len;
	return 0;
}

/* The same from the search that just ended, or is being read. */
static int
cookie_take(struct source_ldap *l, struct cookie *c)
{
	return cookie_take_from(l->dir, c);
}

void
source_fnv(uint64_t *h, const char *s)
{
	for (; s != NULL && *s; s++)
		*h = (*h ^ (unsigned char)*s) * 0x100000001b3ULL;
	*h = (*h ^ 0xff) * 0x100000001b3ULL;   /* the end of one string */
}

uint64_t
source_fingerprint(const struct conf *cf, const struct amap *map, const struct gmap *gmap)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char scope[8];

	source_fnv(&h, cf->ldap.users.base);
	source_fnv(&h, cf->ldap.users.filter);
	snprintf(scope, sizeof(scope), "%d", (int)cf->ldap.users.scope);
	source_fnv(&h, scope);
	for (const char *const *a = amap_attrs(map); *a != NULL; a++)
		source_fnv(&h, *a);
	if (cf->ldap.groups.base != NULL) {
		source_fnv(&h, cf->ldap.groups.base);
		source_fnv(&h, cf->ldap.groups.filter);
		snprintf(scope, sizeof(scope), "%d", (int)cf->ldap.groups.scope);
		source_fnv(&h, scope);
		for (const char *const *a = gmap_attrs(gmap); *a != NULL; a++)
			source_fnv(&h, *a);
	}
	return h;
}

/* Take the cookies of the state a run kept, "v1 fp=HEX full=T people=HEX
 * groups=HEX", when it was kept for the same searches and the last refresh
 * from nothing is recent enough; otherwise none (a refresh from nothing). */
static int
kept_parse(struct source_ldap *l, const char *kept)
{
	unsigned long long fp;
	long long full;
	const char *p, *g;
	int n = 0, r;

	if (kept == NULL || sscanf(kept, "v1 fp=%16llx full=%lld people=%n", &fp, &full, &n) != 2 ||
	    n == 0 || fp != l->fp)
		return 0;
	if (l->cf->sync.full_every > 0 && (long long)time(NULL) - full >= l->cf->sync.full_every)
		return 0;
	p = kept + n;
	if ((g = strstr(p, " groups=")) == NULL)
		return 0;
	if ((r = cookie_unhex(p, (size_t)(g - p), &l->kept_people)) == -ENOMEM ||
	    (r = cookie_unhex(g + 8, strlen(g + 8), &l->kept_groups)) == -ENOMEM)
		return r;
	if (r < 0) {   /* not ours: start from nothing */
		cookie_free(&l->kept_people);
		cookie_free(&l->kept_groups);
		return 0;
	}
	l->full_at = full;
	return 0;
}

/* Refresh only where it can: entries named by entryUUID, a server with the
 * sync control. Otherwise the paged search, said once by the process. */
/* Read with the paged search from now on, for why; the first time in the
 * process, why goes to the run's log. */
static void
refresh_off(struct source_ldap *l, const char *why)
{
	static bool told;

	l->refresh = false;
	l->syncing = false;
	if (!told)
		snprintf(l->s.note, sizeof(l->s.note), "%s; reading everything in each run "
			 "instead", why);
	told = true;
}

static int
refresh_begin(struct source_ldap *l, const char *kept)
{
	const char *why = NULL;
	int r;

	l->unique_id = strcasecmp(l->cf->ldap.id_attr, "nsUniqueId") == 0;
	if (!l->unique_id && strcasecmp(l->cf->ldap.id_attr, "entryUUID") != 0)
		why = "sync.mode \"refresh\" (or \"persist\") needs ldap.attributes.id = "
		      "\"entryUUID\" (\"nsUniqueId\" on 389-DS), by which the server names "
		      "entries";
	else if (l->cf->ldap.member_of_attr != NULL && l->cf->ldap.groups.nmember_attrs == 0 &&
		 !dir_server_389ds(l->dir))
		why = "sync.mode \"refresh\" (or \"persist\") with memberships from memberOf "
		      "alone needs a server that sends a person whose memberOf changed (389-DS "
		      "does; OpenLDAP's memberof overlay does not): set "
		      "ldap.groups.member_attribute too";
	else if (l->cf->ldap.groups.primary_group)
		why = "sync.mode \"refresh\" (or \"persist\") does not yet read the people's "
		      "primary groups (ldap.groups.primary_group)";
	else if ((r = dir_has_sync(l->dir)) <= 0)
		why = r < 0 ? dir_error(l->dir) : "the server does not offer content "
		      "synchronisation (RFC 4533: no syncprov, no 389-DS Content Synchronization "
		      "plugin, or not to this account)";
	if (why != NULL) {
		refresh_off(l, why);
		return 0;
	}
	if ((r = maps_new(l, SOURCE_PEOPLE)) < 0 ||
	    (l->cf->ldap.groups.base != NULL && (r = maps_new(l, SOURCE_GROUPS)) < 0))
		return r;
	l->fp = source_fingerprint(l->cf, l->map, l->gmap);
	l->groups_ok = l->cf->ldap.groups.base == NULL;
	return kept_parse(l, kept);
}

static int
uuid_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* Keep the entryUUID of a person a refresh from a cookie sent changed: 0
 * or -ENOMEM. */
static int
sent_add(struct source_ldap *l, const unsigned char u[16])
{
	if (l->nsent == l->sent_cap) {
		size_t cap = l->sent_cap ? 2 * l->sent_cap : 256;
		unsigned char (*n)[16] = realloc(l->sent, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		l->sent = n;
		l->sent_cap = cap;
	}
	memcpy(l->sent[l->nsent++], u, 16);
	return 0;
}

/* Whether an item of the groups' refresh says a group changed. A deletion
 * of an entry the people's refresh sent changed is not one: a server with a
 * session log (slapd) names every entry written since the cookie that its
 * search did not send as deleted (so an entry both a person and a group that
 * stopped being a group is taken for a person: its group is read again
 * with the next group change, or sync.full_every). */
static bool
probe_changed(const struct source_ldap *l, enum dir_sync_kind k, const unsigned char u[16])
{
	if (k == DIR_SYNC_PRESENT)
		return false;
	return k != DIR_SYNC_DELETE || l->nsent == 0 ||
	       bsearch(u, l->sent, l->nsent, sizeof(*l->sent), uuid_cmp) == NULL;
}

static int
refresh_read(struct source_ldap *l, enum source_read what)
{
	if (what == SOURCE_PEOPLE) {
		l->nsent = 0;
		l->people_full = l->kept_people.data == NULL;
		search_start(l, what, true, l->people_full ? NULL : &l->kept_people);
		return 0;
	}
	/* The members of every group are matched against the people again
	 * when a person changed in a way they are matched by (the run says),
	 * or in any way when memberships are read from the people (memberOf):
	 * a changed memberOf is applied only when the groups are worked out. */
	l->groups_full = (l->people_changes > 0 &&
			  (!l->s.members_same || l->cf->ldap.member_of_attr != NULL)) ||
			 l->people_full || l->kept_groups.data == NULL;
	l->probing = !l->groups_full;
	if (l->probing && l->nsent > 0)
		qsort(l->sent, l->nsent, sizeof(*l->sent), uuid_cmp);
	search_start(l, what, true, l->groups_full ? NULL : &l->kept_groups);
	return 0;
}

/* The text of the directory id the server named u by: entryUUID's 8-4-4-4-12
 * hex groups, or nsUniqueId's 8-8-8-8. */
static void
uuid_text(const struct source_ldap *l, const unsigned char u[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t at = 0;

	for (int i = 0; i < 16; i++) {
		if (l->unique_id ? i == 4 || i == 8 || i == 12 : i == 4 || i == 6 || i == 8 || i == 10)
			out[at++] = '-';
		out[at++] = hex[u[i] >> 4];
		out[at++] = hex[u[i] & 15];
	}
	out[at] = '\0';
}

/* Whether the id text id holds the 16 bytes u (hex, any case, dashes
 * anywhere). */
static bool
uuid_is(const char *id, const unsigned char u[16])
{
	char want[37];
	size_t k = 0;

	for (int i = 0; i < 16; i++)
		snprintf(want + 2 * i, 3, "%02x", u[i]);
	for (; *id != '\0'; id++) {
		if (*id == '-')
			continue;
		if (k == 32 || tolower((unsigned char)*id) != want[k])
			return false;
		k++;
	}
	return k == 32;
}

/* Map an entry the synchronisation named u: 1, or 0 with the read ended
 * (not whole) when the entry's id is not the one the server names it by,
 * or -ENOMEM. */
static int
sync_entry(struct source_ldap *l, const char *dn, const unsigned char u[16],
	   struct source_entry *e)
{
	const char *id;
	char named[37];
	int r;

	if ((r = map_entry(l, dn, e)) < 0)
		return r;
	id = l->what == SOURCE_PEOPLE ? e->person.dir_id : e->group.dir_id;
	if (id == NULL || uuid_is(id, u))
		return 1;
	uuid_text(l, u, named);
	snprintf(l->s.err, sizeof(l->s.err), "content synchronisation names \"%s\" %s, but its "
		 "%s is %s: ldap.attributes.id must be the attribute the server names entries "
		 "by (entryUUID; nsUniqueId on 389-DS)", dn, named, l->cf->ldap.id_attr, id);
	l->ended = -1;
	return 0;
}

/* Keep the entry dn, named u, to read again when the read has ended: 0 or
 * -ENOMEM. */
static int
pending_add(struct source_ldap *l, const char *dn, const unsigned char u[16])
{
	if (l->pend.n == l->pend.cap) {
		size_t cap = l->pend.cap ? 2 * l->pend.cap : 64;
		char **d = realloc(l->pend.dns, cap * sizeof(*d));
		unsigned char (*v)[16];

		if (d == NULL)
			return -ENOMEM;
		l->pend.dns = d;
		if ((v = realloc(l->pend.uuid, cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		l->pend.uuid = v;
		l->pend.cap = cap;
	}
	if ((l->pend.dns[l->pend.n] = strdup(dn)) == NULL)
		return -ENOMEM;
	memcpy(l->pend.uuid[l->pend.n++], u, 16);
	return 0;
}

static void
pending_clear(struct source_ldap *l)
{
	for (size_t i = 0; i < l->pend.n; i++)
		free(l->pend.dns[i]);
	l->pend.n = 0;
}

/* An item of a content synchronisation as an entry: 1, 2 (taken, none to
 * hand out: go on), 0 (the read ended, not whole), or -ENOMEM. */
static int
sync_item(struct source_ldap *l, const char *dn, struct source_entry *e)
{
	unsigned char u[16];
	enum dir_sync_kind k = dir_sync_item(l->dir, u);
	bool people = l->what == SOURCE_PEOPLE;
	int r;

	if (l->rereading)   /* an entry read again, named as when it was sent */
		return sync_entry(l, dn, l->pend.uuid[dir_reread_index(l->dir)], e);
	l->handed++;
	if (l->probing) {   /* the groups' refresh says only whether one changed */
		l->changed |= probe_changed(l, k, u);
		return 2;
	}
	if (people && k != DIR_SYNC_PRESENT)
		l->people_changes++;
	if (people && k == DIR_SYNC_ENTRY && !l->people_full && (r = sent_add(l, u)) < 0) {
		snprintf(l->s.err, sizeof(l->s.err), "no memory");
		return r;
	}
	if (k == DIR_SYNC_ENTRY && dir_entry_short(l->dir)) {
		if ((r = pending_add(l, dn, u)) < 0)
			snprintf(l->s.err, sizeof(l->s.err), "no memory");
		return r < 0 ? r : 2;
	}
	if (k == DIR_SYNC_ENTRY)
		return sync_entry(l, dn, u, e);
	memset(e, 0, sizeof(*e));
	uuid_text(l, u, l->id);
	e->kind = k == DIR_SYNC_PRESENT ? SOURCE_UNCHANGED : SOURCE_GONE;
	e->dn = dn;
	e->person.dir_id = e->group.dir_id = l->id;
	return 1;
}

/* A content synchronisation ended with r: 0 (the read ends; how, in
 * l->ended and l->whole), 2 (another search started: go on), or -ENOMEM. */
static int
sync_ended(struct source_ldap *l, int r)
{
	bool people = l->what == SOURCE_PEOPLE;

	if (l->rereading) {
		l->rereading = false;
		pending_clear(l);
	} else if (r == 0 && l->pend.n > 0) {
		/* Sent without every attribute asked for: read them again. */
		if ((r = dir_reread(l->dir, (const char *const *)l->pend.dns, l->pend.n)) < 0) {
			snprintf(l->s.err, sizeof(l->s.err), "no memory");
			return r;
		}
		l->rereading = true;
		return 2;
	}

	if (r == -EOPNOTSUPP && l->handed == 0) {
		/* The rootDSE named the control, the database refuses it. */
		char why[sizeof(l->s.note) - 64];

		snprintf(why, sizeof(why), "the server does not offer content synchronisation "
			 "here (%s)", dir_error(l->dir));
		refresh_off(l, why);
		search_start(l, l->what, false, NULL);
		return 2;
	}
	if (r == -ESTALE && l->handed == 0 && (people ? !l->people_full : !l->groups_full)) {
		/* The server refuses the cookie: from nothing. */
		if (people)
			l->people_full = true;
		l->groups_full = !people;
		l->probing = false;
		search_start(l, l->what, true, NULL);
		return 2;
	}
	if (l->probing) {
		l->probing = false;
		if (r == 0 && !l->changed && !dir_sync_present_phase(l->dir)) {
			l->ended = 1;
			l->whole = false;   /* the groups are as they were */
			l->groups_ok = true;
			return cookie_take(l, &l->new_groups);
		}
		l->groups_full = true;   /* changed, or not known: all again */
		search_start(l, l->what, true, NULL);
		return 2;
	}
	l->ended = r == 0 ? 1 : -1;
	if (r < 0) {
		snprintf(l->s.err, sizeof(l->s.err), "%s", dir_error(l->dir));
		return 0;
	}
	/* A refresh from nothing sent every entry there is, whatever its last
	 * phase says: the store's people it did not send are gone. */
	l->whole = (people ? l->people_full : l->groups_full) || dir_sync_present_phase(l->dir);
	if (people)
		l->people_ok = true;
	else
		l->groups_ok = true;
	return cookie_take(l, people ? &l->new_people : &l->new_groups);
}

/* The state to keep: the newest cookies, when both reads were whole. */
static const char *
refresh_state(const struct source *s)
{
	struct source_ldap *l = (struct source_ldap *)s;
	const struct cookie *p = l->new_people.data ? &l->new_people : &l->kept_people;
	const struct cookie *g = l->new_groups.data ? &l->new_groups : &l->kept_groups;
	char *ph = NULL, *gh = NULL;

	/* A batch after rosterctl resync keeps none: the session starts again
	 * from nothing. */
	if (!l->refresh || !l->people_ok || !l->groups_ok || l->stale)
		return NULL;
	free(l->state);
	l->state = NULL;
	if (l->people_full)   /* the batches of a session keep its time */
		l->full_at = (long long)time(NULL);
	if ((ph = cookie_hex(p)) != NULL && (gh = cookie_hex(g)) != NULL &&
	    asprintf(&l->state, "v1 fp=%016llx full=%lld people=%s groups=%s",
		     (unsigned long long)l->fp, l->full_at, ph, gh) < 0)
		l->state = NULL;
	free(ph);
	free(gh);
	return l->state;
}

/* What the run read, for its record. */
static const char *
refresh_kind(const struct source *s)
{
	const struct source_ldap *l = (const struct source_ldap *)s;

	if (!l->refresh)
		return "full";
	if (l->tick)
		return "refresh";
	if (l->in_batch || l->live)   /* live: the run about to begin is a batch */
		return "incremental";
	return l->people_full ? "full" : "refresh";
}

/* ---- RFC 4533 refreshAndPersist: the session of sync.mode "persist" ---------- */

bool
source_batch_closes(long long n, double elapsed_ms, int batch_ms, int batch_max)
{
	return n >= batch_max || (n > 0 && elapsed_ms >= batch_ms);
}

/* Whether the batch named u already; if not, it does now. 0 new, 1 named,
 * -ENOMEM. An open-addressing table, at most half full. */
static int
ids_add(struct idset *t, const unsigned char u[16])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	if (2 * (t->n + 1) > t->cap) {
		struct idset g = { .cap = t->cap ? 2 * t->cap : 64 };

		if ((g.id = calloc(g.cap, sizeof(*g.id))) == NULL)
			return -ENOMEM;
		for (i = 0; i < t->cap; i++)
			if (memcmp(t->id[i], (unsigned char[16]){ 0 }, 16) != 0)
				ids_add(&g, t->id[i]);
		free(t->id);
		*t = g;
	}
	for (i = 0; i < 16; i++)
		h = (h ^ u[i]) * 0x100000001b3ULL;
	for (i = h & (t->cap - 1); memcmp(t->id[i], (unsigned char[16]){ 0 }, 16) != 0;
	     i = (i + 1) & (t->cap - 1))
		if (memcmp(t->id[i], u, 16) == 0)
			return 1;
	memcpy(t->id[i], u, 16);
	t->n++;
	return 0;
}

static void
ids_clear(struct idset *t)
{
	if (t->n > 0)
		memset(t->id, 0, t->cap * sizeof(*t->id));
	t->n = 0;
}

/* Set (run begins) or clear (run ends) the interrupt of the session's
 * connections: between runs nothing may call a run's callback. */
static void
session_interrupt(struct source_ldap *l, bool on)
{
	struct source *s = &l->s;

	if (l->pdir != NULL)
		dir_set_interrupt(l->pdir, on ? s->interrupt : NULL, s->interrupt_arg);
	if (l->gdir != NULL)
		dir_set_interrupt(l->gdir, on ? s->interrupt : NULL, s->interrupt_arg);
}

static void
session_close(struct source_ldap *l)
{
	dir_close(l->pdir);
	dir_close(l->gdir);
	l->pdir = l->gdir = l->dir = NULL;
	l->live = l->held = l->gheld = false;
	l->in_batch = l->batch = false;
	l->s.uri = NULL;
}

/* The session broke while a batch or the wait read d, with r: its read
 * ends, not whole, and the session is closed after the run. */
static int
session_broken(struct source_ldap *l, struct dir *d, int r)
{
	snprintf(l->s.err, sizeof(l->s.err), "%s", r < 0 ? dir_error(d) :
		 "the persistent search ended");
	l->live = false;
	l->ended = -1;
	return r < 0 ? r : -ENOTCONN;
}

/* A session's first run: connect both searches' connections and read
 * their refresh stages, as a refresh run does. */
static int
session_begin(struct source_ldap *l, const char *kept)
{
	struct source *s = &l->s;
	int r;

	session_close(l);
	l->refresh = true;
	l->unsupported = l->stale = false;
	l->people_ok = l->groups_ok = l->people_full = l->groups_full = false;
	l->probing = l->changed = l->rereading = false;
	l->people_changes = 0;
	l->nsent = 0;
	pending_clear(l);
	cookie_free(&l->new_people);
	cookie_free(&l->new_groups);
	cookie_free(&l->kept_people);
	cookie_free(&l->kept_groups);
	if ((r = dir_connect(l->cf, &l->pdir, s->err, sizeof(s->err))) < 0)
		return r;
	l->dir = l->pdir;
	s->uri = dir_uri(l->pdir);
	if ((r = refresh_begin(l, l->from_nothing ? NULL : kept)) < 0)
		return r;
	l->from_nothing = false;
	if (l->refresh && l->cf->ldap.groups.base != NULL &&
	    (r = dir_connect(l->cf, &l->gdir, s->err, sizeof(s->err))) < 0)
		return r;
	session_interrupt(l, true);
	return 0;
}

static int
persist_begin(struct source *s, const char *kept)
{
	struct source_ldap *l = (struct source_ldap *)s;

	if (!l->live)
		return session_begin(l, kept);
	/* A batch of the session. No kept state: rosterctl resync took it. */
	l->in_batch = true;
	l->stale = kept == NULL;
	l->people_ok = false;
	l->groups_ok = l->gdir == NULL;
	l->people_full = l->groups_full = l->probing = l->changed = false;
	l->people_changes = 0;
	l->nsent = 0;
	l->rereading = false;
	pending_clear(l);
	ids_clear(&l->ids);
	s->uri = dir_uri(l->pdir);
	session_interrupt(l, true);
	return 0;
}

/* Start a batch's read: the people's changes, then the groups: every group
 * again when a person changed in a way members are matched by (the run
 * says), else the groups' pushed items, which say whether one changed. */
static int
batch_read(struct source_ldap *l, enum source_read what)
{
	l->handed = 0;
	l->syncing = true;
	l->batch = true;
	if (what == SOURCE_PEOPLE)
		return 0;
	if (l->people_changes > 0 && (!l->s.members_same || l->cf->ldap.member_of_attr != NULL)) {
		l->batch = l->gheld = false;   /* all the groups again, as a refresh does */
		l->groups_full = true;
		search_start(l, what, true, NULL);
		return 0;
	}
	l->probing = true;
	if (l->nsent > 0)
		qsort(l->sent, l->nsent, sizeof(*l->sent), uuid_cmp);
	return 0;
}

/* The batch's read ends whole; its cookie is that of the last change it
 * handed out, or newer when nothing waits (a held item's is not taken). */
static int
batch_end(struct source_ldap *l, struct cookie *c, bool take)
{
	l->ended = 1;
	l->whole = false;
	l->batch = false;
	if (l->what == SOURCE_PEOPLE)
		l->people_ok = true;
	else
		l->groups_ok = true;
	return take ? cookie_take(l, c) : 0;
}

/* The next item of a batch's people: held over, polled, or read again. 1,
 * -EAGAIN (the batch closes: nothing waits, or batch_ms, batch_max), 0 (the
 * entries read again have all come), or as dir_sync_poll(). */
static int
batch_poll(struct source_ldap *l, const char **dn)
{
	const struct conf *cf = l->cf;

	if (l->rereading)
		return dir_sync_poll(l->dir, dn);
	if (l->held) {
		l->held = false;
		*dn = l->held_dn;
		return 1;
	}
	if (source_batch_closes(l->handed, 1000.0 * (time_mono() - l->first_at),
				cf->sync.batch_ms, cf->sync.batch_max))
		return -EAGAIN;
	return dir_sync_poll(l->dir, dn);
}

/* Read again the entries of the batch kept aside: 0 or -ENOMEM. */
static int
batch_reread(struct source_ldap *l)
{
	int r = dir_reread(l->dir, (const char *const *)l->pend.dns, l->pend.n);

	if (r < 0) {
		snprintf(l->s.err, sizeof(l->s.err), "no memory");
		return r;
	}
	l->rereading = true;
	return 0;
}

/* The next change of a batch's people. An entry the server sent without
 * every attribute asked for (389-DS; sync_item keeps it aside) is read
 * again at once, and the batch ends with it. */
static int
batch_person(struct source_ldap *l, struct source_entry *e)
{
	unsigned char u[16];
	const char *dn;
	int r;

	for (;;) {
		r = batch_poll(l, &dn);
		if (r == 0 && l->rereading) {
			l->rereading = false;
			pending_clear(l);
			return batch_end(l, &l->new_people, true);
		}
		if (r == -EAGAIN)
			return batch_end(l, &l->new_people, true);
		if (r == -ENOMEM || r == -ECANCELED)
			return r;
		if (r <= 0) {
			session_broken(l, l->dir, r);
			return 0;
		}
		if (!l->rereading) {
			dir_sync_item(l->dir, u);
			if ((r = ids_add(&l->ids, u)) < 0)
				return r;
			if (r == 1) {   /* named already: it starts the next batch */
				l->held = true;
				l->held_dn = dn;
				return batch_end(l, NULL, false);
			}
			if (l->handed == 0 && l->first_at == 0)
				l->first_at = time_mono();
		}
		if ((r = sync_item(l, dn, e)) == 2 && (r = batch_reread(l)) == 0)
			continue;       /* kept aside: read again now */
		if (r <= 0)
			return r;       /* 0: the read ends, not whole */
		if (!l->rereading && (r = cookie_take(l, &l->new_people)) < 0)
			return r;
		return 1;
	}
}

/* The batch's groups: drain what was pushed, then either none changed (the
 * groups stay as they are) or every group is read again. */
static int
batch_groups(struct source_ldap *l, struct source_entry *e)
{
	const char *dn;
	int r;

	for (;;) {
		if (l->gheld) {
			l->gheld = false;
			dn = l->gheld_dn;
			r = 1;
		} else {
			r = dir_sync_poll(l->dir, &dn);
		}
		if (r == 1 && (r = sync_item(l, dn, e)) == 2)
			continue;
		if (r == -ENOMEM || r == -ECANCELED)
			return r;
		if (r != -EAGAIN) {
			session_broken(l, l->dir, r);
			return 0;
		}
		if (!l->changed)
			return batch_end(l, &l->new_groups, true);
		l->batch = l->probing = false;
		l->groups_full = true;
		search_start(l, SOURCE_GROUPS, true, NULL);
		return ldap_next(&l->s, e);
	}
}

static int
batch_next(struct source_ldap *l, struct source_entry *e)
{
	if (l->ended != 0)
		return 0;
	return l->what == SOURCE_PEOPLE ? batch_person(l, e) : batch_groups(l, e);
}

/* After a run: a session whose reads were whole stays open for the next
 * batch; any other is closed (the next run starts one from the cookie). */
static void
persist_end(struct source *s)
{
	struct source_ldap *l = (struct source_ldap *)s;

	l->live = l->refresh && l->pdir != NULL && l->people_ok && l->groups_ok && !l->stale;
	l->unsupported = !l->refresh;
	l->from_nothing |= l->stale;
	l->in_batch = l->batch = l->tick = false;
	l->first_at = 0;
	if (!l->live) {
		session_close(l);
		ldap_end(s);
		return;
	}
	session_interrupt(l, false);
}

enum persist_state
source_persist_state(const struct source *s)
{
	const struct source_ldap *l = (const struct source_ldap *)s;

	return l->live ? PERSIST_LIVE : l->unsupported ? PERSIST_UNSUPPORTED : PERSIST_CLOSED;
}

/* Look for an item of d without waiting: 1 (kept in *held, *dn: d's
 * current entry), 0 none, or negative: the session broke. */
static int
poll_one(struct source_ldap *l, struct dir *d, bool *held, const char **dn)
{
	int r = dir_sync_poll(d, dn);

	if (r == 1) {
		*held = true;
		if (l->first_at == 0)
			l->first_at = time_mono();
		return 1;
	}
	if (r == -EAGAIN)
		return 0;
	r = session_broken(l, d, r);
	session_close(l);
	return r;
}

int
source_persist_poll(struct source *s)
{
	struct source_ldap *l = (struct source_ldap *)s;
	int r;

	if (!l->live)
		return -ENOTCONN;
	if (l->held || l->gheld)
		return 1;
	if ((r = poll_one(l, l->pdir, &l->held, &l->held_dn)) != 0 ||
	    (l->gdir != NULL && (r = poll_one(l, l->gdir, &l->gheld, &l->gheld_dn)) != 0))
		return r;
	/* Nothing waits: cookies sent meanwhile without a change are kept. */
	if ((r = cookie_take_from(l->pdir, &l->new_people)) < 0 ||
	    (l->gdir != NULL && (r = cookie_take_from(l->gdir, &l->new_groups)) < 0))
		return r;
	return 0;
}

int
source_persist_fds(const struct source *s, int fds[2])
{
	const struct source_ldap *l = (const struct source_ldap *)s;
	int n = 0;

	if (!l->live)
		return 0;
	if ((fds[n] = dir_fd(l->pdir)) >= 0)
		n++;
	if (l->gdir != NULL && (fds[n] = dir_fd(l->gdir)) >= 0)
		n++;
	return n;
}

int
source_persist_ping(struct source *s)
{
	struct source_ldap *l = (struct source_ldap *)s;
	struct dir *d = l->pdir;
	int r;

	if (!l->live)
		return -ENOTCONN;
	if ((r = dir_ping(d)) == 0 && l->gdir != NULL)
		r = dir_ping(d = l->gdir);
	if (r < 0) {
		snprintf(s->err, sizeof(s->err), "%s", dir_error(d));
		session_close(l);
	}
	return r;
}

void
source_persist_tick(struct source *s)
{
	((struct source_ldap *)s)->tick = true;
}

void
source_persist_close(struct source *s, bool from_nothing)
{
	struct source_ldap *l = (struct source_ldap *)s;

	session_close(l);
	ldap_end(s);
	l->from_nothing = from_nothing;
}

long long
source_persist_full_at(const struct source *s)
{
	return ((const struct source_ldap *)s)->full_at;
}

static const struct source_ops ldap_ops = {
	.name = "ldap",
	.begin = ldap_begin,
	.read = ldap_read,
	.next = ldap_next,
	.complete = ldap_complete,
	.whole = ldap_whole,
	.state = NULL,
	.end = ldap_end,
	.free = ldap_free,
};

static const struct source_ops refresh_ops = {
	.name = "refresh",
	.begin = ldap_begin,
	.read = ldap_read,
	.next = ldap_next,
	.complete = ldap_complete,
	.whole = ldap_whole,
	.changes_only = refresh_changes_only,
	.kind = refresh_kind,
	.state = refresh_state,
	.end = ldap_end,
	.free = ldap_free,
};

/* Its cookies are a refresh's: kept under the same key, so that a change of
 * sync.mode between the two keeps them, and rosterctl resync forgets them. */
static const struct source_ops persist_ops = {
	.name = "refresh",
	.begin = persist_begin,
	.read = ldap_read,
	.next = ldap_next,
	.complete = ldap_complete,
	.whole = ldap_whole,
	.changes_only = refresh_changes_only,
	.kind = refresh_kind,
	.state = refresh_state,
	.end = persist_end,
	.free = ldap_free,
};

/* A source of cf with ops; refresh and persist as the ops need. */
static int
source_make(const struct conf *cf, const struct source_ops *ops, struct source **out)
{
	struct source_ldap *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->s.ops = ops;
	l->cf = cf;
	l->refresh = ops != &ldap_ops;
	l->persist = ops == &persist_ops;
	*out = &l->s;
	return 0;
}

int
source_refresh_new(const struct conf *cf, struct source **out)
{
	if (strcasecmp(cf->ldap.id_attr, "objectGUID") == 0)
		return source_usn_new(cf, out);   /* Active Directory */
	return source_make(cf, &refresh_ops, out);
}

bool
source_persist_possible(const struct conf *cf)
{
	return strcasecmp(cf->ldap.id_attr, "objectGUID") != 0;
}

int
source_persist_new(const struct conf *cf, struct source **out)
{
	return source_make(cf, &persist_ops, out);
}

int
source_ldap_new(const struct conf *cf, struct source **out)
{
	return source_make(cf, &ldap_ops, out);
}
