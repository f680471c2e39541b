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

#endif
