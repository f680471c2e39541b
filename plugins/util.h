/*
 * plugins/util.h: helpers the shipped rule plugins share: reading settings
 * through the host table with every problem reported as rosterd reports its
 * own, glob lists, and calendar days. Compiled into each plugin, hidden; only
 * <rosterd/plugin.h> and the C library below.
 */
#ifndef ROSTERD_PLUGINS_UTIL_H
#define ROSTERD_PLUGINS_UTIL_H

#include <rosterd/plugin.h>

/* A setting of strings: one string, or a list of them (patterns). */
struct pu_list {
	char **v;
	size_t n;
};

/* Read member name of s as a string or a list of strings into *out (empty
 * when absent). 0, or -EINVAL after reporting, or -ENOMEM. */
int pu_list(struct rosterd_ctx *ctx, const struct rosterd_setting *s, const char *name,
	    struct pu_list *out);
void pu_list_free(struct pu_list *l);
/* Whether value (NULL: none, matches nothing) matches a pattern of l:
 * fnmatch(3) globs, so a pattern without * ? [ is an exact match. */
bool pu_list_match(const struct pu_list *l, const char *value, bool nocase);

/* Optional members, with a default: 0 or -EINVAL after reporting. */
int pu_int(struct rosterd_ctx *ctx, const struct rosterd_setting *s, const char *name,
	   long long def, long long lo, long long hi, long long *out);
int pu_bool(struct rosterd_ctx *ctx, const struct rosterd_setting *s, const char *name,
	    bool def, bool *out);
/* *out NULL when absent; "" is refused. */
int pu_string(struct rosterd_ctx *ctx, const struct rosterd_setting *s, const char *name,
	      const char **out);

/* Days since 1970-01-01 of a date that starts "YYYY-MM-DD" (RFC 3339 too)
 * or "YYYYMMDD" (LDAP GeneralizedTime too): 0, or -EINVAL. */
int pu_day(const char *s, long *day);
/* "YYYY-MM-DD" of day. */
void pu_day_text(long day, char out[11]);

/* FNV-1a, to fingerprint a configuration. */
unsigned long long pu_hash(unsigned long long h, const void *data, size_t len);
#define PU_HASH_INIT 0xcbf29ce484222325ULL

#endif
