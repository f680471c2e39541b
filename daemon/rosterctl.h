/*
 * rosterctl.h: what rosterctl.c (the read commands, output, main) shares with
 * rosterctl_actions.c (the operator's actions) and rosterctl_admin.c (access,
 * finished training, roles, the activity report): usage errors, the
 * operator's name, the printer that writes rows as a table, CSV or JSON, and
 * the people a command names.
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
/* The id of person username: EXIT_OK, or EXIT_FAIL with the reason said. */
int find_person(struct store *st, const char *username, long long *id);
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
struct act;
/* The usernames a command names: on its command line, or one a line of a
 * file (from: its name for messages, with the line of each). */
struct names {
	char **v;
	size_t n;
	const char *from;      /* the file they were read from; NULL: arguments */
	size_t *line;          /* with from: the line of each */
};
/* The usernames: argv[first..last), or --from's file when from is set
 * (then there must be none on the command line). Exit status on failure. */
int names_get(const char *from, int first, int last, char **argv, struct names *nm);
void names_free(struct names *nm);
/* fn for every person of nm, in one transaction acting as the operator,
 * once each however often they are named; what happened to each is printed
 * once committed, or, when one fails, nothing is changed. Exit status. */
typedef int (*person_fn)(struct act *a, long long person, void *arg);
int for_each_person(struct store *st, struct names *nm, person_fn fn, void *arg);
/* Whether argv (the command and its arguments) is an operator action:
 * user verify|invite|disable|enable|archive|restore|remove, course, assign,
 * unassign, outbox. */
bool ctl_action_known(int argc, char **argv);
/* Run it on the store; the exit status. */
int ctl_action(struct store *st, int argc, char **argv);
/* The usage lines of the actions. */
void ctl_action_usage(FILE *out);

/* ---- rosterctl_admin.c: access, finished training, roles, activity ------ */
/* Whether argv is one of them: access, assignment, report, user role. */
bool ctl_admin_known(int argc, char **argv);
/* Run it on the store; the exit status. */
int ctl_admin(struct store *st, int argc, char **argv);
/* Their usage lines. */
void ctl_admin_usage(FILE *out);

#endif
