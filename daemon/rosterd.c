/*
 * rosterd.c: the daemon's entry point. A fixed start-up order: logging to
 * stderr, options, the config (-n stops there), then either one run
 * (--once, --dry-run) or the service loop, which runs a sync at start and
 * then every sync.interval seconds, at once on SIGUSR1, until SIGTERM.
 */
#include "rosterd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: rosterd [-c FILE] [--once | --dry-run | -n] [-v]\n"
		"Keep the learning store in step with the LDAP directory.\n"
		"\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"      --once         do one sync run and exit\n"
		"      --dry-run      do one run, print the plan, change nothing\n"
		"  -n, --check        check the configuration and exit\n"
		"  -v, --verbose      log debug messages too\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Exit status: 0 ok, 1 failure or incomplete directory read, 2 configuration\n"
		"error or unreadable bind password, 3 directory unreachable, TLS failed or\n"
		"bind refused, 4 held by the safety threshold.\n"
		"See rosterd(8) and rosterd.conf(5).\n", ROSTERD_DEFAULT_CONF);
}

/* The service loop: one run now, then one each interval or on SIGUSR1,
 * until SIGTERM or SIGINT. Failures are logged and retried next interval. */
static int
serve(const struct conf *cf, struct plugins *plugins)
{
	struct sync_opts o = { .plugins = plugins };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		log_error("cannot block signals: %s", strerror(errno));
		return EXIT_FAIL;
	}
	log_info("started: syncing every %d s from %s into %s", cf->sync.interval,
		 cf->ldap.uri, cf->store.path);
	for (;;) {
		struct sync_result res;
		double next;

		sync_run(cf, &o, &res);
		next = time_mono() + cf->sync.interval;
		/* Wait out what is left of the interval, whatever interrupts. */
		do {
			double left = next - time_mono();
			struct timespec ts = { .tv_sec = 0 };
			if (left > 0) {
				ts.tv_sec = (time_t)left;
				ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			}
			sig = sigtimedwait(&set, NULL, &ts);
		} while (sig == SIGHUP || (sig < 0 && errno == EINTR));
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping on signal %d", sig);
			return EXIT_OK;
		}
		/* SIGUSR1, or the interval has passed (EAGAIN): run again. */
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = ROSTERD_DEFAULT_CONF;
	bool once = false, dry_run = false, check = false;
	int verbose = 0, c;
	struct conf *cf = NULL;
	struct plugins *plugins = NULL;
	char err[8192];
	int r;

	log_init("rosterd", 0);
	while ((c = getopt_long(argc, argv, "c:nvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'o': once = true; break;
		case 'D': dry_run = true; break;
		case 'n': check = true; break;
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
		printf("%s: configuration ok (%zu plugin%s loaded)\n", path, plugins_count(plugins),
		       plugins_count(plugins) == 1 ? "" : "s");
		r = EXIT_OK;
	} else if (once || dry_run) {
		struct sync_opts o = { .dry_run = dry_run, .plan_out = stdout, .plugins = plugins };
		struct sync_result res;
		sync_run(cf, &o, &res);
		r = res.exit_code;
	} else {
		r = serve(cf, plugins);
	}
	plugins_free(plugins);
	conf_free(cf);
	return r;
}
