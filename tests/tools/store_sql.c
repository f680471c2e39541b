/*
 * store_sql.c: the tests' sqlite3 for either store. Runs each SQL argument
 * (statements separated by ";") through the store API on the store that a
 * rosterd config names, as rosterd would (on PostgreSQL, rewritten by its
 * driver: the tests' SQL is SQLite's), and prints each row as sqlite3
 * -batch -noheader does: columns joined by "|", NULL as nothing.
 *
 * usage: store_sql CONF SQL...
 *        store_sql --pg URL PASSWORD_FILE SCHEMA SQL...   (no config: a test
 *                                 may have broken it on purpose)
 * Exit 0, or 1 at the first error (on stderr).
 */
#include "conf.h"
#include "store.h"
#include "store_pg_sql.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
run_one(struct store *st, const char *sql)
{
	struct stmt *s;
	int r;

	if ((r = store_prepare(st, sql, &s)) < 0) {
		fprintf(stderr, "store_sql: %s\n", store_errmsg(st));
		return r;
	}
	while ((r = stmt_step(s)) == 1) {
		for (int i = 0; i < stmt_columns(s); i++) {
			const char *v = stmt_text(s, i);
			printf("%s%s", i ? "|" : "", v ? v : "");
		}
		printf("\n");
	}
	if (r < 0)
		fprintf(stderr, "store_sql: %s\n", store_errmsg(st));
	stmt_done(s);
	return r;
}

int
main(int argc, char **argv)
{
	struct conf *cf = NULL;
	struct store *st = NULL;
	char err[2048];
	int r = 0;

	int first = 2;

	if (argc < 3 || (strcmp(argv[1], "--pg") == 0 && argc < 6)) {
		fprintf(stderr, "usage: store_sql CONF SQL... | --pg URL PASSWORD_FILE SCHEMA SQL...\n");
		return 2;
	}
	if (strcmp(argv[1], "--pg") == 0) {
		struct store_dsn where = { .url = argv[2], .schema = argv[4] };
		char *pw = NULL;

		first = 5;
		if ((r = secret_read(argv[3], true, &pw, err, sizeof(err))) == 0) {
			where.password = pw;
			r = store_open_at(&where, STORE_NOCREATE | STORE_NOMIGRATE, &st, err,
					  sizeof(err));
		}
		secret_free(pw);
	} else if ((r = conf_load(argv[1], 0, &cf, err, sizeof(err))) == 0) {
		r = conf_store_open(cf, STORE_NOCREATE | STORE_NOMIGRATE, &st, err, sizeof(err));
	}
	if (r < 0) {
		fprintf(stderr, "store_sql: %s\n", err);
		conf_free(cf);
		return 1;
	}
	for (int a = first; a < argc && r >= 0; a++)
		for (const char *p = argv[a]; *p != '\0' && r >= 0; ) {
			size_t n = pg_sql_statement(p);
			char *one = strndup(p, n);

			if (one == NULL)
				r = -1;
			else if (strspn(one, " \t\r\n;") < n)
				r = run_one(st, one);
			free(one);
			p += n;
		}
	store_close(st);
	conf_free(cf);
	return r < 0 ? 1 : 0;
}
