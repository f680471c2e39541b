/*
 * service.h: rosterd's run modes: one run (--once, --dry-run) or the service
 * loop (signals, schedule, retries, reload). The caller owns the config and
 * the plugin host; the service loop may replace both on reload.
 */
#ifndef ROSTERD_SERVICE_H
#define ROSTERD_SERVICE_H

#include <stdbool.h>

#include "conf.h"
#include "plugins.h"

/* One run (--once, or --dry-run); SIGTERM/SIGINT stop it cleanly. Returns
 * the exit status. */
int service_once(struct conf *cf, struct plugins *plugins, bool dry_run);
/* The service loop until SIGTERM/SIGINT; *cf and *plugins may be replaced by
 * a reload (SIGHUP). Returns the exit status. */
int service_run(const char *conf_path, struct conf **cf, struct plugins **plugins);
/* The delay before retry number attempt (1, 2, ...) after the directory could
 * not be reached: first doubled each time up to cap, less up to a quarter
 * at random (rnd in [0, 1)). */
double service_backoff(int attempt, double first, double cap, double rnd);

#endif
