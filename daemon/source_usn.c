/*
 * source_usn.c: Active Directory read incrementally, by uSNChanged, behind
 * the source interface (source.h). source_refresh_new() makes it for
 * sync.mode = "refresh" when entries are named by objectGUID: AD has no
 * RFC 4533.
 *
 * Every write to an AD domain controller gives the entry written the DC's
 * next update sequence number (uSNChanged); the root DSE's
 * highestCommittedUSN is the newest. A run reads that number first, then:
 *
 *   people   the entries of the search whose uSNChanged is above the number
 *            the last run kept, mapped as a full run maps them; then the
 *            objectGUID of every entry of the search (one attribute each),
 *            each named unchanged. The read is whole: a person it did not
 *            name is gone (deleted, moved out of the base, or no longer
 *            matching the filter), and goes through the missing rules and
 *            thresholds like any other.
 *   groups   read in full when a person changed in a way members are
 *            matched by (the run says: source.members_same), or when the
 *            groups' listing (objectGUID and uSNChanged of each) shows one
 *            changed or the set of groups is not the one kept; otherwise
 *            none is read and the run keeps the groups as they are.
 *
 * Deletions are learnt from the listing, not from the Deleted Objects
 * container: only administrators may read tombstones, and an account that
 * cannot sees no deletion at all, silently. The listing costs one small
 * attribute an entry and needs no right beyond reading the entries.
 *
 * What is kept, through the run's state under "source:refresh" (so that
 * `rosterctl resync` clears it): "usn1 fp=HEX full=T dc=HEX usn=N
 * grp=HEX/N": the fingerprint of the searches, when the last full read was,
 * which DC the number belongs to (a hash of its dsServiceName and
 * invocationId: USNs are a DC's own; a restore from backup gives a new
 * invocationId), the number, and the groups' set. A full read is made when
 * nothing is kept, the fingerprint or the DC differs, the kept number is
 * above the DC's newest (a rollback), or the last full read is older than
 * sync.full_every. A server whose root DSE has no highestCommittedUSN is
 * read in full each run (said once).
 */
#include "source_ldap.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The search in progress. */
enum usn_step {
	STEP_PEOPLE,     /* every person, mapped (a full read) */
	STEP_CHANGED,    /* the people changed since the kept number, mapped */
	STEP_HOLDERS,    /* the people whose manager names one of those, mapped */
	STEP_REREAD,     /* people read again by DN (reread()), mapped */
	STEP_LISTING,    /* every person's id, named unchanged */
	STEP_PROBE,      /* every group's id and uSNChanged, nothing handed out */
	STEP_GROUPS,     /* every group, mapped */
};

/* A set of ids, kept as a sum of their hashes and their count. */
struct idset {
	uint64_t sum;
	long long n;
};

struct source_usn {
	struct source s;
	const struct conf *cf;
	struct dir *dir;
	struct amap *map;
	struct gmap *gmap;
	enum source_read what;
	enum usn_step step;
	int search;              /* the search's start: 0 or negative */
	int ended;               /* 0 reading; 1 ended whole; -1 ended short */
	bool whole;
	char reason[1024];       /* why the current entry is rejected */
	char *id;                /* the dir_id of a listed entry */

	bool usn;                /* reading by uSNChanged (else in full, keeping nothing) */
	uint64_t fp, dc;
	long long high;          /* the DC's highestCommittedUSN at begin() */
	long long kept_usn;      /* -1: none kept (a full read) */
	long long full_at;       /* when the last full read was */
	struct idset kept_groups, groups;
	bool groups_kept;
	bool changed;            /* the groups' listing shows a change */
	long long changes;       /* people the read of changes handed out */
	bool people_ok, groups_ok;
	char filter[4096];
	char *state;
	/* The DNs and ids of the people the read of changes handed out: the
	 * people whose manager or secondary manager names one of them are read
	 * too (AD rewrites those values when their target is renamed without
	 * giving the holder a new uSNChanged); an id handed out once is not
	 * handed out again. */
	struct strv dns, ids;
	size_t at;               /* the next of dns to search for */
};

/* The filter of search, narrowed to entries changed after the kept number. */
static int
changed_filter(struct source_usn *u, const char *filter)
{
	int n = filter[0] == '(' ?
		snprintf(u->filter, sizeof(u->filter), "(&%s(uSNChanged>=%lld))", filter,
			 u->kept_usn + 1) :
		snprintf(u->filter, sizeof(u->filter), "(&(%s)(uSNChanged>=%lld))", filter,
			 u->kept_usn + 1);

	if (n < 0 || (size_t)n >= sizeof(u->filter)) {
		snprintf(u->s.err, sizeof(u->s.err), "the search filter is too long to narrow "
			 "to what changed");
		return -ENAMETOOLONG;
	}
	return 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append "(ATTR=VALUE)" for each of the attributes (NULL: none) to the
 * filter of length *len: 0, or -ENOSPC when it does not fit (nothing
 * appended). */
static int
filter_terms(struct source_usn *u, size_t *len, const char *value, const char *const attrs[2])
{
	size_t at = *len;

	for (size_t i = 0; i < 2; i++) {
		int n;

		if (attrs[i] == NULL)
			continue;
		n = snprintf(u->filter + at, sizeof(u->filter) - at, "(%s=%s)", attrs[i], value);
		if (n < 0 || at + (size_t)n + 3 > sizeof(u->filter))
			return -ENOSPC;   /* room kept for the closing "))" */
		at += (size_t)n;
	}
	*len = at;
	return 0;
}

/* The filter of search, narrowed to the entries where one of attrs is one
 * of the next DNs of u->dns, as many as fit: 0 or negative. */
static int
dns_filter(struct source_usn *u, const char *filter, const char *const attrs[2])
{
	size_t len, start = u->at;
	char *esc = NULL;
	int n, r = 0;

	n = snprintf(u->filter, sizeof(u->filter), filter[0] == '(' ? "(&%s(|" : "(&(%s)(|",
		     filter);
	len = n < 0 ? sizeof(u->filter) : (size_t)n;
	while (r == 0 && u->at < u->dns.n && len < sizeof(u->filter)) {
		const char *dn = u->dns.v[u->at];

		if (dir_filter_escape(dn, strlen(dn), &esc) < 0)
			return -ENOMEM;
		if ((r = filter_terms(u, &len, esc, attrs)) == 0)
			u->at++;
		free(esc);
	}
	if (u->at == start) {
		snprintf(u->s.err, sizeof(u->s.err), "the search filter is too long to add a "
			 "DN to");
		return -ENAMETOOLONG;
	}
	memcpy(u->filter + len, "))", 3);
	return 0;
}

/* Start step's search. */
static void
step_start(struct source_usn *u, enum usn_step step)
{
	const struct conf *cf = u->cf;
	bool people = step <= STEP_LISTING;
	const char *base = people ? cf->ldap.users.base : cf->ldap.groups.base;
	const char *filter = people ? cf->ldap.users.filter : cf->ldap.groups.filter;
	enum search_scope scope = people ? cf->ldap.users.scope : cf->ldap.groups.scope;
	const char *probe[] = { cf->ldap.id_attr, "uSNChanged", NULL };
	const char *listing[] = { cf->ldap.id_attr, NULL };
	const char *const managers[2] = { cf->ldap.attr[F_MANAGER], cf->ldap.attr[F_SECONDARY_MANAGER] };
	const char *const by_dn[2] = { "distinguishedName", NULL };

	u->step = step;
	switch (step) {
	case STEP_CHANGED:
		if ((u->search = changed_filter(u, filter)) == 0)
			u->search = dir_search(u->dir, base, scope, u->filter, amap_attrs(u->map));
		return;
	case STEP_HOLDERS:
	case STEP_REREAD:
		if ((u->search = dns_filter(u, filter, step == STEP_HOLDERS ? managers : by_dn)) == 0)
			u->search = dir_search(u->dir, base, scope, u->filter, amap_attrs(u->map));
		return;
	case STEP_LISTING:
		u->search = dir_search(u->dir, base, scope, filter, listing);
		return;
	case STEP_PROBE:
		u->search = dir_search(u->dir, base, scope, filter, probe);
		return;
	case STEP_PEOPLE:
		u->search = dir_search(u->dir, base, scope, filter, amap_attrs(u->map));
		return;
	case STEP_GROUPS:
		u->search = dir_search(u->dir, base, scope, filter, gmap_attrs(u->gmap));
		return;
	}
}

/* ---- what a run keeps --------------------------------------------------- */

static void
idset_add(struct idset *s, const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	source_fnv(&h, id);
	s->sum += h;
	s->n++;
}

/* Take the kept state when it belongs to these searches on this DC and is
 * recent enough; otherwise nothing is kept: a full read. */
static void
kept_parse(struct source_usn *u, const char *kept)
{
	unsigned long long fp, dc, gsum;
	long long full, usn, gn;

	u->kept_usn = -1;
	if (kept == NULL || sscanf(kept, "usn1 fp=%16llx full=%lld dc=%16llx usn=%lld "
				   "grp=%16llx/%lld", &fp, &full, &dc, &usn, &gsum, &gn) != 6)
		return;
	if (fp != u->fp || dc != u->dc || usn < 0 || usn > u->high)
		return;
	if (u->cf->sync.full_every > 0 && (long long)time(NULL) - full >= u->cf->sync.full_every)
		return;
	u->kept_usn = usn;
	u->full_at = full;
	u->kept_groups = (struct idset){ .sum = gsum, .n = gn };
	u->groups_kept = gn >= 0;
}

/* Read by full searches from now on, for why; the first time in the
 * process, why goes to the run's log. */
static void
usn_off(struct source_usn *u, const char *why)
{
	static bool told;

	u->usn = false;
	if (!told)
		snprintf(u->s.note, sizeof(u->s.note), "%s; reading everything in each run "
			 "instead", why);
	told = true;
}

/* Which DC answers, and its newest USN: 0, 1 when the root DSE does not
 * say (not Active Directory), or negative (u->s.err says). */
static int
dc_read(struct source_usn *u)
{
	char *high = NULL, *service = NULL, *inv = NULL, *end;
	size_t ninv = 0;
	int r;

	r = dir_read_value(u->dir, "", "highestCommittedUSN", &high, NULL);
	if (r == 0)
		r = dir_read_value(u->dir, "", "dsServiceName", &service, NULL);
	if (r == -ENOENT) {
		free(high);
		return 1;
	}
	if (r < 0) {
		snprintf(u->s.err, sizeof(u->s.err), "%s", dir_error(u->dir));
		free(high);
		return r;
	}
	errno = 0;
	u->high = strtoll(high, &end, 10);
	r = errno != 0 || *end != '\0' || u->high < 0 ? 1 : 0;
	u->dc = 0xcbf29ce484222325ULL;
	source_fnv(&u->dc, service);
	/* The invocationId changes when the DC is restored from a backup;
	 * an account that cannot read it has the DC's name alone. */
	if (dir_read_value(u->dir, service, "invocationId", &inv, &ninv) == 0)
		for (size_t i = 0; i < ninv; i++)
			u->dc = (u->dc ^ (unsigned char)inv[i]) * 0x100000001b3ULL;
	free(high);
	free(service);
	free(inv);
	return r;
}

/* ---- the operations, as source.h describes them ---------------------------- */

static int
usn_begin(struct source *s, const char *kept)
{
	struct source_usn *u = (struct source_usn *)s;
	int r;

	u->usn = true;
	if ((r = dir_connect(u->cf, &u->dir, s->err, sizeof(s->err))) < 0)
		return r;
	s->uri = dir_uri(u->dir);
	dir_set_interrupt(u->dir, source_interrupt, s);
	if ((r = amap_new(u->cf, &u->map)) < 0 ||
	    (u->cf->ldap.groups.base != NULL && (r = gmap_new(u->cf, &u->gmap)) < 0)) {
		snprintf(s->err, sizeof(s->err), "cannot build the attribute maps");
		return r;
	}
	if (u->cf->ldap.member_of_attr != NULL && u->cf->ldap.groups.nmember_attrs == 0) {
		usn_off(u, "sync.mode \"refresh\" with memberships from memberOf alone: Active "
			"Directory changes memberOf without a new uSNChanged on the person; set "
			"ldap.groups.member_attribute too");
		return 0;
	}
	if ((r = dc_read(u)) == -ENOMEM)
		return r;
	if (r < 0) {   /* the people's search will fail too, and say why */
		u->usn = false;
		return 0;
	}
	if (r == 1) {
		usn_off(u, "sync.mode \"refresh\": the server's root DSE names no "
			"highestCommittedUSN (not Active Directory?)");
		return 0;
	}
	/* Primary groups are read only with the people read: the unchanged
	 * ones would seem to have none. */
	if (u->cf->ldap.groups.primary_group) {
		usn_off(u, "sync.mode \"refresh\" does not yet read the people's primary "
			"groups (ldap.groups.primary_group)");
		return 0;
	}
	u->fp = source_fingerprint(u->cf, u->map, u->gmap);
	u->groups_ok = u->cf->ldap.groups.base == NULL;
	kept_parse(u, kept);
	return 0;
}

static int
usn_read(struct source *s, enum source_read what)
{
	struct source_usn *u = (struct source_usn *)s;

	u->what = what;
	u->ended = 0;
	u->whole = true;
	if (what == SOURCE_PEOPLE) {
		u->changes = 0;
		step_start(u, u->usn && u->kept_usn >= 0 ? STEP_CHANGED : STEP_PEOPLE);
		return 0;
	}
	u->groups = (struct idset){ 0 };
	u->changed = false;
	/* Every group again when a person changed in a way members are
	 * matched by, or nothing is kept to compare the groups with. */
	step_start(u, u->usn && u->kept_usn >= 0 && u->groups_kept && s->members_same ?
		   STEP_PROBE : STEP_GROUPS);
	return 0;
}

/* The current entry's id into u->id: 0, 1 (it has none), -ENOMEM. */
static int
listed_id(struct source_usn *u)
{
	size_t n = 0;
	const struct dir_val *v = dir_values(u->dir, 0, &n);

	free(u->id);
	u->id = NULL;
	if (n == 0)
		return 1;
	return (u->id = amap_id_text(&v[0])) != NULL ? 0 : -ENOMEM;
}

/* An entry of the groups' listing: note its id, and whether it changed. */
static int
probe_entry(struct source_usn *u)
{
	size_t n = 0;
	const struct dir_val *v;
	int r;

	if ((r = listed_id(u)) != 0)
		return r < 0 ? r : 0;
	idset_add(&u->groups, u->id);
	v = dir_values(u->dir, 1, &n);
	/* No readable uSNChanged: taken as changed, the safe side. */
	if (n == 0 || v[0].len > 20 || strtoll(v[0].data, NULL, 10) > u->kept_usn)
		u->changed = true;
	return 0;
}

/* Note a person the read of changes hands out: 0 or -ENOMEM. */
static int
changed_note(struct source_usn *u, const struct source_entry *e)
{
	u->changes++;
	if (u->cf->ldap.attr[F_MANAGER] == NULL && u->cf->ldap.attr[F_SECONDARY_MANAGER] == NULL)
		return 0;
	if (e->person.dir_id != NULL && strv_add(&u->ids, e->person.dir_id) < 0)
		return -ENOMEM;
	return e->reject == NULL ? strv_add(&u->dns, e->dn) : 0;
}

/* The current entry of the search as *e: 1 to hand out, 2 taken without
 * handing out, or -ENOMEM. */
static int
step_entry(struct source_usn *u, const char *dn, struct source_entry *e)
{
	int r;

	switch (u->step) {
	case STEP_LISTING:
		if ((r = listed_id(u)) != 0)
			return r < 0 ? r : 2;
		memset(e, 0, sizeof(*e));
		e->kind = SOURCE_UNCHANGED;
		e->dn = dn;
		e->person.dir_id = u->id;
		return 1;
	case STEP_PROBE:
		return (r = probe_entry(u)) < 0 ? r : 2;
	default:
		if ((r = source_map(&u->s, u->dir, u->map, u->gmap, u->what, dn, e, u->reason,
				    sizeof(u->reason))) < 0)
			return r;
		if (u->step == STEP_HOLDERS && e->person.dir_id != NULL && u->ids.n > 0 &&
		    bsearch(&e->person.dir_id, u->ids.v, u->ids.n, sizeof(*u->ids.v), str_cmp))
			return 2;   /* handed out already */
		if (u->step == STEP_CHANGED && (r = changed_note(u, e)) < 0)
			return r;
		if (u->step == STEP_GROUPS && e->group.dir_id != NULL)
			idset_add(&u->groups, e->group.dir_id);
		return 1;
	}
}

/* The search ended in success: 0 (the read ends) or 2 (the next search
 * started: go on). */
static int
step_done(struct source_usn *u)
{
	switch (u->step) {
	case STEP_CHANGED:
		snprintf(u->s.info, sizeof(u->s.info), "%lld people changed since update "
			 "sequence number %lld", u->changes, u->kept_usn);
		if (u->ids.n > 1)
			qsort(u->ids.v, u->ids.n, sizeof(*u->ids.v), str_cmp);
		/* fall through */
	case STEP_HOLDERS:
		step_start(u, u->at < u->dns.n ? STEP_HOLDERS : STEP_LISTING);
		return 2;
	case STEP_REREAD:
		if (u->at < u->dns.n) {
			step_start(u, STEP_REREAD);
			return 2;
		}
		u->ended = 1;
		return 0;
	case STEP_PROBE:
		if (u->changed || u->groups.sum != u->kept_groups.sum ||
		    u->groups.n != u->kept_groups.n) {
			u->groups = (struct idset){ 0 };
			step_start(u, STEP_GROUPS);
			return 2;
		}
		u->whole = false;   /* the groups are as they were */
		break;
	default:
		break;
	}
	u->ended = 1;
	if (u->what == SOURCE_PEOPLE)
		u->people_ok = true;
	else
		u->groups_ok = true;
	return 0;
}

static int
usn_next(struct source *s, struct source_entry *e)
{
	struct source_usn *u = (struct source_usn *)s;
	const char *dn;
	int r;

	for (;;) {
		if (u->ended != 0)
			return 0;
		r = u->search < 0 ? u->search : dir_next(u->dir, &dn);
		if (r == 1)
			r = step_entry(u, dn, e);
		else if (r == 0)
			r = step_done(u);
		else if (r != -ECANCELED && r != -ENOMEM) {
			u->ended = -1;
			if (u->search == 0 || s->err[0] == '\0')
				snprintf(s->err, sizeof(s->err), "%s", dir_error(u->dir));
			r = 0;
		}
		if (r != 2)
			return r;
	}
}

static bool
usn_complete(const struct source *s)
{
	return ((const struct source_usn *)s)->ended == 1;
}

static bool
usn_whole(const struct source *s)
{
	return ((const struct source_usn *)s)->whole;
}

/* Reading what changed: the store's people need not be loaded before the
 * listing names them. */
static bool
usn_changes_only(const struct source *s)
{
	const struct source_usn *u = (const struct source_usn *)s;

	return u->what == SOURCE_PEOPLE && u->step == STEP_CHANGED;
}

/* What the run read, for its record: what changed since the kept number, or
 * every entry. */
static const char *
usn_kind(const struct source *s)
{
	const struct source_usn *u = (const struct source_usn *)s;

	return u->usn && u->kept_usn >= 0 ? "refresh" : "full";
}

/* Read again the people at dns: by their distinguishedName (AD has it as
 * an attribute), in the people's search, as many in one search as fit. */
static int
usn_reread(struct source *s, const char *const *dns, size_t n)
{
	struct source_usn *u = (struct source_usn *)s;

	strv_free(&u->dns);
	for (size_t i = 0; i < n; i++)
		if (strv_add(&u->dns, dns[i]) < 0)
			return -ENOMEM;
	u->at = 0;
	u->ended = 0;
	u->what = SOURCE_PEOPLE;
	step_start(u, STEP_REREAD);
	return 0;
}

/* The state to keep, when both reads were whole. */
static const char *
usn_state(const struct source *s)
{
	struct source_usn *u = (struct source_usn *)s;
	bool full = u->kept_usn < 0;
	struct idset g = u->groups;   /* from the listing or the read of every group */

	if (!u->usn || !u->people_ok || !u->groups_ok)
		return NULL;
	free(u->state);
	if (asprintf(&u->state, "usn1 fp=%016" PRIx64 " full=%lld dc=%016" PRIx64 " usn=%lld "
		     "grp=%016" PRIx64 "/%lld", u->fp, full ? (long long)time(NULL) : u->full_at,
		     u->dc, u->high, g.sum, g.n) < 0)
		u->state = NULL;
	return u->state;
}

static void
usn_end(struct source *s)
{
	struct source_usn *u = (struct source_usn *)s;

	amap_free(u->map);
	gmap_free(u->gmap);
	dir_close(u->dir);
	u->map = NULL;
	u->gmap = NULL;
	u->dir = NULL;
	s->uri = NULL;
}

static void
usn_free(struct source *s)
{
	struct source_usn *u = (struct source_usn *)s;

	if (s == NULL)
		return;
	usn_end(s);
	strv_free(&u->dns);
	strv_free(&u->ids);
	free(u->id);
	free(u->state);
	free(u);
}

static const struct source_ops usn_ops = {
	.name = "refresh",
	.begin = usn_begin,
	.read = usn_read,
	.next = usn_next,
	.complete = usn_complete,
	.whole = usn_whole,
	.changes_only = usn_changes_only,
	.kind = usn_kind,
	.reread = usn_reread,
	.state = usn_state,
	.end = usn_end,
	.free = usn_free,
};

int
source_usn_new(const struct conf *cf, struct source **out)
{
	struct source_usn *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return -ENOMEM;
	u->s.ops = &usn_ops;
	u->cf = cf;
	u->kept_usn = -1;
	*out = &u->s;
	return 0;
}
