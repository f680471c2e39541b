/*
 * attrmap.h: a directory entry to a person or a group, as the config maps it.
 *
 * Use: amap_new()/gmap_new() once per run (freed with amap_free()/gmap_free());
 * amap_attrs() is the attribute list to search for; amap_person() maps one
 * entry. The record it fills points into the map's own buffers and is valid
 * until the next call. Nothing here knows LDAP or SQL: values come through a
 * callback.
 */
#ifndef ROSTERD_ATTRMAP_H
#define ROSTERD_ATTRMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "dir.h"
#include "recon.h"

struct amap;

/* Active Directory's primary group (ldap.groups.primary_group): a person's
 * primaryGroupID is the primaryGroupToken (the RID) of the group. */
#define AMAP_PRIMARY_GROUP_ID "primaryGroupID"
#define AMAP_PRIMARY_GROUP_TOKEN "primaryGroupToken"

/* The attribute list to ask the directory for, and how each feeds a person. */
int amap_new(const struct conf *cf, struct amap **out);
void amap_free(struct amap *m);
/* The distinct attribute names to request, NULL-ended. */
const char *const *amap_attrs(const struct amap *m);
/* How the mapper reads the values of requested attribute number i. */
typedef const struct dir_val *(*amap_values_fn)(void *arg, size_t i, size_t *n);
/* Map the entry dn, whose values come from get(arg, i, &n), to a person.
 * Returns 0 with *p filled (valid until the next call), 1 when the entry is
 * rejected (why in reason; p->dir_id is set when the id was readable, so the
 * person is not taken for missing), or -ENOMEM. Counts invalid manager DNs. */
int amap_person(struct amap *m, const char *dn, amap_values_fn get, void *arg,
		struct person_rec *p, char *reason, size_t len);
/* A stable id value (entryUUID, nsUniqueId, objectGUID) as the text stored
 * as dir_id: printable text as it is, 16 bytes in a GUID's string form, any
 * other binary value in hex. A new string, or NULL: no memory. */
char *amap_id_text(const struct dir_val *v);
/* How many manager/secondary manager/memberOf values were not DNs so far. */
long long amap_bad_dns(const struct amap *m);

/* The same for group entries (ldap.groups): id, name, description, members. */
struct gmap;
int gmap_new(const struct conf *cf, struct gmap **out);
void gmap_free(struct gmap *g);
const char *const *gmap_attrs(const struct gmap *g);
/* Map a group entry; returns 0, 1 (rejected, why in reason) or -ENOMEM.
 * Member values that are not DNs (or not UTF-8 usernames) are counted. */
int gmap_group(struct gmap *g, const char *dn, amap_values_fn get, void *arg,
	       struct group_rec *out, char *reason, size_t len);
long long gmap_bad_members(const struct gmap *g);

#endif
