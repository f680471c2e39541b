/*
 * rosterd.c: the daemon's entry point. A fixed start-up order: logging (to
 * stderr, or the journal under systemd unless -d), options, the config (-n
 * stops there), then either one run (--once, --dry-run) or the service loop
 * of service.c.
 */
#include "attrmap.h"
#include "dir.h"
#include "log.h"
#include "util.h"
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: rosterd [-c FILE] [--once | --dry-run | -n] [-d] [-v]\n"
		"Keep the learning store in step with the LDAP directory.\n"
		"\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"      --once         do one sync run and exit\n"
		"      --dry-run      do one run, print the plan, change nothing\n"
		"  -n, --check        check the configuration and exit\n"
		"  -d, --foreground   log to standard error, even under systemd\n"
		"  -v, --verbose      log debug messages too\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Exit status: 0 ok, 1 failure or incomplete directory read, 2 configuration\n"
		"error or unreadable bind password, 3 directory unreachable, TLS failed or\n"
		"bind refused, 4 held by the safety threshold.\n"
		"See rosterd(8) and rosterd.conf(5).\n", ROSTERD_DEFAULT_CONF);
}

/* The attribute names the config maps, each with its key. */
#define MAPPED_MAX (NFIELDS + CONF_MAX_CUSTOM + 10)
struct mapped {
	const char *name[MAPPED_MAX];
	char key[MAPPED_MAX][96];
	size_t n;
};

static void
mapped_add(struct mapped *m, const char *name, const char *key)
{
	if (name == NULL || m->n == MAPPED_MAX)
		return;
	m->name[m->n] = name;
	snprintf(m->key[m->n++], sizeof(m->key[0]), "%s", key);
}

static void
mapped_list(const struct conf *cf, struct mapped *m)
{
	char key[96];

	m->n = 0;
	mapped_add(m, cf->ldap.id_attr, "ldap.attributes.id");
	for (int f = 0; f < NFIELDS; f++) {
		snprintf(key, sizeof(key), "ldap.attributes.%s", field_name((enum field)f));
		mapped_add(m, cf->ldap.attr[f], key);
	}
	for (size_t k = 0; k < cf->ldap.ncustom; k++) {
		snprintf(key, sizeof(key), "ldap.attributes.custom.%s", cf->ldap.custom[k].name);
		mapped_add(m, cf->ldap.custom[k].attr, key);
	}
	mapped_add(m, cf->ldap.member_of_attr, "ldap.attributes.member_of");
	mapped_add(m, cf->ldap.users.disabled_attribute, "ldap.users.disabled_attribute");
	if (cf->ldap.groups.base != NULL) {
		for (size_t k = 0; k < cf->ldap.groups.nmember_attrs; k++)
			mapped_add(m, cf->ldap.groups.member_attrs[k], "ldap.groups.member_attribute");
		mapped_add(m, cf->ldap.groups.name_attr, "ldap.groups.name_attribute");
		mapped_add(m, cf->ldap.groups.description_attr,
			   "ldap.groups.description_attribute");
	}
	if (cf->ldap.groups.primary_group) {
		mapped_add(m, AMAP_PRIMARY_GROUP_ID, "ldap.groups.primary_group");
		mapped_add(m, AMAP_PRIMARY_GROUP_TOKEN, "ldap.groups.primary_group");
	}
}

/* rosterd -n against the directory, when it can connect: every attribute
 * the config maps must be in the server's schema (a misspelt name would
 * empty a field for everyone); an unknown one is a config error (exit 2).
 * Not being able to connect or to read the schema is said, not fatal. */
static int
check_schema(const char *path, const struct conf *cf, struct dir *d)
{
	struct mapped m;
	bool known[MAPPED_MAX];
	int r, bad = 0;

	mapped_list(cf, &m);
	if ((r = dir_schema_known(d, m.name, m.n, known)) < 0) {
		printf("cannot check the mapped attribute names against the schema of %s: %s\n",
		       dir_uri(d), dir_error(d));
		return EXIT_OK;
	}
	for (size_t i = 0; i < m.n; i++) {
		if (known[i])
			continue;
		fprintf(stderr, "%s: %s: \"%s\" is not an attribute of the schema of %s\n", path,
			m.key[i], m.name[i], dir_uri(d));
		bad++;
	}
	return bad > 0 ? EXIT_CONFIG : EXIT_OK;
}

/* rosterd -n, sync.mode refresh with entries named by objectGUID: Active
 * Directory, read by uSNChanged (source_usn.c). */
static void
print_mode_ad(struct dir *d, const char *connect_err)
{
	char *high = NULL;
	int r;

	printf("sync.mode refresh: each run reads what changed since the last (Active "
	       "Directory: uSNChanged, and a listing of ids for what is gone)\n");
	if (d == NULL) {
		printf("cannot ask the directory for its highestCommittedUSN: %s\n", connect_err);
		return;
	}
	r = dir_read_value(d, "", "highestCommittedUSN", &high, NULL);
	if (r == 0)
		printf("%s: highestCommittedUSN %s\n", dir_uri(d), high);
	else if (r == -ENOENT)
		printf("%s has no highestCommittedUSN in its root DSE: runs will read the "
		       "whole directory\n", dir_uri(d));
	else
		printf("cannot ask %s for its highestCommittedUSN: %s\n", dir_uri(d),
		       dir_error(d));
	free(high);
}

/* rosterd -n: the sync mode, and for refresh and persist whether the
 * directory offers content synchronisation (a failure to ask is said, not
 * fatal). */
static void
print_mode(const struct conf *cf, struct dir *d, const char *connect_err)
{
	bool persist = cf->sync.mode == MODE_PERSIST;
	int r;

	if (cf->sync.mode != MODE_REFRESH && !persist) {
		printf("sync.mode full: each run reads the whole directory\n");
		return;
	}
	if (strcasecmp(cf->ldap.id_attr, "objectGUID") == 0) {
		if (persist)
			printf("sync.mode persist: Active Directory has no persistent search; the "
			       "service makes refresh runs every sync.interval seconds instead\n");
		print_mode_ad(d, connect_err);
		return;
	}
	if (persist)
		printf("sync.mode persist: the service applies the changes as they are made "
		       "(RFC 4533 refreshAndPersist); one run reads what changed since the last\n");
	else
		printf("sync.mode refresh: each run reads what changed since the last (RFC 4533)\n");
	if (d == NULL) {
		printf("cannot ask the directory whether it offers content synchronisation: %s\n",
		       connect_err);
		return;
	}
	r = dir_has_sync(d);
	if (r < 0)
		printf("cannot ask %s whether it offers content synchronisation: %s\n", dir_uri(d),
		       dir_error(d));
	else
		printf("%s %s content synchronisation%s\n", dir_uri(d),
		       r ? "advertises" : "does not advertise",
		       r ? "" : persist ? ": the service will read the whole directory every "
		       "sync.interval seconds" : ": runs will read the whole directory");
}

/* rosterd -n: what the check found. A bind password that
 * ldap.allow_plaintext_bind lets go in clear is said, not hidden. */
static void
check_report(const char *path, const struct conf *cf, const struct plugins *plugins)
{
	char uri[512];

	if (cf->ldap.allow_plaintext_bind && dir_cleartext_bind(cf, uri, sizeof(uri)))
		printf("%s: warning: ldap.allow_plaintext_bind: the bind password goes in clear "
		       "to %s\n", path, uri);
	printf("%s: configuration ok (%zu plugin%s loaded)\n", path, plugins_count(plugins),
	       plugins_count(plugins) == 1 ? "" : "s");
}

/* rosterd -n once the config and the plugins loaded: one connection, when
 * it can be made, for the schema and the sync mode. The exit status. */
static int
check_config(const char *path, const struct conf *cf, const struct plugins *plugins)
{
	struct dir *d = NULL;
	char err[2048];
	int r = EXIT_OK;

	if (dir_connect(cf, &d, err, sizeof(err)) < 0)
		d = NULL;
	else if ((r = check_schema(path, cf, d)) != EXIT_OK) {
		dir_close(d);
		return r;
	}
	check_report(path, cf, plugins);
	if (d == NULL)
		printf("cannot check the mapped attribute names against the directory's schema: "
		       "%s\n", err);
	else
		printf("mapped attribute names found in the schema of %s\n", dir_uri(d));
	print_mode(cf, d, err);
	dir_close(d);
	return r;
}

/* rosterd itself; main() adds the check of what it printed. */
static int
rosterd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "check", no_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = ROSTERD_DEFAULT_CONF;
	bool once = false, dry_run = false, check = false, foreground = false;
	int verbose = 0, c;
	struct conf *cf = NULL;
	struct plugins *plugins = NULL;
	char err[8192];
	int r;

	log_init("rosterd", 0);
	while ((c = getopt_long(argc, argv, "c:ndvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'o': once = true; break;
		case 'D': dry_run = true; break;
		case 'n': check = true; break;
		case 'd': foreground = true; break;
		case 'v': verbose++; break;
		case 'V': printf("rosterd %s\n", ROSTERD_VERSION); return EXIT_OK;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rosterd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_CONFIG;
	}
	log_init("rosterd", verbose);
	if (foreground)
		log_force_stderr();

	r = conf_load(path, CONF_CHECK_SECRETS, &cf, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_CONFIG;
	}
	/* The plugins are loaded once, here: one that cannot be trusted or
	 * refuses its settings stops rosterd before any run. */
	r = plugins_load(cf, &plugins, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		conf_free(cf);
		return EXIT_CONFIG;
	}
	if (check) {
		r = check_config(path, cf, plugins);
	} else if (once || dry_run) {
		r = service_once(cf, plugins, dry_run);
	} else {
		r = service_run(path, &cf, &plugins);
	}
	plugins_free(plugins);
	conf_free(cf);
	return r;
}

int
main(int argc, char **argv)
{
	int r = rosterd_main(argc, argv), w = stdout_close();

	/* The dry run's plan (or -n's verdict) did not all get out: a plan cut
	 * short must not pass for the whole plan. */
	if (w < 0) {
		fprintf(stderr, "rosterd: cannot write the output: %s\n", strerror(-w));
		if (r == EXIT_OK)
			r = EXIT_FAIL;
	}
	return r;
}
