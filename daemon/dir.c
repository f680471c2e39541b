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
 * An attribute sent in ranges (Active Directory's range retrieval) is fetched
 * whole by base searches of its entry, on the same connection, before the
 * entry is handed out; a fetch that fails makes the search incomplete.
 * The root DSE is read once a connection is bound: when the server offers
 * Active Directory's domain scope control, every search sends it, so that no
 * continuation references to the forest's other partitions come back; a
 * reference that still comes makes the search incomplete unless it names
 * another naming context of the same server (AD's Configuration, Schema and
 * DNS partitions), which no configured base can be in.
 * This file logs nothing; dir_error() carries the detail of the last failure.
 */
#include "util.h"
#include "dir.h"
#include "dir_sync.h"
#include "dn.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <errno.h>
#include <ldap.h>
#include <ldap_schema.h>
#include <limits.h>
#include <sasl/sasl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct dir {
	LDAP *ld;
	char *uri;
	int timeout;
	int page_size;
	char err[1024];

	/* asked for in ranges of range_size values from the first (dir_set_range) */
	char *range_attr;
	unsigned long range_size;

	/* the search in progress */
	char *base, *filter;
	int scope;
	char **attrs;
	size_t nattrs;
	char **req;      /* attrs as requested: the one in ranges with its range */
	size_t range_i;  /* which: its index in attrs; nattrs when none */
	int msgid;
	struct berval *cookie;
	bool referral;
	char ref_first[256];  /* the first reference not ruled out */
	bool active;     /* a page has been requested and not yet ended */
	int ended;       /* 1: ended in success; < 0: how it failed; 0: not yet */

	/* the current entry: values point into msg and into the replies of its
	 * range searches (more), valid until the next entry */
	LDAPMessage *msg;
	LDAPMessage **more;
	size_t nmore, more_cap;
	char *dn;
	size_t dn_cap;
	struct berval **bv;        /* per requested attribute, from libldap */
	struct dir_val **vals;     /* per requested attribute */
	size_t *nvals, *cap;
	unsigned long *range_next; /* per requested attribute: the next range's
				      first value to ask for; 0: none */
	bool ranged;     /* some requested attribute's values are in part only */
	int range_rc;    /* a range fetch of this search failed: how; 0 none */
	char range_err[512];

	/* a content synchronisation (RFC 4533) instead of a paged search */
	bool sync;
	bool persist;              /* refreshAndPersist */
	bool persisting;           /* its refresh stage has ended */
	bool sync_cookie;          /* it was asked from a cookie */
	struct dsync ds;
	enum dir_sync_kind item;   /* of the current entry */
	unsigned char uuid[16];    /* its entryUUID */
	bool unasked;              /* the current entry came with an attribute not asked for */
	/* entries of the search read again, each by a base search (dir_reread) */
	struct {
		char **dns;
		int *msgid;
		size_t n, sent, taken;   /* base searches sent, replies taken */
		bool active;
		int rc;                  /* the first failure; 0 none */
	} rr;
	/* the server is 389 Directory Server (root DSE: vendorName "389 Project") */
	bool ds389;
	/* from the root DSE: the domain scope control is offered; the naming
	 * contexts, normalised (dn.c) */
	bool domain_scope;
	bool ad;         /* the server says it is Active Directory */
	char **ncs;
	size_t nncs;

	/* asked while waiting for the server: non-zero stops the search */
	int (*interrupt)(void *arg);
	void *interrupt_arg;

	/* the server gave no reply within the timeout on this connection: what
	 * it did not answer; no request is sent on it after that ("" none) */
	char stalled[512];
};

/* Remember that the server did not answer what (the text of d->err or of
 * the range error): the connection is taken as dead. */
static void
stall(struct dir *d, const char *what)
{
	if (d->stalled[0] == '\0')
		snprintf(d->stalled, sizeof(d->stalled), "%.*s", (int)sizeof(d->stalled) - 1, what);
}

/* Before sending request on d: -ETIMEDOUT, with d->err saying why, when the
 * server already failed to answer on this connection (waiting on it again
 * would cost another ldap.timeout for the same answer); else 0. */
static int
stalled_refuse(struct dir *d, const char *request)
{
	if (d->stalled[0] == '\0')
		return 0;
	snprintf(d->err, sizeof(d->err), "%s: not sent: the connection stalled (%s)", request,
		 d->stalled);
	return -ETIMEDOUT;
}

void
dir_set_interrupt(struct dir *d, int (*fn)(void *arg), void *arg)
{
	d->interrupt = fn;
	d->interrupt_arg = arg;
}

/* Wait for the next message of operation msgid (all of them when all),
 * seconds at most, asking the interrupt function every quarter of a
 * second: ldap_result()'s code, or -2 when the interrupt said stop. The
 * messages of other operations stay queued for their own calls. */
static int
wait_result_for(struct dir *d, int msgid, int all, LDAPMessage **msg, double seconds)
{
	double deadline = time_mono() + seconds;

	for (;;) {
		double left = deadline - time_mono(), slice;
		struct timeval tv;
		int rc;

		if (left < 0)
			left = 0;
		slice = d->interrupt != NULL && left > 0.25 ? 0.25 : left;
		tv.tv_sec = (time_t)slice;
		tv.tv_usec = (suseconds_t)((slice - (double)tv.tv_sec) * 1e6);
		rc = ldap_result(d->ld, msgid, all, &tv, msg);
		if (rc != 0 || slice >= left)
			return rc;
		if (d->interrupt(d->interrupt_arg) != 0)
			return -2;
	}
}

/* As wait_result_for(), ldap.timeout at most. */
static int
wait_result(struct dir *d, int msgid, int all, LDAPMessage **msg)
{
	return wait_result_for(d, msgid, all, msg, d->timeout);
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

/* Why a TLS handshake failed. libldap keeps the reason (a certificate that
 * does not name the host, an unknown issuer, an expired one) out of the
 * session's diagnostic message, which says "(unknown error code)"; it only
 * prints it to its debug log. While a TLS connection is set up, that log is
 * turned on and its "TLS: " lines are kept here (the last one that is not
 * the generic "can't connect"); libldap's log is process-wide, and rosterd
 * connects from one thread. */
static char tls_reason[256];
/* libldap's LDAP_DEBUG_TRACE (ldap_log.h, not installed): where it logs why a
 * certificate was refused. */
#define DIR_LDAP_DEBUG_TRACE 0x0001

/* With GnuTLS, libldap logs a refused certificate as "peer cert untrusted or
 * revoked (0x42)", the bits of gnutls_certificate_status_t: add their words. */
static void
tls_status_words(void)
{
	static const struct { unsigned bit; const char *word; } bits[] = {
		{ 0x40, "issuer unknown" }, { 0x80, "issuer not a CA" },
		{ 0x20, "revoked" }, { 0x400, "expired" }, { 0x200, "not yet valid" },
		{ 0x100, "insecure algorithm" },
	};
	const char *p = strstr(tls_reason, "untrusted or revoked (0x");
	unsigned long status;
	char *end;
	bool first = true;

	if (p == NULL)
		return;
	status = strtoul(p + strlen("untrusted or revoked (0x"), &end, 16);
	if (*end != ')' || end[1] != '\0')
		return;
	tls_reason[end - tls_reason] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(status & bits[i].bit))
			continue;
		str_appendf(tls_reason, sizeof(tls_reason), "%s%s", first ? ": " : ", ",
			    bits[i].word);
		first = false;
	}
	str_appendf(tls_reason, sizeof(tls_reason), ")");
}

static void
tls_log(const char *line)
{
	size_t n;

	if (strncmp(line, "TLS: ", 5) != 0 || strstr(line, "can't connect") != NULL)
		return;
	snprintf(tls_reason, sizeof(tls_reason), "%s", line);
	n = strlen(tls_reason);
	while (n > 0 && (tls_reason[n - 1] == '\n' || tls_reason[n - 1] == '.'))
		tls_reason[--n] = '\0';
	tls_status_words();
}

/* Start (on) or stop keeping libldap's TLS messages. */
static void
tls_capture(bool on)
{
	int level = on ? DIR_LDAP_DEBUG_TRACE : 0;

	if (on) {
		tls_reason[0] = '\0';
		ber_set_option(NULL, LBER_OPT_LOG_PRINT_FN, (void *)tls_log);
	}
	ldap_set_option(NULL, LDAP_OPT_DEBUG_LEVEL, &level);
}

/* Append a TLS failure to err: as ldap_failure, with the reason libldap
 * logged in place of its diagnostic when there is one. */
static void
tls_failure(LDAP *ld, int rc, const char *what, char *err, size_t errlen)
{
	if (tls_reason[0] == '\0') {
		ldap_failure(ld, rc, what, err, errlen);
		return;
	}
	str_appendf(err, errlen, "%s: %s (%d): %s", what, ldap_err2string(rc), rc, tls_reason);
}

static int
set_options(LDAP *ld, const struct conf *cf, char *err, size_t errlen)
{
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
	struct timeval net = { .tv_sec = cf->ldap.network_timeout };
	struct timeval op = { .tv_sec = cf->ldap.timeout };
	/* TCP keepalive: a peer gone without a word (a host down, a firewall
	 * that forgot the connection) is noticed on an idle connection, as a
	 * persistent search's is, within about 90 s. */
	int keepalive[3] = { 60, 3, 10 };   /* idle s, probes, s between probes */

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_IDLE, &keepalive[0]) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_PROBES, &keepalive[1]) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &keepalive[2]) != LDAP_OPT_SUCCESS) {
		snprintf(err, errlen, "cannot set LDAP options");
		return -EINVAL;
	}
	/* Certificates are always checked; there is no option to turn that off. */
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    (cf->ldap.ca_file &&
	     ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cf->ldap.ca_file) != LDAP_OPT_SUCCESS) ||
	    (cf->ldap.cert_file &&
	     (ldap_set_option(ld, LDAP_OPT_X_TLS_CERTFILE, cf->ldap.cert_file) != LDAP_OPT_SUCCESS ||
	      ldap_set_option(ld, LDAP_OPT_X_TLS_KEYFILE, cf->ldap.key_file) != LDAP_OPT_SUCCESS)) ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS) {
		snprintf(err, errlen, "cannot set up TLS%s%s%s%s", cf->ldap.ca_file ? " with ca_file " : "",
			 cf->ldap.ca_file ? cf->ldap.ca_file : "",
			 cf->ldap.cert_file ? " and the client certificate " : "",
			 cf->ldap.cert_file ? cf->ldap.cert_file : "");
		return -EPROTO;
	}
	/* GSSAPI: the service is the host as the URI names it (ldap/HOST), never
	 * a name found by a reverse lookup of its address. */
	if (ldap_set_option(ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON) != LDAP_OPT_SUCCESS) {
		snprintf(err, errlen, "cannot set LDAP options");
		return -EINVAL;
	}
	return 0;
}

/* libsasl2's questions during a SASL bind (the authorization identity):
 * each gets its default, or nothing. */
static int
sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	(void)ld;
	(void)flags;
	(void)defaults;
	for (sasl_interact_t *q = in; q->id != SASL_CB_LIST_END; q++) {
		q->result = q->defresult != NULL ? q->defresult : "";
		q->len = (unsigned)strlen(q->result);
	}
	return LDAP_SUCCESS;
}

/* GSSAPI with ldap.keytab: libkrb5 gets the credentials from that client
 * keytab (KRB5_CLIENT_KTNAME) into a credential cache of the process's own
 * memory, unless the environment names a cache. Without ldap.keytab the
 * environment decides (KRB5_CLIENT_KTNAME, KRB5CCNAME). */
static int
gssapi_env(const struct conf *cf)
{
	if (cf->ldap.keytab == NULL)
		return 0;
	if (setenv("KRB5_CLIENT_KTNAME", cf->ldap.keytab, 1) < 0 ||
	    setenv("KRB5CCNAME", "MEMORY:rosterd", 0) < 0)
		return -errno;
	return 0;
}

/* Bind ld: SASL (ldap.sasl_mech), or simple with pw (NULL: anonymous).
 * Returns 0 or a negative code as dir_connect, with err appended to. */
static int
bind_as(LDAP *ld, const struct conf *cf, const char *uri, const char *pw, char *err,
	size_t errlen)
{
	struct berval cred = { 0 };
	const char *mech = cf->ldap.sasl_mech;
	char what[512];
	int rc;

	if (pw != NULL) {
		cred.bv_val = (char *)pw;
		cred.bv_len = strlen(pw);
	}
	if (mech != NULL && gssapi_env(cf) < 0) {
		str_appendf(err, errlen, "%s: cannot name the keytab %s to libkrb5", uri,
			    cf->ldap.keytab);
		return -ENOMEM;
	}
	if (mech != NULL)
		rc = ldap_sasl_interactive_bind_s(ld, NULL, mech, NULL, NULL, LDAP_SASL_QUIET,
						  sasl_interact, NULL);
	else
		rc = ldap_sasl_bind_s(ld, cf->ldap.bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
				      NULL);
	if (rc == LDAP_SUCCESS)
		return 0;
	if (mech != NULL)
		snprintf(what, sizeof(what), "%s: SASL %s bind%s%s", uri, mech,
			 cf->ldap.keytab ? " with the keytab " : "",
			 cf->ldap.keytab ? cf->ldap.keytab : "");
	else
		snprintf(what, sizeof(what), "%s: bind as \"%s\"", uri,
			 cf->ldap.bind_dn ? cf->ldap.bind_dn : "(anonymous)");
	ldap_failure(ld, rc, what, err, errlen);
	if (mech != NULL && strcmp(mech, "EXTERNAL") == 0 && rc == LDAP_AUTH_UNKNOWN)
		str_appendf(err, errlen, " (the server took no client certificate: does it "
			    "ask for one, and trust the CA that signed it?)");
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE ||
	    rc == LDAP_BUSY)
		return -EHOSTUNREACH;
	return rc == LDAP_CONNECT_ERROR ? -EPROTO : -EACCES;
}

/* The bind password from its file or systemd credential; NULL when anonymous. */
static int
bind_password(const struct conf *cf, char **pw, char *err, size_t errlen)
{
	*pw = NULL;
	if (cf->ldap.bind_password_file)
		return secret_read(cf->ldap.bind_password_file, true, pw, err, errlen);
	if (cf->ldap.bind_password_credential == NULL)
		return 0;
	return secret_read_credential("bind_password_credential",
				      cf->ldap.bind_password_credential, pw, err, errlen);
}

/* Whether host (from a URL, brackets gone) names the loopback: an IPv4
 * address in 127.0.0.0/8, ::1, or localhost. */
static bool
host_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

bool
dir_uri_cleartext(const char *uri, bool starttls)
{
	LDAPURLDesc *lud = NULL;
	bool clear;

	if (strncasecmp(uri, "ldaps://", 8) == 0 || strncasecmp(uri, "ldapi://", 8) == 0)
		return false;
	if (strncasecmp(uri, "ldap://", 7) != 0 || ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS)
		return true;
	clear = !starttls && (lud->lud_host == NULL || !host_loopback(lud->lud_host));
	ldap_free_urldesc(lud);
	return clear;
}

bool
dir_cleartext_bind(const struct conf *cf, char *uri, size_t len)
{
	char *list, *save = NULL;
	bool found = false;

	if (cf->ldap.bind_dn == NULL || cf->ldap.uri == NULL)
		return false;
	if ((list = strdup(cf->ldap.uri)) == NULL)
		return true;   /* cannot tell: assume the worst */
	for (char *u = strtok_r(list, " \t", &save); u && !found; u = strtok_r(NULL, " \t", &save))
		if ((found = dir_uri_cleartext(u, cf->ldap.starttls)))
			snprintf(uri, len, "%s", u);
	free(list);
	return found;
}

/* Connect to one URI and bind. Returns 0 or a negative code as dir_connect. */
static int
connect_one(const struct conf *cf, const char *uri, const char *pw, LDAP **out,
	    char *err, size_t errlen)
{
	LDAP *ld = NULL;
	bool tls;
	int rc, r;

	rc = ldap_initialize(&ld, uri);
	if (rc != LDAP_SUCCESS) {
		str_appendf(err, errlen, "%s: %s", uri, ldap_err2string(rc));
		return -EINVAL;
	}
	if ((r = set_options(ld, cf, err, errlen)) < 0)
		goto fail;

	tls = strncasecmp(uri, "ldaps://", 8) == 0 ||
	      (cf->ldap.starttls && strncasecmp(uri, "ldap://", 7) == 0);
	if (tls)
		tls_capture(true);
	rc = ldap_connect(ld);
	if (rc != LDAP_SUCCESS) {
		char what[512];
		snprintf(what, sizeof(what), "%s: connect", uri);
		if (tls)
			tls_capture(false);
		tls_failure(ld, rc, what, err, errlen);
		/* An ldaps:// server that answered but failed the TLS handshake. */
		r = (strncasecmp(uri, "ldaps://", 8) == 0 && rc == LDAP_CONNECT_ERROR) ?
		    -EPROTO : -EHOSTUNREACH;
		goto fail;
	}
	if (cf->ldap.starttls && strncasecmp(uri, "ldap://", 7) == 0) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		tls_capture(false);
		if (rc != LDAP_SUCCESS) {
			char what[512];
			snprintf(what, sizeof(what), "%s: StartTLS failed (no plaintext fallback)", uri);
			tls_failure(ld, rc, what, err, errlen);
			r = (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT) ? -EHOSTUNREACH : -EPROTO;
			goto fail;
		}
	}
	if (tls)
		tls_capture(false);
	if (pw != NULL && !cf->ldap.allow_plaintext_bind && dir_uri_cleartext(uri, cf->ldap.starttls)) {
		str_appendf(err, errlen, "%s: the bind password would go in clear: use "
			    "ldaps:// or starttls, or set ldap.allow_plaintext_bind", uri);
		r = -EPROTO;
		goto fail;
	}
	if ((r = bind_as(ld, cf, uri, pw, err, errlen)) < 0)
		goto fail;
	*out = ld;
	return 0;
fail:
	ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

/* Active Directory's LDAP_SERVER_DOMAIN_SCOPE_OID: no continuation references. */
#define DIR_CONTROL_DOMAIN_SCOPE "1.2.840.113556.1.4.1339"

/* Active Directory's LDAP_CAP_ACTIVE_DIRECTORY_OID (Samba's too). */
#define DIR_CAPABILITY_AD "1.2.840.113556.1.4.800"

/* Whether the root DSE e lists value among the values of attr. */
static bool
rootdse_has(struct dir *d, LDAPMessage *e, const char *attr, const char *value)
{
	struct berval **bv = ldap_get_values_len(d->ld, e, attr);
	bool found = false;

	for (size_t i = 0; bv != NULL && bv[i] != NULL && !found; i++)
		found = bv[i]->bv_len == strlen(value) &&
			memcmp(bv[i]->bv_val, value, bv[i]->bv_len) == 0;
	ldap_value_free_len(bv);
	return found;
}

/* Read the root DSE: whether the domain scope control is offered, the
 * naming contexts, whether the server is Active Directory and whether it is
 * 389-DS. A server that does not answer it (it may hide the root DSE
 * from the account) gets no control, and every reference counts: the safe
 * side. Returns 0 or -ENOMEM. */
static int
rootdse_read(struct dir *d)
{
	char *attrs[] = { "supportedControl", "supportedCapabilities", "namingContexts",
			  "vendorName", NULL };
	struct timeval tv = { .tv_sec = d->timeout };
	struct berval **bv;
	LDAPMessage *res = NULL, *e;
	int r = 0;

	if (ldap_search_ext_s(d->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
			      NULL, &tv, 1, &res) != LDAP_SUCCESS ||
	    (e = ldap_first_entry(d->ld, res)) == NULL)
		goto out;
	d->domain_scope = rootdse_has(d, e, "supportedControl", DIR_CONTROL_DOMAIN_SCOPE);
	d->ad = rootdse_has(d, e, "supportedCapabilities", DIR_CAPABILITY_AD);
	if ((bv = ldap_get_values_len(d->ld, e, "vendorName")) != NULL) {
		d->ds389 = bv[0] != NULL && bv[0]->bv_len >= 11 &&
			   memcmp(bv[0]->bv_val, "389 Project", 11) == 0;
		ldap_value_free_len(bv);
	}
	if ((bv = ldap_get_values_len(d->ld, e, "namingContexts")) != NULL) {
		size_t n = 0;
		while (bv[n] != NULL)
			n++;
		d->ncs = calloc(n + 1, sizeof(*d->ncs));
		for (size_t i = 0; d->ncs != NULL && i < n; i++) {
			char *nc = NULL;
			int q = dn_normalize(bv[i]->bv_val, bv[i]->bv_len, &nc);
			if (q == -ENOMEM) {
				r = q;
				break;
			}
			if (q == 0)
				d->ncs[d->nncs++] = nc;
		}
		if (d->ncs == NULL)
			r = -ENOMEM;
		ldap_value_free_len(bv);
	}
out:
	ldap_msgfree(res);
	return r;
}

/* Whether normalised DN dn is nc or below it. */
static bool
dn_within(const char *dn, const char *nc)
{
	size_t l = strlen(dn), n = strlen(nc);

	if (n == 0)
		return true;
	return l == n ? strcmp(dn, nc) == 0 :
	       l > n && dn[l - n - 1] == ',' && strcmp(dn + l - n, nc) == 0;
}

/* Whether a continuation reference (its URLs) leads only where no configured
 * base can be: each URL names a naming context of this same server that does
 * not hold the search's base. Such a partition is searched by a search based
 * in it, never through another one's references. */
static bool
reference_outside(const struct dir *d, char **refs)
{
	char *base = NULL;
	bool outside = refs != NULL && refs[0] != NULL;

	if (dn_normalize(d->base, strlen(d->base), &base) < 0)
		return false;
	for (size_t i = 0; outside && refs[i] != NULL; i++) {
		LDAPURLDesc *u = NULL;
		char *dn = NULL;
		bool known = false;

		if (ldap_url_parse(refs[i], &u) != LDAP_URL_SUCCESS || u->lud_dn == NULL ||
		    u->lud_dn[0] == '\0' || dn_normalize(u->lud_dn, strlen(u->lud_dn), &dn) < 0) {
			outside = false;
		} else {
			for (size_t k = 0; k < d->nncs; k++)
				if (strcmp(dn, d->ncs[k]) == 0)
					known = true;
			outside = known && !dn_within(base, dn);
		}
		free(dn);
		ldap_free_urldesc(u);
	}
	free(base);
	return outside;
}

/* A continuation reference of the search: note it unless it is ruled out. */
static void
reference_seen(struct dir *d, LDAPMessage *msg)
{
	char **refs = NULL;

	if (ldap_parse_reference(d->ld, msg, &refs, NULL, 0) == LDAP_SUCCESS &&
	    reference_outside(d, refs)) {
		ldap_memvfree((void **)refs);
		return;
	}
	if (!d->referral)
		snprintf(d->ref_first, sizeof(d->ref_first), "%s",
			 refs && refs[0] ? refs[0] : "(unreadable)");
	d->referral = true;
	ldap_memvfree((void **)refs);
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
	if ((r = rootdse_read(d)) < 0)
		goto out;
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
	d->unasked = false;
	for (size_t i = 0; i < d->nattrs; i++) {
		ber_memfree(d->bv[i]);
		d->bv[i] = NULL;
		d->nvals[i] = 0;
		d->range_next[i] = 0;
	}
	for (size_t k = 0; k < d->nmore; k++)
		ldap_msgfree(d->more[k]);
	d->nmore = 0;
	if (d->msg != NULL) {
		ldap_msgfree(d->msg);
		d->msg = NULL;
	}
}

static void reread_clear(struct dir *d);

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
	dsync_clear(&d->ds);
	d->sync = false;
	d->persist = d->persisting = false;
	d->sync_cookie = false;
	reread_clear(d);
	for (size_t i = 0; i < d->nattrs; i++) {
		free(d->attrs[i]);
		free(d->vals[i]);
	}
	if (d->req != NULL && d->range_i < d->nattrs)
		free(d->req[d->range_i]);
	free(d->req);
	d->req = NULL;
	free(d->attrs);
	free(d->bv);
	free(d->vals);
	free(d->nvals);
	free(d->cap);
	free(d->range_next);
	d->attrs = NULL;
	d->bv = NULL;
	d->vals = NULL;
	d->nvals = d->cap = NULL;
	d->range_next = NULL;
	d->nattrs = 0;
	d->range_rc = 0;
	d->range_err[0] = '\0';
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
	free(d->more);
	free(d->dn);
	free(d->uri);
	free(d->range_attr);
	for (size_t i = 0; i < d->nncs; i++)
		free(d->ncs[i]);
	free(d->ncs);
	free(d);
}

/* Send the request for the next page (the first when there is no cookie). */
static int
send_page(struct dir *d)
{
	LDAPControl *page = NULL, scope = { 0 }, *ctrls[3] = { NULL, NULL, NULL };
	struct timeval tv = { .tv_sec = d->timeout };
	char what[300];
	int rc;

	snprintf(what, sizeof(what), "search of \"%s\"", d->base);
	if ((rc = stalled_refuse(d, what)) < 0)
		return rc;
	rc = ldap_create_page_control(d->ld, (ber_int_t)d->page_size, d->cookie, 1, &page);
	if (rc != LDAP_SUCCESS) {
		snprintf(d->err, sizeof(d->err), "cannot make the paged results control: %s",
			 ldap_err2string(rc));
		return -ENOMEM;
	}
	ctrls[0] = page;
	if (d->domain_scope) {
		scope.ldctl_oid = DIR_CONTROL_DOMAIN_SCOPE;
		scope.ldctl_iscritical = 0;
		ctrls[1] = &scope;
	}
	rc = ldap_search_ext(d->ld, d->base, d->scope, d->filter, d->req, 0, ctrls, NULL,
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

void
dir_set_range(struct dir *d, const char *attr, unsigned long size)
{
	free(d->range_attr);
	d->range_attr = attr != NULL && size > 0 ? strdup(attr) : NULL;
	d->range_size = d->range_attr != NULL ? size : 0;
}

/* The attribute list to send for the search set up (d->req): the names of
 * d->attrs, the one of dir_set_range() with its first range
 * ("member;range=0-99"). 0 or -ENOMEM. */
static int
request_list(struct dir *d)
{
	d->range_i = d->nattrs;
	if ((d->req = calloc(d->nattrs + 1, sizeof(*d->req))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < d->nattrs; i++) {
		d->req[i] = d->attrs[i];
		if (d->range_attr == NULL || !d->ad || strcasecmp(d->attrs[i], d->range_attr) != 0)
			continue;
		if (asprintf(&d->req[i], "%s;range=0-%lu", d->attrs[i], d->range_size - 1) < 0) {
			d->req[i] = NULL;
			return -ENOMEM;
		}
		d->range_i = i;
	}
	return 0;
}

/* Set up a search of base with the attribute list attrs, sending nothing:
 * 0 or -ENOMEM. */
static int
search_setup(struct dir *d, const char *base, enum search_scope scope, const char *filter,
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
	d->range_next = calloc(n + 1, sizeof(*d->range_next));
	if (!d->base || !d->filter || !d->attrs || !d->bv || !d->vals || !d->nvals || !d->cap ||
	    !d->range_next)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		d->attrs[i] = strdup(attrs[i]);
		if (d->attrs[i] == NULL)
			goto oom;
		d->nattrs = i + 1;
	}
	d->nattrs = n;
	if (request_list(d) < 0)
		goto oom;
	d->scope = scope == SCOPE_ONE ? LDAP_SCOPE_ONELEVEL : LDAP_SCOPE_SUBTREE;
	d->referral = false;
	d->ref_first[0] = '\0';
	d->ended = 0;
	return 0;
oom:
	search_clear(d);
	return -ENOMEM;
}

int
dir_search(struct dir *d, const char *base, enum search_scope scope, const char *filter,
	   const char *const *attrs)
{
	int r = search_setup(d, base, scope, filter, attrs);

	return r < 0 ? r : send_page(d);
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
	case LDAP_UNAVAILABLE_CRITICAL_EXTENSION: return -EOPNOTSUPP;
	default: return -EIO;
	}
}

/* What to do about the limit that ended a search: 389-DS counts, per
 * search, the entries it returns (per page, for a paged search) and those it
 * looks through, against limits that can be set on the account that binds
 * (with their own for paged searches); "" for another error or server. */
static const char *
limit_hint(const struct dir *d, int err)
{
	if (!d->ds389)
		return "";
	if (err == LDAP_ADMINLIMIT_EXCEEDED)
		return d->sync ? "; 389-DS limits what one search of this account may look "
				 "through: raise nsLookThroughLimit and nsIDListScanLimit on the "
				 "service account's entry (-1: no limit), see docs/directories.md" :
				 "; 389-DS limits what one paged search of this account may look "
				 "through: raise nsPagedLookThroughLimit and nsPagedIDListScanLimit "
				 "on the service account's entry (-1: no limit), see "
				 "docs/directories.md";
	if (err == LDAP_SIZELIMIT_EXCEEDED)
		return d->sync ? "; 389-DS limits the entries one search of this account "
				 "returns: raise nsSizeLimit on the service account's entry (-1: no "
				 "limit), see docs/directories.md" :
				 "; 389-DS limits the entries a page of this account's paged search "
				 "returns: raise nsPagedSizeLimit (or nsSizeLimit) on the service "
				 "account's entry, or lower ldap.page_size, see docs/directories.md";
	return "";
}

/* ---- values sent in ranges (Active Directory's range retrieval) ---------- */

/* Past this many range searches for one attribute of one entry, its values
 * are taken as never ending: at Active Directory's 1,500 values a range,
 * 15 million values. */
#define RANGE_SEARCHES 10000

/* The decimal number at *p (before end), *p moved past it; false when there
 * is none or it does not fit. */
static bool
range_number(const char **p, const char *end, unsigned long *v)
{
	const char *s = *p;
	unsigned long n = 0;

	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned long digit = (unsigned long)(*s - '0');

		if (n > (ULONG_MAX - digit) / 10)
			return false;
		n = n * 10 + digit;
	}
	if (s == *p)
		return false;
	*p = s;
	*v = n;
	return true;
}

int
dir_range_parse(const char *desc, size_t len, const char *name, struct dir_range *rg)
{
	size_t nl = strlen(name);
	struct dir_range r = { 0 };
	const char *p, *end = desc + len;

	if (len < nl || strncasecmp(desc, name, nl) != 0)
		return -ENOENT;
	if (len == nl)
		return 0;
	if (len < nl + 7 || strncasecmp(desc + nl, ";range=", 7) != 0)
		return -ENOENT;
	p = desc + nl + 7;
	if (!range_number(&p, end, &r.lo) || p == end || *p++ != '-')
		return -EINVAL;
	if (end - p == 1 && *p == '*')
		r.last = true;
	else if (!range_number(&p, end, &r.hi) || p != end || r.hi < r.lo)
		return -EINVAL;
	*rg = r;
	return 1;
}

/* Whether rg, a range of n values, is the one asked for from value lo on:
 * it starts there and, unless it is the last, holds every value it names. */
static bool
range_follows(const struct dir_range *rg, unsigned long lo, size_t n)
{
	return rg->lo == lo &&
	       (rg->last || (n > 0 && n - 1 == rg->hi - rg->lo && rg->hi < ULONG_MAX));
}

static void range_failed(struct dir *d, int how, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* The current entry's values are in part only: how, and what (the first
 * failure of the search is the one kept, to end the search with). */
static void
range_failed(struct dir *d, int how, const char *fmt, ...)
{
	va_list ap;
	int k;

	d->ranged = true;
	if (d->range_rc < 0)
		return;
	d->range_rc = how;
	k = snprintf(d->range_err, sizeof(d->range_err), "ranged values of \"%s\": ", d->dn);
	if (k < 0 || (size_t)k >= sizeof(d->range_err))
		return;
	va_start(ap, fmt);
	vsnprintf(d->range_err + k, sizeof(d->range_err) - (size_t)k, fmt, ap);
	va_end(ap);
}

/* Append the n values of bv to the current entry's attribute i. */
static int
vals_add(struct dir *d, size_t i, const struct berval *bv, size_t n)
{
	size_t need = d->nvals[i] + n;

	if (need > d->cap[i]) {
		size_t cap = need > 2 * d->cap[i] ? need : 2 * d->cap[i];
		struct dir_val *p = realloc(d->vals[i], cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		d->vals[i] = p;
		d->cap[i] = cap;
	}
	for (size_t k = 0; k < n; k++) {
		d->vals[i][d->nvals[i] + k].data = bv[k].bv_val;
		d->vals[i][d->nvals[i] + k].len = bv[k].bv_len;
	}
	d->nvals[i] = need;
	return 0;
}

/* Room to keep one more reply with the current entry. */
static int
more_reserve(struct dir *d)
{
	if (d->nmore == d->more_cap) {
		size_t cap = d->more_cap > 0 ? 2 * d->more_cap : 8;
		LDAPMessage **p = realloc(d->more, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		d->more = p;
		d->more_cap = cap;
	}
	return 0;
}

/* Take the range of the current entry's attribute i from the reply *res of a
 * range search asking for it from value *next on: its values are appended to
 * the entry's, the reply kept with the entry (*res = NULL: the values point
 * into it) and *next moved past them. Returns 1 when more ranges follow, 0
 * after the last, or a negative code, recorded with range_failed(). */
static int
range_take(struct dir *d, size_t i, LDAPMessage **res, const char *desc, unsigned long *next)
{
	LDAPMessage *e = ldap_first_entry(d->ld, *res);
	BerElement *ber = NULL;
	struct berval dn, attr = { 0 }, *vals = NULL;
	struct dir_range rg;
	size_t n = 0;
	int rc, r = -EPROTO;

	if (e == NULL || ldap_count_entries(d->ld, *res) != 1) {
		range_failed(d, r, "%s: %d entries in the reply instead of one", desc,
			     ldap_count_entries(d->ld, *res));
		return r;
	}
	/* its first attribute that is a range of attribute i */
	rc = ldap_get_dn_ber(d->ld, e, &ber, &dn);
	while (rc == LDAP_SUCCESS) {
		rc = ldap_get_attribute_ber(d->ld, e, ber, &attr, &vals);
		if (rc != LDAP_SUCCESS || attr.bv_val == NULL ||
		    (vals != NULL && dir_range_parse(attr.bv_val, attr.bv_len, d->attrs[i], &rg) == 1))
			break;
		ber_memfree(vals);
		vals = NULL;
	}
	if (rc != LDAP_SUCCESS) {
		char what[512] = "";

		ldap_failure(d->ld, rc, desc, what, sizeof(what));
		range_failed(d, r = -EIO, "%s", what);
		goto out;
	}
	if (attr.bv_val == NULL) {
		range_failed(d, r, "%s: the reply holds no range of %s", desc, d->attrs[i]);
		goto out;
	}
	while (vals[n].bv_val != NULL)
		n++;
	if (!range_follows(&rg, *next, n)) {
		range_failed(d, r, "%s: answered with %.*s and %zu values", desc,
			     (int)attr.bv_len, attr.bv_val, n);
		goto out;
	}
	if (more_reserve(d) < 0 || vals_add(d, i, vals, n) < 0) {
		range_failed(d, r = -ENOMEM, "%s: out of memory", desc);
		goto out;
	}
	d->more[d->nmore++] = *res;
	*res = NULL;
	*next = rg.last ? 0 : rg.hi + 1;
	r = rg.last ? 0 : 1;
out:
	ber_memfree(vals);
	ber_free(ber, 0);
	return r;
}

/* One range search: a base search of the current entry, on the connection
 * of the search in progress, asking for its attribute i from value *next on
 * ("member;range=1500-*"), its reply taken with range_take(). Returns as
 * range_take(), or -ECANCELED when the interrupt said stop. */
static int
range_search(struct dir *d, size_t i, unsigned long *next)
{
	struct timeval tv = { .tv_sec = d->timeout };
	char desc[256], *attrs[2] = { desc, NULL }, what[768], *diag = NULL;
	LDAPMessage *res = NULL;
	int msgid, rc, err = LDAP_SUCCESS, r;

	if (i == d->range_i && *next <= ULONG_MAX - d->range_size)
		rc = snprintf(desc, sizeof(desc), "%s;range=%lu-%lu", d->attrs[i], *next,
			      *next + d->range_size - 1);
	else
		rc = snprintf(desc, sizeof(desc), "%s;range=%lu-*", d->attrs[i], *next);
	if (rc < 0 || (size_t)rc >= sizeof(desc)) {
		range_failed(d, -ENAMETOOLONG, "attribute %s: name too long", d->attrs[i]);
		return -ENAMETOOLONG;
	}
	rc = ldap_search_ext(d->ld, d->dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
			     NULL, &tv, LDAP_NO_LIMIT, &msgid);
	if (rc != LDAP_SUCCESS) {
		what[0] = '\0';
		ldap_failure(d->ld, rc, desc, what, sizeof(what));
		range_failed(d, result_error(rc), "%s", what);
		return result_error(rc);
	}
	rc = wait_result(d, msgid, LDAP_MSG_ALL, &res);
	if (rc == -2 || rc == 0) {
		ldap_abandon_ext(d->ld, msgid, NULL, NULL);
		if (rc == 0) {
			range_failed(d, -ETIMEDOUT, "%s: no reply from %s within %d s", desc,
				     d->uri, d->timeout);
			stall(d, d->range_err);
			return -ETIMEDOUT;
		}
		snprintf(d->err, sizeof(d->err), "ranged values of \"%s\": stopped while "
			 "waiting for %s", d->dn, d->uri);
		return -ECANCELED;
	}
	if (rc < 0) {
		int code = LDAP_OTHER;

		ldap_get_option(d->ld, LDAP_OPT_RESULT_CODE, &code);
		what[0] = '\0';
		ldap_failure(d->ld, code, desc, what, sizeof(what));
		range_failed(d, result_error(code), "%s", what);
		return result_error(code);
	}
	rc = ldap_parse_result(d->ld, res, &err, NULL, &diag, NULL, NULL, 0);
	if (rc != LDAP_SUCCESS || err != LDAP_SUCCESS) {
		if (rc != LDAP_SUCCESS)
			err = rc;
		r = result_error(err);
		range_failed(d, r, "%s: %s (%d)%s%s", desc, ldap_err2string(err), err,
			     diag && diag[0] ? ": " : "", diag ? diag : "");
	} else {
		r = range_take(d, i, &res, desc, next);
	}
	ldap_memfree(diag);
	ldap_msgfree(res);
	return r;
}

/* Fetch the rest of the current entry's attribute i, whose values came in
 * part up to value d->range_next[i] - 1, a range search after the other until
 * a reply's range ends in "*". Returns 0 (the values whole, or the failure
 * recorded with range_failed()) or -ECANCELED. */
static int
range_fetch(struct dir *d, size_t i)
{
	unsigned long next = d->range_next[i];
	int r = 1;

	for (int k = 0; r == 1; k++) {
		if (k == RANGE_SEARCHES) {
			range_failed(d, -ELOOP, "%s: not whole after %d range searches",
				     d->attrs[i], RANGE_SEARCHES);
			return 0;
		}
		r = range_search(d, i, &next);
	}
	return r == -ECANCELED ? r : 0;
}

/* ---- entries ------------------------------------------------------------ */

/* Collect the current entry's DN and requested attribute values, each
 * attribute sent in ranges fetched whole (range_fetch). Returns 0, or
 * -ECANCELED when asked to stop while fetching, or another negative code. */
static int
entry_load(struct dir *d)
{
	BerElement *ber = NULL;
	struct berval dn, attr, *vals = NULL;
	int rc, r = 0;

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

	size_t next = 0;   /* where the next attribute is looked for first */
	for (rc = ldap_get_attribute_ber(d->ld, d->msg, ber, &attr, &vals);
	     rc == LDAP_SUCCESS && attr.bv_val != NULL;
	     rc = ldap_get_attribute_ber(d->ld, d->msg, ber, &attr, &vals)) {
		struct dir_range rg;
		size_t i = 0, n = 0;
		int how = -ENOENT;

		/* "member", or "member;range=0-1499" when the server sends
		 * it in ranges. A server sends the attributes of its entries
		 * in the same order: the one after the last one found is
		 * tried first. */
		for (size_t k = 0; k < d->nattrs && how == -ENOENT; k++) {
			i = (next + k) % d->nattrs;
			how = dir_range_parse(attr.bv_val, attr.bv_len, d->attrs[i], &rg);
		}
		if (how != -ENOENT)
			next = i + 1;
		else
			d->unasked = true;   /* the server did not keep to the list */
		if (how == -EINVAL)
			range_failed(d, -EPROTO, "%.*s: a range option rosterd cannot read",
				     (int)attr.bv_len, attr.bv_val);
		if (how < 0 || vals == NULL || d->bv[i] != NULL) {
			ber_memfree(vals);
			vals = NULL;
			continue;
		}
		while (vals[n].bv_val != NULL)
			n++;
		if (vals_add(d, i, vals, n) < 0) {
			ber_memfree(vals);
			r = -ENOMEM;
			break;
		}
		d->bv[i] = vals;   /* freed with the entry; values point into msg */
		vals = NULL;
		if (how == 1 && !range_follows(&rg, 0, n))
			range_failed(d, -EPROTO, "%.*s came with %zu values",
				     (int)attr.bv_len, attr.bv_val, n);
		else if (how == 1 && !rg.last)
			d->range_next[i] = rg.hi + 1;
	}
	ber_free(ber, 0);
	if (r < 0)
		return r;
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, "decoding an entry", d->err, sizeof(d->err));
		return -EIO;
	}
	/* After a fetch that failed, the search is incomplete whatever comes
	 * next: the later entries' ranges are not asked for, so that one
	 * failing server costs one ldap.timeout, not one per entry. */
	for (size_t i = 0; i < d->nattrs && r == 0; i++) {
		if (d->range_next[i] == 0)
			continue;
		if (d->range_rc < 0)
			d->ranged = true;
		else
			r = range_fetch(d, i);
	}
	return r;
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
		snprintf(d->err, sizeof(d->err), "search of \"%s\" ended: %s (%d)%s%s%s", d->base,
			 ldap_err2string(err), err, diag && diag[0] ? ": " : "", diag ? diag : "",
			 limit_hint(d, err));
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
		snprintf(d->err, sizeof(d->err), "search of \"%s\" returned referrals (continuation "
			 "references, the first to %s), which rosterd does not follow", d->base,
			 d->ref_first);
		r = -EREMOTE;
	}
out:
	ldap_controls_free(ctrls);
	ldap_memfree(diag);
	ldap_memfree(matched);
	return r;
}

/* End the search with r (0: success, or how it failed). A range fetch that
 * failed during it makes a search that succeeded end with that failure, and
 * is named after a failure of the search's own. Returns what dir_next does. */
static int
search_end(struct dir *d, int r)
{
	d->active = false;
	if (d->range_rc < 0 && r == 0) {
		snprintf(d->err, sizeof(d->err), "%s", d->range_err);
		r = d->range_rc;
	} else if (d->range_rc < 0 && r != -ECANCELED) {
		str_appendf(d->err, sizeof(d->err), "; before that, %s", d->range_err);
	}
	d->ended = r < 0 ? r : 1;
	return r;
}

/* ---- content synchronisation (RFC 4533) ---------------------------------- */

/* The Sync State of the entry just received: what it is and its UUID. */
static int
sync_entry_state(struct dir *d)
{
	int state, r;

	r = dsync_entry(d->ld, d->msg, &d->ds, &state, d->uuid, d->err, sizeof(d->err));
	if (r < 0)
		return r;
	d->item = state == LDAP_SYNC_PRESENT ? DIR_SYNC_PRESENT :
		  state == LDAP_SYNC_DELETE ? DIR_SYNC_DELETE : DIR_SYNC_ENTRY;
	return 0;
}

/* The next UUID of an ID set the server sent, as an item with no DN: true
 * when there was one. */
static bool
sync_idset_item(struct dir *d, const char **dn)
{
	bool deleted;

	if (!dsync_idset_next(&d->ds, d->uuid, &deleted))
		return false;
	d->item = deleted ? DIR_SYNC_DELETE : DIR_SYNC_PRESENT;
	*dn = "";
	return true;
}

/* An intermediate message of the synchronisation: 0 taken or ignored, or
 * -EPROTO. */
static int
sync_info(struct dir *d, LDAPMessage *msg)
{
	int r = dsync_info(d->ld, msg, &d->ds, d->err, sizeof(d->err));

	return r < 0 ? r : 0;
}

/* The synchronisation's result: 0 when it ended in success with its Sync
 * Done control, -ESTALE when the server wants a refresh from nothing
 * (e-syncRefreshRequired), or the error of a search that failed. Frees msg. */
static int
sync_done(struct dir *d, LDAPMessage *msg)
{
	LDAPControl **ctrls = NULL;
	char *diag = NULL;
	int err = LDAP_SUCCESS, rc, r;

	d->active = false;
	rc = ldap_parse_result(d->ld, msg, &err, NULL, &diag, NULL, &ctrls, 1);
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, "reading the synchronisation's result", d->err,
			     sizeof(d->err));
		r = -EIO;
	} else if (err == LDAP_SYNC_REFRESH_REQUIRED) {
		snprintf(d->err, sizeof(d->err), "content synchronisation of \"%s\": the server "
			 "refuses the cookie and asks for a refresh from nothing", d->base);
		r = -ESTALE;
	} else if (err != LDAP_SUCCESS) {
		snprintf(d->err, sizeof(d->err), "content synchronisation of \"%s\" ended: %s "
			 "(%d)%s%s%s", d->base, ldap_err2string(err), err, diag && diag[0] ? ": " : "",
			 diag ? diag : "", limit_hint(d, err));
		r = result_error(err);
	} else if ((r = dsync_done(ctrls, &d->ds, d->err, sizeof(d->err))) == 0 &&
		   d->referral) {
		snprintf(d->err, sizeof(d->err), "content synchronisation of \"%s\" returned "
			 "referrals (continuation references, the first to %s), which rosterd "
			 "does not follow", d->base, d->ref_first);
		r = -EREMOTE;
	} else if (r == 0 && d->persist) {
		snprintf(d->err, sizeof(d->err), "content synchronisation of \"%s\": the server "
			 "ended the persistent search", d->base);
		r = -ENOTCONN;
	}
	ldap_controls_free(ctrls);
	ldap_memfree(diag);
	return r;
}

/* Start a content synchronisation, refreshOnly or (persist)
 * refreshAndPersist: 0 or negative. */
static int
sync_search(struct dir *d, const char *base, enum search_scope scope, const char *filter,
	    const char *const *attrs, const void *cookie, size_t len, bool persist)
{
	struct berval bv = { .bv_len = len, .bv_val = (char *)cookie };
	LDAPControl *ctrls[2] = { NULL, NULL };
	struct timeval tv = { .tv_sec = d->timeout };
	int rc, r;

	if ((r = search_setup(d, base, scope, filter, attrs)) < 0)
		return r;
	if ((r = stalled_refuse(d, "content synchronisation request")) < 0)
		return r;
	d->sync = true;
	d->persist = persist;
	d->sync_cookie = cookie != NULL && len > 0;
	if ((r = dsync_request(cookie != NULL ? &bv : NULL, persist, &ctrls[0])) < 0)
		return r;
	/* A persistent search has no time limit of its own: it lasts. */
	rc = ldap_search_ext(d->ld, d->base, d->scope, d->filter, d->req, 0, ctrls, NULL,
			     persist ? NULL : &tv, LDAP_NO_LIMIT, &d->msgid);
	ldap_control_free(ctrls[0]);
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, "content synchronisation request", d->err,
			     sizeof(d->err));
		return rc == LDAP_SERVER_DOWN ? -ECONNRESET : -EIO;
	}
	d->active = true;
	return 0;
}

int
dir_sync_search(struct dir *d, const char *base, enum search_scope scope, const char *filter,
		const char *const *attrs, const void *cookie, size_t len)
{
	return sync_search(d, base, scope, filter, attrs, cookie, len, false);
}

int
dir_persist_search(struct dir *d, const char *base, enum search_scope scope, const char *filter,
		   const char *const *attrs, const void *cookie, size_t len)
{
	return sync_search(d, base, scope, filter, attrs, cookie, len, true);
}

enum dir_sync_kind
dir_sync_item(const struct dir *d, unsigned char uuid[16])
{
	memcpy(uuid, d->uuid, 16);
	return d->item;
}

const void *
dir_sync_cookie(const struct dir *d, size_t *len)
{
	if (d->ds.cookie == NULL)
		return NULL;
	*len = d->ds.cookie->bv_len;
	return d->ds.cookie->bv_val;
}

bool
dir_server_389ds(const struct dir *d)
{
	return d->ds389;
}

bool
dir_sync_present_phase(const struct dir *d)
{
	/* 389-DS (its Content Synchronization plugin, 2.x) answers a refresh
	 * from a cookie with the entries changed and ID sets of those deleted,
	 * then ends it with refreshDeletes FALSE although it sent no present
	 * phase: from that server, such a refresh names the changes only. */
	if (d->ds389 && d->sync_cookie)
		return false;
	return !d->ds.refresh_deletes;
}

int
dir_has_sync(struct dir *d)
{
	const char *oid = LDAP_CONTROL_SYNC;
	char *attrs[] = { "supportedControl", NULL };
	struct timeval tv = { .tv_sec = d->timeout };
	LDAPMessage *res = NULL, *e;
	struct berval **vals = NULL;
	int rc, r = 0;

	if ((r = stalled_refuse(d, "reading the root DSE")) < 0)
		return r;
	rc = ldap_search_ext_s(d->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
			       NULL, &tv, 1, &res);
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, "reading the root DSE", d->err, sizeof(d->err));
		ldap_msgfree(res);
		return result_error(rc);
	}
	if ((e = ldap_first_entry(d->ld, res)) != NULL)
		vals = ldap_get_values_len(d->ld, e, "supportedControl");
	for (size_t i = 0; vals != NULL && vals[i] != NULL && r == 0; i++)
		r = vals[i]->bv_len == strlen(oid) && memcmp(vals[i]->bv_val, oid,
							       vals[i]->bv_len) == 0;
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	return r;
}

/* The first value of attribute attr of the only entry of a base search
 * of dn, as a new string (NUL-terminated; its length in *len when len is
 * not NULL): 0, -ENOENT (none), or negative (d->err says, with what). */
static int
base_value(struct dir *d, const char *dn, const char *filter, const char *attr,
	   const char *what, char **out, size_t *len)
{
	char *attrs[] = { (char *)attr, NULL };
	struct timeval tv = { .tv_sec = d->timeout };
	LDAPMessage *res = NULL, *e;
	struct berval **vals = NULL;
	int rc, r = -ENOENT;

	if ((r = stalled_refuse(d, what)) < 0)
		return r;
	r = -ENOENT;
	rc = ldap_search_ext_s(d->ld, dn, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL, &tv,
			       1, &res);
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, what, d->err, sizeof(d->err));
		ldap_msgfree(res);
		return result_error(rc);
	}
	if ((e = ldap_first_entry(d->ld, res)) != NULL)
		vals = ldap_get_values_len(d->ld, e, attr);
	if (vals != NULL && vals[0] != NULL && (*out = malloc(vals[0]->bv_len + 1)) == NULL)
		r = -ENOMEM;
	else if (vals != NULL && vals[0] != NULL) {
		memcpy(*out, vals[0]->bv_val, vals[0]->bv_len);
		(*out)[vals[0]->bv_len] = '\0';
		if (len != NULL)
			*len = vals[0]->bv_len;
		r = 0;
	}
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	return r;
}

int
dir_read_value(struct dir *d, const char *dn, const char *attr, char **out, size_t *len)
{
	char what[300];
	int r;

	snprintf(what, sizeof(what), "reading %s of \"%s\"", attr, dn);
	if ((r = base_value(d, dn, "(objectClass=*)", attr, what, out, len)) == -ENOENT)
		snprintf(d->err, sizeof(d->err), "\"%s\" has no %s (or this account cannot "
			 "read it)", dn, attr);
	return r;
}

/* Mark the names that attribute type description def (RFC 4512) names, by
 * NAME or OID, as known. */
static void
schema_mark(const struct berval *def, const char *const *names, size_t n, bool *known)
{
	char *text = strndup(def->bv_val, def->bv_len);
	const char *errp = NULL;
	LDAPAttributeType *at;
	int code = 0;

	if (text == NULL)
		return;
	at = ldap_str2attributetype(text, &code, &errp, LDAP_SCHEMA_ALLOW_ALL);
	for (size_t i = 0; at != NULL && i < n; i++) {
		if (at->at_oid != NULL && strcasecmp(at->at_oid, names[i]) == 0)
			known[i] = true;
		for (char **a = at->at_names; a != NULL && *a != NULL; a++)
			if (strcasecmp(*a, names[i]) == 0)
				known[i] = true;
	}
	ldap_attributetype_free(at);
	free(text);
}

int
dir_schema_known(struct dir *d, const char *const *names, size_t n, bool *known)
{
	char *attrs[] = { "attributeTypes", NULL }, *sub = NULL;
	struct timeval tv = { .tv_sec = d->timeout };
	LDAPMessage *res = NULL, *e;
	struct berval **vals = NULL;
	int rc, r;

	if ((r = base_value(d, "", "(objectClass=*)", "subschemaSubentry", "reading the schema",
			    &sub, NULL)) < 0) {
		if (r == -ENOENT)
			snprintf(d->err, sizeof(d->err), "the root DSE names no subschemaSubentry");
		return r;
	}
	rc = ldap_search_ext_s(d->ld, sub, LDAP_SCOPE_BASE, "(objectClass=subschema)", attrs, 0,
			       NULL, NULL, &tv, 1, &res);
	if (rc != LDAP_SUCCESS) {
		d->err[0] = '\0';
		ldap_failure(d->ld, rc, "reading the schema", d->err, sizeof(d->err));
		r = result_error(rc);
		goto out;
	}
	if ((e = ldap_first_entry(d->ld, res)) != NULL)
		vals = ldap_get_values_len(d->ld, e, "attributeTypes");
	if (vals == NULL || vals[0] == NULL) {
		snprintf(d->err, sizeof(d->err), "\"%s\" gives no attributeTypes (not readable "
			 "by this account?)", sub);
		r = -ENOENT;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		known[i] = false;
	for (size_t v = 0; vals[v] != NULL; v++)
		schema_mark(vals[v], names, n, known);
	r = 0;
out:
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	free(sub);
	return r;
}

/* ---- entries read again ------------------------------------------------- */

/* At most this many base searches of dir_reread() in flight at a time. */
#define REREAD_WINDOW 32

static void
reread_clear(struct dir *d)
{
	for (size_t i = d->rr.taken; i < d->rr.sent && d->ld != NULL; i++)
		ldap_abandon_ext(d->ld, d->rr.msgid[i], NULL, NULL);
	for (size_t i = 0; i < d->rr.n; i++)
		free(d->rr.dns[i]);
	free(d->rr.dns);
	free(d->rr.msgid);
	memset(&d->rr, 0, sizeof(d->rr));
}

bool
dir_entry_short(const struct dir *d)
{
	if (!d->unasked || d->msg == NULL)
		return false;
	for (size_t i = 0; i < d->nattrs; i++)
		if (d->bv[i] == NULL)
			return true;
	return false;
}

int
dir_reread(struct dir *d, const char *const *dns, size_t n)
{
	if ((d->active || d->ended != 1) && !(d->persisting && d->active))
		return -EINVAL;
	if (d->attrs == NULL)
		return -EINVAL;
	reread_clear(d);
	d->rr.dns = calloc(n + 1, sizeof(*d->rr.dns));
	d->rr.msgid = calloc(n + 1, sizeof(*d->rr.msgid));
	if (d->rr.dns == NULL || d->rr.msgid == NULL) {
		reread_clear(d);
		return -ENOMEM;
	}
	for (; d->rr.n < n; d->rr.n++)
		if ((d->rr.dns[d->rr.n] = strdup(dns[d->rr.n])) == NULL) {
			reread_clear(d);
			return -ENOMEM;
		}
	d->rr.active = true;
	return 0;
}

size_t
dir_reread_index(const struct dir *d)
{
	return d->rr.taken - 1;
}

/* Record the first failure of the re-reads, r, with what failed: no
 * further one is sent. */
static int
reread_failed(struct dir *d, int r, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int
reread_failed(struct dir *d, int r, const char *fmt, ...)
{
	va_list ap;

	if (d->rr.rc == 0) {
		va_start(ap, fmt);
		vsnprintf(d->err, sizeof(d->err), fmt, ap);
		va_end(ap);
		d->rr.rc = r;
	}
	return r;
}

/* Send the base searches of the entries still to read, up to the window. */
static void
reread_send(struct dir *d)
{
	struct timeval tv = { .tv_sec = d->timeout };
	char what[300];
	int rc;

	while (d->rr.rc == 0 && d->rr.sent < d->rr.n && d->rr.sent - d->rr.taken < REREAD_WINDOW) {
		const char *dn = d->rr.dns[d->rr.sent];

		snprintf(what, sizeof(what), "reading \"%.240s\" again", dn);
		if ((rc = stalled_refuse(d, what)) < 0) {
			d->rr.rc = rc;
			return;
		}
		rc = ldap_search_ext(d->ld, dn, LDAP_SCOPE_BASE, d->filter, d->attrs, 0, NULL, NULL,
				     &tv, LDAP_NO_LIMIT, &d->rr.msgid[d->rr.sent]);
		if (rc != LDAP_SUCCESS) {
			what[0] = '\0';
			ldap_failure(d->ld, rc, "a base search", what, sizeof(what));
			reread_failed(d, rc == LDAP_SERVER_DOWN ? -ECONNRESET : -EIO,
				      "reading \"%s\" again: %s", dn, what);
			return;
		}
		d->rr.sent++;
	}
}

/* The reply to the oldest base search in flight, res: 1 with its entry
 * loaded, 0 when it has none (gone, or no longer matching the filter), or
 * negative. */
static int
reread_reply(struct dir *d, const char *dn, LDAPMessage *res)
{
	char *diag = NULL;
	int err = LDAP_SUCCESS, rc, r;

	rc = ldap_parse_result(d->ld, res, &err, NULL, &diag, NULL, NULL, 0);
	if (rc != LDAP_SUCCESS)
		err = rc;
	if (err == LDAP_NO_SUCH_OBJECT || (err == LDAP_SUCCESS &&
					   ldap_first_entry(d->ld, res) == NULL)) {
		r = 0;
	} else if (err != LDAP_SUCCESS) {
		r = reread_failed(d, result_error(err), "reading \"%s\" again: %s (%d)%s%s%s", dn,
				  ldap_err2string(err), err, diag && diag[0] ? ": " : "",
				  diag ? diag : "", limit_hint(d, err));
	} else if (ldap_first_entry(d->ld, res) != res) {
		r = reread_failed(d, -EPROTO, "reading \"%s\" again: a reply that does not "
				  "start with the entry", dn);
	} else {
		d->msg = res;   /* freed with the entry */
		res = NULL;
		d->item = DIR_SYNC_ENTRY;
		memset(d->uuid, 0, sizeof(d->uuid));
		r = entry_load(d);
		r = r < 0 ? r : 1;
	}
	ldap_memfree(diag);
	ldap_msgfree(res);
	return r;
}

/* The wait for the oldest base search in flight ended with rc, as
 * wait_result(): record why it failed. Returns how the re-reads end. */
static int
reread_lost(struct dir *d, int rc)
{
	const char *dn = d->rr.dns[d->rr.taken];

	if (rc == -2)
		return -ECANCELED;
	if (rc == 0) {
		reread_failed(d, -ETIMEDOUT, "reading \"%s\" again: no reply from %s within %d s",
			      dn, d->uri, d->timeout);
		stall(d, d->err);
	} else {
		reread_failed(d, -ECONNRESET, "reading \"%s\" again: the connection to %s was "
			      "lost", dn, d->uri);
	}
	return d->rr.rc;
}

/* The re-reads end with r: the search ends with them, unless it is a
 * persistent one in its persist stage, which goes on (0: all were read). */
static int
reread_end(struct dir *d, int r)
{
	if (d->persisting && d->active)
		return r;
	return search_end(d, r);
}

/* The next entry read again: 1 with *dn set; 0 when all were read; the
 * first failure once the replies in flight are taken; -ECANCELED, -ENOMEM. */
static int
reread_next(struct dir *d, const char **dn)
{
	LDAPMessage *res = NULL;
	int rc, r;

	for (;;) {
		reread_send(d);
		if (d->rr.taken == d->rr.sent) {
			r = d->rr.rc;
			reread_clear(d);
			return reread_end(d, r);
		}
		rc = wait_result(d, d->rr.msgid[d->rr.taken], LDAP_MSG_ALL, &res);
		if (rc <= 0) {
			r = reread_lost(d, rc);
			reread_clear(d);   /* abandons those in flight */
			return reread_end(d, r);
		}
		r = reread_reply(d, d->rr.dns[d->rr.taken++], res);
		if (r == 1)
			*dn = d->dn;
		if (r == 1 || r == -ECANCELED || r == -ENOMEM) {
			if (r < 0)
				reread_clear(d);
			return r == 1 ? r : reread_end(d, r);
		}
		if (r < 0 && d->rr.rc == 0)
			d->rr.rc = r;   /* the entry could not be decoded: d->err says */
	}
}

/* dir_next(), or with poll dir_sync_poll(): in a persistent search's
 * persist stage, -EAGAIN at once when no message is there. */
static int
next_item(struct dir *d, const char **dn, bool poll)
{
	LDAPMessage *msg = NULL;
	int rc, r;

	entry_clear(d);
	if (d->rr.active)
		return reread_next(d, dn);
	for (;;) {
		if (d->sync && sync_idset_item(d, dn))
			return 1;
		if (!d->active)
			return d->ended == 1 ? 0 : (d->ended < 0 ? d->ended : -EINVAL);
		rc = wait_result_for(d, d->msgid, LDAP_MSG_ONE, &msg,
				     poll && d->persisting ? 0 : d->timeout);
		if (rc == 0 && poll && d->persisting)
			return -EAGAIN;
		if (rc == -2) {
			snprintf(d->err, sizeof(d->err), "search of \"%s\": stopped while waiting "
				 "for %s", d->base, d->uri);
			ldap_abandon_ext(d->ld, d->msgid, NULL, NULL);
			return search_end(d, -ECANCELED);
		}
		if (rc == 0) {
			snprintf(d->err, sizeof(d->err), "search of \"%s\": no reply from %s "
				 "within %d s", d->base, d->uri, d->timeout);
			stall(d, d->err);
			ldap_abandon_ext(d->ld, d->msgid, NULL, NULL);
			return search_end(d, -ETIMEDOUT);
		}
		if (rc < 0) {
			int code = LDAP_OTHER;
			ldap_get_option(d->ld, LDAP_OPT_RESULT_CODE, &code);
			d->err[0] = '\0';
			ldap_failure(d->ld, code, "search", d->err, sizeof(d->err));
			return search_end(d, result_error(code));
		}
		switch (ldap_msgtype(msg)) {
		case LDAP_RES_SEARCH_ENTRY:
			d->msg = msg;
			r = d->sync ? sync_entry_state(d) : 0;
			if (r == 0)
				r = entry_load(d);
			if (r == -ECANCELED) {
				ldap_abandon_ext(d->ld, d->msgid, NULL, NULL);
				return search_end(d, r);
			}
			if (r < 0)
				return r;
			*dn = d->dn;
			return 1;
		case LDAP_RES_SEARCH_REFERENCE:
			reference_seen(d, msg);
			ldap_msgfree(msg);
			break;
		case LDAP_RES_SEARCH_RESULT:
			/* both free msg */
			r = d->sync ? sync_done(d, msg) : page_done(d, msg);
			if (r <= 0)
				return search_end(d, r);
			break;
		case LDAP_RES_INTERMEDIATE:
			r = d->sync ? sync_info(d, msg) : 1;
			ldap_msgfree(msg);
			if (r < 0) {
				ldap_abandon_ext(d->ld, d->msgid, NULL, NULL);
				return search_end(d, r);
			}
			if (d->persist && !d->persisting && d->ds.refresh_done) {
				/* The refresh stage has ended; the search goes on. */
				d->persisting = true;
				return 0;
			}
			break;
		default:
			ldap_msgfree(msg);
			break;
		}
	}
}

int
dir_next(struct dir *d, const char **dn)
{
	return next_item(d, dn, false);
}

int
dir_sync_poll(struct dir *d, const char **dn)
{
	return next_item(d, dn, true);
}

int
dir_fd(const struct dir *d)
{
	int fd = -1;

	if (d->ld == NULL || ldap_get_option(d->ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS)
		return -1;
	return fd;
}

int
dir_ping(struct dir *d)
{
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	struct timeval tv = { .tv_sec = d->timeout };
	LDAPMessage *res = NULL;
	int rc;

	if ((rc = stalled_refuse(d, "reading the root DSE")) < 0)
		return rc;
	rc = ldap_search_ext_s(d->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
			       NULL, &tv, 1, &res);
	ldap_msgfree(res);
	if (rc == LDAP_SUCCESS)
		return 0;
	d->err[0] = '\0';
	ldap_failure(d->ld, rc, "reading the root DSE", d->err, sizeof(d->err));
	if (rc == LDAP_TIMEOUT)
		stall(d, d->err);
	return result_error(rc);
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
