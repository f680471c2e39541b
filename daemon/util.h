/*
 * util.h: small helpers shared by the daemon and rosterctl: bounded string
 * appends, UTF-8 checks, text made safe for a terminal, time, reading
 * secrets, and the check of standard output at exit.
 *
 * Ownership: secret_read() returns a string the caller frees with
 * secret_free(), which wipes it; text_escape() returns a string the caller
 * frees with free(); a strv owns copies of what is added, freed with
 * strv_free(); everything else writes into caller buffers.
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
/* Whether s[0..len) can go to a terminal or a log line as it is: valid
 * UTF-8 without C0 controls (line feed and tab included), DEL, C1 controls
 * or the bidirectional embeddings, overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069) that would make it draw as something else. When not,
 * *cp (if not NULL) is the first such code point, or 0xFFFD for a byte that
 * is not UTF-8. */
bool text_safe(const char *s, size_t len, unsigned *cp);
/* s[0..len) with what text_safe() refuses written out instead: a byte that
 * is not UTF-8, a C0 control or DEL as \xNN, a C1 control or a
 * bidirectional control as \uNNNN; everything else as it is (a backslash
 * too: the result is for reading, not for parsing back). Returns 0 with
 * *out a new string the caller frees, or -ENOMEM. */
int text_escape(const char *s, size_t len, char **out);
/* Flush and close standard output. Returns 0, or the negative errno of a
 * write that failed (-EIO when the error is known only from ferror): what
 * the program printed is then incomplete, and its exit status must say so. */
int stdout_close(void);
/* The current time as an RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SSZ". */
void time_now_iso(char out[21]);
double time_mono(void);
/* Read a secret from path (at most one line; the line feed is dropped).
 * When check_mode is set, a file that its group or others can read or write is
 * refused with -EPERM. Caller frees with secret_free(). */
int secret_read(const char *path, bool check_mode, char **out, char *err, size_t errlen);
void secret_free(char *s);
/* Whether path is a file secret_read(path, true, ...) would open (regular,
 * not a link, readable by its owner alone), without reading it: a key or a
 * keytab. 0, or a negative errno with err saying why. */
int secret_check(const char *path, char *err, size_t errlen);
/* The systemd credential name (LoadCredential=) from $CREDENTIALS_DIRECTORY,
 * as secret_read() reads a file (systemd owns its mode); key names the
 * config key in errors. */
int secret_read_credential(const char *key, const char *name, char **out, char *err,
			   size_t errlen);

/* A growing list of strings, each a copy. Start from { 0 }. */
struct strv {
	char **v;
	size_t n, cap;
};
/* Add a copy of s: 0 or -ENOMEM. */
int strv_add(struct strv *l, const char *s);
/* Free the copies and the list; l is { 0 } again. */
void strv_free(struct strv *l);

#endif
