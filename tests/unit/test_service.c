/*
 * test_service.c: the retry delays of the service after an unreachable
 * directory (doubling, capped at the interval, jitter only ever shortening by
 * up to a quarter), and the metrics file's text for a given status, including
 * the atomic replacement of an existing file.
 */
#include "unit.h"

#include <jansson.h>
#include <math.h>

static void
test_backoff_doubles_up_to_cap(void **state)
{
	(void)state;
	/* rnd = 1 - tiny: no jitter to speak of. */
	double top = 1.0 - 1e-12;

	assert_true(fabs(service_backoff(1, 30, 900, top) - 30) < 1e-6);
	assert_true(fabs(service_backoff(2, 30, 900, top) - 60) < 1e-6);
	assert_true(fabs(service_backoff(3, 30, 900, top) - 120) < 1e-6);
	assert_true(fabs(service_backoff(5, 30, 900, top) - 480) < 1e-6);
	assert_true(fabs(service_backoff(6, 30, 900, top) - 900) < 1e-6);
	assert_true(fabs(service_backoff(60, 30, 900, top) - 900) < 1e-6);
	/* A first delay longer than the interval is cut to it. */
	assert_true(fabs(service_backoff(1, 30, 10, top) - 10) < 1e-6);
}

static void
test_backoff_jitter(void **state)
{
	(void)state;
	assert_true(fabs(service_backoff(1, 30, 900, 0.0) - 22.5) < 1e-6);
	assert_true(fabs(service_backoff(3, 30, 900, 0.5) - 105) < 1e-6);
	for (double r = 0; r < 1; r += 0.01) {
		double d = service_backoff(4, 30, 900, r);
		assert_true(d >= 180 && d <= 240);
		assert_true(service_backoff(40, 30, 900, r) <= 900);
	}
}

static json_t *
sample_status(bool with_last)
{
	json_error_t e;
	json_t *o = json_loads(
		"{\"people\": {\"invited\": 7, \"active\": 2, \"disabled\": 1, \"archived\": 0, "
		"\"total\": 10},"
		" \"last_run\": {\"id\": 4, \"outcome\": \"held\", \"duration\": 0.25, "
		"\"started_at\": \"2026-11-21T12:00:03Z\", \"finished_at\": \"2026-11-21T12:00:04Z\", "
		"\"entries_read\": 9, \"created\": 1, \"updated\": 2, \"disabled\": 3, \"enabled\": 0, "
		"\"rejected\": 1},"
		" \"totals\": {\"runs_ok\": 3, \"runs_incomplete\": 0, \"runs_held\": 1, "
		"\"runs_failed\": 2, \"runs_running\": 0, \"created\": 10, \"updated\": 4, "
		"\"disabled\": 1, \"enabled\": 0, \"rejected\": 2, \"directory_errors\": 2}}", 0, &e);

	assert_non_null(o);
	if (!with_last)
		json_object_set_new(o, "last_run", json_null());
	return o;
}

static char *
format(json_t *status)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(metrics_format(status, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_metrics_text(void **state)
{
	static const char *const want[] = {
		"# TYPE rosterd_people gauge\n",
		"\nrosterd_people{status=\"invited\"} 7\n",
		"\nrosterd_runs_total{outcome=\"held\"} 1\n",
		"# TYPE rosterd_runs_total counter\n",
		"\nrosterd_changes_total{change=\"created\"} 10\n",
		"\nrosterd_directory_errors_total 2\n",
		"\nrosterd_last_run_outcome{outcome=\"held\"} 1\n",
		"\nrosterd_last_run_outcome{outcome=\"ok\"} 0\n",
		"\nrosterd_last_run_duration_seconds 0.250\n",
		/* 2026-11-21T12:00:03Z and :04Z */
		"\nrosterd_last_run_start_timestamp_seconds 1795262403\n",
		"\nrosterd_last_run_end_timestamp_seconds 1795262404\n",
		"\nrosterd_last_run_changes{change=\"disabled\"} 3\n",
	};
	json_t *st = sample_status(true);
	char *t = format(st);

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(t, want[i]) == NULL)
			fail_msg("no \"%s\" in:\n%s", want[i], t);
	free(t);
	json_decref(st);

	/* No run yet: no last_run metrics at all. */
	st = sample_status(false);
	t = format(st);
	assert_null(strstr(t, "rosterd_last_run"));
	assert_non_null(strstr(t, "rosterd_people{status=\"active\"} 2\n"));
	free(t);
	json_decref(st);

	/* Not a status object. */
	st = json_object();
	assert_int_equal(metrics_format(st, stderr), -EINVAL);
	json_decref(st);
}

static void
test_metrics_write_replaces(void **state)
{
	char *dir = tmpdir_make(), *path = file_write(dir, "r.prom", "old\n", 0600), err[512];
	json_t *st = sample_status(true);
	char cmd[700], buf[256] = "";
	struct stat sb;
	FILE *f;

	(void)state;
	assert_int_equal(metrics_write(path, st, err, sizeof(err)), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "# HELP rosterd_people People in the learning store, by account status.\n");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	/* Only the file itself is left in the directory. */
	snprintf(cmd, sizeof(cmd), "test \"$(ls '%s')\" = r.prom", dir);
	assert_int_equal(system(cmd), 0);

	/* A directory that does not exist: an error naming the file. */
	assert_int_equal(metrics_write("/nonexistent/dir/r.prom", st, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dir/r.prom"));
	json_decref(st);
	free(path);
	tmpdir_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_doubles_up_to_cap),
		cmocka_unit_test(test_backoff_jitter),
		cmocka_unit_test(test_metrics_text),
		cmocka_unit_test(test_metrics_write_replaces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
