/*
 * setting.c: a plugin's view of its own entry in rosterd.conf. The SDK's
 * struct rosterd_setting is libconfig's config_setting_t behind an opaque
 * name, so plugins read their settings without libconfig's header or types;
 * these are the accessor functions of the host table. The tree belongs to
 * the loaded configuration and outlives every plugin.
 */
#include "setting.h"

#include <errno.h>
#include <libconfig.h>

#include "rosterd/plugin.h"

static const config_setting_t *
cs(const struct rosterd_setting *s)
{
	return (const config_setting_t *)s;
}

const struct rosterd_setting *
setting_get(const struct rosterd_setting *s, const char *name)
{
	if (s == NULL || name == NULL)
		return s;
	if (config_setting_type(cs(s)) != CONFIG_TYPE_GROUP)
		return NULL;
	return (const struct rosterd_setting *)config_setting_get_member(cs(s), name);
}

const struct rosterd_setting *
setting_at(const struct rosterd_setting *s, int i)
{
	if (s == NULL || i < 0 || !config_setting_is_aggregate(cs(s)))
		return NULL;
	return (const struct rosterd_setting *)config_setting_get_elem(cs(s), (unsigned)i);
}

int
setting_count(const struct rosterd_setting *s)
{
	if (s == NULL || !config_setting_is_aggregate(cs(s)))
		return 0;
	return config_setting_length(cs(s));
}

const char *
setting_name(const struct rosterd_setting *s)
{
	return s ? config_setting_name(cs(s)) : NULL;
}

int
setting_type(const struct rosterd_setting *s)
{
	if (s == NULL)
		return ROSTERD_SETTING_NONE;
	switch (config_setting_type(cs(s))) {
	case CONFIG_TYPE_STRING: return ROSTERD_SETTING_STRING;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return ROSTERD_SETTING_INT;
	case CONFIG_TYPE_FLOAT: return ROSTERD_SETTING_FLOAT;
	case CONFIG_TYPE_BOOL: return ROSTERD_SETTING_BOOL;
	case CONFIG_TYPE_GROUP: return ROSTERD_SETTING_GROUP;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST: return ROSTERD_SETTING_LIST;
	default: return ROSTERD_SETTING_NONE;
	}
}

/* The member name of s (s itself when name is NULL), if it has type t:
 * 0 with *out set, -ENOENT, -EINVAL. */
static int
typed(const struct rosterd_setting *s, const char *name, int t, const config_setting_t **out)
{
	const struct rosterd_setting *m = setting_get(s, name);
	int mt = setting_type(m);

	if (m == NULL)
		return -ENOENT;
	if (mt != t && !(t == ROSTERD_SETTING_FLOAT && mt == ROSTERD_SETTING_INT))
		return -EINVAL;
	*out = cs(m);
	return 0;
}

int
setting_string(const struct rosterd_setting *s, const char *name, const char **out)
{
	const config_setting_t *m;
	int r = typed(s, name, ROSTERD_SETTING_STRING, &m);

	if (r == 0)
		*out = config_setting_get_string(m);
	return r;
}

int
setting_int(const struct rosterd_setting *s, const char *name, long long *out)
{
	const config_setting_t *m;
	int r = typed(s, name, ROSTERD_SETTING_INT, &m);

	if (r == 0)
		*out = config_setting_get_int64(m);
	return r;
}

int
setting_float(const struct rosterd_setting *s, const char *name, double *out)
{
	const config_setting_t *m;
	int r = typed(s, name, ROSTERD_SETTING_FLOAT, &m);

	if (r == 0)
		*out = config_setting_type(m) == CONFIG_TYPE_FLOAT ? config_setting_get_float(m) :
			(double)config_setting_get_int64(m);
	return r;
}

int
setting_bool(const struct rosterd_setting *s, const char *name, bool *out)
{
	const config_setting_t *m;
	int r = typed(s, name, ROSTERD_SETTING_BOOL, &m);

	if (r == 0)
		*out = config_setting_get_bool(m) != 0;
	return r;
}
