/*
 * fold.h: text folded for searching, so that case and accents do not count:
 * "Zoë ÅNGSTRÖM" and "zoe angstrom" fold to the same text. The folding is
 * libunistring's (Unicode case folding, compatibility decomposition), with
 * the combining marks the decomposition leaves taken out.
 */
#ifndef ROSTERD_FOLD_H
#define ROSTERD_FOLD_H

#include <stdbool.h>
#include <stddef.h>

/* s[0..len) folded: 0 with *out a new NUL-terminated string the caller
 * frees, -EILSEQ when s is not UTF-8, -ENOMEM. */
int text_fold(const char *s, size_t len, char **out);
/* Whether the folded needle is in s[0..len) once folded. Text that is not
 * UTF-8 is compared byte by byte, ASCII case ignored. */
bool text_fold_contains(const char *s, size_t len, const char *needle);

/* Usernames are compared as LDAP compares a uid (caseIgnoreMatch with the
 * string preparation of RFC 4518): space separators count as one space
 * between words and not at all at either end, and case is ignored by full
 * Unicode case folding with NFKC. Accents count: "alice" and "ålice" are two
 * usernames, "ÅLICE" and "ålice" one. */

/* Prepare the UTF-8 username s in place, as LDAP does for matching: every
 * space separator (general category Zs) made U+0020, leading and trailing
 * spaces removed, each inner run of them made one. Returns the new length
 * (0: the username is blank). */
size_t username_prepare(char *s);
/* The comparison key of the username s[0..len): two usernames are the same
 * exactly when their keys are equal byte for byte. Prepared, then case
 * folded with NFKC; ASCII is only lower-cased (without libunistring). 0 with
 * *out a new NUL-terminated string the caller frees ("" for a blank
 * username), -EILSEQ when s is not UTF-8, -ENOMEM. */
int username_key(const char *s, size_t len, char **out);

#endif
