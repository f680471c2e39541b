/*
 * rosterctl.h: what rosterctl.c (the read commands, output, main) shares with
 * rosterctl_actions.c (the operator's actions): usage errors, the operator's
 * name, and the printer that writes rows as a table, CSV or JSON.
 */
#ifndef ROSTERCTL_H
#define ROSTERCTL_H

#include <stdbool.h>
#include <stdio.h>

#include "defs.h"
#include "store.h"

struct json_t;

enum format { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_XLSX };

/* How JSON documents (not rows) are written: every character beyond ASCII
 * as \uNNNN, so that no control or bidi character reaches a terminal raw. */
#define JSON_PRETTY (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII | \
		     JSON_REAL_PRECISION(6))

/* Rows go out as they come for CSV, JSON and Excel; a table is kept to
 * size its columns. With output set, they go to that file (a temporary one
 * until printer_finish renames it). */
struct printer {
	enum format fmt;
	const char *const *cols;
	size_t ncols;
	struct json_t *rows;     /* FMT_TABLE */
	long long n;
	FILE *out;
	const char *output;      /* --output FILE, or NULL: out */
	char *tmp;               /* the temporary file beside output */
	struct xlsx *x;          /* FMT_XLSX */
	bool said;               /* a failure of the output was said already */
};

/* Print "rosterctl: " fmt (with one string argument) and a hint; EXIT_CONFIG. */
int usage_error(const char *fmt, const char *arg);
/* The operator, for the audit log: the account of the real uid; under sudo
 * (the real uid 0, $SUDO_USER an account whose uid is $SUDO_UID) the
 * account that ran sudo. */
const char *operator_name(void);
/* s as it may go to a terminal: itself, or text_escape()d when it holds a
 * control character, a bidirectional override or bytes that are not UTF-8.
 * The result stays valid for the next 7 calls; NULL gives NULL. */
const char *ctl_safe(const char *s);
int parse_format(const char *s, enum format *f);
/* Start the output: EXIT_OK, or the exit status of a usage error (xlsx
 * without --output) or of a file that cannot be written (said). */
int printer_begin(struct printer *p);
/* A query_row_fn: one row out (or kept, for a table). */
int print_row(struct json_t *row, void *arg);
/* End the output after a query that returned r; the exit status. */
int printer_finish(struct store *st, struct printer *p, int r);

/* ---- rosterctl_output.c: --output FILE and the Excel format ------------- */
/* Open a temporary file beside p->output (an xlsx workbook for FMT_XLSX,
 * else p->out): EXIT_OK, or EXIT_FAIL with the reason said. */
int output_open(struct printer *p);
/* One row into the workbook: 0, or a negative errno with the reason said. */
int xlsx_row(struct printer *p, struct json_t *row);
/* Finish the file: when ok, complete it and rename it over p->output;
 * otherwise (or when that fails) remove it. EXIT_OK or EXIT_FAIL (said). */
int output_close(struct printer *p, bool ok);

/* ---- rosterctl_actions.c ------------------------------------------------ */
/* Whether argv (the command and its arguments) is an operator action:
 * user verify|invite|disable|enable|archive|restore|remove, course, assign,
 * unassign, outbox. */
bool ctl_action_known(int argc, char **argv);
/* Run it on the store; the exit status. */
int ctl_action(struct store *st, int argc, char **argv);
/* The usage lines of the actions. */
void ctl_action_usage(FILE *out);

#endif
