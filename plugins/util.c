/*
 * plugins/util.c: settings, glob lists and calendar days for the shipped
 * rule plugins (see util.h).
 */
#include "util.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define H(ctx) ((ctx)->host)

void
pu_list_free(struct pu_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
pu_list(struct rosterd_ctx *ctx, const struct rosterd_setting *s, const char *name,
	struct pu_list *out)
{
	const struct rosterd_setting *m = H(ctx)->setting_get(s, name);
	int t = H(ctx)->setting_type(m), n;

	out->v = NULL;
	out->n = 0;
	if (m == NULL)
		return 0;
	if (t != ROSTERD_SETTING_STRING && t != ROSTERD_SETTING_LIST)
		return H(ctx)->setting_error(ctx, m, "must be a string or a list of strings");
	n = t == ROSTERD_SETTING_STRING ? 1 : H(ctx)->setting_count(m);
	if (n == 0)
		return H(ctx)->setting_error(ctx, m, "must not be empty");
	out->v = calloc((size_t)n, sizeof(*out->v));
	if (out->v == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const struct rosterd_setting *e = t == ROSTERD_SETTING_STRING ? m :
			H(ctx)->setting_at(m, i);
		const char *v = NULL;

		if (H(ctx)->setting_string(e, NULL, &v) < 0 || v[0] == '\0') {
			pu_list_free(out);
			return H(ctx)->setting_error(ctx, e, "must be a non-empty string");
		}
		if ((out->v[out->n] = strdup(v)) == NULL) {
			pu_list_free(out);
			return -ENOMEM;
		}
		out->n++;
	}
	return 0;
}

bool
pu_list_match(const struct pu_list *l, const char *value, bool nocase)
{
	if (value == NULL)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], value, nocase ? FNM_CASEFOLD : 0) == 0)
			return true;
	return false;
}

int
pu_int(struct rosterd_ctx *ctx, const struct rosterd_setting *s, const char *name,
       long long def, long long lo, long long hi, long long *out)
{
	long long v = def;
	int r = H(ctx)->setting_int(s, name, &v);

	if (r == -ENOENT) {
		*out = def;
		return 0;
	}
	if (r == -EINVAL)
		return H(ctx)->setting_error(ctx, H(ctx)->setting_get(s, name),
					     "must be a whole number");
	if (v < lo || v > hi)
		return H(ctx)->setting_error(ctx, H(ctx)->setting_get(s, name),
					     "%lld is out of range (%lld to %lld)", v, lo, hi);
	*out = v;
	return 0;
}

int
pu_bool(struct rosterd_ctx *ctx, const struct rosterd_setting *s, const char *name, bool def,
	bool *out)
{
	bool v = def;

	if (H(ctx)->setting_bool(s, name, &v) == -EINVAL)
		return H(ctx)->setting_error(ctx, H(ctx)->setting_get(s, name),
					     "must be true or false");
	*out = v;
	return 0;
}

int
pu_string(struct rosterd_ctx *ctx, const struct rosterd_setting *s, const char *name,
	  const char **out)
{
	const char *v = NULL;
	int r = H(ctx)->setting_string(s, name, &v);

	if (r == -EINVAL || (r == 0 && v[0] == '\0'))
		return H(ctx)->setting_error(ctx, H(ctx)->setting_get(s, name),
					     "must be a non-empty string in double quotes");
	*out = r == 0 ? v : NULL;
	return 0;
}

/* Days since the epoch of a civil date (proleptic Gregorian), or -EINVAL
 * when it is not one. */
static int
civil_day(int y, int m, int d, long *day)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12 };
	time_t t;

	if (y < 1900 || y > 9999)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != m - 1 || tm.tm_mday != d)
		return -EINVAL;
	*day = (long)(t / 86400);
	return 0;
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int
pu_day(const char *s, long *day)
{
	int y, m, d;

	if (s == NULL)
		return -EINVAL;
	if (strlen(s) >= 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' &&
	    digits(s + 8, 2) && (s[10] == '\0' || s[10] == 'T' || s[10] == ' ')) {
		y = atoi(s);
		m = atoi(s + 5);
		d = atoi(s + 8);
	} else if (strlen(s) >= 8 && digits(s, 8) && (s[8] == '\0' || digits(s + 8, 1))) {
		y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		m = (s[4] - '0') * 10 + (s[5] - '0');
		d = (s[6] - '0') * 10 + (s[7] - '0');
	} else {
		return -EINVAL;
	}
	return civil_day(y, m, d, day);
}

void
pu_day_text(long day, char out[11])
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

unsigned long long
pu_hash(unsigned long long h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;   /* ends each piece */
}
