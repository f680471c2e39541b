/*
 * test_store_pg_sql.c: the PostgreSQL form of the modules' SQL
 * (store_pg_sql.c), without a server: each rewrite of store_pg_sql.h, and
 * what is left alone (strings, quoted names, comments).
 */
#include "unit.h"
#include "store_pg_sql.h"

static const char *const preds[] = { "rosterd_skipped" };

/* The PostgreSQL form of sql, compared with want. */
static void
check(const char *sql, const char *want)
{
	struct pg_sql q;

	assert_int_equal(pg_sql_rewrite(sql, preds, 1, &q), 0);
	assert_string_equal(q.text, want);
	pg_sql_free(&q);
}

static void
test_parameters(void **state)
{
	struct pg_sql q;

	(void)state;
	check("SELECT ?, ?", "SELECT $1, $2");
	check("SELECT ?2 || ?1", "SELECT $2 || $1");
	assert_int_equal(pg_sql_rewrite("UPDATE t SET a = :now, b = :run WHERE c = :now", preds, 1,
					&q), 0);
	assert_string_equal(q.text, "UPDATE t SET a = $1, b = $2 WHERE c = $1");
	assert_int_equal(q.nparams, 2);
	assert_string_equal(q.names[0], ":now");
	assert_string_equal(q.names[1], ":run");
	pg_sql_free(&q);
	/* not in strings, quoted names or comments */
	check("SELECT '?1 :x', \"a?\" -- ?\n/* :y */", "SELECT '?1 :x', \"a?\" -- ?\n/* :y */");
}

static void
test_sqlite_words(void **state)
{
	(void)state;
	check("SELECT x FROM temp.plan", "SELECT x FROM pg_temp.plan");
	check("SELECT 1 FROM people INDEXED BY people_attention WHERE a",
	      "SELECT 1 FROM people  WHERE a");
	check("a <> b COLLATE BINARY", "a <> b COLLATE \"C\"");
	check("INSERT OR IGNORE INTO t (a) SELECT b FROM u",
	      "INSERT INTO t (a) SELECT b FROM u ON CONFLICT DO NOTHING");
	check("FROM a g CROSS JOIN people p ON p.x = g.x", "FROM a g JOIN people p ON p.x = g.x");
	check("FROM a CROSS JOIN b WHERE c", "FROM a CROSS JOIN b WHERE c");
	check("DELETE FROM t WHERE rowid IN (SELECT g.rowid FROM t g)",
	      "DELETE FROM t WHERE ctid IN (SELECT g.ctid FROM t g)");
	check("WHERE name LIKE ?1 AND a NOT LIKE 'x%'",
	      "WHERE name COLLATE \"C\" ILIKE $1 AND a COLLATE \"C\" NOT ILIKE 'x%'");
}

static void
test_is(void **state)
{
	(void)state;
	check("a IS NOT b", "a IS DISTINCT FROM b");
	check("a IS b", "a IS NOT DISTINCT FROM b");
	check("a IS NULL AND b IS NOT NULL AND c IS TRUE", "a IS NULL AND b IS NOT NULL AND c IS TRUE");
}

static void
test_functions(void **state)
{
	(void)state;
	check("char(1) || instr(a, b)", "chr(1) || strpos((a) COLLATE \"C\", ( b) COLLATE \"C\")");
	check("max(a, b), max(c), min(d, f(e, g))", "greatest(a, b), max(c), least(d, f(e, g))");
	check("group_concat(x)", "string_agg(CAST(x AS text), ',')");
	check("group_concat(x, '; ')", "string_agg(CAST(x AS text),  '; ')");
	check("WHERE rosterd_skipped(p.dir_id) AND ifnull(a, 1)",
	      "WHERE coalesce(((p.dir_id) IN (SELECT v FROM pg_temp.rosterd_pred_rosterd_skipped)) "
	      "<> (SELECT inv FROM pg_temp.rosterd_pred_rosterd_skipped_inv), false) "
	      "AND coalesce(a, 1)");
}

static void
test_subquery_alias(void **state)
{
	(void)state;
	check("SELECT a FROM (SELECT 1 AS a) WHERE a",
	      "SELECT a FROM (SELECT 1 AS a) AS rosterd_q1 WHERE a");
	check("SELECT a FROM (SELECT 1 AS a) s", "SELECT a FROM (SELECT 1 AS a) s");
	check("SELECT x FROM t WHERE x IN (SELECT y FROM u)", "SELECT x FROM t WHERE x IN (SELECT y FROM u)");
}

static void
test_single_insert(void **state)
{
	struct pg_sql q;

	(void)state;
	assert_int_equal(pg_sql_rewrite("INSERT INTO t (a, b) VALUES (?1, f(?2, 3))", preds, 1,
					&q), 0);
	assert_true(q.eexist_on_none);
	assert_string_equal(q.text, "INSERT INTO t (a, b) VALUES ($1, f($2, 3)) ON CONFLICT DO NOTHING");
	pg_sql_free(&q);
	assert_int_equal(pg_sql_rewrite("INSERT INTO t (a) VALUES (1), (2)", preds, 1, &q), 0);
	assert_false(q.eexist_on_none);
	pg_sql_free(&q);
	assert_int_equal(pg_sql_rewrite("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO NOTHING",
					preds, 1, &q), 0);
	assert_false(q.eexist_on_none);
	pg_sql_free(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parameters),
		cmocka_unit_test(test_sqlite_words),
		cmocka_unit_test(test_is),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_subquery_alias),
		cmocka_unit_test(test_single_insert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
