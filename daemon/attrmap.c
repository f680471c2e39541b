/*
 * attrmap.c: the attribute map, from one directory entry to one person.
 *
 * Built from ldap.attributes: which attributes to request (each once, as
 * attribute names are case-insensitive), and how their values fill the
 * person's fields: the stable id as text (a GUID in its string form, other
 * binary values in hex),
 * single-valued fields from the first value, custom fields from all values
 * joined by line feeds, manager DNs normalised, the disabled flag from
 * ldap.users.disabled_*. Values must be UTF-8; an entry that breaks a rule is
 * rejected with a reason, never half-stored. Knows neither LDAP nor SQL.
 */
#include "util.h"
#include "dn.h"
#include "attrmap.h"
#include "fold.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CUSTOM CONF_MAX_CUSTOM

/* A growing list of strings owned by the map, emptied per entry. */
struct strlist {
	char **v;
	size_t n, cap;
};

static void
strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static void
strlist_free(struct strlist *l)
{
	strlist_clear(l);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}

/* Take s into the list; -ENOMEM (s freed) when it cannot. */
static int
strlist_add(struct strlist *l, char *s)
{
	if (s == NULL)
		return -ENOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL) {
			free(s);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

static int add_dns(struct strlist *l, const struct dir_val *v, size_t n, bool unique_member,
		   long long *bad);

struct amap {
	const struct conf *cf;
	const char **names;      /* NULL-ended, distinct */
	size_t n;
	size_t id;
	ssize_t field[NFIELDS];  /* -1: field not mapped */
	ssize_t *custom;         /* per conf custom field */
	size_t ncustom;
	ssize_t disabled;        /* -1: no disabled attribute */
	ssize_t member_of;       /* -1: no memberOf attribute */
	ssize_t primary;         /* -1: no primary group (AD's primaryGroupID) */
	long long bad_dns;
	struct strlist mo;       /* the current person's group DNs */

	/* strings made for the current entry, freed at the next */
	char **keep;
	size_t nkeep, capkeep;
	const char *cnames[MAX_CUSTOM], *cvals[MAX_CUSTOM];
};

/* Index of attr in a list of n names (attribute names are case-insensitive),
 * added when not there yet; the list has room for it. */
static ssize_t
name_index(const char **names, size_t *n, const char *attr)
{
	for (size_t i = 0; i < *n; i++)
		if (strcasecmp(names[i], attr) == 0)
			return (ssize_t)i;
	names[*n] = attr;
	return (ssize_t)(*n)++;
}

static ssize_t
attr_index(struct amap *m, const char *attr)
{
	return name_index(m->names, &m->n, attr);
}

int
amap_new(const struct conf *cf, struct amap **out)
{
	struct amap *m = calloc(1, sizeof(*m));
	size_t max = 1 + NFIELDS + cf->ldap.ncustom + 1 + 1 + 1 + 1;

	if (m == NULL)
		return -ENOMEM;
	if (cf->ldap.ncustom > MAX_CUSTOM) {
		free(m);
		return -E2BIG;
	}
	m->cf = cf;
	m->names = calloc(max, sizeof(*m->names));
	m->custom = calloc(cf->ldap.ncustom + 1, sizeof(*m->custom));
	m->capkeep = 2 * (NFIELDS + MAX_CUSTOM) + 4;
	m->keep = calloc(m->capkeep, sizeof(*m->keep));
	if (m->names == NULL || m->custom == NULL || m->keep == NULL) {
		amap_free(m);
		return -ENOMEM;
	}
	m->id = (size_t)attr_index(m, cf->ldap.id_attr);
	for (int f = 0; f < NFIELDS; f++)
		m->field[f] = cf->ldap.attr[f] ? attr_index(m, cf->ldap.attr[f]) : -1;
	m->ncustom = cf->ldap.ncustom;
	for (size_t i = 0; i < cf->ldap.ncustom; i++)
		m->custom[i] = attr_index(m, cf->ldap.custom[i].attr);
	m->disabled = cf->ldap.users.disabled_attribute ?
		      attr_index(m, cf->ldap.users.disabled_attribute) : -1;
	m->member_of = cf->ldap.member_of_attr ? attr_index(m, cf->ldap.member_of_attr) : -1;
	m->primary = cf->ldap.groups.primary_group ? attr_index(m, AMAP_PRIMARY_GROUP_ID) : -1;
	*out = m;
	return 0;
}

static void
keep_clear(struct amap *m)
{
	for (size_t i = 0; i < m->nkeep; i++)
		free(m->keep[i]);
	m->nkeep = 0;
}

void
amap_free(struct amap *m)
{
	if (m == NULL)
		return;
	if (m->keep != NULL)
		keep_clear(m);
	strlist_free(&m->mo);
	free(m->keep);
	free(m->names);
	free(m->custom);
	free(m);
}

const char *const *
amap_attrs(const struct amap *m)
{
	return m->names;
}

long long
amap_bad_dns(const struct amap *m)
{
	return m->bad_dns;
}

/* Keep s until the next entry; NULL when s is NULL (out of memory). */
static char *
keep(struct amap *m, char *s)
{
	if (s == NULL)
		return NULL;
	if (m->nkeep == m->capkeep) {   /* cannot happen: sized for every field */
		free(s);
		return NULL;
	}
	return m->keep[m->nkeep++] = s;
}

/* The stable id as text: as it is when printable UTF-8 (entryUUID,
 * nsUniqueId); a binary value of 16 bytes is a GUID (objectGUID,
 * mS-DS-ConsistencyGuid) and takes Active Directory's string form, the one
 * its tools and single sign-on show (c99bfd86-e026-4397-...: the first three
 * groups little-endian); any other binary value lower-case hex.
 * schema/005_guid_string.sql turns the hex of 16 bytes stored before into
 * the same form. */
char *
amap_id_text(const struct dir_val *v)
{
	static const char hex[] = "0123456789abcdef";
	/* the bytes of a GUID in the order its string shows them; -1: a dash */
	static const int guid_order[] = { 3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1,
					  10, 11, 12, 13, 14, 15 };
	bool printable = utf8_valid(v->data, v->len);
	char *out;
	size_t at = 0;

	for (size_t i = 0; printable && i < v->len; i++)
		if ((unsigned char)v->data[i] < 0x20 || v->data[i] == 0x7f)
			printable = false;
	if (printable)
		return strndup(v->data, v->len);
	if (v->len == 16) {
		out = malloc(37);
		if (out == NULL)
			return NULL;
		for (size_t k = 0; k < sizeof(guid_order) / sizeof(guid_order[0]); k++) {
			unsigned char b;
			if (guid_order[k] < 0) {
				out[at++] = '-';
				continue;
			}
			b = (unsigned char)v->data[guid_order[k]];
			out[at++] = hex[b >> 4];
			out[at++] = hex[b & 15];
		}
		out[at] = '\0';
		return out;
	}
	out = malloc(v->len * 2 + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < v->len; i++) {
		out[2 * i] = hex[(unsigned char)v->data[i] >> 4];
		out[2 * i + 1] = hex[(unsigned char)v->data[i] & 15];
	}
	out[v->len * 2] = '\0';
	return out;
}

/* All values joined by line feeds (one value: itself). */
static char *
join_values(const struct dir_val *v, size_t n)
{
	size_t len = 0, at = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		len += v[i].len + 1;
	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out[at++] = '\n';
		memcpy(out + at, v[i].data, v[i].len);
		at += v[i].len;
	}
	out[at] = '\0';
	return out;
}

/* Whether any value says "disabled": one of disabled_values (any case), or
 * a whole number with a bit of disabled_bitmask set. */
static bool
entry_disabled(const struct conf *cf, const struct dir_val *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < cf->ldap.users.ndisabled_values; k++) {
			const char *d = cf->ldap.users.disabled_values[k];
			if (strlen(d) == v[i].len && strncasecmp(d, v[i].data, v[i].len) == 0)
				return true;
		}
		if (cf->ldap.users.disabled_bitmask != 0 && v[i].len > 0 && v[i].len < 32) {
			char num[32], *end;
			long long x;

			memcpy(num, v[i].data, v[i].len);
			num[v[i].len] = '\0';
			errno = 0;
			x = strtoll(num, &end, 10);
			if (errno == 0 && *end == '\0' && (x & cf->ldap.users.disabled_bitmask))
				return true;
		}
	}
	return false;
}

int
amap_person(struct amap *m, const char *dn, amap_values_fn get, void *arg,
	    struct person_rec *p, char *reason, size_t len)
{
	const struct conf *cf = m->cf;
	const struct dir_val *v;
	char *norm = NULL;
	unsigned cp;
	size_t n;

	keep_clear(m);
	memset(p, 0, sizeof(*p));
	reason[0] = '\0';
	p->dn = dn;

	v = get(arg, m->id, &n);
	if (n == 0 || v[0].len == 0) {
		snprintf(reason, len, "no %s (the entry's stable id)", cf->ldap.id_attr);
		return 1;
	}
	if ((p->dir_id = keep(m, amap_id_text(&v[0]))) == NULL)
		return -ENOMEM;

	if (!utf8_valid(dn, strlen(dn)) || dn_normalize(dn, strlen(dn), &norm) < 0) {
		snprintf(reason, len, "the DN is not a valid RFC 4514 DN");
		return 1;
	}
	if ((p->dn_norm = keep(m, norm)) == NULL)
		return -ENOMEM;

	for (int f = 0; f < NFIELDS; f++) {
		if (m->field[f] < 0)
			continue;
		v = get(arg, (size_t)m->field[f], &n);
		if (n == 0)
			continue;
		if (!utf8_valid(v[0].data, v[0].len)) {
			snprintf(reason, len, "%s (%s) is not valid UTF-8", cf->ldap.attr[f],
				 field_name(f));
			return 1;
		}
		if (field_is_dn(f)) {
			norm = NULL;
			if (dn_normalize(v[0].data, v[0].len, &norm) < 0) {
				m->bad_dns++;
				continue;
			}
			p->field[f] = keep(m, norm);
		} else {
			char *t = keep(m, strndup(v[0].data, v[0].len));

			/* kept as LDAP matches it: "bob " is bob */
			if (t != NULL && f == F_USERNAME)
				username_prepare(t);
			p->field[f] = t;
		}
		if (p->field[f] == NULL)
			return -ENOMEM;
	}
	if (p->field[F_USERNAME] == NULL) {
		snprintf(reason, len, "no username (attribute %s)", cf->ldap.attr[F_USERNAME]);
		return 1;
	}
	if (p->field[F_USERNAME][0] == '\0') {
		snprintf(reason, len, "a blank username (attribute %s)", cf->ldap.attr[F_USERNAME]);
		return 1;
	}
	/* A username goes to terminals, logs and the dry run's plan: a line
	 * feed would forge a line, an escape or a bidi override would change
	 * what is drawn. */
	if (!text_safe(p->field[F_USERNAME], strlen(p->field[F_USERNAME]), &cp)) {
		snprintf(reason, len, "the username (attribute %s) has a control character or a "
			 "bidirectional override (U+%04X)", cf->ldap.attr[F_USERNAME], cp);
		return 1;
	}

	for (size_t k = 0; k < m->ncustom; k++) {
		m->cnames[k] = cf->ldap.custom[k].name;
		m->cvals[k] = NULL;
		v = get(arg, (size_t)m->custom[k], &n);
		if (n == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (!utf8_valid(v[i].data, v[i].len)) {
				snprintf(reason, len, "%s (custom field %s) is not valid UTF-8",
					 cf->ldap.custom[k].attr, m->cnames[k]);
				return 1;
			}
		}
		if ((m->cvals[k] = keep(m, join_values(v, n))) == NULL)
			return -ENOMEM;
	}
	p->ncustom = m->ncustom;
	p->custom_name = m->cnames;
	p->custom_value = m->cvals;

	if (m->disabled >= 0) {
		v = get(arg, (size_t)m->disabled, &n);
		p->dir_disabled = entry_disabled(cf, v, n);
	}
	if (m->primary >= 0) {
		v = get(arg, (size_t)m->primary, &n);
		if (n > 0 && utf8_valid(v[0].data, v[0].len) &&
		    (p->primary_group = keep(m, strndup(v[0].data, v[0].len))) == NULL)
			return -ENOMEM;
	}
	strlist_clear(&m->mo);
	if (m->member_of >= 0) {
		int r;
		v = get(arg, (size_t)m->member_of, &n);
		if ((r = add_dns(&m->mo, v, n, false, &m->bad_dns)) < 0)
			return r;
		p->member_of_read = true;
		p->nmember_of = m->mo.n;
		p->member_of = (const char *const *)m->mo.v;
	}
	return 0;
}

/* ---- groups ------------------------------------------------------------- */

#define GMAP_MEMBER_ATTRS 3   /* member, uniqueMember, memberUid */

struct gmap {
	const struct conf *cf;
	const char *names[5 + GMAP_MEMBER_ATTRS + 1];
	size_t n;
	ssize_t id, name, description, member_of, token;
	ssize_t member[GMAP_MEMBER_ATTRS];   /* per ldap.groups.member_attribute */
	size_t nmember;
	struct strlist keep;     /* the current group's strings */
	struct strlist members;
	struct strlist mo;       /* the current group's own groups (memberOf) */
	long long bad_members;
};

/* A uniqueMember value without its optional "#'0101'B" UID suffix. */
static size_t
strip_uid_suffix(const char *s, size_t len)
{
	size_t i;

	if (len < 4 || s[len - 1] != 'B' || s[len - 2] != '\'')
		return len;
	for (i = len - 2; i > 0 && (s[i - 1] == '0' || s[i - 1] == '1'); i--)
		;
	if (i >= 2 && s[i - 1] == '\'' && s[i - 2] == '#')
		return i - 2;
	return len;
}

/* Normalise DN values into l; values that are not DNs are counted in bad. */
static int
add_dns(struct strlist *l, const struct dir_val *v, size_t n, bool unique_member,
	long long *bad)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = unique_member ? strip_uid_suffix(v[i].data, v[i].len) : v[i].len;
		char *norm = NULL;

		if (!utf8_valid(v[i].data, len) || dn_normalize(v[i].data, len, &norm) < 0) {
			(*bad)++;
			continue;
		}
		if (strlist_add(l, norm) < 0)
			return -ENOMEM;
	}
	return 0;
}

static ssize_t
gattr_index(struct gmap *g, const char *attr)
{
	return name_index(g->names, &g->n, attr);
}

int
gmap_new(const struct conf *cf, struct gmap **out)
{
	struct gmap *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return -ENOMEM;
	g->cf = cf;
	g->id = gattr_index(g, cf->ldap.id_attr);
	g->name = gattr_index(g, cf->ldap.groups.name_attr);
	g->description = cf->ldap.groups.description_attr ?
			 gattr_index(g, cf->ldap.groups.description_attr) : -1;
	for (; g->nmember < cf->ldap.groups.nmember_attrs &&
	       g->nmember < GMAP_MEMBER_ATTRS; g->nmember++)
		g->member[g->nmember] = gattr_index(g, cf->ldap.groups.member_attrs[g->nmember]);
	/* Membership read from memberOf alone, nested: a group's own memberOf
	 * says which groups it is in (groups are entries too). */
	g->member_of = cf->ldap.member_of_attr && cf->ldap.groups.nested &&
		       cf->ldap.groups.nmember_attrs == 0 ?
		       gattr_index(g, cf->ldap.member_of_attr) : -1;
	g->token = cf->ldap.groups.primary_group ? gattr_index(g, AMAP_PRIMARY_GROUP_TOKEN) : -1;
	*out = g;
	return 0;
}

void
gmap_free(struct gmap *g)
{
	if (g == NULL)
		return;
	strlist_free(&g->keep);
	strlist_free(&g->members);
	strlist_free(&g->mo);
	free(g);
}

const char *const *
gmap_attrs(const struct gmap *g)
{
	return g->names;
}

long long
gmap_bad_members(const struct gmap *g)
{
	return g->bad_members;
}

/* The first value of attribute i as a kept string; NULL with *r = 0 when
 * there is none, *r = 1 when it is not UTF-8, *r = -ENOMEM. */
static const char *
gfirst(struct gmap *g, amap_values_fn get, void *arg, ssize_t i, int *r)
{
	const struct dir_val *v;
	size_t n;

	*r = 0;
	if (i < 0)
		return NULL;
	v = get(arg, (size_t)i, &n);
	if (n == 0)
		return NULL;
	if (!utf8_valid(v[0].data, v[0].len)) {
		*r = 1;
		return NULL;
	}
	if (strlist_add(&g->keep, strndup(v[0].data, v[0].len)) < 0) {
		*r = -ENOMEM;
		return NULL;
	}
	return g->keep.v[g->keep.n - 1];
}

/* The n values v of member attribute number k into the group's members:
 * usernames (memberUid) or normalised DNs (a uniqueMember's without its UID
 * suffix); values that are neither are counted. 0 or -ENOMEM. */
static int
add_members(struct gmap *g, size_t k, const struct dir_val *v, size_t n)
{
	const char *attr = g->cf->ldap.groups.member_attrs[k];

	if (strcasecmp(attr, "memberUid") != 0)
		return add_dns(&g->members, v, n, strcasecmp(attr, "uniqueMember") == 0,
			       &g->bad_members);
	for (size_t i = 0; i < n; i++) {
		if (!utf8_valid(v[i].data, v[i].len)) {
			g->bad_members++;
			continue;
		}
		if (strlist_add(&g->members, strndup(v[i].data, v[i].len)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int
gmap_group(struct gmap *g, const char *dn, amap_values_fn get, void *arg,
	   struct group_rec *out, char *reason, size_t len)
{
	const struct conf *cf = g->cf;
	const struct dir_val *v;
	char *norm = NULL;
	size_t n;
	int r;

	strlist_clear(&g->keep);
	strlist_clear(&g->members);
	strlist_clear(&g->mo);
	memset(out, 0, sizeof(*out));
	reason[0] = '\0';
	out->dn = dn;

	v = get(arg, (size_t)g->id, &n);
	if (n == 0 || v[0].len == 0) {
		snprintf(reason, len, "group without %s (the entry's stable id)", cf->ldap.id_attr);
		return 1;
	}
	if (strlist_add(&g->keep, amap_id_text(&v[0])) < 0)
		return -ENOMEM;
	out->dir_id = g->keep.v[g->keep.n - 1];
	if (!utf8_valid(dn, strlen(dn)) || dn_normalize(dn, strlen(dn), &norm) < 0) {
		snprintf(reason, len, "group: the DN is not a valid RFC 4514 DN");
		return 1;
	}
	if (strlist_add(&g->keep, norm) < 0)
		return -ENOMEM;
	out->dn_norm = norm;
	out->name = gfirst(g, get, arg, g->name, &r);
	if (r < 0)
		return r;
	if (out->name == NULL || out->name[0] == '\0') {
		snprintf(reason, len, "group without a name (attribute %s)%s",
			 cf->ldap.groups.name_attr, r == 1 ? " in UTF-8" : "");
		return 1;
	}
	out->description = gfirst(g, get, arg, g->description, &r);
	if (r < 0)
		return r;
	out->token = gfirst(g, get, arg, g->token, &r);
	if (r < 0)
		return r;
	for (size_t k = 0; k < g->nmember; k++) {
		v = get(arg, (size_t)g->member[k], &n);
		if ((r = add_members(g, k, v, n)) < 0)
			return r;
	}
	out->nmembers = g->members.n;
	out->members = (const char *const *)g->members.v;
	if (g->member_of >= 0) {
		v = get(arg, (size_t)g->member_of, &n);
		if ((r = add_dns(&g->mo, v, n, false, &g->bad_members)) < 0)
			return r;
		out->nmember_of = g->mo.n;
		out->member_of = (const char *const *)g->mo.v;
	}
	return 0;
}
