/*
 * metrics.c: the Prometheus textfile (metrics.textfile) written after each
 * run, for node_exporter's textfile collector. The figures are those of
 * query_status(), the same that `rosterctl status` shows: people by status,
 * the last run (outcome, duration, start and end, counts) and counters summed
 * over every run recorded in the store.
 *
 * The file is replaced atomically: written to a temporary file in the same
 * directory, flushed to disk, then renamed over the old one, so a scraper
 * never reads half a file. Logs nothing; the caller decides.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const statuses[] = { "invited", "active", "disabled", "archived", NULL };
static const char *const outcomes[] = { "ok", "incomplete", "held", "failed", "running", NULL };
static const char *const changes[] = { "created", "updated", "disabled", "enabled", "rejected",
				       NULL };

static long long
jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Seconds since the epoch of an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ";
 * -1 when s is not one. */
static long long
epoch_of(const json_t *s)
{
	const char *t = json_string_value(s);
	struct tm tm = { 0 };
	char *end;

	if (t == NULL || (end = strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *end != '\0')
		return -1;
	return (long long)timegm(&tm);
}

static void
header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One metric with one label per value of words, taken from obj[prefix+word]. */
static void
labelled(FILE *f, const char *name, const char *label, const char *const *words,
	 const json_t *obj, const char *prefix)
{
	char key[64];

	for (int i = 0; words[i] != NULL; i++) {
		snprintf(key, sizeof(key), "%s%s", prefix, words[i]);
		fprintf(f, "%s{%s=\"%s\"} %lld\n", name, label, words[i], jint(obj, key));
	}
}

int
metrics_format(const json_t *status, FILE *f)
{
	const json_t *people = json_object_get(status, "people");
	const json_t *last = json_object_get(status, "last_run");
	const json_t *tot = json_object_get(status, "totals");
	const char *outcome;
	long long t;

	if (!json_is_object(people) || !json_is_object(tot))
		return -EINVAL;
	header(f, "rosterd_people", "gauge", "People in the learning store, by account status.");
	labelled(f, "rosterd_people", "status", statuses, people, "");

	header(f, "rosterd_runs_total", "counter", "Sync runs recorded in the store, by outcome.");
	labelled(f, "rosterd_runs_total", "outcome", outcomes, tot, "runs_");
	header(f, "rosterd_changes_total", "counter",
	       "People changed by all the runs recorded, by kind of change.");
	labelled(f, "rosterd_changes_total", "change", changes, tot, "");
	header(f, "rosterd_directory_errors_total", "counter",
	       "Runs that got no bound connection to the directory or read only part of it.");
	fprintf(f, "rosterd_directory_errors_total %lld\n", jint(tot, "directory_errors"));

	if (!json_is_object(last))
		return ferror(f) ? -EIO : 0;
	header(f, "rosterd_last_run_id", "gauge", "Id of the last run (rosterctl runs).");
	fprintf(f, "rosterd_last_run_id %lld\n", jint(last, "id"));
	header(f, "rosterd_last_run_outcome", "gauge", "Outcome of the last run: 1 for its outcome.");
	outcome = json_string_value(json_object_get(last, "outcome"));
	for (int i = 0; outcomes[i] != NULL; i++)
		fprintf(f, "rosterd_last_run_outcome{outcome=\"%s\"} %d\n", outcomes[i],
			outcome != NULL && strcmp(outcomes[i], outcome) == 0);
	header(f, "rosterd_last_run_duration_seconds", "gauge", "How long the last run took.");
	fprintf(f, "rosterd_last_run_duration_seconds %.3f\n",
		json_number_value(json_object_get(last, "duration")));
	if ((t = epoch_of(json_object_get(last, "started_at"))) >= 0) {
		header(f, "rosterd_last_run_start_timestamp_seconds", "gauge",
		       "When the last run started, in seconds since the epoch.");
		fprintf(f, "rosterd_last_run_start_timestamp_seconds %lld\n", t);
	}
	if ((t = epoch_of(json_object_get(last, "finished_at"))) >= 0) {
		header(f, "rosterd_last_run_end_timestamp_seconds", "gauge",
		       "When the last run ended, in seconds since the epoch.");
		fprintf(f, "rosterd_last_run_end_timestamp_seconds %lld\n", t);
	}
	header(f, "rosterd_last_run_entries_read", "gauge", "Directory entries the last run read.");
	fprintf(f, "rosterd_last_run_entries_read %lld\n", jint(last, "entries_read"));
	header(f, "rosterd_last_run_changes", "gauge",
	       "People the last run changed (or would have, when held), by kind of change.");
	labelled(f, "rosterd_last_run_changes", "change", changes, last, "");
	return ferror(f) ? -EIO : 0;
}

int
metrics_write(const char *path, const json_t *status, char *err, size_t errlen)
{
	char *tmp = NULL, *dcopy = NULL;
	FILE *f = NULL;
	int fd = -1, dfd, r;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		r = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	/* Readable by the scraper, whatever the umask. */
	if (fchmod(fd, 0644) < 0 || (f = fdopen(fd, "w")) == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if ((r = metrics_format(status, f)) < 0) {
		snprintf(err, errlen, "%s: cannot write the figures", tmp);
		goto out;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto out;
	}
	r = fclose(f);
	f = NULL;
	if (r != 0 || rename(tmp, path) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot write or rename: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* Make the rename itself durable. */
	if ((dcopy = strdup(path)) != NULL &&
	    (dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	r = 0;
out:
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(dcopy);
	return r;
}
