/*
 * gen-org: print a synthetic organisation as LDIF, for the benchmark and the demo.
 *
 *   gen-org N [--seed S] [--groups] [--base]
 *
 * N people uid=u000001..,ou=people,dc=example,dc=com (inetOrgPerson) with a manager
 * tree (person 1 at the top, 8 reports per manager), a secretary (second manager) for
 * about 10%, departments D000.. (N/500+1 of them), locations from a fixed list, titles.
 * --groups adds groupOfNames groups under ou=groups (N/100 of them, at least one): each
 * person is a member of about 3, about 10% of the groups also hold another group.
 * --base first prints the base entries (the same text as tests/fixtures/base.ldif).
 * The output depends only on N and S. Values that are not LDIF SAFE-STRINGs (non-ASCII
 * names, cities) are base64-encoded ("attr:: ..."). Output is streamed; memory is only
 * the membership lists (4 bytes per membership).
 *
 * Build: cc -O2 -Wall -Wextra -Werror -std=c11 -o bench/gen-org bench/gen-org.c
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUFFIX "dc=example,dc=com"
#define PEOPLE "ou=people," SUFFIX
#define GROUPS "ou=groups," SUFFIX
#define MEMBERSHIPS_PER_PERSON 3

/* Keep in step with tests/fixtures/base.ldif. */
static const char base_ldif[] =
	"# Base entries of the test directory: the suffix, the three containers and the\n"
	"# service account rosterd binds as (password \"rosterd-secret\").\n"
	"# bench/gen-org --base prints exactly this text; keep the two in step.\n"
	"\n"
	"dn: dc=example,dc=com\n"
	"objectClass: dcObject\n"
	"objectClass: organization\n"
	"dc: example\n"
	"o: Example Organisation\n"
	"\n"
	"dn: ou=people,dc=example,dc=com\n"
	"objectClass: organizationalUnit\n"
	"ou: people\n"
	"\n"
	"dn: ou=groups,dc=example,dc=com\n"
	"objectClass: organizationalUnit\n"
	"ou: groups\n"
	"\n"
	"dn: ou=system,dc=example,dc=com\n"
	"objectClass: organizationalUnit\n"
	"ou: system\n"
	"\n"
	"dn: cn=rosterd,ou=system,dc=example,dc=com\n"
	"objectClass: organizationalRole\n"
	"objectClass: simpleSecurityObject\n"
	"cn: rosterd\n"
	"description: rosterd directory reader (test service account)\n"
	"userPassword: rosterd-secret\n"
	"\n";

/* A name and its ASCII form (for mail addresses: mail is an IA5String). */
struct name {
	const char *utf8;
	const char *ascii;
};

static const struct name given_names[] = {
	{"Anna", "anna"}, {"Ben", "ben"}, {"Chloé", "chloe"}, {"David", "david"},
	{"Elif", "elif"}, {"François", "francois"}, {"Grace", "grace"}, {"Hiroshi", "hiroshi"},
	{"Ingrid", "ingrid"}, {"José", "jose"}, {"Kwame", "kwame"}, {"Léa", "lea"},
	{"Mohammed", "mohammed"}, {"Nadia", "nadia"}, {"Oliver", "oliver"}, {"Priya", "priya"},
	{"Quentin", "quentin"}, {"Rosa", "rosa"}, {"Søren", "soren"}, {"Tomasz", "tomasz"},
	{"Uma", "uma"}, {"Vikram", "vikram"}, {"Wei", "wei"}, {"Xavier", "xavier"},
	{"Yusuf", "yusuf"}, {"Zoë", "zoe"}, {"Åsa", "asa"}, {"Łukasz", "lukasz"},
	{"Mary-Jane", "mary-jane"}, {"Renée", "renee"}, {"Sam", "sam"}, {"Lin", "lin"},
};

static const struct name family_names[] = {
	{"Smith", "smith"}, {"Ørsted", "orsted"}, {"Đặng", "dang"}, {"Müller", "muller"},
	{"Nguyễn", "nguyen"}, {"O'Brien", "obrien"}, {"García", "garcia"}, {"Kowalski", "kowalski"},
	{"Johansson", "johansson"}, {"Okafor", "okafor"}, {"Tanaka", "tanaka"}, {"Rossi", "rossi"},
	{"Dubois", "dubois"}, {"Papadopoulos", "papadopoulos"}, {"Yılmaz", "yilmaz"}, {"Singh", "singh"},
	{"Kim", "kim"}, {"Novák", "novak"}, {"Brown", "brown"}, {"Van der Berg", "vanderberg"},
	{"Silva", "silva"}, {"Hansen", "hansen"}, {"Ivanova", "ivanova"}, {"Cohen", "cohen"},
	{"Murphy", "murphy"}, {"Wong", "wong"}, {"Fischer", "fischer"}, {"Lefèvre", "lefevre"},
	{"Andersen", "andersen"}, {"Bianchi", "bianchi"}, {"Haddad", "haddad"}, {"Walker", "walker"},
};

static const char *const cities[] = {
	"London", "Zürich", "São Paulo", "Kraków", "Malmö", "Reykjavík", "Montréal", "Berlin",
	"Düsseldorf", "Bogotá", "Tokyo", "Lagos", "Mumbai", "Sydney", "Toronto", "Paris",
	"New York", "Singapore", "Nairobi", "Istanbul",
};

static const char *const titles[] = {
	"Engineer", "Senior Engineer", "Analyst", "Consultant", "Designer", "Accountant",
	"Sales Representative", "Support Specialist", "Researcher", "Administrator",
	"Technician", "Coordinator", "Developer", "Nurse", "Teacher", "Writer",
};

static const char *const manager_titles[] = {
	"Team Lead", "Manager", "Senior Manager", "Director", "Head of Department",
};

static const char *const group_topics[] = {
	"engineering", "sales", "finance", "safety", "onboarding", "compliance", "leadership",
	"support", "research", "marketing", "legal", "operations", "security", "design",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* splitmix64: small, good enough, and the same everywhere. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* A generator for one purpose (stream) and one item: the output of person i does not
 * depend on N or on the order things are generated in. */
static uint64_t rng_for(uint64_t seed, uint64_t stream, uint64_t item)
{
	uint64_t s = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03)) ^ (item * UINT64_C(0x8CB92BA72F3D8DD7));
	splitmix64(&s);
	return s;
}

static uint64_t below(uint64_t *state, uint64_t n)
{
	return n ? splitmix64(state) % n : 0;
}

static FILE *out;

static void die(const char *what)
{
	fprintf(stderr, "gen-org: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void put(const char *s, size_t n)
{
	if (fwrite(s, 1, n, out) != n)
		die("write");
}

static void puts_(const char *s)
{
	put(s, strlen(s));
}

/* RFC 2849: a value may be written as-is when it is a SAFE-STRING. */
static int ldif_safe(const char *v, size_t n)
{
	if (n == 0)
		return 1;
	unsigned char c0 = (unsigned char)v[0];
	if (c0 == ' ' || c0 == ':' || c0 == '<')
		return 0;
	if (v[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == 0 || c == '\n' || c == '\r' || c >= 0x80)
			return 0;
	}
	return 1;
}

static void put_base64(const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char buf[4];
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf[0] = tab[v >> 18 & 63];
		buf[1] = tab[v >> 12 & 63];
		buf[2] = tab[v >> 6 & 63];
		buf[3] = tab[v & 63];
		put(buf, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		buf[0] = tab[v >> 18 & 63];
		buf[1] = tab[v >> 12 & 63];
		buf[2] = '=';
		buf[3] = '=';
		put(buf, 4);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		buf[0] = tab[v >> 18 & 63];
		buf[1] = tab[v >> 12 & 63];
		buf[2] = tab[v >> 6 & 63];
		buf[3] = '=';
		put(buf, 4);
	}
}

/* One "attr: value" line (unfolded: LDIF readers accept long lines). */
static void attr(const char *name, const char *value)
{
	size_t n = strlen(value);
	puts_(name);
	if (ldif_safe(value, n)) {
		put(": ", 2);
		put(value, n);
	} else {
		put(":: ", 3);
		put_base64((const unsigned char *)value, n);
	}
	put("\n", 1);
}

#if defined(__GNUC__)
static void attrf(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

static void attrf(const char *name, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf) {
		fprintf(stderr, "gen-org: value too long for %s\n", name);
		exit(1);
	}
	attr(name, buf);
}

/* uid u000001 .. u999999, then u1000000 ..: the same for a person whatever N is. */
static void person_dn(char *buf, size_t len, uint64_t i)
{
	snprintf(buf, len, "uid=u%06" PRIu64 "," PEOPLE, i);
}

static void group_cn(char *buf, size_t len, uint64_t g)
{
	snprintf(buf, len, "%s-%05" PRIu64, group_topics[(g - 1) % COUNT(group_topics)], g);
}

/* Manager tree: person 1 at the top, persons 8(p-1)+2 .. 8(p-1)+9 report to p. */
static uint64_t manager_of(uint64_t i)
{
	return i < 2 ? 0 : (i - 2) / 8 + 1;
}

static int has_reports(uint64_t i, uint64_t n)
{
	return 8 * (i - 1) + 2 <= n;
}

enum { STREAM_PERSON = 1, STREAM_MEMBERSHIP = 2, STREAM_NESTING = 3 };

static void emit_person(uint64_t seed, uint64_t i, uint64_t n, uint64_t ndept)
{
	uint64_t r = rng_for(seed, STREAM_PERSON, i);
	const struct name *gn = &given_names[below(&r, COUNT(given_names))];
	const struct name *fn = &family_names[below(&r, COUNT(family_names))];
	uint64_t dept = below(&r, ndept);
	const char *city = cities[below(&r, COUNT(cities))];
	uint64_t title_pick = splitmix64(&r);
	uint64_t comma = below(&r, 50);     /* ~2% get "Family, Given" as cn */
	uint64_t secretary = below(&r, 10); /* ~10% get a secretary */
	uint64_t sec_pick = splitmix64(&r);
	uint64_t contractor = below(&r, 12);
	char dn[128];

	person_dn(dn, sizeof dn, i);
	attr("dn", dn);
	attr("objectClass", "top");
	attr("objectClass", "person");
	attr("objectClass", "organizationalPerson");
	attr("objectClass", "inetOrgPerson");
	attrf("uid", "u%06" PRIu64, i);
	if (comma == 0)
		attrf("cn", "%s, %s", fn->utf8, gn->utf8);
	else
		attrf("cn", "%s %s", gn->utf8, fn->utf8);
	attr("sn", fn->utf8);
	attr("givenName", gn->utf8);
	attrf("displayName", "%s %s", gn->utf8, fn->utf8);
	attrf("mail", "%s.%s.%" PRIu64 "@example.com", gn->ascii, fn->ascii, i);
	attrf("employeeNumber", "%" PRIu64, 100000 + i);
	attr("employeeType", contractor == 0 ? "contractor" : "employee");
	attrf("departmentNumber", "D%03" PRIu64, dept);
	attr("l", city);
	if (has_reports(i, n))
		attr("title", manager_titles[title_pick % COUNT(manager_titles)]);
	else
		attr("title", titles[title_pick % COUNT(titles)]);
	uint64_t m = manager_of(i);
	if (m) {
		person_dn(dn, sizeof dn, m);
		attr("manager", dn);
		/* A second manager: anyone earlier in the numbering but the first one. */
		if (secretary == 0 && i > 2) {
			uint64_t s = 1 + sec_pick % (i - 2); /* 1 .. i-2 */
			if (s >= m)
				s++; /* skip the manager: s in 1 .. i-1, s != m */
			person_dn(dn, sizeof dn, s);
			attr("secretary", dn);
		}
	}
	put("\n", 1);
}

/* The groups person i belongs to: k distinct groups in 1..ngroups. */
static unsigned person_groups(uint64_t seed, uint64_t i, uint64_t ngroups, uint64_t *g)
{
	unsigned k = ngroups < MEMBERSHIPS_PER_PERSON ? (unsigned)ngroups : MEMBERSHIPS_PER_PERSON;
	uint64_t r = rng_for(seed, STREAM_MEMBERSHIP, i);
	for (unsigned j = 0; j < k; j++) {
		for (;;) {
			uint64_t c = 1 + below(&r, ngroups);
			unsigned dup = 0;
			for (unsigned t = 0; t < j; t++)
				dup |= g[t] == c;
			if (!dup) {
				g[j] = c;
				break;
			}
		}
	}
	return k;
}

static void emit_groups(uint64_t seed, uint64_t n)
{
	uint64_t ngroups = n / 100 ? n / 100 : 1;
	uint64_t g[MEMBERSHIPS_PER_PERSON];
	uint64_t *start = calloc(ngroups + 2, sizeof *start);
	uint32_t *members = NULL;
	if (!start)
		die("calloc");

	/* Count, then fill (CSR layout: members of group gi at start[gi] .. start[gi+1]). */
	for (uint64_t i = 1; i <= n; i++) {
		unsigned k = person_groups(seed, i, ngroups, g);
		for (unsigned j = 0; j < k; j++)
			start[g[j] + 1]++;
	}
	for (uint64_t gi = 1; gi <= ngroups + 1; gi++)
		start[gi] += start[gi - 1];
	members = malloc((start[ngroups + 1] + 1) * sizeof *members);
	uint64_t *fill = malloc((ngroups + 1) * sizeof *fill);
	if (!members || !fill)
		die("malloc");
	memcpy(fill, start, (ngroups + 1) * sizeof *fill);
	for (uint64_t i = 1; i <= n; i++) {
		unsigned k = person_groups(seed, i, ngroups, g);
		for (unsigned j = 0; j < k; j++)
			members[fill[g[j]]++] = (uint32_t)i;
	}

	char dn[128], cn[64];
	for (uint64_t gi = 1; gi <= ngroups; gi++) {
		uint64_t r = rng_for(seed, STREAM_NESTING, gi);
		uint64_t nested = 0;
		if (ngroups > 1 && below(&r, 10) == 0) {
			nested = 1 + below(&r, ngroups - 1); /* 1 .. ngroups-1 */
			if (nested >= gi)
				nested++; /* never itself */
		}
		group_cn(cn, sizeof cn, gi);
		snprintf(dn, sizeof dn, "cn=%s," GROUPS, cn);
		attr("dn", dn);
		attr("objectClass", "top");
		attr("objectClass", "groupOfNames");
		attr("cn", cn);
		attrf("description", "Synthetic %s group %" PRIu64, group_topics[(gi - 1) % COUNT(group_topics)], gi);
		/* groupOfNames needs a member: an empty group gets person 1. */
		if (start[gi] == start[gi + 1] && !nested) {
			person_dn(dn, sizeof dn, 1);
			attr("member", dn);
		}
		for (uint64_t t = start[gi]; t < start[gi + 1]; t++) {
			person_dn(dn, sizeof dn, members[t]);
			attr("member", dn);
		}
		if (nested) {
			group_cn(cn, sizeof cn, nested);
			snprintf(dn, sizeof dn, "cn=%s," GROUPS, cn);
			attr("member", dn);
		}
		put("\n", 1);
	}
	free(members);
	free(fill);
	free(start);
}

static void usage(FILE *f)
{
	fputs("usage: gen-org N [--seed S] [--groups] [--base]\n"
	      "  N         number of people (0 or more)\n"
	      "  --seed S  seed of the generator (default 1); same N and S, same output\n"
	      "  --groups  also print groupOfNames groups (N/100, at least 1)\n"
	      "  --base    first print the base entries (tests/fixtures/base.ldif)\n",
	      f);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = 0, seed = 1;
	int have_n = 0, groups = 0, base = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--groups")) {
			groups = 1;
		} else if (!strcmp(argv[i], "--base")) {
			base = 1;
		} else if (!strcmp(argv[i], "--seed")) {
			if (++i >= argc || parse_u64(argv[i], &seed)) {
				fputs("gen-org: --seed needs a non-negative integer\n", stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!have_n && parse_u64(argv[i], &n) == 0) {
			have_n = 1;
		} else {
			fprintf(stderr, "gen-org: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!have_n) {
		usage(stderr);
		return 2;
	}
	if (n > 99999999) {
		fputs("gen-org: N must be at most 99999999\n", stderr);
		return 2;
	}

	out = stdout;
	static char buf[1 << 20];
	setvbuf(out, buf, _IOFBF, sizeof buf);

	if (base)
		puts_(base_ldif);
	uint64_t ndept = n / 500 + 1;
	for (uint64_t i = 1; i <= n; i++)
		emit_person(seed, i, n, ndept);
	if (groups && n > 0)
		emit_groups(seed, n);
	if (fflush(out) != 0 || ferror(out))
		die("write");
	return 0;
}
