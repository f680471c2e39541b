/*
 * dn.c: the canonical form of a distinguished name (RFC 4514), so that two
 * spellings of one DN compare equal: "CN=Smith\, J ,OU=People" and
 * "cn=smith\2c j,ou=people" both become "cn=smith\, j,ou=people".
 *
 * libldap parses the string (escapes, hex pairs, #BER values, spacing); this
 * file folds case, collapses insignificant spaces, sorts multi-valued RDNs and
 * writes the result with the minimal escaping RFC 4514 section 2.4 requires.
 * Plain DNs, the common case, take a short path that gives the same result.
 * Values are compared case-insensitively, as the naming attributes of the
 * standard schemas (cn, uid, ou, o, dc, l, c...) are.
 */
#include "util.h"
#include "dn.h"

#include <errno.h>
#include <ldap.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

/* Numeric attribute types that name the same attribute as a short name. */
static const struct {
	const char *oid, *name;
} known_oids[] = {
	{ "2.5.4.3", "cn" },
	{ "2.5.4.6", "c" },
	{ "2.5.4.7", "l" },
	{ "2.5.4.8", "st" },
	{ "2.5.4.9", "street" },
	{ "2.5.4.10", "o" },
	{ "2.5.4.11", "ou" },
	{ "0.9.2342.19200300.100.1.1", "uid" },
	{ "0.9.2342.19200300.100.1.25", "dc" },
};

/* A growing output buffer; on allocation failure ok goes false. */
struct buf {
	char *p;
	size_t len, cap;
	bool ok;
};

static void
buf_put(struct buf *b, const char *s, size_t n)
{
	if (!b->ok)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->ok = false;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_putc(struct buf *b, char c)
{
	buf_put(b, &c, 1);
}

static locale_t
utf8_locale(void)
{
	static locale_t loc;
	static bool tried;

	if (!tried) {
		tried = true;
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return loc;
}

/* Decode one UTF-8 sequence at s (validated by the caller); returns its length. */
static size_t
utf8_decode(const unsigned char *s, unsigned *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xe0) {
		*cp = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
		return 2;
	}
	if (s[0] < 0xf0) {
		*cp = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
		return 3;
	}
	*cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) |
	      (s[3] & 0x3fu);
	return 4;
}

static void
utf8_encode(struct buf *b, unsigned cp)
{
	char s[4];

	if (cp < 0x80) {
		s[0] = (char)cp;
		buf_put(b, s, 1);
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3f));
		buf_put(b, s, 2);
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		buf_put(b, s, 3);
	} else {
		s[0] = (char)(0xf0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		buf_put(b, s, 4);
	}
}

static unsigned
fold(unsigned cp)
{
	locale_t loc = utf8_locale();

	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
	if (loc == (locale_t)0)
		return cp;
	return (unsigned)towlower_l((wint_t)cp, loc);
}

/* Write the attribute type: lower case, known OIDs by name. */
static void
put_type(struct buf *b, const struct berval *t)
{
	const char *s = t->bv_val;
	size_t n = t->bv_len;

	for (size_t i = 0; i < sizeof(known_oids) / sizeof(known_oids[0]); i++) {
		if (strlen(known_oids[i].oid) == n && memcmp(known_oids[i].oid, s, n) == 0) {
			buf_put(b, known_oids[i].name, strlen(known_oids[i].name));
			return;
		}
	}
	for (size_t i = 0; i < n; i++)
		buf_putc(b, (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i]);
}

/* Write a string value folded, spaces collapsed, escaped per RFC 4514. */
static int
put_value(struct buf *b, const struct berval *v)
{
	const unsigned char *s = (const unsigned char *)v->bv_val;
	size_t n = v->bv_len, i = 0, start = b->len;
	bool pending_space = false;

	if (!utf8_valid(v->bv_val, n))
		return -EINVAL;
	while (i < n && s[i] == ' ')
		i++;
	while (i < n) {
		unsigned cp;
		i += utf8_decode(s + i, &cp);
		if (cp == ' ') {
			pending_space = true;
			continue;
		}
		if (pending_space) {
			buf_putc(b, ' ');
			pending_space = false;
		}
		cp = fold(cp);
		if (cp < 0x20 || cp == 0x7f) {
			/* a control character as a hex pair: raw, libldap would
			 * take a trailing one for space and drop it */
			static const char hex[] = "0123456789abcdef";
			buf_putc(b, '\\');
			buf_putc(b, hex[cp >> 4]);
			buf_putc(b, hex[cp & 15]);
			continue;
		}
		if (cp == ',' || cp == '+' || cp == '"' || cp == '\\' || cp == '<' ||
		    cp == '>' || cp == ';' || (cp == '#' && b->len == start))
			buf_putc(b, '\\');
		utf8_encode(b, cp);
	}
	return 0;
}

/* Write a #BER value as lower-case hex. */
static void
put_binary(struct buf *b, const struct berval *v)
{
	static const char hex[] = "0123456789abcdef";

	buf_putc(b, '#');
	for (size_t i = 0; i < v->bv_len; i++) {
		unsigned char c = (unsigned char)v->bv_val[i];
		buf_putc(b, hex[c >> 4]);
		buf_putc(b, hex[c & 15]);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Write one RDN, its AVAs in a fixed (sorted) order. */
static int
put_rdn(struct buf *b, LDAPRDN rdn)
{
	char **avas;
	size_t n = 0;
	int r = 0;

	while (rdn[n] != NULL)
		n++;
	avas = calloc(n, sizeof(*avas));
	if (avas == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct buf one = { .ok = true };
		put_type(&one, &rdn[i]->la_attr);
		buf_putc(&one, '=');
		if ((rdn[i]->la_flags & LDAP_AVA_BINARY) && rdn[i]->la_value.bv_len == 0) {
			/* libldap takes "#" and spaces for a BER value of no bytes,
			 * which has no string form: not a DN */
			free(one.p);
			r = -EINVAL;
			goto out;
		} else if (rdn[i]->la_flags & LDAP_AVA_BINARY)
			put_binary(&one, &rdn[i]->la_value);
		else if ((r = put_value(&one, &rdn[i]->la_value)) < 0) {
			free(one.p);
			goto out;
		}
		if (!one.ok) {
			free(one.p);
			r = -ENOMEM;
			goto out;
		}
		avas[i] = one.p;
	}
	qsort(avas, n, sizeof(*avas), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, '+');
		buf_put(b, avas[i], strlen(avas[i]));
	}
out:
	for (size_t i = 0; i < n; i++)
		free(avas[i]);
	free(avas);
	return r;
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The common case without libldap: "type=value,type=value..." where every
 * type is a name (a letter, then letters, digits, hyphens) and every value
 * is not empty and made of letters, digits, '.', '-' and '_' only. Such a DN
 * has no escapes, spaces, OIDs, #BER values or multi-valued RDNs, so its
 * normal form is itself in lower case (what the general path gives; the
 * unit test compares the two). Returns 1 with *out set, 0 when dn is not of
 * this form, or -ENOMEM.
 */
static int
dn_simple(const char *dn, size_t len, char **out)
{
	size_t i = 0;
	char *p;

	while (i < len) {
		size_t start;

		if (!is_alpha(dn[i]))
			return 0;
		while (i < len && (is_alpha(dn[i]) || is_digit(dn[i]) || dn[i] == '-'))
			i++;
		if (i == len || dn[i] != '=')
			return 0;
		start = ++i;
		while (i < len && (is_alpha(dn[i]) || is_digit(dn[i]) || dn[i] == '.' ||
				   dn[i] == '-' || dn[i] == '_'))
			i++;
		if (i == start)
			return 0;
		if (i < len && (dn[i] != ',' || ++i == len))
			return 0;
	}
	if (len == 0 || (p = malloc(len + 1)) == NULL)
		return len == 0 ? 0 : -ENOMEM;
	for (i = 0; i < len; i++)
		p[i] = (dn[i] >= 'A' && dn[i] <= 'Z') ? (char)(dn[i] + 32) : dn[i];
	p[len] = '\0';
	*out = p;
	return 1;
}

int
dn_normalize(const char *dn, size_t len, char **out)
{
	struct berval bv = { .bv_len = len };
	struct buf b = { .ok = true };
	LDAPDN parsed = NULL;
	int r = 0;

	if ((r = dn_simple(dn, len, out)) != 0)
		return r < 0 ? r : 0;
	if (len > 0 && memchr(dn, '\0', len) != NULL)
		return -EINVAL;
	/* libldap's parser may read past bv_len (a hex string value): give it
	 * a terminated copy, as values from the directory are not terminated. */
	if ((bv.bv_val = malloc(len + 1)) == NULL)
		return -ENOMEM;
	if (len > 0)
		memcpy(bv.bv_val, dn, len);
	bv.bv_val[len] = '\0';
	r = ldap_bv2dn(&bv, &parsed, LDAP_DN_FORMAT_LDAPV3);
	free(bv.bv_val);
	if (r != LDAP_SUCCESS)
		return -EINVAL;
	buf_put(&b, "", 0);
	for (size_t i = 0; parsed != NULL && parsed[i] != NULL; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		if ((r = put_rdn(&b, parsed[i])) < 0)
			goto out;
	}
	if (!b.ok)
		r = -ENOMEM;
out:
	ldap_dnfree(parsed);
	if (r < 0) {
		free(b.p);
		return r;
	}
	*out = b.p;
	return 0;
}
