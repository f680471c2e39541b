/*
 * unit.h: what every cmocka unit test of rosterd includes: cmocka in the order
 * it needs, the private header, and helpers for temporary files.
 */
#ifndef ROSTERD_UNIT_H
#define ROSTERD_UNIT_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rosterd.h"

/* A fresh temporary directory for one test; removed by tmpdir_remove(). */
static inline char *
tmpdir_make(void)
{
	char tmpl[] = "/tmp/rosterd-unit.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static inline void
tmpdir_remove(char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

/* Write text to dir/name with the given mode; returns the path (caller frees). */
static inline char *
file_write(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *path = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

#endif
