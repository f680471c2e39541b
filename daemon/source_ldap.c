/*
 * source_ldap.c: the paged LDAP search of the config as a source (source.h).
 *
 * It joins the directory client (dir.c: connection, paged search, ranges)
 * with the attribute maps (attrmap.c): each entry dir_next() hands out is
 * mapped to a person or a group before it goes to the run. A search that
 * ends in anything but success ends the read, not whole, with dir_error()'s
 * text. It keeps no state between runs.
 */
#include "attrmap.h"
#include "dir.h"
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

static const struct dir_val *
entry_values(void *arg, size_t i, size_t *n)
{
	return dir_values(arg, i, n);
}

/* ---- the operations, as source.h describes them ---------------------------- */

static int
ldap_begin(struct source *s, const char *kept)
{
	struct source_ldap *l = (struct source_ldap *)s;
	int r;

	(void)kept;
	if ((r = dir_connect(l->cf, &l->dir, s->err, sizeof(s->err))) < 0)
		return r;
	s->uri = dir_uri(l->dir);
	if (s->interrupt != NULL)
		dir_set_interrupt(l->dir, s->interrupt, s->interrupt_arg);
	return 0;
}

static int
ldap_read(struct source *s, enum source_read what)
{
	struct source_ldap *l = (struct source_ldap *)s;
	const struct conf *cf = l->cf;
	int r;

	l->what = what;
	l->ended = 0;
	if (what == SOURCE_PEOPLE) {
		if (l->map == NULL && (r = amap_new(cf, &l->map)) < 0) {
			snprintf(s->err, sizeof(s->err), "cannot build the attribute map");
			return r;
		}
		l->search = dir_search(l->dir, cf->ldap.users.base, cf->ldap.users.scope,
				       cf->ldap.users.filter, amap_attrs(l->map));
		return 0;
	}
	if (l->gmap == NULL && (r = gmap_new(cf, &l->gmap)) < 0) {
		snprintf(s->err, sizeof(s->err), "cannot build the group map");
		return r;
	}
	l->search = dir_search(l->dir, cf->ldap.groups.base, cf->ldap.groups.scope,
			       cf->ldap.groups.filter, gmap_attrs(l->gmap));
	return 0;
}

/* Map the current entry, dn, for the read in progress: 0 (taken or
 * rejected) or -ENOMEM. */
static int
map_entry(struct source_ldap *l, const char *dn, struct source_entry *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	e->dn = dn;
	if (l->what == SOURCE_PEOPLE) {
		r = amap_person(l->map, dn, entry_values, l->dir, &e->person, l->reason,
				sizeof(l->reason));
		l->s.bad_dns = amap_bad_dns(l->map);
	} else {
		r = gmap_group(l->gmap, dn, entry_values, l->dir, &e->group, l->reason,
			       sizeof(l->reason));
		e->group.partial = dir_entry_ranged(l->dir);
		l->s.bad_members = gmap_bad_members(l->gmap);
	}
	if (r < 0) {
		snprintf(l->s.err, sizeof(l->s.err), "cannot map \"%s\": %s", dn, strerror(-r));
		return r;
	}
	if (r == 1)
		e->reject = l->reason;
	return 0;
}

static int
ldap_next(struct source *s, struct source_entry *e)
{
	struct source_ldap *l = (struct source_ldap *)s;
	const char *dn;
	int r;

	if (l->ended != 0)
		return 0;
	r = l->search < 0 ? l->search : dir_next(l->dir, &dn);
	if (r == 1)
		return (r = map_entry(l, dn, e)) < 0 ? r : 1;
	if (r == -ECANCELED)
		return r;
	l->ended = r == 0 ? 1 : -1;
	if (r < 0)
		snprintf(s->err, sizeof(s->err), "%s", dir_error(l->dir));
	return 0;
}

static bool
ldap_complete(const struct source *s)
{
	return ((const struct source_ldap *)s)->ended == 1;
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
ldap_free(struct source *s)
{
	if (s == NULL)
		return;
	ldap_end(s);
	free(s);
}

static const struct source_ops ldap_ops = {
	.name = "ldap",
	.begin = ldap_begin,
	.read = ldap_read,
	.next = ldap_next,
	.complete = ldap_complete,
	.state = NULL,
	.end = ldap_end,
	.free = ldap_free,
};

int
source_ldap_new(const struct conf *cf, struct source **out)
{
	struct source_ldap *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	l->s.ops = &ldap_ops;
	l->cf = cf;
	*out = &l->s;
	return 0;
}
