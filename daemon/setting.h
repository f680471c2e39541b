/*
 * setting.h: a plugin's own settings, read for the SDK's host table
 * (include/rosterd/plugin.h). The settings belong to the loaded config.
 */
#ifndef ROSTERD_SETTING_H
#define ROSTERD_SETTING_H

#include <stdbool.h>

struct rosterd_setting;
const struct rosterd_setting *setting_get(const struct rosterd_setting *s, const char *name);
const struct rosterd_setting *setting_at(const struct rosterd_setting *s, int i);
int setting_count(const struct rosterd_setting *s);
const char *setting_name(const struct rosterd_setting *s);
int setting_type(const struct rosterd_setting *s);
int setting_string(const struct rosterd_setting *s, const char *name, const char **out);
int setting_int(const struct rosterd_setting *s, const char *name, long long *out);
int setting_float(const struct rosterd_setting *s, const char *name, double *out);
int setting_bool(const struct rosterd_setting *s, const char *name, bool *out);

#endif
