/*
 * ldap-proxy.c: a fault-injecting TCP proxy between an LDAP client and a real
 * server, for the fault tests. It listens on 127.0.0.1, forwards every
 * connection to the server, and reads the server's side as LDAPMessages
 * (BER: SEQUENCE 0x30, length, messageID INTEGER, protocolOp). When the
 * (N+1)th SearchResultEntry (application tag 4, 0x64) of a connection comes,
 * after N entries went through, it acts instead of forwarding it:
 *
 *   done   send a SearchResultDone (0x65) with the entry's messageID and the
 *          chosen resultCode, and swallow what the server still sends for
 *          that messageID
 *   drop   close both sides at once
 *   stall  forward nothing more from the server (optionally SIGSTOP a pid,
 *          the server's); close the client when the server closes
 *   pass   nothing (a plain proxy)
 *
 * The root DSE's entry (empty DN: rosterd reads it when it connects) is
 * never counted. With -d TEXT, only the entries whose DN holds TEXT (ASCII
 * case ignored), e.g. "ou=groups", are counted and acted on: the others pass
 * as they are.
 *
 * With -r ATTR:K, every entry whose attribute ATTR has more than K values is
 * sent as Active Directory sends a large attribute: the attribute named
 * "ATTR;range=0-(K-1)" with the first K values only (AD's default K is
 * 1500). And the proxy answers the client's requests for the next ranges as
 * AD does: a SearchRequest asking for "ATTR;range=N-*" (or "N-M") goes to
 * the server asking for ATTR whole, and the entry that answers it holds
 * values N to N+K-1 (M at most) as "ATTR;range=N-(N+K-1)", or as
 * "ATTR;range=N-*" when they reach the last value. With -s as well, every
 * such answer starts at value 0 whatever was asked, as a server whose
 * ranges do not advance.
 *
 * usage: ldap-proxy -u PORT [-a N] [-m MODE] [-c CODE] [-k PID] [-d TEXT]
 *                   [-r ATTR:K [-s]]
 * The upstream server is 127.0.0.1:PORT. The first line on stdout is
 * "port P" (the port it listens on); then one line per event ("act N MODE"
 * when it acts after N entries, "ranged DN N K" when it sends K of the N
 * values of an entry's ATTR, "range DN LO-HI" when it answers a request
 * for the next range, HI "*" for the last, "eof server"), flushed at once.
 * Each connection is served by its own child process.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

enum mode { M_PASS, M_DONE, M_DROP, M_STALL };

static struct {
	int up_port;
	long after;
	enum mode mode;
	int code;
	pid_t stop_pid;
	const char *dn_part;     /* -d: count only entries whose DN holds it */
	char range_attr[64];     /* -r: the attribute sent in a range ... */
	size_t range_keep;       /* ... of this many values */
	bool range_stuck;        /* -s: follow-up ranges all start at value 0 */
} opt = { .after = -1, .mode = M_PASS, .code = 4 };

static void
event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
event(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Length of the BER element at p (of n bytes): tag, length and contents.
 * 0 when it is not complete yet, -1 when it is not BER we understand. */
static long
ber_element(const unsigned char *p, size_t n, size_t *hdr, size_t *clen)
{
	size_t len = 0, h;

	if (n < 2)
		return 0;
	if (p[1] < 0x80) {
		len = p[1];
		h = 2;
	} else {
		size_t k = p[1] & 0x7f;
		if (k == 0 || k > 4)
			return -1;
		if (n < 2 + k)
			return 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		h = 2 + k;
	}
	if (hdr)
		*hdr = h;
	if (clen)
		*clen = len;
	return n < h + len ? 0 : (long)(h + len);
}

/* A SearchResultDone for the messageID element mid (mid[0] == 0x02). */
static size_t
make_done(const unsigned char *mid, size_t midlen, int code, unsigned char *out)
{
	static const char diag[] = "injected by ldap-proxy";
	size_t oplen = 3 + 2 + 2 + (sizeof(diag) - 1), k = 0;

	out[k++] = 0x30;
	out[k++] = (unsigned char)(midlen + 2 + oplen);
	memcpy(out + k, mid, midlen);
	k += midlen;
	out[k++] = 0x65;
	out[k++] = (unsigned char)oplen;
	out[k++] = 0x0a;                 /* resultCode ENUMERATED */
	out[k++] = 0x01;
	out[k++] = (unsigned char)code;
	out[k++] = 0x04;                 /* matchedDN "" */
	out[k++] = 0x00;
	out[k++] = 0x04;                 /* diagnosticMessage */
	out[k++] = sizeof(diag) - 1;
	memcpy(out + k, diag, sizeof(diag) - 1);
	return k + sizeof(diag) - 1;
}

/* Whether the entry whose SearchResultEntry (op, n bytes from its tag on)
 * counts: not the root DSE (empty DN; rosterd reads it when it connects),
 * and with -d, a DN holding opt.dn_part. */
static bool
entry_counts(const unsigned char *op, size_t n)
{
	size_t hdr, clen, dhdr, dlen;
	const unsigned char *dn;

	if (ber_element(op, n, &hdr, &clen) <= 0 ||
	    ber_element(op + hdr, clen, &dhdr, &dlen) <= 0 || op[hdr] != 0x04)
		return opt.dn_part == NULL;
	if (dlen == 0)
		return false;
	if (opt.dn_part == NULL)
		return true;
	dn = op + hdr + dhdr;
	for (size_t i = 0, k = strlen(opt.dn_part); i + k <= dlen; i++)
		if (strncasecmp((const char *)dn + i, opt.dn_part, k) == 0)
			return true;
	return false;
}

/* The BER element of tag t at p (before end): its contents in *c and *clen;
 * returns its whole length, or 0 when it is not there whole. */
static size_t
ber_in(const unsigned char *p, const unsigned char *end, unsigned char t,
       const unsigned char **c, size_t *clen)
{
	size_t hdr, len;
	long n;

	if (p >= end || p[0] != t ||
	    (n = ber_element(p, (size_t)(end - p), &hdr, &len)) <= 0)
		return 0;
	if (c != NULL) {
		*c = p + hdr;
		*clen = len;
	}
	return (size_t)n;
}

/* BER tag t and length len at out (NULL: only count); returns the bytes
 * of that header (at most 6). */
static size_t
put_header(unsigned char *out, unsigned char t, size_t len)
{
	unsigned char h[6];
	size_t k = 0, nb = len < 0x80 ? 0 : len < 0x100 ? 1 : len < 0x10000 ? 2 :
			   len < 0x1000000 ? 3 : 4;

	h[k++] = t;
	if (nb == 0) {
		h[k++] = (unsigned char)len;
	} else {
		h[k++] = (unsigned char)(0x80 | nb);
		while (nb-- > 0)
			h[k++] = (unsigned char)(len >> (8 * nb));
	}
	if (out != NULL)
		memcpy(out, h, k);
	return k;
}

/* An LDAPMessage whose protocolOp ends in a SEQUENCE (a SearchResultEntry's
 * attributes, a SearchRequest's attribute list), cut into what a rewrite
 * keeps: the messageID element, the op's tag and what precedes the list in
 * it, the list's contents, and what follows the op (the controls). */
struct msg_parts {
	const unsigned char *mid, *pre, *list, *tail;
	size_t midlen, prelen, listlen, taillen;
	unsigned char tag;
};

/* Cut msg (m bytes) into p when its op has tag t and its list comes after
 * skip other elements; false when it is not that, or not BER we understand. */
static bool
msg_split(const unsigned char *msg, size_t m, unsigned char t, int skip, struct msg_parts *p)
{
	const unsigned char *body, *op, *x, *end;
	size_t blen, oplen, optot, xtot;
	long n;

	if (ber_in(msg, msg + m, 0x30, &body, &blen) == 0 ||
	    (p->midlen = ber_in(body, body + blen, 0x02, NULL, NULL)) == 0 ||
	    (optot = ber_in(body + p->midlen, body + blen, t, &op, &oplen)) == 0)
		return false;
	end = op + oplen;
	for (x = op; skip-- > 0; x += n)
		if ((n = ber_element(x, (size_t)(end - x), NULL, NULL)) <= 0)
			return false;
	if ((xtot = ber_in(x, end, 0x30, &p->list, &p->listlen)) == 0 || x + xtot != end)
		return false;
	p->mid = body;
	p->tag = t;
	p->pre = op;
	p->prelen = (size_t)(x - op);
	p->tail = body + p->midlen + optot;
	p->taillen = (size_t)(body + blen - p->tail);
	return true;
}

/* The message of p with list (n bytes) as the contents of its list, in *out
 * (malloc'd, *outlen bytes); -1 when out of memory. */
static int
msg_join(const struct msg_parts *p, const unsigned char *list, size_t n,
	 unsigned char **out, size_t *outlen)
{
	size_t oplen = p->prelen + put_header(NULL, 0x30, n) + n;
	size_t len = p->midlen + put_header(NULL, p->tag, oplen) + oplen + p->taillen, k;
	unsigned char *r = malloc(len + 6);

	if (r == NULL)
		return -1;
	k = put_header(r, 0x30, len);
	memcpy(r + k, p->mid, p->midlen);
	k += p->midlen;
	k += put_header(r + k, p->tag, oplen);
	memcpy(r + k, p->pre, p->prelen);
	k += p->prelen;
	k += put_header(r + k, 0x30, n);
	memcpy(r + k, list, n);
	k += n;
	memcpy(r + k, p->tail, p->taillen);
	*out = r;
	*outlen = k + p->taillen;
	return 0;
}

/* The value of a messageID element (INTEGER, at most 4 bytes); -1 when it is
 * not one. */
static long
msgid_of(const unsigned char *mid, size_t midlen)
{
	const unsigned char *c;
	size_t clen;
	long v = 0;

	if (ber_in(mid, mid + midlen, 0x02, &c, &clen) == 0 || clen == 0 || clen > 4)
		return -1;
	for (size_t i = 0; i < clen; i++)
		v = v << 8 | c[i];
	return v;
}

/* The follow-up requests of this connection (each connection has a process
 * of its own): the messageIDs of SearchRequests that asked for a range of
 * -r's attribute, and the range they asked for (hi SIZE_MAX for "*"). */
static struct asked {
	long msgid;          /* 0: a free slot */
	size_t lo, hi;
} asked[16];

static struct asked *
asked_find(long msgid)
{
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++)
		if (asked[i].msgid == msgid)
			return &asked[i];
	return NULL;
}

/* Whether the attribute description t (tlen bytes) is -r's attribute, plain. */
static bool
is_range_attr(const unsigned char *t, size_t tlen)
{
	return tlen == strlen(opt.range_attr) &&
	       strncasecmp((const char *)t, opt.range_attr, tlen) == 0;
}

/* Whether the attribute description t (tlen bytes) asks for a range of -r's
 * attribute, "ATTR;range=LO-HI" or "ATTR;range=LO-*": the range in *lo, *hi. */
static bool
asks_range(const unsigned char *t, size_t tlen, size_t *lo, size_t *hi)
{
	size_t alen = strlen(opt.range_attr);
	char s[128], *p, *e;

	if (tlen <= alen + 7 || tlen >= sizeof(s) ||
	    strncasecmp((const char *)t, opt.range_attr, alen) != 0 ||
	    strncasecmp((const char *)t + alen, ";range=", 7) != 0)
		return false;
	memcpy(s, t, tlen);
	s[tlen] = '\0';
	p = s + alen + 7;
	if (*p < '0' || *p > '9')
		return false;
	*lo = strtoul(p, &e, 10);
	if (*e++ != '-')
		return false;
	if (strcmp(e, "*") == 0) {
		*hi = SIZE_MAX;
		return true;
	}
	if (*e < '0' || *e > '9')
		return false;
	*hi = strtoul(e, &p, 10);
	return *p == '\0' && *hi >= *lo;
}

/* A SearchRequest msg (m bytes) that asks for a range of -r's attribute
 * ("member;range=500-*") rewritten to ask for the attribute whole, in *out
 * (malloc'd); the range asked is noted under its messageID for the reply.
 * Returns 1 when rewritten, 0 when there is nothing to rewrite (another
 * message, or not BER we understand: it goes as it is), -1 when out of
 * memory. RFC 4511: SearchRequest [APPLICATION 3] SEQUENCE { baseObject,
 * scope, derefAliases, sizeLimit, timeLimit, typesOnly, filter,
 * attributes SEQUENCE OF OCTET STRING }. */
static int
request_rewrite(const unsigned char *msg, size_t m, unsigned char **out, size_t *outlen)
{
	static size_t slot;
	struct msg_parts p;
	const unsigned char *a, *t, *end;
	size_t atot, tlen, n = 0, lo = 0, hi = 0, nl = strlen(opt.range_attr);
	unsigned char *list;
	bool ranged = false;
	long msgid;
	int r;

	if (!msg_split(msg, m, 0x63, 7, &p) || (msgid = msgid_of(p.mid, p.midlen)) <= 0)
		return 0;
	if ((list = malloc(p.listlen + 1)) == NULL)
		return -1;
	end = p.list + p.listlen;
	for (a = p.list; a < end; a += atot) {
		if ((atot = ber_in(a, end, 0x04, &t, &tlen)) == 0) {
			free(list);
			return 0;
		}
		if (!ranged && asks_range(t, tlen, &lo, &hi)) {
			ranged = true;   /* the plain name: never longer */
			n += put_header(list + n, 0x04, nl);
			memcpy(list + n, opt.range_attr, nl);
			n += nl;
		} else {
			memcpy(list + n, a, atot);
			n += atot;
		}
	}
	r = ranged ? msg_join(&p, list, n, out, outlen) : 0;
	free(list);
	if (r < 0)
		return -1;
	if (ranged) {
		asked[slot] = (struct asked){ .msgid = msgid, .lo = lo, .hi = hi };
		slot = (slot + 1) % (sizeof(asked) / sizeof(asked[0]));
	}
	return ranged ? 1 : 0;
}

/* An attribute of an entry: PartialAttribute SEQUENCE { type, vals SET OF }. */
struct attr {
	const unsigned char *type, *vals;
	size_t typelen, valslen, n;
};

/* Read the attribute a (alen bytes); false when it is not BER we understand. */
static bool
attr_read(const unsigned char *a, size_t alen, struct attr *at)
{
	const unsigned char *c, *x;
	size_t clen, ttot, vtot;

	if (ber_in(a, a + alen, 0x30, &c, &clen) == 0 ||
	    (ttot = ber_in(c, c + clen, 0x04, &at->type, &at->typelen)) == 0 ||
	    ber_in(c + ttot, c + clen, 0x31, &at->vals, &at->valslen) == 0)
		return false;
	at->n = 0;
	for (x = at->vals; x < at->vals + at->valslen; x += vtot, at->n++)
		if ((vtot = ber_in(x, at->vals + at->valslen, 0x04, NULL, NULL)) == 0)
			return false;
	return true;
}

/* The values from first on of at, at most max of them, written at out as an
 * attribute named "ATTR;range=FIRST-LAST", or "ATTR;range=FIRST-*" when they
 * reach its last value (the name in range, for the event line). Returns the
 * bytes written: never more than at's plus the ";range=..." suffix and 12
 * header bytes. */
static size_t
attr_slice(const struct attr *at, size_t first, size_t max, unsigned char *out,
	   char *range, size_t rangelen)
{
	const unsigned char *x = at->vals, *end = at->vals + at->valslen, *from;
	size_t k, nl, vl, w = 0;
	char name[160];

	for (k = 0; k < first && x < end; k++)
		x += ber_in(x, end, 0x04, NULL, NULL);
	from = x;
	for (k = 0; k < max && x < end; k++)
		x += ber_in(x, end, 0x04, NULL, NULL);
	vl = (size_t)(x - from);
	if (x == end)
		snprintf(range, rangelen, "%zu-*", first);
	else
		snprintf(range, rangelen, "%zu-%zu", first, first + k - 1);
	nl = (size_t)snprintf(name, sizeof(name), "%s;range=%s", opt.range_attr, range);
	w += put_header(out, 0x30, put_header(NULL, 0x04, nl) + nl + put_header(NULL, 0x31, vl) + vl);
	w += put_header(out + w, 0x04, nl);
	memcpy(out + w, name, nl);
	w += nl;
	w += put_header(out + w, 0x31, vl);
	memcpy(out + w, from, vl);
	return w + vl;
}

/* The LDAPMessage msg (m bytes) holding a SearchResultEntry rewritten as -r
 * asks, in *out (malloc'd, *outlen bytes): the reply to a follow-up request
 * (request_rewrite) gets the range asked for, K values at most (from value
 * 0 with -s); any other entry whose attribute has more than K values, its
 * first K. Returns 1 when rewritten, 0 when nothing was to change, -1 when
 * it is not BER we understand. RFC 4511: SearchResultEntry [APPLICATION 4]
 * SEQUENCE { objectName OCTET STRING, attributes SEQUENCE OF
 * PartialAttribute }. */
static int
range_rewrite(const unsigned char *msg, size_t m, unsigned char **out, size_t *outlen)
{
	struct msg_parts p;
	struct asked *q;
	const unsigned char *a, *end, *dn;
	size_t atot, dnlen, n = 0;
	unsigned char *list;
	bool changed = false;
	long msgid;
	int r;

	if (!msg_split(msg, m, 0x64, 1, &p) || ber_in(p.pre, p.pre + p.prelen, 0x04, &dn, &dnlen) == 0)
		return -1;
	msgid = msgid_of(p.mid, p.midlen);
	q = msgid > 0 ? asked_find(msgid) : NULL;
	if ((list = malloc(p.listlen + 256)) == NULL)
		return -1;
	end = p.list + p.listlen;
	for (a = p.list; a < end; a += atot) {
		struct attr at;
		size_t first = 0, max = opt.range_keep;
		char range[48];

		if ((atot = ber_in(a, end, 0x30, NULL, NULL)) == 0 || !attr_read(a, atot, &at)) {
			free(list);
			return -1;
		}
		if (changed || !is_range_attr(at.type, at.typelen) ||
		    (q == NULL && at.n <= opt.range_keep)) {
			memcpy(list + n, a, atot);
			n += atot;
			continue;
		}
		if (q != NULL && !opt.range_stuck) {
			first = q->lo;
			if (q->hi != SIZE_MAX && q->hi - q->lo + 1 < max)
				max = q->hi - q->lo + 1;
		}
		n += attr_slice(&at, first, max, list + n, range, sizeof(range));
		changed = true;
		if (q != NULL)
			event("range %.*s %s", (int)dnlen, (const char *)dn, range);
		else
			event("ranged %.*s %zu %zu", (int)dnlen, (const char *)dn, at.n,
			      opt.range_keep);
	}
	if (q != NULL)
		q->msgid = 0;
	r = changed ? msg_join(&p, list, n, out, outlen) : 0;
	free(list);
	return r < 0 ? -1 : changed;
}

/* Messages go out as soon as written: the proxy writes a reply message by
 * message, and Nagle's algorithm would hold the next one back until the
 * client's delayed ACK of the last (40 ms a round trip of a range search). */
static int
nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
connect_up(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.up_port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || nodelay(fd) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Append n bytes at p to the buffer *b (*used of *cap bytes), growing it. */
static int
buf_add(unsigned char **b, size_t *cap, size_t *used, const unsigned char *p, size_t n)
{
	if (*used + n > *cap) {
		size_t c = *cap > 0 ? *cap : 1 << 16;
		unsigned char *q;

		while (*used + n > c)
			c *= 2;
		if ((q = realloc(*b, c)) == NULL)
			return -1;
		*b = q;
		*cap = c;
	}
	memcpy(*b + *used, p, n);
	*used += n;
	return 0;
}

/* Forward the client's complete messages in b (used bytes) to fd, requests
 * for a range rewritten (request_rewrite); returns the bytes consumed, or
 * -1 when fd is gone or memory is out. */
static long
client_forward(int fd, const unsigned char *b, size_t used)
{
	size_t off = 0;

	while (off < used) {
		long m = ber_element(b + off, used - off, NULL, NULL);
		unsigned char *msg;
		size_t len;
		int rw;

		if (m == 0)
			break;
		if (m < 0)   /* not BER we can read: pass the rest as it is */
			return write_all(fd, b + off, used - off) < 0 ? -1 : (long)used;
		rw = request_rewrite(b + off, (size_t)m, &msg, &len);
		if (rw == 1) {
			rw = write_all(fd, msg, len);
			free(msg);
		} else if (rw == 0) {
			rw = write_all(fd, b + off, (size_t)m);
		}
		if (rw < 0)
			return -1;
		off += (size_t)m;
	}
	return (long)off;
}

/* One connection: returns when either side is done. */
static void
serve(int cfd)
{
	unsigned char *buf = NULL, *cbuf = NULL, mid[8];
	size_t cap = 0, used = 0, ccap = 0, cused = 0, midlen = 0;
	long entries = 0;
	bool acted = false;
	int sfd = connect_up();

	if (sfd < 0) {
		event("error cannot connect to port %d: %s", opt.up_port, strerror(errno));
		return;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = cfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		unsigned char tmp[65536];
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (p[0].revents) {
			long k;

			n = read(cfd, tmp, sizeof(tmp));
			if (n <= 0)
				goto out;
			if (opt.range_keep == 0) {
				if (write_all(sfd, tmp, (size_t)n) < 0)
					goto out;
			} else {
				if (buf_add(&cbuf, &ccap, &cused, tmp, (size_t)n) < 0 ||
				    (k = client_forward(sfd, cbuf, cused)) < 0)
					goto out;
				memmove(cbuf, cbuf + k, cused - (size_t)k);
				cused -= (size_t)k;
			}
		}
		if (!p[1].revents)
			continue;
		n = read(sfd, tmp, sizeof(tmp));
		if (n <= 0) {
			event("eof server");
			goto out;
		}
		if (acted && opt.mode == M_STALL)
			continue;          /* swallowed: the client waits */
		if (buf_add(&buf, &cap, &used, tmp, (size_t)n) < 0)
			goto out;
		/* Hand over the complete messages, one by one. */
		size_t off = 0;
		for (;;) {
			size_t hdr, clen, ihdr, ilen;
			long m = ber_element(buf + off, used - off, &hdr, &clen);
			const unsigned char *c;
			long im;

			if (m == 0)
				break;
			c = buf + off + hdr;
			if (m < 0 || buf[off] != 0x30 || clen < 3 || c[0] != 0x02 ||
			    (im = ber_element(c, clen, &ihdr, &ilen)) <= 0 || (size_t)im >= clen ||
			    (size_t)im > sizeof(mid)) {
				/* not an LDAPMessage we can read: pass the rest as is */
				if (write_all(cfd, buf + off, used - off) < 0)
					goto out;
				off = used;
				break;
			}
			if (acted && opt.mode == M_DONE && (size_t)im == midlen &&
			    memcmp(c, mid, midlen) == 0) {
				off += (size_t)m;          /* the rest of the cut search */
				continue;
			}
			bool counted = c[im] == 0x64 &&
				       entry_counts(c + im, clen - (size_t)im);
			if (!acted && counted && opt.after >= 0 && opt.mode != M_PASS &&
			    entries == opt.after) {
				unsigned char done[128];
				acted = true;
				memcpy(mid, c, (size_t)im);
				midlen = (size_t)im;
				switch (opt.mode) {
				case M_DONE:
					event("act %ld done %d", entries, opt.code);
					if (write_all(cfd, done, make_done(mid, midlen, opt.code, done)) < 0)
						goto out;
					off += (size_t)m;
					continue;
				case M_DROP:
					event("act %ld drop", entries);
					goto out;
				default:
					if (opt.stop_pid > 0)
						kill(opt.stop_pid, SIGSTOP);
					event("act %ld stall", entries);
					off = used;
					break;
				}
				break;
			}
			if (counted)
				entries++;
			if (c[im] == 0x64 && opt.range_keep > 0) {
				unsigned char *msg;
				size_t len;
				int rw = range_rewrite(buf + off, (size_t)m, &msg, &len);
				if (rw < 0)
					event("error cannot read the entry to range its values");
				if (rw == 1) {
					rw = write_all(cfd, msg, len);
					free(msg);
					if (rw < 0)
						goto out;
					off += (size_t)m;
					continue;
				}
			}
			if (write_all(cfd, buf + off, (size_t)m) < 0)
				goto out;
			off += (size_t)m;
		}
		memmove(buf, buf + off, used - off);
		used -= off;
	}
out:
	free(buf);
	free(cbuf);
	shutdown(sfd, SHUT_RDWR);
	close(sfd);
}

static void
usage(void)
{
	fprintf(stderr, "usage: ldap-proxy -u PORT [-a N] [-m pass|done|drop|stall] "
		"[-c CODE] [-k PID] [-d TEXT] [-r ATTR:K [-s]]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int lfd, c, one = 1;
	const char *colon;

	while ((c = getopt(argc, argv, "u:a:m:c:k:d:r:s")) != -1) {
		switch (c) {
		case 'd': opt.dn_part = optarg; break;
		case 's': opt.range_stuck = true; break;
		case 'r':
			colon = strchr(optarg, ':');
			if (colon == NULL || colon == optarg ||
			    (size_t)(colon - optarg) >= sizeof(opt.range_attr) ||
			    atol(colon + 1) <= 0)
				usage();
			snprintf(opt.range_attr, sizeof(opt.range_attr), "%.*s",
				 (int)(colon - optarg), optarg);
			opt.range_keep = (size_t)atol(colon + 1);
			break;
		case 'u': opt.up_port = atoi(optarg); break;
		case 'a': opt.after = atol(optarg); break;
		case 'c': opt.code = atoi(optarg); break;
		case 'k': opt.stop_pid = (pid_t)atol(optarg); break;
		case 'm':
			if (strcmp(optarg, "pass") == 0) opt.mode = M_PASS;
			else if (strcmp(optarg, "done") == 0) opt.mode = M_DONE;
			else if (strcmp(optarg, "drop") == 0) opt.mode = M_DROP;
			else if (strcmp(optarg, "stall") == 0) opt.mode = M_STALL;
			else usage();
			break;
		default: usage();
		}
	}
	if (opt.up_port <= 0 || opt.code < 0 || opt.code > 127 ||
	    (opt.range_stuck && opt.range_keep == 0))
		usage();
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
		perror("ldap-proxy: listen");
		return 1;
	}
	event("port %d", ntohs(a.sin_port));
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			perror("ldap-proxy: accept");
			return 1;
		}
		nodelay(cfd);
		pid = fork();
		if (pid == 0) {
			close(lfd);
			serve(cfd);
			shutdown(cfd, SHUT_RDWR);
			close(cfd);
			_exit(0);
		}
		close(cfd);
	}
}
