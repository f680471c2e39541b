/*
 * log.h: printf-checked logging to stderr or the journal.
 *
 * Use: log_init() once in main(); then log_error() .. log_debug(), or
 * log_fields() to attach journal fields (DN, user, plugin, MESSAGE_ID).
 * Under systemd (stderr connected to the journal) messages go to the journal
 * natively with their fields; elsewhere to stderr. Only the layer that decides
 * logs (main, service, sync): library layers return errors with their detail.
 * Strings passed in are copied into the message at once; nothing is kept.
 */
#ifndef ROSTERD_LOG_H
#define ROSTERD_LOG_H

#include <stdbool.h>

#include "defs.h"

enum log_level { LOGL_ERR = 3, LOGL_WARN = 4, LOGL_INFO = 6, LOGL_DEBUG = 7 };

/* The journal MESSAGE_IDs of the end of a run (documented in rosterd(8));
 * fixed for ever, so that operators can filter on them. */
#define MSGID_RUN_COMPLETED "8999f25434b348139e27e1c1df575d89"
#define MSGID_RUN_FAILED    "03d2974b3b2c4a1ea16eb652d7800278"
#define MSGID_RUN_HELD      "e690c92b27fc41f4a276008b1c5b63e9"

/* Structured fields of one message (journal only); NULL members are left out. */
struct log_ctx {
	const char *message_id;   /* MSGID_* */
	const char *dn;           /* ROSTERD_DN */
	const char *user;         /* ROSTERD_USER */
	const char *plugin;       /* ROSTERD_PLUGIN */
};

/* Log to stderr, or to the journal when stderr is the journal's stream. */
void log_init(const char *progname, int verbose);
/* Log to stderr even under systemd (rosterd -d). */
void log_force_stderr(void);
/* Whether messages go to the journal natively. */
bool log_to_journal(void);
/* Tag every message with ROSTERD_RUN=run_id from now on; 0 stops. */
void log_set_run(long long run_id);
void log_msg(enum log_level lvl, const char *fmt, ...) PRINTF_LIKE(2, 3);
void log_fields(enum log_level lvl, const struct log_ctx *f, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
/* Draw (or redraw) a one-line progress report, only when stderr is a
 * terminal; the next message or log_progress_end() clears it. */
void log_progress(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_progress_end(void);
#define log_error(...) log_msg(LOGL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)

#endif
