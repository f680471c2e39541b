/*
 * source_ldap.h: what the directory's sources share, private to them:
 * source_ldap.c (the paged search, RFC 4533 refreshOnly) and source_usn.c
 * (Active Directory's uSNChanged).
 */
#ifndef ROSTERD_SOURCE_LDAP_H
#define ROSTERD_SOURCE_LDAP_H

#include <stddef.h>
#include <stdint.h>

#include "attrmap.h"
#include "conf.h"
#include "dir.h"
#include "source.h"

/* Map d's current entry, dn, as a person (what SOURCE_PEOPLE, with map) or
 * a group (with gmap) into *e; a rejected one points e->reject at reason.
 * Counts the values left out into s. 0, or -ENOMEM (s->err says). */
int source_map(struct source *s, struct dir *d, struct amap *map, struct gmap *gmap,
	       enum source_read what, const char *dn, struct source_entry *e, char *reason,
	       size_t len);
/* A fingerprint of what the searches of cf ask for (bases, scopes,
 * filters, attribute lists; gmap only when cf has groups): what a source
 * kept is worth only as much as the searches it was kept for. */
uint64_t source_fingerprint(const struct conf *cf, const struct amap *map,
			    const struct gmap *gmap);
/* Fold the text s, and its end, into the FNV-1a hash *h. */
void source_fnv(uint64_t *h, const char *s);

/* Active Directory's own incremental read (source_usn.c): what
 * source_refresh_new() makes when entries are named by objectGUID. */
int source_usn_new(const struct conf *cf, struct source **out);

#endif
