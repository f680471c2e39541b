/*
 * store_pg_sql.h: the SQL of the modules (SQLite's dialect, store.h) in the
 * form PostgreSQL takes, made as the PostgreSQL driver prepares a statement.
 * It knows no libpq and keeps no state: one call turns one text into
 * another, so the unit tests check it without a server.
 *
 * What it rewrites, token by token (strings, quoted names and comments are
 * left as they are):
 *   ?  ?N  :name            $N (the names are kept for stmt_param())
 *   temp.x                  pg_temp.x
 *   INDEXED BY i, NOT INDEXED   left out (PostgreSQL's planner chooses)
 *   COLLATE BINARY          COLLATE "C" (NOCASE is the schema's collation
 *                           "nocase", which schema/pg/001 makes)
 *   INSERT OR IGNORE        INSERT ... ON CONFLICT DO NOTHING
 *   CROSS JOIN t ON         JOIN t ON
 *   a IS b, a IS NOT b      a IS NOT DISTINCT FROM b, a IS DISTINCT FROM b
 *                           (not for NULL, TRUE, FALSE)
 *   a LIKE b                a COLLATE "C" ILIKE b (SQLite's LIKE ignores the case
 *                           of ASCII; "C": also for a column of "nocase")
 *   rowid                   ctid
 *   char(x)  ifnull(a, b)   chr(x)  coalesce(a, b)
 *   instr(a, b)             strpos((a) COLLATE "C", (b) COLLATE "C")
 *   hex(text)               its UTF-8 bytes in upper-case hex
 *   max(a, b)  min(a, b)    greatest(a, b)  least(a, b) (two arguments or more)
 *   group_concat(x[, sep])  string_agg(CAST(x AS text), sep or ',')
 *   name(x), name a predicate (store_define_predicate)
 *                           coalesce(((x) IN (SELECT v FROM pg_temp.rosterd_pred_name)) <>
 *                           (SELECT inv FROM pg_temp.rosterd_pred_name_inv), false): the
 *                           driver keeps the values for which name() holds, or (inv)
 *                           those for which it does not, whichever are fewer
 *   FROM (SELECT ...) with no alias   the same AS an alias of its own
 *   INSERT ... VALUES (one row)   ... ON CONFLICT DO NOTHING (eexist_on_none:
 *                           PostgreSQL aborts the transaction at a unique
 *                           violation, where SQLite goes on)
 * julianday() and round(double, n) are functions of the schema (schema/pg/001).
 */
#ifndef ROSTERD_STORE_PG_SQL_H
#define ROSTERD_STORE_PG_SQL_H

#include <stdbool.h>
#include <stddef.h>

#define PG_SQL_MAX_PARAMS 256
#define PG_SQL_MAX_PREDS 8

struct pg_sql {
	char *text;                         /* PostgreSQL's form, to free */
	int nparams;                        /* $1..$nparams */
	char *names[PG_SQL_MAX_PARAMS];     /* names[i]: ":name" of $i+1, or NULL */
	unsigned preds;                     /* bit i: calls predicate preds[i] */
	bool eexist_on_none;                /* one row of VALUES, made ON CONFLICT DO
					     * NOTHING: none inserted is -EEXIST */
};

/* Rewrite sql into q. preds names the predicates defined (npreds of them,
 * at most PG_SQL_MAX_PREDS). 0, -ENOMEM, or -EINVAL (more parameters than
 * PG_SQL_MAX_PARAMS, a parenthesis not closed). */
int pg_sql_rewrite(const char *sql, const char *const *preds, size_t npreds, struct pg_sql *q);
void pg_sql_free(struct pg_sql *q);
/* The length of the first statement of sql, with its ";" (strings, quoted
 * names and comments may hold one). */
size_t pg_sql_statement(const char *sql);

#endif
