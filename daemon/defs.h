/*
 * defs.h: what every part of rosterd and rosterctl shares: the version, the
 * default config path, the exit codes scripts rely on, and PRINTF_LIKE.
 */
#ifndef ROSTERD_DEFS_H
#define ROSTERD_DEFS_H

#define ROSTERD_VERSION "0.1.0"
#define ROSTERD_DEFAULT_CONF "/etc/rosterd/rosterd.conf"

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* Exit codes of rosterd (the contract scripts rely on; see rosterd(8)). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,       /* failure, or an incomplete directory read */
	EXIT_CONFIG = 2,     /* bad configuration or usage */
	EXIT_UNREACHABLE = 3,/* no directory server could be reached and bound */
	EXIT_HELD = 4,       /* held by the safety threshold */
};

#endif
