/*
 * util.h: small helpers shared by the daemon and rosterctl: bounded string
 * appends, UTF-8 checks, time, and reading secrets.
 *
 * Ownership: secret_read() returns a string the caller frees with
 * secret_free(), which wipes it; everything else writes into caller buffers.
 */
#ifndef ROSTERD_UTIL_H
#define ROSTERD_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "defs.h"

/* Append printf output to buf (size len) after what is there; never overflows.
 * Returns -ENOSPC when the text was truncated. */
int str_appendf(char *buf, size_t len, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Whether s[0..len) is well-formed UTF-8 with no NUL byte. */
bool utf8_valid(const char *s, size_t len);
/* The current time as an RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SSZ". */
void time_now_iso(char out[21]);
double time_mono(void);
/* Read a secret from path (at most one line; the line feed is dropped).
 * When check_mode is set, a file that its group or others can read or write is
 * refused with -EPERM. Caller frees with secret_free(). */
int secret_read(const char *path, bool check_mode, char **out, char *err, size_t errlen);
void secret_free(char *s);

#endif
