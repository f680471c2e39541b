/*
 * fuzz_amap.c: libFuzzer target for amap_person(), the mapping of one
 * directory entry to a person. The input is an entry: segments separated by
 * 0xff bytes, the first the DN, each other one a value whose first byte
 * picks the attribute (modulo the number requested). A mapped person has
 * valid UTF-8 in every field; a rejected entry has a reason.
 */
#include "rosterd.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VALS 8

static const char config[] =
	"ldap = { uri = \"ldap://h\";\n"
	" users = { base = \"dc=x\"; disabled_attribute = \"userAccountControl\";\n"
	"  disabled_values = [ \"Locked\" ]; disabled_bitmask = 2; };\n"
	" attributes = { id = \"objectGUID\"; username = \"uid\"; email = \"mail\";\n"
	"  given_name = \"givenName\"; family_name = \"sn\"; display_name = \"cn\";\n"
	"  manager = \"manager\"; secondary_manager = \"secretary\";\n"
	"  department = \"departmentNumber\"; title = \"title\";\n"
	"  custom = { cost_centre = \"DepartmentNumber\"; phones = \"telephoneNumber\"; }; };\n"
	"};\nstore = { path = \"x.db\"; };\n";

struct entry {
	struct dir_val vals[16][MAX_VALS];
	size_t n[16];
};

static const struct dir_val *
values(void *arg, size_t i, size_t *n)
{
	struct entry *e = arg;

	*n = i < 16 ? e->n[i] : 0;
	return i < 16 ? e->vals[i] : NULL;
}

static void
check_text(const char *s)
{
	if (s != NULL && !utf8_valid(s, strlen(s)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf *cf;
	static struct amap *m;
	static size_t nattrs;
	static struct entry e;
	struct person_rec p;
	char reason[512], *dn;
	const uint8_t *seg = data, *end = data + size, *q;
	int r;

	if (m == NULL) {
		char err[4096], path[64];
		int fd = memfd_create("rosterd.conf", MFD_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (fd < 0 || write(fd, config, sizeof(config) - 1) != sizeof(config) - 1 ||
		    conf_load(path, 0, &cf, err, sizeof(err)) != 0 || amap_new(cf, &m) != 0)
			abort();
		close(fd);
		while (amap_attrs(m)[nattrs] != NULL)
			nattrs++;
		if (nattrs > 16)
			abort();
	}
	memset(e.n, 0, sizeof(e.n));
	q = memchr(seg, 0xff, size);
	if (q == NULL)
		q = end;
	dn = strndup((const char *)seg, (size_t)(q - seg));
	if (dn == NULL)
		return 0;
	for (seg = q; seg < end; seg = q) {
		size_t a;
		seg++;                       /* the 0xff */
		q = memchr(seg, 0xff, (size_t)(end - seg));
		if (q == NULL)
			q = end;
		if (q == seg)
			continue;
		a = seg[0] % nattrs;
		if (e.n[a] < MAX_VALS) {
			e.vals[a][e.n[a]].data = (const char *)seg + 1;
			e.vals[a][e.n[a]].len = (size_t)(q - seg - 1);
			e.n[a]++;
		}
	}
	r = amap_person(m, dn, values, &e, &p, reason, sizeof(reason));
	if (r == 0) {
		check_text(p.dir_id);
		check_text(p.dn_norm);
		for (int f = 0; f < NFIELDS; f++)
			check_text(p.field[f]);
		for (size_t i = 0; i < p.ncustom; i++)
			check_text(p.custom_value[i]);
		if (p.dir_id == NULL || p.field[F_USERNAME] == NULL)
			abort();
	} else if (r == 1 && reason[0] == '\0') {
		abort();
	}
	free(dn);
	return 0;
}
