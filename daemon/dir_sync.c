/*
 * dir_sync.c: the messages of RFC 4533 content synchronisation (dir_sync.h):
 * the Sync Request control rosterd sends, and the Sync State, Sync Info and
 * Sync Done values the server answers with, read with lber.
 *
 * libldap's own ldap_sync_* calls drive a whole refresh from callbacks and
 * wait without end on a silent server; dir.c instead reads a content
 * synchronisation one message at a time like its paged searches, with their
 * timeouts and interrupts, and asks this file what each message says.
 */
#include "dir_sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void
dsync_clear(struct dsync *s)
{
	ber_bvfree(s->cookie);
	ber_bvarray_free(s->idset);
	memset(s, 0, sizeof(*s));
}

/* Keep a copy of cookie as s's newest. */
static int
take_cookie(struct dsync *s, const struct berval *cookie)
{
	struct berval *c = ber_bvdup((struct berval *)cookie);

	if (c == NULL)
		return -ENOMEM;
	ber_bvfree(s->cookie);
	s->cookie = c;
	return 0;
}

int
dsync_request(const struct berval *cookie, bool persist, LDAPControl **out)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	struct berval value = { 0 };
	ber_int_t mode = persist ? LDAP_SYNC_REFRESH_AND_PERSIST : LDAP_SYNC_REFRESH_ONLY;
	int r = -ENOMEM;

	if (ber == NULL)
		return -ENOMEM;
	/* syncRequestValue ::= SEQUENCE { mode ENUMERATED, cookie OPTIONAL,
	 * reloadHint BOOLEAN DEFAULT FALSE } */
	if ((cookie != NULL && cookie->bv_len > 0 ? ber_printf(ber, "{eO}", mode, cookie) :
	     ber_printf(ber, "{e}", mode)) < 0 ||
	    ber_flatten2(ber, &value, 0) < 0)
		goto out;
	if (ldap_control_create(LDAP_CONTROL_SYNC, 1, &value, 1, out) == LDAP_SUCCESS)
		r = 0;
out:
	ber_free(ber, 1);
	return r;
}

/* An optional cookie at ber's position into s. 0, -EPROTO, -ENOMEM. */
static int
opt_cookie(BerElement *ber, struct dsync *s)
{
	struct berval cookie;
	ber_len_t len;

	if (ber_peek_tag(ber, &len) != LDAP_TAG_SYNC_COOKIE)
		return 0;
	if (ber_scanf(ber, "m", &cookie) == LBER_ERROR)
		return -EPROTO;
	return take_cookie(s, &cookie);
}

int
dsync_entry(LDAP *ld, LDAPMessage *e, struct dsync *s, int *state, unsigned char uuid[16],
	    char *err, size_t errlen)
{
	BerElement *ber = NULL;
	LDAPControl **ctrls = NULL, *c;
	struct berval id;
	ber_int_t st;
	int r = -EPROTO;

	if (ldap_get_entry_controls(ld, e, &ctrls) != LDAP_SUCCESS ||
	    (c = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL)) == NULL) {
		snprintf(err, errlen, "an entry without the Sync State control");
		goto out;
	}
	if ((ber = ber_init(&c->ldctl_value)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* syncStateValue ::= SEQUENCE { state ENUMERATED, entryUUID, cookie OPTIONAL } */
	if (ber_scanf(ber, "{em", &st, &id) == LBER_ERROR || id.bv_len != 16 ||
	    st < LDAP_SYNC_PRESENT || st > LDAP_SYNC_DELETE) {
		snprintf(err, errlen, "a Sync State control rosterd cannot read");
		goto out;
	}
	if ((r = opt_cookie(ber, s)) < 0) {
		snprintf(err, errlen, "a Sync State control with a bad cookie");
		goto out;
	}
	memcpy(uuid, id.bv_val, 16);
	*state = (int)st;
	r = 0;
out:
	ber_free(ber, 1);
	ldap_controls_free(ctrls);
	return r;
}

/* The SEQUENCE of a refreshDelete (deletes) or refreshPresent Sync Info: its
 * cookie, and whether it ends the refresh stage (refreshDone, TRUE unless
 * said otherwise). */
static int
info_phase(BerElement *ber, struct dsync *s, bool deletes)
{
	ber_int_t done = 1;
	ber_len_t len;
	int r;

	if (ber_scanf(ber, "{") == LBER_ERROR)
		return -EPROTO;
	if ((r = opt_cookie(ber, s)) < 0)
		return r;
	if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDONE && ber_scanf(ber, "b", &done) ==
	    LBER_ERROR)
		return -EPROTO;
	if (ber_scanf(ber, "}") == LBER_ERROR)
		return -EPROTO;
	if (done) {
		s->refresh_done = true;
		s->refresh_deletes = deletes;
	}
	return 0;
}

/* The SEQUENCE of a syncIdSet: its cookie, whether the UUIDs are deleted
 * ones, and the UUIDs, kept in s. */
static int
info_idset(BerElement *ber, struct dsync *s)
{
	ber_int_t deletes = 0;
	BerVarray ids = NULL;
	ber_len_t len;
	int r;

	if (ber_scanf(ber, "{") == LBER_ERROR)
		return -EPROTO;
	if ((r = opt_cookie(ber, s)) < 0)
		return r;
	if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDELETES &&
	    ber_scanf(ber, "b", &deletes) == LBER_ERROR)
		return -EPROTO;
	if (ber_scanf(ber, "[W]}", &ids) == LBER_ERROR) {
		ber_bvarray_free(ids);
		return -EPROTO;
	}
	for (size_t i = 0; ids != NULL && ids[i].bv_val != NULL; i++)
		if (ids[i].bv_len != 16) {
			ber_bvarray_free(ids);
			return -EPROTO;
		}
	ber_bvarray_free(s->idset);
	s->idset = ids;
	s->idset_next = 0;
	s->idset_deletes = deletes != 0;
	return 0;
}

int
dsync_info(LDAP *ld, LDAPMessage *msg, struct dsync *s, char *err, size_t errlen)
{
	BerElement *ber = NULL;
	struct berval *data = NULL, cookie;
	char *oid = NULL;
	ber_len_t len;
	int r = -EPROTO;

	if (ldap_parse_intermediate(ld, msg, &oid, &data, NULL, 0) != LDAP_SUCCESS) {
		snprintf(err, errlen, "an intermediate response rosterd cannot read");
		goto out;
	}
	if (oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0) {
		r = 1;
		goto out;
	}
	if (data == NULL) {
		snprintf(err, errlen, "a Sync Info message without a value");
		goto out;
	}
	if ((ber = ber_init(data)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	switch (ber_peek_tag(ber, &len)) {
	case LDAP_TAG_SYNC_NEW_COOKIE:
		r = ber_scanf(ber, "m", &cookie) == LBER_ERROR ? -EPROTO : take_cookie(s, &cookie);
		break;
	case LDAP_TAG_SYNC_REFRESH_DELETE:
	case LDAP_TAG_SYNC_REFRESH_PRESENT:
		r = info_phase(ber, s, ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_REFRESH_DELETE);
		break;
	case LDAP_TAG_SYNC_ID_SET:
		r = info_idset(ber, s);
		break;
	default:
		r = -EPROTO;
	}
	if (r == -EPROTO)
		snprintf(err, errlen, "a Sync Info message rosterd cannot read");
out:
	ber_free(ber, 1);
	ber_memfree(oid);
	ber_bvfree(data);
	return r;
}

int
dsync_done(LDAPControl **ctrls, struct dsync *s, char *err, size_t errlen)
{
	LDAPControl *c = ldap_control_find(LDAP_CONTROL_SYNC_DONE, ctrls, NULL);
	BerElement *ber;
	ber_int_t deletes = 0;
	ber_len_t len;
	bool bad;

	if (c == NULL) {
		snprintf(err, errlen, "the search ended without the Sync Done control");
		return -EPROTO;
	}
	/* syncDoneValue ::= SEQUENCE { cookie OPTIONAL, refreshDeletes BOOLEAN
	 * DEFAULT FALSE } */
	if (c->ldctl_value.bv_len > 0) {
		if ((ber = ber_init(&c->ldctl_value)) == NULL)
			return -ENOMEM;
		bad = ber_scanf(ber, "{") == LBER_ERROR || opt_cookie(ber, s) < 0 ||
		      (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDELETES &&
		       ber_scanf(ber, "b", &deletes) == LBER_ERROR) ||
		      ber_scanf(ber, "}") == LBER_ERROR;
		ber_free(ber, 1);
		if (bad) {
			snprintf(err, errlen, "a Sync Done control rosterd cannot read");
			return -EPROTO;
		}
	}
	s->done = true;
	s->refresh_deletes = deletes != 0;
	return 0;
}

bool
dsync_idset_next(struct dsync *s, unsigned char uuid[16], bool *deleted)
{
	if (s->idset == NULL)
		return false;
	if (s->idset[s->idset_next].bv_val == NULL) {
		ber_bvarray_free(s->idset);
		s->idset = NULL;
		s->idset_next = 0;
		return false;
	}
	memcpy(uuid, s->idset[s->idset_next++].bv_val, 16);
	*deleted = s->idset_deletes;
	return true;
}
