/*
 * dir.c: the directory client, over OpenLDAP's libldap.
 *
 * An opaque handle hides LDAP *: dir_connect() walks the URI list until one
 * server connects (TLS checked, StartTLS never falling back to plaintext) and
 * binds; dir_search() starts an RFC 2696 paged search and dir_next() hands out
 * one entry at a time, asking for the next page when one runs out, so memory
 * holds one page at most. A search is complete only when its last page ends
 * in success: every other ending (limits, referrals, a lost connection, a
 * silent server) is an error the caller must treat as an incomplete read.
 * This file logs nothing; dir_error() carries the detail of the last failure.
 */
#include "rosterd.h"

#include <errno.h>
#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct dir {
	LDAP *ld;
	char *uri;
	int timeout;
	int page_size;
	char err[1024];

	/* the search in progress */
	char *base, *filter;
	int scope;
	char **attrs;
	size_t nattrs;
	int msgid;
	struct berval *cookie;
	bool referral;
	bool active;     /* a page has been requested and not yet ended */
	int ended;       /* 1: ended in success; < 0: how it failed; 0: not yet */

	/* the current entry: values point into msg, valid until the next entry */
	LDAPMessage *msg;
	char *dn;
	size_t dn_cap;
	struct berval **bv;        /* per requested attribute, from libldap */
	struct dir_val **vals;     /* per requested attribute */
	size_t *nvals, *cap;
	bool ranged;     /* some requested attribute came as "attr;range=..." */

	/* asked while waiting for the server: non-zero stops the search */
	int (*interrupt)(void *arg);
	void *interrupt_arg;
};

void
dir_set_interrupt(struct dir *d, int (*fn)(void *arg), void *arg)
{
	d->interrupt = fn;
	d->interrupt_arg = arg;
}

/* Wait for the next message of the search, ldap.timeout at most, asking the
 * interrupt function every quarter of a second: ldap_result()'s code, or -2
 * when the interrupt said stop. */
static int
wait_result(struct dir *d, LDAPMessage **msg)
{
	double deadline = time_mono() + d->timeout;

	for (;;) {
		double left = deadline - time_mono(), slice;
		struct timeval tv;
		int rc;

		if (left < 0)
			left = 0;
		slice = d->interrupt != NULL && left > 0.25 ? 0.25 : left;
		tv.tv_sec = (time_t)slice;
		tv.tv_usec = (suseconds_t)((slice - (double)tv.tv_sec) * 1e6);
		rc = ldap_result(d->ld, d->msgid, LDAP_MSG_ONE, &tv, msg);
		if (rc != 0 || slice >= left)
			return rc;
		if (d->interrupt(d->interrupt_arg) != 0)
			return -2;
	}
}

const char *
dir_error(const struct dir *d)
{
	return d->err;
}

bool
dir_entry_ranged(const struct dir *d)
{
	return d->ranged;
}

const char *
dir_uri(const struct dir *d)
{
	return d->uri;
}

/* Append "what: LDAP error (code)[: server diagnostic]" to err. */
static void
ldap_failure(LDAP *ld, int rc, const char *what, char *err, size_t errlen)
{
	char *diag = NULL;

	if (ld != NULL)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	str_appendf(err, errlen, "%s: %s (%d)", what, ldap_err2string(rc), rc);
	if (diag != NULL && diag[0] != '\0')
		str_appendf(err, errlen, ": %s", diag);
	ldap_memfree(diag);
}

static int
set_options(LDAP *ld, const struct conf *cf, char *err, size_t errlen)
{
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
	struct timeval net = { .tv_sec = cf->ldap.network_timeout };
	struct timeval op = { .tv_sec = cf->ldap.timeout };

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op) != LDAP_OPT_SUCCESS) {
		snprintf(err, errlen, "cannot set LDAP options");
		return -EINVAL;
	}
	/* Certificates are always checked; there is no option to turn that off. */
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    (cf->ldap.ca_file &&
	     ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cf->ldap.ca_file) != LDAP_OPT_SUCCESS) ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS) {
		snprintf(err, errlen, "cannot set up TLS%s%s", cf->ldap.ca_file ? " with ca_file " : "",
			 cf->ldap.ca_file ? cf->ldap.ca_file : "");
		return -EPROTO;
	}
	return 0;
}

/* The bind password from its file or systemd credential; NULL when anonymous. */
static int
bind_password(const struct conf *cf, char **pw, char *err, size_t errlen)
{
	const char *credir;
	char *path = NULL;
	int r;

	*pw = NULL;
	if (cf->ldap.bind_password_file)
		return secret_read(cf->ldap.bind_password_file, true, pw, err, errlen);
	if (cf->ldap.bind_password_credential == NULL)
		return 0;
	credir = getenv("CREDENTIALS_DIRECTORY");
	if (credir == NULL) {
		snprintf(err, errlen, "bind_password_credential \"%s\": $CREDENTIALS_DIRECTORY "
			 "is not set (LoadCredential= in the unit provides it)",
			 cf->ldap.bind_password_credential);
		return -ENOENT;
	}
	if (asprintf(&path, "%s/%s", credir, cf->ldap.bind_password_credential) < 0)
		return -ENOMEM;
	/* systemd owns the credential's mode; do not second-guess it. */
	r = secret_read(path, false, pw, err, errlen);
	free(path);
	return r;
}

/* Connect to one URI and bind. Returns 0 or a negative code as dir_connect. */
static int
connect_one(const struct conf *cf, const char *uri, const char *pw, LDAP **out,
	    char *err, size_t errlen)
{
	struct berval cred = { 0 };
	LDAP *ld = NULL;
	int rc, r;

	rc = ldap_initialize(&ld, uri);
	if (rc != LDAP_SUCCESS) {
		str_appendf(err, errlen, "%s: %s", uri, ldap_err2string(rc));
		return -EINVAL;
	}
	if ((r = set_options(ld, cf, err, errlen)) < 0)
		goto fail;

	rc = ldap_connect(ld);
	if (rc != LDAP_SUCCESS) {
		char what[512];
		snprintf(what, sizeof(what), "%s: connect", uri);
		ldap_failure(ld, rc, what, err, errlen);
		/* An ldaps:// server that answered but failed the TLS handshake. */
		r = (strncasecmp(uri, "ldaps://", 8) == 0 && rc == LDAP_CONNECT_ERROR) ?
		    -EPROTO : -EHOSTUNREACH;
		goto fail;
	}
	if (cf->ldap.starttls && strncasecmp(uri, "ldap://", 7) == 0) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			char what[512];
			snprintf(what, sizeof(what), "%s: StartTLS failed (no plaintext fallback)", uri);
			ldap_failure(ld, rc, what, err, errlen);
			r = (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT) ? -EHOSTUNREACH : -EPROTO;
			goto fail;
		}
	}
	if (pw != NULL) {
		cred.bv_val = (char *)pw;
		cred.bv_len = strlen(pw);
	}
	rc = ldap_sasl_bind_s(ld, cf->ldap.bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		char what[512];
		snprintf(what, sizeof(what), "%s: bind as \"%s\"", uri,
			 cf->ldap.bind_dn ? cf->ldap.bind_dn : "(anonymous)");
		ldap_failure(ld, rc, what, err, errlen);
		if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE ||
		    rc == LDAP_BUSY)
			r = -EHOSTUNREACH;
		else if (rc == LDAP_CONNECT_ERROR)
			r = -EPROTO;
		else
			r = -EACCES;
		goto fail;
	}
	*out = ld;
	return 0;
fail:
	ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

int
dir_connect(const struct conf *cf, struct dir **out, char *err, size_t errlen)
{
	char *list = NULL, *save = NULL, *pw = NULL;
	struct dir *d = NULL;
	LDAP *ld = NULL;
	int r = -EHOSTUNREACH;

	err[0] = '\0';
	if ((r = bind_password(cf, &pw, err, errlen)) < 0)
		return r == -ENOMEM ? r : -ENOKEY;
	r = -EHOSTUNREACH;
	list = strdup(cf->ldap.uri);
	d = calloc(1, sizeof(*d));
	if (list == NULL || d == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (char *u = strtok_r(list, " \t", &save); u; u = strtok_r(NULL, " \t", &save)) {
		if (err[0] != '\0')
			str_appendf(err, errlen, "; ");
		r = connect_one(cf, u, pw, &ld, err, errlen);
		if (r == 0) {
			d->uri = strdup(u);
			if (d->uri == NULL)
				r = -ENOMEM;
			break;
		}
		/* Wrong credentials are wrong everywhere: stop before a lockout. */
		if (r == -EACCES || r == -ENOMEM)
			break;
	}
	if (r < 0)
		goto out;
	d->ld = ld;
	ld = NULL;
	d->timeout = cf->ldap.timeout;
	d->page_size = cf->ldap.page_size;
	d->msgid = -1;
	err[0] = '\0';
	*out = d;
	d = NULL;
out:
	secret_free(pw);
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	dir_close(d);
	free(list);
	return r;
}

static void
entry_clear(struct dir *d)
{
	d->ranged = false;
	for (size_t i = 0; i < d->nattrs; i++) {
		ber_memfree(d->bv[i]);
		d->bv[i] = NULL;
		d->nvals[i] = 0;
	}
	if (d->msg != NULL) {
		ldap_msgfree(d->msg);
		d->msg = NULL;
	}
}

static void
search_clear(struct dir *d)
{
	entry_clear(d);
	if (d->active && d->msgid >= 0 && d->ld != NULL)
		ldap_abandon_ext(d->ld, d->msgid, NULL, NULL);
	d->active = false;
	d->msgid = -1;
	ber_bvfree(d->cookie);
	d->cookie = NULL;
	for (size_t i = 0; i < d->nattrs; i++) {
		free(d->attrs[i]);
		free(d->vals[i]);
	}
	free(d->attrs);
	free(d->bv);
	free(d->vals);
	free(d->nvals);
	free(d->cap);
	d->attrs = NULL;
	d->bv = NULL;
	d->vals = NULL;
	d->nvals = d->cap = NULL;
	d->nattrs = 0;
	free(d->base);
	free(d->filter);
	d->base = d->filter = NULL;
}

void
dir_close(struct dir *d)
{
	if (d == NULL)
		return;
	search_clear(d);
	if (d->ld != NULL)
		ldap_unbind_ext_s(d->ld, NULL, NULL);
	free(d->dn);
	free(d->uri);
	free(d);
}

/* Send the request for the next page (the first when there is no cookie). */
static int
send_page(struct dir *d)
{
	LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
	struct timeval tv = { .tv_sec = d->timeout };
	int rc;

	rc = ldap_create_page_control(d->ld, (ber_int_t)d->page_size, d->cookie, 1, &page);
	if (rc != LDAP_SUCCESS) {
		snprintf(d->err, sizeof(d->err), "cannot make the paged results control: %s",
			 ldap_err2string(rc));
		return -ENOMEM;
	}
	ctrls[0] = page;
	rc = ldap_search_ext(d->ld, d->base, d->scope, d->filter, d->attrs, 0, ctrls, NULL,
			     &tv, LDAP_NO_LIMIT, &d->msgid);
	ldap_control_free(page);
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, "search request", d->err, sizeof(d->err));
		return rc == LDAP_SERVER_DOWN ? -ECONNRESET : -EIO;
	}
	d->active = true;
	return 0;
}

int
dir_search(struct dir *d, const char *base, enum search_scope scope, const char *filter,
	   const char *const *attrs)
{
	size_t n = 0;

	search_clear(d);
	d->err[0] = '\0';
	while (attrs[n] != NULL)
		n++;
	d->base = strdup(base);
	d->filter = strdup(filter);
	d->attrs = calloc(n + 1, sizeof(*d->attrs));
	d->bv = calloc(n + 1, sizeof(*d->bv));
	d->vals = calloc(n + 1, sizeof(*d->vals));
	d->nvals = calloc(n + 1, sizeof(*d->nvals));
	d->cap = calloc(n + 1, sizeof(*d->cap));
	if (!d->base || !d->filter || !d->attrs || !d->bv || !d->vals || !d->nvals || !d->cap)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		d->attrs[i] = strdup(attrs[i]);
		if (d->attrs[i] == NULL)
			goto oom;
		d->nattrs = i + 1;
	}
	d->nattrs = n;
	d->scope = scope == SCOPE_ONE ? LDAP_SCOPE_ONELEVEL : LDAP_SCOPE_SUBTREE;
	d->referral = false;
	d->ended = 0;
	return send_page(d);
oom:
	search_clear(d);
	return -ENOMEM;
}

/* Map a search's final result code to the error dir_next reports. */
static int
result_error(int rc)
{
	switch (rc) {
	case LDAP_SIZELIMIT_EXCEEDED: return -ERANGE;
	case LDAP_TIMELIMIT_EXCEEDED: return -ETIME;
	case LDAP_ADMINLIMIT_EXCEEDED: return -EPERM;
	case LDAP_REFERRAL: return -EREMOTE;
	case LDAP_SERVER_DOWN: return -ECONNRESET;
	case LDAP_TIMEOUT: return -ETIMEDOUT;
	default: return -EIO;
	}
}

/* Collect the current entry's DN and requested attribute values. */
static int
entry_load(struct dir *d)
{
	BerElement *ber = NULL;
	struct berval dn, attr, *vals = NULL;
	int rc;

	rc = ldap_get_dn_ber(d->ld, d->msg, &ber, &dn);
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, "reading an entry", d->err, sizeof(d->err));
		ber_free(ber, 0);
		return -EIO;
	}
	if (dn.bv_len + 1 > d->dn_cap) {
		char *p = realloc(d->dn, dn.bv_len + 64);
		if (p == NULL) {
			ber_free(ber, 0);
			return -ENOMEM;
		}
		d->dn = p;
		d->dn_cap = dn.bv_len + 64;
	}
	memcpy(d->dn, dn.bv_val, dn.bv_len);
	d->dn[dn.bv_len] = '\0';

	for (rc = ldap_get_attribute_ber(d->ld, d->msg, ber, &attr, &vals);
	     rc == LDAP_SUCCESS && attr.bv_val != NULL;
	     rc = ldap_get_attribute_ber(d->ld, d->msg, ber, &attr, &vals)) {
		size_t i, n = 0;

		for (i = 0; i < d->nattrs; i++) {
			size_t alen = strlen(d->attrs[i]);
			if (alen == attr.bv_len && strncasecmp(d->attrs[i], attr.bv_val, alen) == 0)
				break;
			/* Active Directory sends large multi-valued attributes in
			 * ranges ("member;range=0-1499"): the values are incomplete. */
			if (attr.bv_len > alen + 7 && strncasecmp(d->attrs[i], attr.bv_val, alen) == 0 &&
			    strncasecmp(attr.bv_val + alen, ";range=", 7) == 0)
				d->ranged = true;
		}
		if (i == d->nattrs || vals == NULL || d->bv[i] != NULL) {
			ber_memfree(vals);
			vals = NULL;
			continue;
		}
		for (n = 0; vals[n].bv_val != NULL; n++)
			;
		if (n > d->cap[i]) {
			struct dir_val *p = realloc(d->vals[i], n * sizeof(*p));
			if (p == NULL) {
				ber_memfree(vals);
				ber_free(ber, 0);
				return -ENOMEM;
			}
			d->vals[i] = p;
			d->cap[i] = n;
		}
		for (size_t k = 0; k < n; k++) {
			d->vals[i][k].data = vals[k].bv_val;
			d->vals[i][k].len = vals[k].bv_len;
		}
		d->nvals[i] = n;
		d->bv[i] = vals;   /* freed with the entry; values point into msg */
		vals = NULL;
	}
	ber_free(ber, 0);
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, "decoding an entry", d->err, sizeof(d->err));
		return -EIO;
	}
	return 0;
}

/* The search's result message: fail, or go on with the next page, or end. */
static int
page_done(struct dir *d, LDAPMessage *msg)
{
	LDAPControl **ctrls = NULL, *pr;
	char *diag = NULL, *matched = NULL;
	ber_int_t count;
	int err = LDAP_SUCCESS, rc, r = 0;

	d->active = false;
	rc = ldap_parse_result(d->ld, msg, &err, &matched, &diag, NULL, &ctrls, 1);
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, "reading the search result", d->err, sizeof(d->err));
		r = -EIO;
		goto out;
	}
	if (err != LDAP_SUCCESS) {
		snprintf(d->err, sizeof(d->err), "search of \"%s\" ended: %s (%d)%s%s", d->base,
			 ldap_err2string(err), err, diag && diag[0] ? ": " : "", diag ? diag : "");
		r = result_error(err);
		goto out;
	}
	ber_bvfree(d->cookie);
	d->cookie = NULL;
	pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	if (pr != NULL) {
		struct berval cookie = { 0 };
		rc = ldap_parse_pageresponse_control(d->ld, pr, &count, &cookie);
		if (rc != LDAP_SUCCESS) {
			snprintf(d->err, sizeof(d->err), "bad paged results response: %s",
				 ldap_err2string(rc));
			r = -EIO;
			goto out;
		}
		if (cookie.bv_len > 0) {
			d->cookie = ber_bvdup(&cookie);
			ldap_memfree(cookie.bv_val);
			if (d->cookie == NULL) {
				r = -ENOMEM;
				goto out;
			}
			r = send_page(d);
			if (r == 0)
				r = 1;   /* more to come */
			goto out;
		}
		ldap_memfree(cookie.bv_val);
	}
	if (d->referral) {
		snprintf(d->err, sizeof(d->err), "search of \"%s\" returned referrals, "
			 "which rosterd does not follow", d->base);
		r = -EREMOTE;
	}
out:
	ldap_controls_free(ctrls);
	ldap_memfree(diag);
	ldap_memfree(matched);
	return r;
}

int
dir_next(struct dir *d, const char **dn)
{
	LDAPMessage *msg = NULL;
	int rc, r;

	entry_clear(d);
	for (;;) {
		if (!d->active)
			return d->ended == 1 ? 0 : (d->ended < 0 ? d->ended : -EINVAL);
		rc = wait_result(d, &msg);
		if (rc == -2) {
			snprintf(d->err, sizeof(d->err), "search of \"%s\": stopped while waiting "
				 "for %s", d->base, d->uri);
			ldap_abandon_ext(d->ld, d->msgid, NULL, NULL);
			d->active = false;
			return d->ended = -ECANCELED;
		}
		if (rc == 0) {
			snprintf(d->err, sizeof(d->err), "search of \"%s\": no reply from %s "
				 "within %d s", d->base, d->uri, d->timeout);
			ldap_abandon_ext(d->ld, d->msgid, NULL, NULL);
			d->active = false;
			return d->ended = -ETIMEDOUT;
		}
		if (rc < 0) {
			int code = LDAP_OTHER;
			ldap_get_option(d->ld, LDAP_OPT_RESULT_CODE, &code);
			d->err[0] = '\0';
			ldap_failure(d->ld, code, "search", d->err, sizeof(d->err));
			d->active = false;
			return d->ended = result_error(code);
		}
		switch (ldap_msgtype(msg)) {
		case LDAP_RES_SEARCH_ENTRY:
			d->msg = msg;
			if ((r = entry_load(d)) < 0)
				return r;
			*dn = d->dn;
			return 1;
		case LDAP_RES_SEARCH_REFERENCE:
			d->referral = true;
			ldap_msgfree(msg);
			break;
		case LDAP_RES_SEARCH_RESULT:
			r = page_done(d, msg);   /* frees msg */
			if (r <= 0) {
				d->ended = r < 0 ? r : 1;
				return r;
			}
			break;
		default:
			ldap_msgfree(msg);
			break;
		}
	}
}

const struct dir_val *
dir_values(struct dir *d, size_t i, size_t *n)
{
	if (i >= d->nattrs || d->msg == NULL) {
		*n = 0;
		return NULL;
	}
	*n = d->nvals[i];
	return d->vals[i];
}

int
dir_filter_escape(const char *in, size_t len, char **out)
{
	struct berval bv = { .bv_len = len, .bv_val = (char *)in }, esc = { 0 };

	if (ldap_bv2escaped_filter_value(&bv, &esc) != 0)
		return -ENOMEM;
	/* libldap gives NULL for an empty value: a filter wants "" there. */
	if (esc.bv_val == NULL && (esc.bv_val = strdup("")) == NULL)
		return -ENOMEM;
	*out = esc.bv_val;
	return 0;
}
