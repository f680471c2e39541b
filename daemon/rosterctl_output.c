/*
 * rosterctl_output.c: where rosterctl's printer writes when --output names a
 * file, and the Excel (.xlsx) format, written with libxlsxwriter. The file
 * is written under a temporary name in the same directory and renamed over
 * FILE only when it is complete, so that a failed export leaves no file and
 * an older FILE stays as it was.
 */
#include "rosterctl.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

/* Excel's limits: characters in a cell, rows in a sheet. */
#define XLSX_MAX_TEXT 32767
#define XLSX_MAX_ROWS 1048576

struct xlsx {
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *bold, *date, *datetime;
	lxw_row_t row;          /* the next row */
	size_t ncols;
};

/* Text of the form YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (RFC 3339 UTC, as the
 * store keeps times) as a date Excel can hold: true with *d set. */
static bool
as_date(const char *s, lxw_datetime *d, bool *has_time)
{
	static const char date[] = "dddd-dd-dd", datetime[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t n = strlen(s);
	const char *pat = n == 10 ? date : n == 20 ? datetime : NULL;
	int sec = 0;

	if (pat == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return false;
	memset(d, 0, sizeof(*d));
	if (sscanf(s, "%4d-%2d-%2d", &d->year, &d->month, &d->day) != 3 ||
	    (n == 20 && sscanf(s + 11, "%2d:%2d:%2d", &d->hour, &d->min, &sec) != 3))
		return false;
	d->sec = sec;
	*has_time = n == 20;
	return d->year >= 1900 && d->month >= 1 && d->month <= 12 && d->day >= 1 &&
	       d->day <= 31 && d->hour < 24 && d->min < 60 && sec < 60;
}

/* Write a text cell; a text longer than a cell holds is an error. */
static int
xlsx_text(struct xlsx *x, lxw_col_t col, const char *s, lxw_format *f)
{
	lxw_error e = worksheet_write_string(x->ws, x->row, col, s, f);

	return e == LXW_NO_ERROR ? 0 : e == LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED ? -E2BIG : -EIO;
}

/* One cell: numbers as numbers, booleans as booleans, dates and times as
 * dates, arrays as their items joined by "; ", null as an empty cell. */
static int
xlsx_cell(struct xlsx *x, lxw_col_t col, json_t *v)
{
	lxw_datetime d;
	bool has_time;
	lxw_error e = LXW_NO_ERROR;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v) || json_is_real(v))
		e = worksheet_write_number(x->ws, x->row, col, json_number_value(v), NULL);
	else if (json_is_boolean(v))
		e = worksheet_write_boolean(x->ws, x->row, col, json_is_true(v), NULL);
	else if (json_is_string(v) && as_date(json_string_value(v), &d, &has_time))
		e = worksheet_write_datetime(x->ws, x->row, col, &d,
					     has_time ? x->datetime : x->date);
	else if (json_is_string(v))
		return xlsx_text(x, col, json_string_value(v), NULL);
	else if (json_is_array(v)) {
		char *t = NULL;
		size_t len = 0, i;
		json_t *item;
		FILE *m = open_memstream(&t, &len);
		int r;

		if (m == NULL)
			return -ENOMEM;
		json_array_foreach(v, i, item)
			fprintf(m, "%s%s", i ? "; " : "", json_is_string(item) ?
				json_string_value(item) : "");
		if (fclose(m) != 0) {
			free(t);
			return -ENOMEM;
		}
		r = xlsx_text(x, col, t, NULL);
		free(t);
		return r;
	}
	return e == LXW_NO_ERROR ? 0 : -EIO;
}

int
xlsx_row(struct printer *p, json_t *row)
{
	struct xlsx *x = p->x;
	int r;

	if (x->row >= XLSX_MAX_ROWS) {
		fprintf(stderr, "rosterctl: %s: more rows than a sheet holds (%d)\n",
			ctl_safe(p->output), XLSX_MAX_ROWS);
		return -EFBIG;
	}
	for (size_t i = 0; i < p->ncols; i++) {
		if ((r = xlsx_cell(x, (lxw_col_t)i, json_object_get(row, p->cols[i]))) < 0) {
			if (r == -E2BIG)
				fprintf(stderr, "rosterctl: %s: the %s of row %u is longer than the "
					"%d characters a cell holds\n", ctl_safe(p->output),
					p->cols[i], x->row, XLSX_MAX_TEXT);
			else
				fprintf(stderr, "rosterctl: %s: cannot write row %u\n",
					ctl_safe(p->output), x->row);
			return r;
		}
	}
	x->row++;
	return 0;
}

/* A workbook at path (the temporary file) with a sheet and the header row. */
static int
xlsx_open(struct printer *p, const char *path, const char *dir)
{
	lxw_workbook_options o = { .constant_memory = LXW_TRUE, .tmpdir = (char *)dir };
	struct xlsx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -ENOMEM;
	if ((x->wb = workbook_new_opt(path, &o)) == NULL ||
	    (x->ws = workbook_add_worksheet(x->wb, NULL)) == NULL ||
	    (x->bold = workbook_add_format(x->wb)) == NULL ||
	    (x->date = workbook_add_format(x->wb)) == NULL ||
	    (x->datetime = workbook_add_format(x->wb)) == NULL) {
		workbook_close(x->wb);
		free(x);
		return -ENOMEM;
	}
	format_set_bold(x->bold);
	format_set_num_format(x->date, "yyyy-mm-dd");
	format_set_num_format(x->datetime, "yyyy-mm-dd hh:mm:ss");
	x->ncols = p->ncols;
	worksheet_set_column(x->ws, 0, (lxw_col_t)(p->ncols ? p->ncols - 1 : 0), 18, NULL);
	worksheet_freeze_panes(x->ws, 1, 0);
	for (size_t i = 0; i < p->ncols; i++)
		worksheet_write_string(x->ws, 0, (lxw_col_t)i, p->cols[i], x->bold);
	x->row = 1;
	p->x = x;
	return 0;
}

/* Write the workbook out (its autofilter over the rows written) and free it. */
static int
xlsx_close(struct xlsx *x, bool keep)
{
	lxw_error e;

	if (keep && x->ncols > 0)
		worksheet_autofilter(x->ws, 0, 0, x->row - 1, (lxw_col_t)(x->ncols - 1));
	e = workbook_close(x->wb);
	free(x);
	return e == LXW_NO_ERROR ? 0 : -EIO;
}

int
output_open(struct printer *p)
{
	struct stat sb;
	char *copy = strdup(p->output), *copy2 = strdup(p->output), *dir, *base, *tmp = NULL;
	int fd = -1, r = EXIT_FAIL;

	if (copy == NULL || copy2 == NULL)
		goto out;
	if (stat(p->output, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "rosterctl: %s: not a regular file\n", ctl_safe(p->output));
		goto out;
	}
	base = basename(copy);
	dir = dirname(copy2);
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		goto out;
	}
	/* mode 0600: an export holds personal data */
	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "rosterctl: cannot write %s: %s\n", ctl_safe(p->output),
			strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	p->tmp = tmp;
	if (p->fmt == FMT_XLSX) {
		close(fd);
		if (xlsx_open(p, tmp, dir) < 0) {
			fprintf(stderr, "rosterctl: %s: cannot start a workbook\n", ctl_safe(p->output));
			unlink(tmp);
			goto out;
		}
	} else if ((p->out = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		goto out;
	}
	r = EXIT_OK;
out:
	if (r != EXIT_OK) {
		free(p->tmp);
		p->tmp = NULL;
	}
	free(copy);
	free(copy2);
	return r;
}

int
output_close(struct printer *p, bool ok)
{
	int r = 0;

	if (p->tmp == NULL)
		return EXIT_OK;
	if (p->x != NULL) {
		r = xlsx_close(p->x, ok);
		p->x = NULL;
	} else if (p->out != NULL) {
		if (fflush(p->out) != 0 || ferror(p->out) || fsync(fileno(p->out)) != 0)
			r = errno ? -errno : -EIO;
		if (fclose(p->out) != 0 && r == 0)
			r = -errno;
		p->out = NULL;
	}
	if (ok && r == 0 && rename(p->tmp, p->output) != 0)
		r = -errno;
	if (!ok || r < 0)
		unlink(p->tmp);
	if (ok && r < 0)
		fprintf(stderr, "rosterctl: cannot write %s: %s\n", ctl_safe(p->output),
			strerror(-r));
	free(p->tmp);
	p->tmp = NULL;
	return ok && r == 0 ? EXIT_OK : EXIT_FAIL;
}
