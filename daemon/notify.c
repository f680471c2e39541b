/*
 * notify.c: telling the service manager how rosterd is doing, over the
 * sd_notify(3) protocol: READY=1, a human STATUS= line, WATCHDOG=1 keep-alive
 * pings, RELOADING=1 and STOPPING=1. Everything here is a no-op when rosterd
 * was not started by systemd (no NOTIFY_SOCKET), so the callers need not ask.
 *
 * The watchdog is fed only by the caller's own loop (the service's wait and
 * the run's progress callback), never by a thread of its own: a process that
 * hangs stops pinging and systemd restarts it.
 */
#include "log.h"
#include "util.h"
#include "notify.h"

#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

static double watchdog_every;   /* seconds between pings; 0: no watchdog */
static double watchdog_last = -1e9;
static char status_last[256];

void
notify_init(void)
{
	uint64_t usec = 0;

	/* Only when WATCHDOG_PID, if set, names this process. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		watchdog_every = (double)usec / 1e6 / 4.0;
}

double
notify_watchdog_interval(void)
{
	return watchdog_every;
}

void
notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void
notify_status(const char *fmt, ...)
{
	char text[sizeof(status_last)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (strcmp(text, status_last) == 0)
		return;
	snprintf(status_last, sizeof(status_last), "%s", text);
	sd_notifyf(0, "STATUS=%s", text);
	log_debug("status: %s", text);
}

const char *
notify_last_status(void)
{
	return status_last;
}

void
notify_watchdog(void)
{
	double now;

	if (watchdog_every <= 0)
		return;
	now = time_mono();
	if (now - watchdog_last < watchdog_every)
		return;
	watchdog_last = now;
	sd_notify(0, "WATCHDOG=1");
}

void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nSTATUS=Reloading the configuration\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
		   (unsigned long long)ts.tv_nsec / 1000ULL);
	snprintf(status_last, sizeof(status_last), "Reloading the configuration");
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	snprintf(status_last, sizeof(status_last), "Stopping");
}
