/*
 * rosterd.c: the daemon's entry point. A fixed start-up order: logging (to
 * stderr, or the journal under systemd unless -d), options, the config (-n
 * stops there), then either one run (--once, --dry-run) or the service loop
 * of service.c.
 */
#include "dir.h"
#include "log.h"
#include "util.h"
#include "service.h"

#include <stdio.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

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

/* rosterd -n: the sync mode, and for refresh whether the directory offers
 * content synchronisation (a failure to ask is said, not fatal). */
static void
print_mode(const struct conf *cf)
{
	struct dir *d = NULL;
	char err[2048];
	int r;

	if (cf->sync.mode != MODE_REFRESH) {
		printf("sync.mode full: each run reads the whole directory\n");
		return;
	}
	printf("sync.mode refresh: each run reads what changed since the last (RFC 4533)\n");
	if ((r = dir_connect(cf, &d, err, sizeof(err))) < 0) {
		printf("cannot ask the directory whether it offers content synchronisation: %s\n",
		       err);
		return;
	}
	r = dir_has_sync(d);
	if (r < 0)
		printf("cannot ask %s whether it offers content synchronisation: %s\n", dir_uri(d),
		       dir_error(d));
	else
		printf("%s %s content synchronisation%s\n", dir_uri(d),
		       r ? "advertises" : "does not advertise",
		       r ? "" : ": runs will read the whole directory");
	dir_close(d);
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
		check_report(path, cf, plugins);
		print_mode(cf);
		r = EXIT_OK;
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
