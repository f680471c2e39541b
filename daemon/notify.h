/*
 * notify.h: the service manager's notifications (sd_notify): READY, STATUS,
 * WATCHDOG, RELOADING, STOPPING. Harmless when not under systemd.
 */
#ifndef ROSTERD_NOTIFY_H
#define ROSTERD_NOTIFY_H

#include "defs.h"

/* Read the watchdog settings (WATCHDOG_USEC, WATCHDOG_PID). */
void notify_init(void);
/* Seconds between watchdog pings; 0 when there is no watchdog. */
double notify_watchdog_interval(void);
void notify_ready(void);
/* A human STATUS= line; sent only when it differs from the last one. */
void notify_status(const char *fmt, ...) PRINTF_LIKE(1, 2);
const char *notify_last_status(void);
/* WATCHDOG=1, at most once per notify_watchdog_interval(). */
void notify_watchdog(void);
void notify_reloading(void);
void notify_stopping(void);

#endif
