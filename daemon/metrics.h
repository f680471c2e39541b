/*
 * metrics.h: the Prometheus textfile written after each run.
 *
 * Use: metrics_write() with query_status()'s object, which stays the caller's.
 */
#ifndef ROSTERD_METRICS_H
#define ROSTERD_METRICS_H

#include <stdio.h>

#include "libtypes.h"

/* Write query_status()'s figures in the Prometheus text format. */
int metrics_format(const struct json_t *status, FILE *out);
/* Replace path atomically with them. 0, or negative with detail in err. */
int metrics_write(const char *path, const struct json_t *status, char *err, size_t errlen);

#endif
