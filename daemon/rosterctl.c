/*
 * rosterctl.c: the operator's tool. Reads the same config as rosterd to find
 * the store, shows people, the reporting tree, groups, runs and status as a
 * table, CSV or JSON, and approves held runs; the operator's actions on
 * people, courses and assignments are in rosterctl_actions.c. Exit status:
 * 0 ok, 1 failure, not found or ambiguous, 2 usage or configuration error.
 */
#include "rosterctl.h"
#include "log.h"
#include "util.h"
#include "conf.h"
#include "query.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <locale.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

static void
usage(FILE *out)
{
	fputs("usage: rosterctl [-c FILE] COMMAND [ARGS]\n"
		"Inspect and drive the rosterd learning store.\n"
		"\n"
		"  user show UID [--json]            one person's profile (--format json too)\n"
		"  user list [--status S] [--location L] [--department D] [--role R]\n"
		"            [--manager UID [--all]] [--group NAME] [--search TEXT]\n"
		"            [--field NAME=VALUE]... [--columns COL,...]\n"
		"            [--format table|csv|json|xlsx] [--output FILE]\n"
		"                                    people, by username\n"
		"  reports UID [--all] [--format table|csv|json|xlsx] [--output FILE]\n"
		"                                    UID's direct reports, or everyone below\n"
		"  chain UID [--format table|csv|json|xlsx] [--output FILE]\n"
		"                                    UID's chain of command, up to the top\n"
		"  group list [--deleted] [--format table|csv|json|xlsx] [--output FILE]\n"
		"                                    groups with their member counts\n"
		"  group show NAME [--members | --all] [--deleted] [--json]\n"
		"            [--format table|csv|json|xlsx] [--output FILE]\n"
		"                                    one group, or its members\n"
		"  status [--json]                   people by status, the last run\n"
		"  runs [--limit N] [--kind full|refresh|incremental] [--each]\n"
		"       [--format table|csv|json|xlsx] [--output FILE]\n"
		"                                    recent sync runs, newest first\n"
		"  run approve ID                    let the next run with the plan of\n"
		"                                    held run ID go through\n"
		"  resync                            the next refresh run reads the whole\n"
		"                                    directory (sync.mode refresh, persist)\n", out);
	ctl_action_usage(out);
	fprintf(out,
		"\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Exit status: 0 ok, 1 failure, not found or ambiguous, 2 usage or\n"
		"configuration error. 'rosterctl COMMAND --help' shows a command's options.\n"
		"See rosterctl(8).\n", ROSTERD_DEFAULT_CONF);
}

/* Each command's help: "rosterctl COMMAND [SUBCOMMAND] --help". */
static const struct {
	const char *cmd, *sub, *text;
} helps[] = {
	{ "user", "show",
	  "usage: rosterctl user show UID [--json | --format table|json]\n"
	  "One person's profile: a line a field, or one JSON object with --json.\n" },
	{ "user", "list",
	  "usage: rosterctl user list [--status S] [--location L] [--department D]\n"
	  "           [--role R] [--manager UID [--all]] [--group NAME] [--search TEXT]\n"
	  "           [--field NAME=VALUE]... [--columns COL,...]\n"
	  "           [--format table|csv|json|xlsx] [--output FILE]\n"
	  "People, by username; the filters given must all match.\n"
	  "  --status S      invited, active, disabled or archived\n"
	  "  --location L, --department D\n"
	  "                  exactly this location or department\n"
	  "  --role R        learner, manager or admin\n"
	  "  --manager UID   the people whose primary manager is UID\n"
	  "  --all           with --manager: everyone below UID\n"
	  "  --group NAME    the group's members, nested groups included; NAME is\n"
	  "                  a group's name, DN or directory id\n"
	  "  --search TEXT   TEXT in the username, given, family or display name or\n"
	  "                  e-mail, case and accents ignored (zoe finds Zoë)\n"
	  "  --field NAME=VALUE\n"
	  "                  custom field NAME is exactly VALUE (repeatable)\n"
	  "  --columns COL,...\n"
	  "                  the columns: username, email, given_name, family_name,\n"
	  "                  display_name, status, status_reason, role,\n"
	  "                  employee_number, department, location, title,\n"
	  "                  member_since, dn, directory_id, created_at, updated_at,\n"
	  "                  manager, secondary_manager, groups, field:NAME\n"
	  "                  (default: the table's seven; csv, json and xlsx: every\n"
	  "                  profile field, the managers and the custom fields)\n"
	  "  --format F      table (default), csv, json or xlsx (needs --output)\n"
	  "  --output FILE   write FILE (complete, or not at all) instead of\n"
	  "                  standard output\n" },
	{ "reports", NULL,
	  "usage: rosterctl reports UID [--all] [--format table|csv|json|xlsx] [--output FILE]\n"
	  "The people whose primary manager is UID, by username.\n"
	  "  --all           everyone below UID, in tree order, with their depth\n"
	  "                  (1 = direct report) and manager\n"
	  "  --format F      table (default), csv, json or xlsx (needs --output)\n"
	  "  --output FILE   write FILE instead of standard output\n" },
	{ "chain", NULL,
	  "usage: rosterctl chain UID [--format table|csv|json|xlsx] [--output FILE]\n"
	  "UID's primary manager (level 1), theirs, and so on up to the top. On a\n"
	  "manager cycle the first person met again ends the list, marked cycle.\n"
	  "  --format F      table (default), csv, json or xlsx (needs --output)\n"
	  "  --output FILE   write FILE instead of standard output\n" },
	{ "group", "list",
	  "usage: rosterctl group list [--deleted] [--format table|csv|json|xlsx]\n"
	  "           [--output FILE]\n"
	  "The groups, by name, with their direct, effective and nested counts.\n"
	  "  --deleted       the groups deleted from the directory too\n"
	  "  --format F      table (default), csv, json or xlsx (needs --output)\n"
	  "  --output FILE   write FILE instead of standard output\n" },
	{ "group", "show",
	  "usage: rosterctl group show NAME [--members | --all] [--deleted] [--json]\n"
	  "           [--format table|csv|json|xlsx] [--output FILE]\n"
	  "One group: NAME is its name, its DN or its directory id; a name that\n"
	  "several groups have is an error that lists their DNs.\n"
	  "  --members       its direct members (people), by username\n"
	  "  --all           everyone in it, nested groups included, with the group\n"
	  "                  each came through (via)\n"
	  "  --deleted       a group deleted from the directory may be named too\n"
	  "  --json          the same as --format json\n"
	  "  --format F      table (default) or json; csv and xlsx too with --members\n"
	  "                  or --all\n"
	  "  --output FILE   write FILE instead of standard output\n" },
	{ "status", NULL,
	  "usage: rosterctl status [--json]\n"
	  "People by status, the last run, the held runs awaiting approval.\n" },
	{ "runs", NULL,
	  "usage: rosterctl runs [--limit N] [--kind full|refresh|incremental] [--each]\n"
	  "                      [--format table|csv|json|xlsx] [--output FILE]\n"
	  "The last N sync runs (default 20), newest first, of one kind with --kind.\n"
	  "Successive incremental runs (sync.mode persist) that changed nothing are\n"
	  "one row, its runs column saying how many; --each lists every run.\n" },
	{ "run", "approve",
	  "usage: rosterctl run approve ID\n"
	  "Let the next run with the plan of held run ID go through.\n" },
	{ "resync", NULL,
	  "usage: rosterctl resync\n"
	  "With sync.mode = \"refresh\" or \"persist\": forget what the last run kept\n"
	  "(its cookies), so that the next run reads the whole directory again (in\n"
	  "persist mode, the service's next batch starts its searches from nothing).\n" },
	{ "user", "verify", NULL }, { "user", "invite", NULL }, { "user", "disable", NULL },
	{ "user", "enable", NULL }, { "user", "archive", NULL },
	{ "user", "restore",
	  "usage: rosterctl user verify|invite|disable|enable|archive|restore\n"
	  "           [--reason TEXT] UID... | --from FILE\n"
	  "Change the account state of each person named, audited as operator:<you>;\n"
	  "if one cannot be changed, nothing is.\n"
	  "  verify          invited -> active (pending courses get their licences)\n"
	  "  invite          queue an invitation for an invited person\n"
	  "  disable, enable take access away, give it back\n"
	  "  archive         a disabled person; never-started courses give their\n"
	  "                  licences back, training records are kept\n"
	  "  restore         an archived person back to disabled or the status they had\n"
	  "  --reason TEXT   why, for the audit log\n"
	  "  --from FILE     the usernames, one a line (- : standard input)\n" },
	{ "user", "remove",
	  "usage: rosterctl user remove UID... | --from FILE --yes\n"
	  "Purge people and every record of theirs, training included. Irreversible;\n"
	  "the only command that deletes anything.\n" },
	{ "user", "relink",
	  "usage: rosterctl user relink [--reason TEXT] UID... | --from FILE\n"
	  "Bind a person whose entry is gone from the directory to the entry the last\n"
	  "run rejected because its username is theirs: an account deleted and made\n"
	  "again, with a new stable id. The person keeps their row, status history and\n"
	  "training records; the next run takes that entry for them (and enables them\n"
	  "if the run disabled them as missing). Audited as operator:<you>.\n"
	  "  --reason TEXT   why, for the audit log\n"
	  "  --from FILE     the usernames, one a line (- : standard input)\n" },
	{ "course", "add",
	  "usage: rosterctl course add CODE [--title TITLE] [--licences N]\n"
	  "Add a course; --licences limits its pool (left out: no limit).\n" },
	{ "course", "list",
	  "usage: rosterctl course list [--format table|csv|json|xlsx] [--output FILE]\n"
	  "The courses with their licences in use and assignments by status.\n" },
	{ "course", "show",
	  "usage: rosterctl course show CODE [--format table|csv|json|xlsx] [--output FILE]\n"
	  "One course and its assignments.\n" },
	{ "assign", NULL,
	  "usage: rosterctl assign UID... | --from FILE COURSE [--due YYYY-MM-DD]\n"
	  "           [--expires YYYY-MM-DD]\n"
	  "Assign a course: pending for an invited person, an enrolment for an active\n"
	  "one while the pool has a licence, else waiting for one. --expires: the last\n"
	  "day of access (see rosterctl access).\n" },
	{ "unassign", NULL,
	  "usage: rosterctl unassign UID... | --from FILE COURSE\n"
	  "Give back a never-started assignment and its licence.\n" },
	{ "outbox", NULL,
	  "usage: rosterctl outbox [--all] [--format table|csv|json|xlsx] [--output FILE]\n"
	  "Notifications queued for the platform's mailer; --all: sent ones too.\n" },
	{ "access", NULL,
	  "usage: rosterctl access UID [--format table|csv|json|xlsx] [--output FILE]\n"
	  "       rosterctl access UID... | --from FILE COURSE --expires YYYY-MM-DD|never\n"
	  "A person's courses, current ones first: status, due date, the last day of\n"
	  "access (expires), when assigned, completed and ended. With --expires: when\n"
	  "access to COURSE ends (never: no end), audited; a day already past ends it\n"
	  "now. When access ends, the next sync run (or this command) makes the\n"
	  "assignment expired: its record kept, a never-started one's licence back to\n"
	  "the pool, an \"expired\" notification queued. Completed training keeps its\n"
	  "access.\n" },
	{ "assignment", "archive",
	  "usage: rosterctl assignment archive UID... | --from FILE COURSE\n"
	  "           [--reassign [--due YYYY-MM-DD] [--expires YYYY-MM-DD]]\n"
	  "Archive the person's completed assignment of COURSE, the person staying as\n"
	  "they are: the record stays in their history (user show, access).\n"
	  "  --reassign      assign the course again, as rosterctl assign does\n"
	  "  --due, --expires  the new assignment's due date and last day of access\n" },
	{ "user", "role",
	  "usage: rosterctl user role UID... | --from FILE admin|manager|learner|auto\n"
	  "Pin a role: no sync run changes it (role_source operator). auto gives it\n"
	  "back to the directory's rules (role groups, direct reports), which the\n"
	  "next sync run applies. Audited.\n" },
	{ "report", "activity",
	  "usage: rosterctl report activity [--month YYYY-MM | --from YYYY-MM-DD\n"
	  "           [--to YYYY-MM-DD]] [--format table|csv|json|xlsx] [--output FILE]\n"
	  "What happened, a row a month (default: this month; --from without --to:\n"
	  "up to today): people created, invited, activated, disabled, enabled,\n"
	  "archived, restored and removed; assignments made, completed, overdue and\n"
	  "expired; licences in use at the month's end. Counted from the audit log,\n"
	  "the assignments and the licences.\n" },
};

/* When argv (a command and its arguments) asks for --help (or -h), print
 * the help of the command, or of all its subcommands when none is named,
 * and return true. False when there is no help for it. */
static bool
command_help(int argc, char **argv)
{
	const size_t n = sizeof(helps) / sizeof(helps[0]);
	bool asked = false, printed = false;
	const char *sub = NULL;   /* the subcommand named, if any */
	size_t i;

	for (int k = 1; k < argc && strcmp(argv[k], "--") != 0; k++)
		if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
			asked = true;
	if (!asked)
		return false;
	for (i = 0; i < n && argc > 1; i++)
		if (strcmp(helps[i].cmd, argv[0]) == 0 && helps[i].sub != NULL &&
		    strcmp(helps[i].sub, argv[1]) == 0)
			sub = argv[1];
	for (i = 0; i < n; i++) {
		size_t t = i;
		if (strcmp(helps[i].cmd, argv[0]) != 0 ||
		    (sub != NULL && strcmp(helps[i].sub, sub) != 0))
			continue;
		/* entries without text share the next entry's */
		while (helps[t].text == NULL)
			t++;
		if (sub == NULL && t != i)
			continue;
		printf("%s%s", printed ? "\n" : "", helps[t].text);
		printed = true;
	}
	if (printed)
		printf("\nSee rosterctl(8).\n");
	return printed;
}

int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rosterctl: ");
	fprintf(stderr, fmt, ctl_safe(arg));
	fprintf(stderr, "\nTry 'rosterctl --help'.\n");
	return EXIT_CONFIG;
}

/* ---- output ------------------------------------------------------------- */

const char *
ctl_safe(const char *s)
{
	static char *kept[8];
	static unsigned next;
	char *e;

	if (s == NULL || text_safe(s, strlen(s), NULL))
		return s;
	if (text_escape(s, strlen(s), &e) < 0)
		return "(out of memory)";
	free(kept[next]);
	kept[next] = e;
	next = (next + 1) % 8;
	return e;
}

/* An array of strings (a person's groups) as one text: "; "-separated. */
static char *
array_text(json_t *a, bool escaped)
{
	char *t = NULL;
	size_t len = 0, i;
	json_t *v;
	FILE *m = open_memstream(&t, &len);

	if (m == NULL)
		return NULL;
	json_array_foreach(a, i, v) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		fprintf(m, "%s%s", i ? "; " : "", escaped ? ctl_safe(s) : s);
	}
	if (fclose(m) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

/* A JSON value as display text: strings as they are, null as "", an array
 * of strings joined by "; ". For a table (escaped) the text is ctl_safe(). */
static char *
cell_text(json_t *v, bool escaped)
{
	if (v == NULL || json_is_null(v))
		return strdup("");
	if (json_is_string(v))
		return strdup(escaped ? ctl_safe(json_string_value(v)) : json_string_value(v));
	if (json_is_array(v))
		return array_text(v, escaped);
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6));
}

/* One CSV cell (RFC 4180). Text that a spreadsheet would take for a formula
 * (starting with =, +, -, @, a tab or a carriage return) gets a leading
 * apostrophe, as OWASP recommends against CSV injection; numbers do not. */
static void
csv_field(FILE *out, const char *s, bool text)
{
	bool formula = text && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		fprintf(out, "%s%s", formula ? "'" : "", s);
		return;
	}
	fprintf(out, "\"%s", formula ? "'" : "");
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int
print_row(json_t *row, void *arg)
{
	struct printer *p = arg;

	switch (p->fmt) {
	case FMT_JSON: {
		char *s = json_dumps(row, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
		if (s == NULL)
			return -ENOMEM;
		fprintf(p->out, "%s%s", p->n ? ",\n " : "[", s);
		free(s);
		break;
	}
	case FMT_CSV:
		for (size_t i = 0; i < p->ncols; i++) {
			json_t *v = json_object_get(row, p->cols[i]);
			char *t = cell_text(v, false);
			if (t == NULL)
				return -ENOMEM;
			if (i > 0)
				fputc(',', p->out);
			csv_field(p->out, t, json_is_string(v));
			free(t);
		}
		fputc('\n', p->out);
		break;
	case FMT_TABLE:
		if (json_array_append(p->rows, row) < 0)
			return -ENOMEM;
		break;
	case FMT_XLSX: {
		int r = xlsx_row(p, row);
		if (r < 0) {
			p->said = true;
			return r;
		}
		break;
	}
	}
	p->n++;
	return 0;
}

int
printer_begin(struct printer *p)
{
	int r;

	if (p->fmt == FMT_XLSX && p->output == NULL)
		return usage_error("--format xlsx writes a file: add --output FILE%s", "");
	if (p->output != NULL && (r = output_open(p)) != EXIT_OK)
		return r;
	if (p->fmt == FMT_CSV) {
		for (size_t i = 0; i < p->ncols; i++)
			fprintf(p->out, "%s%s", i ? "," : "", p->cols[i]);
		fputc('\n', p->out);
	} else if (p->fmt == FMT_TABLE) {
		p->rows = json_array();
	}
	return EXIT_OK;
}

/* Display width of UTF-8 text in terminal columns: wide (CJK) characters
 * take two, combining marks none (wcwidth in the C.UTF-8 locale). */
static size_t
text_width(const char *s)
{
	static locale_t utf8;
	mbstate_t ps = { 0 };
	size_t w = 0, len = strlen(s);
	locale_t old;

	if (utf8 == (locale_t)0)
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	old = utf8 ? uselocale(utf8) : (locale_t)0;
	while (len > 0) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s, len, &ps);
		int cw;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			n = 1;    /* not UTF-8: one column a byte */
			cw = 1;
			memset(&ps, 0, sizeof(ps));
		} else {
			cw = wcwidth(wc);
		}
		w += cw < 0 ? 1 : (size_t)cw;
		s += n;
		len -= n;
	}
	if (old != (locale_t)0)
		uselocale(old);
	return w;
}

static int
printer_end(struct printer *p)
{
	size_t *widths, i, k;
	json_t *row;

	if (p->fmt == FMT_JSON) {
		fprintf(p->out, "%s]\n", p->n ? "" : "[");
		return 0;
	}
	if (p->fmt != FMT_TABLE)
		return 0;
	if ((widths = calloc(p->ncols + 1, sizeof(*widths))) == NULL)
		return -ENOMEM;
	for (k = 0; k < p->ncols; k++)
		widths[k] = strlen(p->cols[k]);
	json_array_foreach(p->rows, i, row) {
		for (k = 0; k < p->ncols; k++) {
			char *t = cell_text(json_object_get(row, p->cols[k]), true);
			if (t == NULL)
				goto nomem;
			if (text_width(t) > widths[k])
				widths[k] = text_width(t);
			free(t);
		}
	}
	for (k = 0; k < p->ncols; k++)
		fprintf(p->out, "%s%-*s", k ? "  " : "", k + 1 < p->ncols ? (int)widths[k] : 0,
			p->cols[k]);
	fputc('\n', p->out);
	json_array_foreach(p->rows, i, row) {
		for (k = 0; k < p->ncols; k++) {
			char *t = cell_text(json_object_get(row, p->cols[k]), true);
			size_t w;
			if (t == NULL)
				goto nomem;
			/* newlines would break the table: show them as spaces */
			for (char *c = t; *c; c++)
				if (*c == '\n' || *c == '\r' || *c == '\t')
					*c = ' ';
			w = text_width(t);
			fprintf(p->out, "%s%s", k ? "  " : "", t);
			if (k + 1 < p->ncols)
				for (; w < widths[k]; w++)
					fputc(' ', p->out);
			free(t);
		}
		fputc('\n', p->out);
	}
	free(widths);
	json_decref(p->rows);
	p->rows = NULL;
	return 0;
nomem:
	free(widths);
	return -ENOMEM;
}

int
printer_finish(struct store *st, struct printer *p, int r)
{
	if (r == 0)
		r = printer_end(p);
	json_decref(p->rows);
	p->rows = NULL;
	if (r < 0 && !p->said)
		fprintf(stderr, "rosterctl: store: %s\n", ctl_safe(store_errmsg(st)));
	if (p->output != NULL && output_close(p, r >= 0) != EXIT_OK)
		return EXIT_FAIL;
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

int
parse_format(const char *s, enum format *f)
{
	if (strcmp(s, "table") == 0)
		*f = FMT_TABLE;
	else if (strcmp(s, "csv") == 0)
		*f = FMT_CSV;
	else if (strcmp(s, "json") == 0)
		*f = FMT_JSON;
	else if (strcmp(s, "xlsx") == 0)
		*f = FMT_XLSX;
	else
		return -EINVAL;
	return 0;
}

/* --format's argument into *f: 0, or the exit status of a usage error. */
static int
opt_format(const char *arg, enum format *f)
{
	if (parse_format(arg, f) < 0)
		return usage_error("--format must be table, csv, json or xlsx, not \"%s\"", arg);
	return 0;
}

int
find_person(struct store *st, const char *username, long long *id)
{
	int r = query_person_id(st, username, id);

	if (r == -ENOENT)
		fprintf(stderr, "rosterctl: no user \"%s\" in the store\n", ctl_safe(username));
	else if (r < 0)
		fprintf(stderr, "rosterctl: store: %s\n", ctl_safe(store_errmsg(st)));
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

/* The id of the group name stands for: EXIT_OK, or EXIT_FAIL with the reason
 * said (none, or several: their DNs). */
static int
find_group(struct store *st, const char *name, bool deleted, long long *id)
{
	char err[8192];

	if (query_group_find(st, name, deleted, id, err, sizeof(err)) < 0) {
		fprintf(stderr, "rosterctl: %s\n", ctl_safe(err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- commands ----------------------------------------------------------- */

static void
show_line(const char *label, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	printf("%-18s %s\n", label, json_is_string(v) ? ctl_safe(json_string_value(v)) : "-");
}

/* The courses line of user show: each with its status, due date and the
 * day access ends. */
static void
show_courses(json_t *list)
{
	json_t *a;
	size_t i;

	printf("%-18s%s", "courses", json_array_size(list) ? "" : " -");
	json_array_foreach(list, i, a) {
		json_t *due = json_object_get(a, "due"), *until = json_object_get(a, "expires");
		printf("%s%s (%s%s%s%s%s)", i ? ", " : " ",
		       ctl_safe(json_string_value(json_object_get(a, "code"))),
		       ctl_safe(json_string_value(json_object_get(a, "status"))),
		       json_is_string(due) ? ", due " : "",
		       json_is_string(due) ? ctl_safe(json_string_value(due)) : "",
		       json_is_string(until) ? ", access until " : "",
		       json_is_string(until) ? ctl_safe(json_string_value(until)) : "");
	}
	printf("\n");
}

/* user show's activity lines: assignments by status (those there are), the
 * last change and who made it. */
static void
show_activity(json_t *act)
{
	json_t *last = json_object_get(act, "last_change"), *v;
	const char *key;
	int n = 0;

	printf("%-18s", "assignments");
	json_object_foreach(json_object_get(act, "assignments"), key, v)
		if (json_integer_value(v) > 0)
			printf("%s%lld %s", n++ ? ", " : " ", (long long)json_integer_value(v), key);
	printf("%s\n%-18s", n ? "" : " -", "last change");
	if (!json_is_object(last)) {
		printf(" -\n");
		return;
	}
	v = json_object_get(last, "detail");
	printf(" %s by %s: %s", ctl_safe(json_string_value(json_object_get(last, "at"))),
	       ctl_safe(json_string_value(json_object_get(last, "by"))),
	       ctl_safe(json_string_value(json_object_get(last, "action"))));
	if (json_is_string(v))
		printf(" (%s)", ctl_safe(json_string_value(v)));
	printf("\n");
}

static int
cmd_user_show(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool as_json = false;
	json_t *o = NULL, *v;
	enum format fmt = FMT_TABLE;
	const char *key;
	size_t i;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f' && (r = opt_format(optarg, &fmt)) != 0)
			return r;
		if (c == 'f' && fmt == FMT_CSV)
			return usage_error("user show: --format must be table or json, not \"%s\"",
					   optarg);
		if (c != 'j' && c != 'f')
			return usage_error("user show: unknown option%s", "");
		as_json = c == 'j' || fmt == FMT_JSON;
	}
	if (optind + 1 != argc)
		return usage_error("user show needs one username%s", "");
	r = query_user(st, argv[optind], &o);
	if (r == -ENOENT) {
		fprintf(stderr, "rosterctl: no user \"%s\" in the store\n", ctl_safe(argv[optind]));
		return EXIT_FAIL;
	}
	if (r < 0) {
		fprintf(stderr, "rosterctl: store: %s\n", ctl_safe(store_errmsg(st)));
		return EXIT_FAIL;
	}
	if (as_json) {
		char *s = json_dumps(o, JSON_PRETTY);
		printf("%s\n", s ? s : "");
		free(s);
		json_decref(o);
		return s ? EXIT_OK : EXIT_FAIL;
	}
	show_line("username", o, "username");
	show_line("display name", o, "display_name");
	show_line("given name", o, "given_name");
	show_line("family name", o, "family_name");
	show_line("email", o, "email");
	show_line("status", o, "status");
	show_line("status reason", o, "status_reason");
	show_line("role", o, "role");
	show_line("role source", o, "role_source");
	show_line("employee number", o, "employee_number");
	show_line("department", o, "department");
	show_line("location", o, "location");
	show_line("title", o, "title");
	show_line("manager", o, "manager");
	show_line("secondary manager", o, "secondary_manager");
	show_line("member since", o, "member_since");
	show_line("dn", o, "dn");
	show_line("directory id", o, "directory_id");
	printf("%-18s", "groups");
	v = json_object_get(o, "groups");
	if (json_array_size(v) == 0)
		printf(" -");
	for (i = 0; i < json_array_size(v); i++)
		printf("%s%s", i ? ", " : " ", ctl_safe(json_string_value(json_array_get(v, i))));
	printf("\n");
	show_courses(json_object_get(o, "courses"));
	json_object_foreach(json_object_get(o, "fields"), key, v)
		printf("%-18s %s\n", ctl_safe(key), ctl_safe(json_string_value(v)));
	show_activity(json_object_get(o, "activity"));
	json_decref(o);
	return EXIT_OK;
}

/* The options of user list. */
struct user_list_opts {
	struct user_filter f;
	struct printer p;
	const char *manager, *group, *columns;
	const char *fields[2 * 32];
};

/* --field NAME=VALUE into o: 0, or the exit status of a usage error. */
static int
opt_field(struct user_list_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		return usage_error("--field must be NAME=VALUE, not \"%s\"", arg);
	if (o->f.nfields == sizeof(o->fields) / sizeof(o->fields[0]) / 2)
		return usage_error("user list: at most 32 --field options%s", "");
	*eq = '\0';
	o->fields[2 * o->f.nfields] = arg;
	o->fields[2 * o->f.nfields + 1] = eq + 1;
	o->f.nfields++;
	return 0;
}

static int
user_list_parse(int argc, char **argv, struct user_list_opts *o)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "location", required_argument, NULL, 'l' },
		{ "department", required_argument, NULL, 'd' },
		{ "role", required_argument, NULL, 'r' },
		{ "manager", required_argument, NULL, 'm' },
		{ "all", no_argument, NULL, 'a' },
		{ "group", required_argument, NULL, 'g' },
		{ "search", required_argument, NULL, 'S' },
		{ "field", required_argument, NULL, 'F' },
		{ "columns", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (strcmp(optarg, "invited") && strcmp(optarg, "active") &&
			    strcmp(optarg, "disabled") && strcmp(optarg, "archived"))
				return usage_error("--status must be invited, active, disabled "
						   "or archived, not \"%s\"", optarg);
			o->f.status = optarg;
			break;
		case 'l': o->f.location = optarg; break;
		case 'd': o->f.department = optarg; break;
		case 'r':
			if (strcmp(optarg, "learner") && strcmp(optarg, "manager") &&
			    strcmp(optarg, "admin"))
				return usage_error("--role must be learner, manager or admin, "
						   "not \"%s\"", optarg);
			o->f.role = optarg;
			break;
		case 'm': o->manager = optarg; break;
		case 'a': o->f.below = true; break;
		case 'g': o->group = optarg; break;
		case 'S': o->f.search = optarg; break;
		case 'F':
			if ((r = opt_field(o, optarg)) != 0)
				return r;
			break;
		case 'C': o->columns = optarg; break;
		case 'o': o->p.output = optarg; break;
		case 'f':
			if ((r = opt_format(optarg, &o->p.fmt)) != 0)
				return r;
			break;
		default:
			return usage_error("user list: bad option%s", "");
		}
	}
	if (optind != argc)
		return usage_error("user list: unexpected argument \"%s\"", argv[optind]);
	if (o->f.below && o->manager == NULL)
		return usage_error("user list: --all goes with --manager%s", "");
	o->f.fields = o->fields;
	return EXIT_OK;
}

/* --columns a,b,c as a new array of names (*n of them): EXIT_OK, or the exit
 * status of a usage error naming an unknown column. */
static int
split_columns(const char *list, char ***cols, size_t *n)
{
	char *copy = strdup(list), *save = NULL, *t, **a = NULL;
	size_t k = 0;

	if (copy == NULL || (a = calloc(strlen(list) / 2 + 2, sizeof(*a))) == NULL) {
		free(copy);
		return EXIT_FAIL;
	}
	for (t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (!query_user_column_known(t)) {
			int r = usage_error("user list: unknown column \"%s\" (see rosterctl(8))", t);
			query_columns_free(a, k);
			free(copy);
			return r;
		}
		if ((a[k++] = strdup(t)) == NULL) {
			query_columns_free(a, k);
			free(copy);
			return EXIT_FAIL;
		}
	}
	free(copy);
	if (k == 0) {
		free(a);
		return usage_error("user list: --columns names no column%s", "");
	}
	*cols = a;
	*n = k;
	return EXIT_OK;
}

static int
cmd_user_list(struct store *st, int argc, char **argv)
{
	/* the table's columns unless --columns names others */
	static const char *const table[] = {
		"username", "status", "display_name", "email", "department", "location", "title",
	};
	struct user_list_opts o = { .p = { .fmt = FMT_TABLE, .out = stdout } };
	char **cols = NULL;
	size_t ncols = 0;
	int r;

	if ((r = user_list_parse(argc, argv, &o)) != EXIT_OK)
		return r;
	if (o.columns != NULL && (r = split_columns(o.columns, &cols, &ncols)) != EXIT_OK)
		return r;
	if (o.manager != NULL && (r = find_person(st, o.manager, &o.f.manager_id)) != EXIT_OK)
		goto out;
	if (o.group != NULL && (r = find_group(st, o.group, false, &o.f.group_id)) != EXIT_OK)
		goto out;
	if (cols == NULL && o.p.fmt != FMT_TABLE &&
	    query_user_columns_default(st, &cols, &ncols) < 0) {
		fprintf(stderr, "rosterctl: store: %s\n", ctl_safe(store_errmsg(st)));
		r = EXIT_FAIL;
		goto out;
	}
	o.p.cols = cols ? (const char *const *)cols : table;
	o.p.ncols = cols ? ncols : sizeof(table) / sizeof(table[0]);
	if ((r = printer_begin(&o.p)) != EXIT_OK)
		goto out;
	r = printer_finish(st, &o.p, query_user_rows(st, &o.f, o.p.cols, o.p.ncols, print_row,
						     &o.p));
out:
	query_columns_free(cols, ncols);
	return r;
}

static int
cmd_runs(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "kind", required_argument, NULL, 'k' },
		{ "each", no_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = {
		"id", "started_at", "outcome", "duration", "entries_read", "created", "updated",
		"renamed", "disabled", "enabled", "rejected", "kind", "runs", "error",
	};
	struct printer p = { .fmt = FMT_TABLE, .cols = cols, .ncols = 14, .out = stdout };
	const char *kind = NULL;
	bool each = false;
	long limit = 20;
	char *end;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (*end != '\0' || limit < 1 || limit > 1000000)
				return usage_error("--limit must be a number from 1, not \"%s\"", optarg);
			break;
		case 'k':
			if (strcmp(optarg, "full") != 0 && strcmp(optarg, "refresh") != 0 &&
			    strcmp(optarg, "incremental") != 0)
				return usage_error("--kind must be full, refresh or incremental, "
						   "not \"%s\"", optarg);
			kind = optarg;
			break;
		case 'e': each = true; break;
		case 'o': p.output = optarg; break;
		case 'f':
			if (parse_format(optarg, &p.fmt) < 0)
				return usage_error("--format must be table, csv, json or xlsx, "
						   "not \"%s\"", optarg);
			break;
		default:
			return usage_error("runs: bad option%s", "");
		}
	}
	if (optind != argc)
		return usage_error("runs: unexpected argument \"%s\"", argv[optind]);
	if ((r = printer_begin(&p)) != EXIT_OK)
		return r;
	return printer_finish(st, &p, query_runs_of(st, (int)limit, kind, !each, print_row, &p));
}

static long long
jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static int
cmd_status(struct store *st, int argc, char **argv)
{
	json_t *o = NULL, *people, *last, *held, *tot;
	size_t i;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0))
		return usage_error("status takes only --json%s", "");
	if (query_status(st, &o) < 0) {
		fprintf(stderr, "rosterctl: store: %s\n", ctl_safe(store_errmsg(st)));
		return EXIT_FAIL;
	}
	if (argc == 2) {
		char *s = json_dumps(o, JSON_PRETTY);
		printf("%s\n", s ? s : "");
		free(s);
		json_decref(o);
		return EXIT_OK;
	}
	people = json_object_get(o, "people");
	printf("people: %lld (invited %lld, active %lld, disabled %lld, archived %lld)\n",
	       jint(people, "total"), jint(people, "invited"), jint(people, "active"),
	       jint(people, "disabled"), jint(people, "archived"));
	last = json_object_get(o, "last_run");
	if (json_is_object(last)) {
		json_t *e = json_object_get(last, "error");
		printf("last run: %lld %s, started %s, %.2f s: %lld read, %lld created, "
		       "%lld updated, %lld disabled, %lld enabled, %lld rejected\n",
		       jint(last, "id"), ctl_safe(json_string_value(json_object_get(last, "outcome"))),
		       ctl_safe(json_string_value(json_object_get(last, "started_at"))),
		       json_number_value(json_object_get(last, "duration")),
		       jint(last, "entries_read"), jint(last, "created"), jint(last, "updated"),
		       jint(last, "disabled"), jint(last, "enabled"), jint(last, "rejected"));
		if (json_is_string(e))
			printf("          %s\n", ctl_safe(json_string_value(e)));
	} else {
		printf("last run: none yet\n");
	}
	tot = json_object_get(o, "totals");
	printf("all runs: %lld ok, %lld incomplete, %lld held, %lld failed; %lld created, "
	       "%lld updated, %lld disabled, %lld enabled; %lld directory errors\n",
	       jint(tot, "runs_ok"), jint(tot, "runs_incomplete"), jint(tot, "runs_held"),
	       jint(tot, "runs_failed"), jint(tot, "created"), jint(tot, "updated"),
	       jint(tot, "disabled"), jint(tot, "enabled"), jint(tot, "directory_errors"));
	held = json_object_get(o, "held_runs");
	for (i = 0; i < json_array_size(held); i++) {
		json_t *h = json_array_get(held, i);
		printf("held run %lld awaits approval: %s (rosterctl run approve %lld)\n",
		       jint(h, "id"), ctl_safe(json_string_value(json_object_get(h, "error"))),
		       jint(h, "id"));
	}
	json_decref(o);
	return EXIT_OK;
}

const char *
operator_name(void)
{
	static char name[64];
	const char *u = getenv("SUDO_USER"), *uid = getenv("SUDO_UID");
	struct passwd *pw;
	char *end;
	unsigned long n;

	if (name[0] != '\0')
		return name;
	/* sudo's word is taken only where sudo put it: a process of root's
	 * with SUDO_USER and SUDO_UID naming the same account. Anyone else
	 * could set them to anything. */
	if (getuid() == 0 && u != NULL && uid != NULL && (pw = getpwnam(u)) != NULL) {
		errno = 0;
		n = strtoul(uid, &end, 10);
		if (errno == 0 && end != uid && *end == '\0' && n == (unsigned long)pw->pw_uid) {
			snprintf(name, sizeof(name), "%s", pw->pw_name);
			return name;
		}
	}
	pw = getpwuid(getuid());
	if (pw != NULL)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid %lu", (unsigned long)getuid());
	return name;
}

static int
cmd_run_approve(struct store *st, int argc, char **argv)
{
	char err[512], *end;
	long long id;

	if (argc != 3 || strcmp(argv[1], "approve") != 0)
		return usage_error("usage: rosterctl run approve ID%s", "");
	errno = 0;
	id = strtoll(argv[2], &end, 10);
	if (*end != '\0' || end == argv[2] || id < 1 || errno == ERANGE)
		return usage_error("run approve: \"%s\" is not a run id", argv[2]);
	if (query_run_approve(st, id, operator_name(), err, sizeof(err)) < 0) {
		fprintf(stderr, "rosterctl: %s\n", ctl_safe(err));
		return EXIT_FAIL;
	}
	printf("run %lld approved: the next run with the same plan will go through\n", id);
	return EXIT_OK;
}

static int
cmd_resync(struct store *st, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return usage_error("usage: rosterctl resync%s", "");
	if (store_begin(st) < 0 || store_state_put(st, "source:refresh", NULL) < 0 ||
	    store_commit(st) < 0) {
		fprintf(stderr, "rosterctl: %s\n", store_errmsg(st));
		store_rollback(st);
		return EXIT_FAIL;
	}
	printf("the next run reads the whole directory\n");
	return EXIT_OK;
}

/* ---- the reporting tree and groups ------------------------------------ */

static int
cmd_reports(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const direct[] = {
		"username", "status", "display_name", "title", "department", "location",
	};
	static const char *const below[] = {
		"depth", "username", "manager", "status", "display_name", "title", "department",
		"location",
	};
	struct printer p = { .fmt = FMT_TABLE, .cols = direct, .ncols = 6, .out = stdout };
	bool all = false;
	long long id;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'o': p.output = optarg; break;
		case 'f':
			if ((r = opt_format(optarg, &p.fmt)) != 0)
				return r;
			break;
		default:
			return usage_error("reports: bad option%s", "");
		}
	}
	if (optind + 1 != argc)
		return usage_error("reports needs one username%s", "");
	if ((r = find_person(st, argv[optind], &id)) != EXIT_OK)
		return r;
	if (all) {
		p.cols = below;
		p.ncols = 8;
	}
	if ((r = printer_begin(&p)) != EXIT_OK)
		return r;
	return printer_finish(st, &p, query_reports(st, id, all, print_row, &p));
}

/* Rows of a chain of command go to the printer; the one that closes a
 * manager cycle is remembered, to be said on stderr. */
struct chain_out {
	struct printer p;
	char again[256];
};

static int
chain_row(json_t *row, void *arg)
{
	struct chain_out *o = arg;

	if (json_is_true(json_object_get(row, "cycle")))
		snprintf(o->again, sizeof(o->again), "%s",
			 json_string_value(json_object_get(row, "username")));
	return print_row(row, &o->p);
}

static int
cmd_chain(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = {
		"level", "username", "status", "display_name", "title", "department", "location",
		"cycle",
	};
	struct chain_out o = {
		.p = { .fmt = FMT_TABLE, .cols = cols, .ncols = 8, .out = stdout },
	};
	long long id;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'o')
			o.p.output = optarg;
		else if (c != 'f')
			return usage_error("chain: bad option%s", "");
		else if ((r = opt_format(optarg, &o.p.fmt)) != 0)
			return r;
	}
	if (optind + 1 != argc)
		return usage_error("chain needs one username%s", "");
	if ((r = find_person(st, argv[optind], &id)) != EXIT_OK)
		return r;
	if ((r = printer_begin(&o.p)) != EXIT_OK)
		return r;
	r = printer_finish(st, &o.p, query_chain(st, id, chain_row, &o));
	if (r == EXIT_OK && o.again[0] != '\0')
		fprintf(stderr, "rosterctl: manager cycle: the chain of command of \"%s\" "
			"comes back to \"%s\"\n", ctl_safe(argv[optind]), ctl_safe(o.again));
	return r;
}

static int
cmd_group_list(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "deleted", no_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = {
		"name", "dn", "members", "effective_members", "nested_groups", "present",
	};
	struct printer p = { .fmt = FMT_TABLE, .cols = cols, .ncols = 5, .out = stdout };
	bool deleted = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'D': deleted = true; break;
		case 'o': p.output = optarg; break;
		case 'f':
			if ((r = opt_format(optarg, &p.fmt)) != 0)
				return r;
			break;
		default:
			return usage_error("group list: bad option%s", "");
		}
	}
	if (optind != argc)
		return usage_error("group list: unexpected argument \"%s\"", argv[optind]);
	if (deleted)
		p.ncols = 6;
	if ((r = printer_begin(&p)) != EXIT_OK)
		return r;
	return printer_finish(st, &p, query_group_list(st, deleted, print_row, &p));
}

/* A line of linked groups: their names, ", "-separated, deleted ones marked. */
static void
show_groups(const char *label, json_t *a)
{
	json_t *g;
	size_t i;

	printf("%-18s%s", label, json_array_size(a) ? "" : " -");
	json_array_foreach(a, i, g)
		printf("%s%s%s", i ? ", " : " ", ctl_safe(json_string_value(json_object_get(g, "name"))),
		       json_is_true(json_object_get(g, "present")) ? "" : " (deleted)");
	printf("\n");
}

/* group show without --members: the group's own lines, or its JSON object. */
static int
show_group(struct store *st, long long id, enum format fmt)
{
	json_t *o = NULL;
	int r = query_group(st, id, &o);

	if (r < 0) {
		fprintf(stderr, "rosterctl: store: %s\n", ctl_safe(store_errmsg(st)));
		return EXIT_FAIL;
	}
	if (fmt == FMT_JSON) {
		char *s = json_dumps(o, JSON_PRETTY);
		printf("%s\n", s ? s : "");
		free(s);
		json_decref(o);
		return s ? EXIT_OK : EXIT_FAIL;
	}
	show_line("name", o, "name");
	show_line("dn", o, "dn");
	show_line("description", o, "description");
	printf("%-18s %s\n", "state", json_is_true(json_object_get(o, "present")) ?
	       "present" : "deleted from the directory");
	show_line("directory id", o, "directory_id");
	printf("%-18s %lld\n", "members", jint(o, "members"));
	printf("%-18s %lld\n", "effective members", jint(o, "effective_members"));
	printf("%-18s %lld\n", "nested groups", jint(o, "nested_groups"));
	show_groups("member of", json_object_get(o, "parents"));
	show_groups("contains", json_object_get(o, "children"));
	json_decref(o);
	return EXIT_OK;
}

static int
cmd_group_show(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "members", no_argument, NULL, 'm' },
		{ "all", no_argument, NULL, 'a' },
		{ "deleted", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = {
		"username", "status", "display_name", "email", "via",
	};
	struct printer p = { .fmt = FMT_TABLE, .cols = cols, .ncols = 4, .out = stdout };
	bool members = false, all = false, deleted = false;
	long long id;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': members = true; break;
		case 'a': all = true; break;
		case 'D': deleted = true; break;
		case 'j': p.fmt = FMT_JSON; break;
		case 'o': p.output = optarg; break;
		case 'f':
			if ((r = opt_format(optarg, &p.fmt)) != 0)
				return r;
			break;
		default:
			return usage_error("group show: bad option%s", "");
		}
	}
	if (optind + 1 != argc)
		return usage_error("group show needs one group name or DN%s", "");
	if (members && all)
		return usage_error("group show: --members or --all, not both%s", "");
	if (!members && !all && (p.fmt == FMT_CSV || p.fmt == FMT_XLSX || p.output != NULL))
		return usage_error("group show: --format csv or xlsx and --output list members: "
				   "add --members or --all%s", "");
	if ((r = find_group(st, argv[optind], deleted, &id)) != EXIT_OK)
		return r;
	if (!members && !all)
		return show_group(st, id, p.fmt);
	if (all)
		p.ncols = 5;
	if ((r = printer_begin(&p)) != EXIT_OK)
		return r;
	return printer_finish(st, &p, query_group_members(st, id, all, print_row, &p));
}

/* complete_names: one name a line, as it is (completion needs it exact;
 * a name with a line break cannot be completed and is left out). */
static int
print_name(json_t *row, void *arg)
{
	const char *n = json_string_value(json_object_get(row, "name"));

	(void)arg;
	if (n != NULL && strpbrk(n, "\n\r") == NULL)
		printf("%s\n", n);
	return 0;
}

/* The hidden helper of the bash completion: "complete users|courses|groups
 * [PREFIX]" prints the names that start with PREFIX. */
static int
cmd_complete(struct store *st, int argc, char **argv)
{
	int r;

	if (argc < 2 || argc > 3)
		return usage_error("usage: rosterctl complete users|courses|groups [PREFIX]%s", "");
	r = query_names(st, argv[1], argc == 3 ? argv[2] : "", print_name, NULL);
	if (r == -EINVAL)
		return usage_error("complete: users, courses or groups, not \"%s\"", argv[1]);
	if (r < 0) {
		fprintf(stderr, "rosterctl: store: %s\n", ctl_safe(store_errmsg(st)));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* rosterctl itself; main() adds the check of what it printed. */
static int
ctl_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = ROSTERD_DEFAULT_CONF;
	struct conf *cf = NULL;
	struct store *st = NULL;
	char err[8192];
	bool action;
	int c, r;

	log_init("rosterctl", 0);
	/* "+": stop at the command; its own options are parsed by it. */
	while ((c = getopt_long(argc, argv, "+c:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'V': printf("rosterctl %s\n", ROSTERD_VERSION); return EXIT_OK;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_CONFIG;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (command_help(argc, argv))
		return EXIT_OK;
	action = ctl_action_known(argc, argv);
	if (!action && strcmp(argv[0], "user") == 0 && argc < 2)
		return usage_error("user needs a subcommand: show, list, verify, invite, disable, "
				   "enable, archive, restore, remove, relink or role%s", "");
	if (!action && strcmp(argv[0], "user") == 0 &&
	    strcmp(argv[1], "show") != 0 && strcmp(argv[1], "list") != 0)
		return usage_error("user: unknown subcommand \"%s\" (show, list, verify, invite, "
				   "disable, enable, archive, restore, remove, relink or role)", argv[1]);
	if (strcmp(argv[0], "group") == 0 && argc < 2)
		return usage_error("group needs a subcommand: show or list%s", "");
	if (strcmp(argv[0], "group") == 0 && strcmp(argv[1], "show") != 0 &&
	    strcmp(argv[1], "list") != 0)
		return usage_error("group: unknown subcommand \"%s\" (show or list)", argv[1]);
	if (!action && !(strcmp(argv[0], "status") == 0 || strcmp(argv[0], "runs") == 0 ||
	      strcmp(argv[0], "run") == 0 || strcmp(argv[0], "resync") == 0 ||
	      strcmp(argv[0], "reports") == 0 || strcmp(argv[0], "chain") == 0 ||
	      strcmp(argv[0], "group") == 0 || strcmp(argv[0], "complete") == 0 ||
	      (strcmp(argv[0], "user") == 0 && argc >= 2 &&
	       (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "list") == 0))))
		return usage_error("unknown command \"%s\"", argv[0]);

	if (conf_load(path, 0, &cf, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_CONFIG;
	}
	r = conf_store_open(cf, STORE_NOCREATE | STORE_SAMESCHEMA, &st, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "rosterctl: store: %s%s\n", err,
			r == -ENOENT ? " (has rosterd run yet?)" : "");
		conf_free(cf);
		return EXIT_FAIL;
	}
	if (action)
		r = ctl_action(st, argc, argv);
	else if (strcmp(argv[0], "status") == 0)
		r = cmd_status(st, argc, argv);
	else if (strcmp(argv[0], "runs") == 0)
		r = cmd_runs(st, argc, argv);
	else if (strcmp(argv[0], "run") == 0)
		r = cmd_run_approve(st, argc, argv);
	else if (strcmp(argv[0], "resync") == 0)
		r = cmd_resync(st, argc, argv);
	else if (strcmp(argv[0], "reports") == 0)
		r = cmd_reports(st, argc, argv);
	else if (strcmp(argv[0], "chain") == 0)
		r = cmd_chain(st, argc, argv);
	else if (strcmp(argv[0], "complete") == 0)
		r = cmd_complete(st, argc, argv);
	else if (strcmp(argv[0], "group") == 0 && strcmp(argv[1], "list") == 0)
		r = cmd_group_list(st, argc - 1, argv + 1);
	else if (strcmp(argv[0], "group") == 0)
		r = cmd_group_show(st, argc - 1, argv + 1);
	else if (strcmp(argv[1], "show") == 0)
		r = cmd_user_show(st, argc - 1, argv + 1);
	else
		r = cmd_user_list(st, argc - 1, argv + 1);
	store_close(st);
	conf_free(cf);
	return r;
}

int
main(int argc, char **argv)
{
	int r = ctl_main(argc, argv), w = stdout_close();

	/* A full disk or a closed pipe: the export or listing is cut short. */
	if (w < 0) {
		fprintf(stderr, "rosterctl: cannot write the output: %s\n", strerror(-w));
		if (r == EXIT_OK)
			r = EXIT_FAIL;
	}
	return r;
}
