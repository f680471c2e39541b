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
 * With -d TEXT, only the entries whose DN holds TEXT (ASCII case ignored),
 * e.g. "ou=groups", are counted and acted on: the others pass as they are.
 *
 * With -r ATTR:K, every entry whose attribute ATTR has more than K values is
 * sent as Active Directory sends a large attribute: the attribute named
 * "ATTR;range=0-(K-1)" with the first K values only (AD's default K is
 * 1500); the client would have to ask for the next range to get the rest.
 *
 * usage: ldap-proxy -u PORT [-a N] [-m MODE] [-c CODE] [-k PID] [-d TEXT]
 *                   [-r ATTR:K]
 * The upstream server is 127.0.0.1:PORT. The first line on stdout is
 * "port P" (the port it listens on); then one line per event ("act N MODE"
 * when it acts after N entries, "ranged DN N K" when it sends K of the N
 * values of an entry's ATTR, "eof server"), flushed at once.
 * Each connection is served by its own child process.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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
 * has a DN holding opt.dn_part; every entry does without -d. */
static bool
entry_counts(const unsigned char *op, size_t n)
{
	size_t hdr, clen, dhdr, dlen;
	const unsigned char *dn;

	if (opt.dn_part == NULL)
		return true;
	if (ber_element(op, n, &hdr, &clen) <= 0 ||
	    ber_element(op + hdr, clen, &dhdr, &dlen) <= 0 || op[hdr] != 0x04)
		return false;
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

/* The attribute a (whole length alen) as -r wants it, appended at out:
 * returns the bytes written, or 0 to copy it as it is; (size_t)-1 when it
 * is not BER we understand. The new element is never longer than the old
 * one plus the ";range=..." suffix and 12 header bytes. */
static size_t
range_attribute(const unsigned char *a, size_t alen, unsigned char *out,
		const unsigned char *dn, size_t dnlen)
{
	const unsigned char *c, *t, *v, *x;
	size_t clen, tlen, vlen, ttot, nvals = 0, keep = 0, k = 0, nl, vtot;
	char name[128];

	if (ber_in(a, a + alen, 0x30, &c, &clen) == 0 ||
	    (ttot = ber_in(c, c + clen, 0x04, &t, &tlen)) == 0 ||
	    ber_in(c + ttot, c + clen, 0x31, &v, &vlen) == 0)
		return (size_t)-1;
	for (x = v; x < v + vlen; x += vtot, nvals++) {
		if ((vtot = ber_in(x, v + vlen, 0x04, NULL, NULL)) == 0)
			return (size_t)-1;
		if (nvals < opt.range_keep)
			keep += vtot;
	}
	if (tlen != strlen(opt.range_attr) ||
	    strncasecmp((const char *)t, opt.range_attr, tlen) != 0 || nvals <= opt.range_keep)
		return 0;
	nl = (size_t)snprintf(name, sizeof(name), "%s;range=0-%zu", opt.range_attr,
			      opt.range_keep - 1);
	k += put_header(out, 0x30, put_header(NULL, 0x04, nl) + nl +
			put_header(NULL, 0x31, keep) + keep);
	k += put_header(out + k, 0x04, nl);
	memcpy(out + k, name, nl);
	k += nl;
	k += put_header(out + k, 0x31, keep);
	memcpy(out + k, v, keep);
	event("ranged %.*s %zu %zu", (int)dnlen, (const char *)dn, nvals, opt.range_keep);
	return k + keep;
}

/* The LDAPMessage msg (m bytes) holding a SearchResultEntry rewritten as -r
 * asks, in *out (malloc'd, *outlen bytes). Returns 1 when rewritten, 0 when
 * nothing was to change, -1 when it is not BER we understand. RFC 4511:
 * LDAPMessage SEQUENCE { messageID, SearchResultEntry [APPLICATION 4]
 * { objectName OCTET STRING, attributes SEQUENCE OF SEQUENCE { type,
 * vals SET OF OCTET STRING } }, controls [0] OPTIONAL }. */
static int
range_rewrite(const unsigned char *msg, size_t m, unsigned char **out, size_t *outlen)
{
	const unsigned char *body, *opc, *dn, *list, *a, *tail;
	size_t blen, midtot, optot, oplen, dntot, dnlen, listlen, taillen, atot, n = 0, w;
	size_t oplen2, msglen2, k;
	unsigned char *attrs = NULL, *r;
	bool changed = false;

	if (ber_in(msg, msg + m, 0x30, &body, &blen) == 0 ||
	    (midtot = ber_in(body, body + blen, 0x02, NULL, NULL)) == 0 ||
	    (optot = ber_in(body + midtot, body + blen, 0x64, &opc, &oplen)) == 0 ||
	    (dntot = ber_in(opc, opc + oplen, 0x04, &dn, &dnlen)) == 0 ||
	    ber_in(opc + dntot, opc + oplen, 0x30, &list, &listlen) == 0)
		return -1;
	tail = body + midtot + optot;          /* the controls, if any */
	taillen = (size_t)(body + blen - tail);
	attrs = malloc(listlen + 256);
	if (attrs == NULL)
		return -1;
	for (a = list; a < list + listlen; a += atot) {
		if ((atot = ber_in(a, list + listlen, 0x30, NULL, NULL)) == 0 ||
		    (w = range_attribute(a, atot, attrs + n, dn, dnlen)) == (size_t)-1) {
			free(attrs);
			return -1;
		}
		if (w == 0) {
			memcpy(attrs + n, a, atot);
			w = atot;
		} else {
			changed = true;
		}
		n += w;
	}
	if (!changed) {
		free(attrs);
		return 0;
	}
	oplen2 = dntot + put_header(NULL, 0x30, n) + n;
	msglen2 = midtot + put_header(NULL, 0x64, oplen2) + oplen2 + taillen;
	r = malloc(msglen2 + 6);
	if (r == NULL) {
		free(attrs);
		return -1;
	}
	k = put_header(r, 0x30, msglen2);
	memcpy(r + k, body, midtot);
	k += midtot;
	k += put_header(r + k, 0x64, oplen2);
	memcpy(r + k, opc, dntot);
	k += dntot;
	k += put_header(r + k, 0x30, n);
	memcpy(r + k, attrs, n);
	k += n;
	memcpy(r + k, tail, taillen);
	k += taillen;
	free(attrs);
	*out = r;
	*outlen = k;
	return 1;
}

static int
connect_up(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.up_port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One connection: returns when either side is done. */
static void
serve(int cfd)
{
	unsigned char *buf = NULL, mid[8];
	size_t cap = 1 << 16, used = 0, midlen = 0;
	long entries = 0;
	bool acted = false;
	int sfd = connect_up();

	if (sfd < 0) {
		event("error cannot connect to port %d: %s", opt.up_port, strerror(errno));
		return;
	}
	buf = malloc(cap);
	if (buf == NULL)
		goto out;
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
			n = read(cfd, tmp, sizeof(tmp));
			if (n <= 0 || write_all(sfd, tmp, (size_t)n) < 0)
				goto out;
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
		if (used + (size_t)n > cap) {
			unsigned char *q;
			while (used + (size_t)n > cap)
				cap *= 2;
			if ((q = realloc(buf, cap)) == NULL)
				goto out;
			buf = q;
		}
		memcpy(buf + used, tmp, (size_t)n);
		used += (size_t)n;
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
	shutdown(sfd, SHUT_RDWR);
	close(sfd);
}

static void
usage(void)
{
	fprintf(stderr, "usage: ldap-proxy -u PORT [-a N] [-m pass|done|drop|stall] "
		"[-c CODE] [-k PID] [-d TEXT] [-r ATTR:K]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int lfd, c, one = 1;
	const char *colon;

	while ((c = getopt(argc, argv, "u:a:m:c:k:d:r:")) != -1) {
		switch (c) {
		case 'd': opt.dn_part = optarg; break;
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
	if (opt.up_port <= 0 || opt.code < 0 || opt.code > 127)
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
