/*
 * rosterctl.c: the operator's tool. Reads the same config as rosterd to find
 * the store, shows people, runs and status as a table, CSV or JSON, and
 * approves held runs; the operator's actions on people, courses and
 * assignments are in rosterctl_actions.c. Exit status: 0 ok, 1 failure or
 * not found, 2 usage or configuration error.
 */
#include "rosterctl.h"

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
		"  user show UID [--json]            one person's profile\n"
		"  user list [--status S] [--location L] [--department D]\n"
		"            [--format table|csv|json] people, by username\n"
		"  status [--json]                   people by status, the last run\n"
		"  runs [--limit N] [--format table|csv|json]\n"
		"                                    recent sync runs, newest first\n"
		"  run approve ID                    let the next run with the plan of\n"
		"                                    held run ID go through\n", out);
	ctl_action_usage(out);
	fprintf(out,
		"\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Exit status: 0 ok, 1 failure or not found, 2 usage or configuration error.\n"
		"See rosterctl(8).\n", ROSTERD_DEFAULT_CONF);
}

int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rosterctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'rosterctl --help'.\n");
	return EXIT_CONFIG;
}

/* ---- output ------------------------------------------------------------- */

/* A JSON value as display text: strings as they are, null as "". */
static char *
cell_text(json_t *v)
{
	if (v == NULL || json_is_null(v))
		return strdup("");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6));
}

static void
csv_field(FILE *out, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
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
			char *t = cell_text(json_object_get(row, p->cols[i]));
			if (t == NULL)
				return -ENOMEM;
			if (i > 0)
				fputc(',', p->out);
			csv_field(p->out, t);
			free(t);
		}
		fputc('\n', p->out);
		break;
	case FMT_TABLE:
		if (json_array_append(p->rows, row) < 0)
			return -ENOMEM;
		break;
	}
	p->n++;
	return 0;
}

void
printer_begin(struct printer *p)
{
	if (p->fmt == FMT_CSV) {
		for (size_t i = 0; i < p->ncols; i++)
			fprintf(p->out, "%s%s", i ? "," : "", p->cols[i]);
		fputc('\n', p->out);
	} else if (p->fmt == FMT_TABLE) {
		p->rows = json_array();
	}
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
	size_t widths[32] = { 0 }, i, k;
	json_t *row;

	if (p->fmt == FMT_JSON) {
		fprintf(p->out, "%s]\n", p->n ? "" : "[");
		return 0;
	}
	if (p->fmt != FMT_TABLE)
		return 0;
	for (k = 0; k < p->ncols && k < 32; k++)
		widths[k] = strlen(p->cols[k]);
	json_array_foreach(p->rows, i, row) {
		for (k = 0; k < p->ncols && k < 32; k++) {
			char *t = cell_text(json_object_get(row, p->cols[k]));
			if (t == NULL)
				return -ENOMEM;
			if (text_width(t) > widths[k])
				widths[k] = text_width(t);
			free(t);
		}
	}
	for (k = 0; k < p->ncols && k < 32; k++)
		fprintf(p->out, "%s%-*s", k ? "  " : "", k + 1 < p->ncols ? (int)widths[k] : 0,
			p->cols[k]);
	fputc('\n', p->out);
	json_array_foreach(p->rows, i, row) {
		for (k = 0; k < p->ncols && k < 32; k++) {
			char *t = cell_text(json_object_get(row, p->cols[k]));
			size_t w;
			if (t == NULL)
				return -ENOMEM;
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
	json_decref(p->rows);
	p->rows = NULL;
	return 0;
}

int
printer_finish(struct store *st, struct printer *p, int r)
{
	if (r == 0)
		r = printer_end(p);
	json_decref(p->rows);
	p->rows = NULL;
	if (r < 0) {
		fprintf(stderr, "rosterctl: store: %s\n", store_errmsg(st));
		return EXIT_FAIL;
	}
	return EXIT_OK;
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
	else
		return -EINVAL;
	return 0;
}

/* ---- commands ----------------------------------------------------------- */

static void
show_line(const char *label, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	printf("%-18s %s\n", label, json_is_string(v) ? json_string_value(v) : "-");
}

static int
cmd_user_show(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool as_json = false;
	json_t *o = NULL, *v;
	const char *key;
	size_t i;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return usage_error("user show: unknown option%s", "");
		as_json = true;
	}
	if (optind + 1 != argc)
		return usage_error("user show needs one username%s", "");
	r = query_user(st, argv[optind], &o);
	if (r == -ENOENT) {
		fprintf(stderr, "rosterctl: no user \"%s\" in the store\n", argv[optind]);
		return EXIT_FAIL;
	}
	if (r < 0) {
		fprintf(stderr, "rosterctl: store: %s\n", store_errmsg(st));
		return EXIT_FAIL;
	}
	if (as_json) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
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
		printf("%s%s", i ? ", " : " ", json_string_value(json_array_get(v, i)));
	printf("\n%-18s", "courses");
	v = json_object_get(o, "courses");
	if (json_array_size(v) == 0)
		printf(" -");
	for (i = 0; i < json_array_size(v); i++) {
		json_t *a = json_array_get(v, i);
		json_t *due = json_object_get(a, "due");
		printf("%s%s (%s%s%s)", i ? ", " : " ",
		       json_string_value(json_object_get(a, "code")),
		       json_string_value(json_object_get(a, "status")),
		       json_is_string(due) ? ", due " : "",
		       json_is_string(due) ? json_string_value(due) : "");
	}
	printf("\n");
	json_object_foreach(json_object_get(o, "fields"), key, v)
		printf("%-18s %s\n", key, json_string_value(v));
	json_decref(o);
	return EXIT_OK;
}

static int
cmd_user_list(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "location", required_argument, NULL, 'l' },
		{ "department", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = {
		"username", "status", "display_name", "email", "department", "location", "title",
	};
	struct user_filter f = { 0 };
	struct printer p = { .fmt = FMT_TABLE, .cols = cols, .ncols = 7, .out = stdout };
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (strcmp(optarg, "invited") && strcmp(optarg, "active") &&
			    strcmp(optarg, "disabled") && strcmp(optarg, "archived"))
				return usage_error("--status must be invited, active, disabled "
						   "or archived, not \"%s\"", optarg);
			f.status = optarg;
			break;
		case 'l': f.location = optarg; break;
		case 'd': f.department = optarg; break;
		case 'f':
			if (parse_format(optarg, &p.fmt) < 0)
				return usage_error("--format must be table, csv or json, not \"%s\"",
						   optarg);
			break;
		default:
			return usage_error("user list: bad option%s", "");
		}
	}
	if (optind != argc)
		return usage_error("user list: unexpected argument \"%s\"", argv[optind]);
	printer_begin(&p);
	return printer_finish(st, &p, query_user_list(st, &f, print_row, &p));
}

static int
cmd_runs(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = {
		"id", "started_at", "outcome", "duration", "entries_read", "created", "updated",
		"renamed", "disabled", "enabled", "rejected", "error",
	};
	struct printer p = { .fmt = FMT_TABLE, .cols = cols, .ncols = 12, .out = stdout };
	long limit = 20;
	char *end;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (*end != '\0' || limit < 1 || limit > 1000000)
				return usage_error("--limit must be a number from 1, not \"%s\"", optarg);
			break;
		case 'f':
			if (parse_format(optarg, &p.fmt) < 0)
				return usage_error("--format must be table, csv or json, not \"%s\"",
						   optarg);
			break;
		default:
			return usage_error("runs: bad option%s", "");
		}
	}
	if (optind != argc)
		return usage_error("runs: unexpected argument \"%s\"", argv[optind]);
	printer_begin(&p);
	return printer_finish(st, &p, query_runs(st, (int)limit, print_row, &p));
}

static long long
jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static int
cmd_status(struct store *st, int argc, char **argv)
{
	json_t *o = NULL, *people, *last, *held;
	size_t i;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0))
		return usage_error("status takes only --json%s", "");
	if (query_status(st, &o) < 0) {
		fprintf(stderr, "rosterctl: store: %s\n", store_errmsg(st));
		return EXIT_FAIL;
	}
	if (argc == 2) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
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
		       jint(last, "id"), json_string_value(json_object_get(last, "outcome")),
		       json_string_value(json_object_get(last, "started_at")),
		       json_number_value(json_object_get(last, "duration")),
		       jint(last, "entries_read"), jint(last, "created"), jint(last, "updated"),
		       jint(last, "disabled"), jint(last, "enabled"), jint(last, "rejected"));
		if (json_is_string(e))
			printf("          %s\n", json_string_value(e));
	} else {
		printf("last run: none yet\n");
	}
	held = json_object_get(o, "held_runs");
	for (i = 0; i < json_array_size(held); i++) {
		json_t *h = json_array_get(held, i);
		printf("held run %lld awaits approval: %s (rosterctl run approve %lld)\n",
		       jint(h, "id"), json_string_value(json_object_get(h, "error")), jint(h, "id"));
	}
	json_decref(o);
	return EXIT_OK;
}

const char *
operator_name(void)
{
	const char *u = getenv("SUDO_USER");
	struct passwd *pw;

	if (u != NULL && *u != '\0')
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

static int
cmd_run_approve(struct store *st, int argc, char **argv)
{
	char err[512], *end;
	long long id;

	if (argc != 3 || strcmp(argv[1], "approve") != 0)
		return usage_error("usage: rosterctl run approve ID%s", "");
	id = strtoll(argv[2], &end, 10);
	if (*end != '\0' || id < 1)
		return usage_error("run approve: \"%s\" is not a run id", argv[2]);
	if (query_run_approve(st, id, operator_name(), err, sizeof(err)) < 0) {
		fprintf(stderr, "rosterctl: %s\n", err);
		return EXIT_FAIL;
	}
	printf("run %lld approved: the next run with the same plan will go through\n", id);
	return EXIT_OK;
}

int
main(int argc, char **argv)
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
	action = ctl_action_known(argc, argv);
	if (!action && strcmp(argv[0], "user") == 0 &&
	    (argc < 2 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "list") != 0)))
		return usage_error("user needs a subcommand: show, list, verify, invite, disable, "
				   "enable, archive, restore or remove%s", "");
	if (!action && !(strcmp(argv[0], "status") == 0 || strcmp(argv[0], "runs") == 0 ||
	      strcmp(argv[0], "run") == 0 ||
	      (strcmp(argv[0], "user") == 0 && argc >= 2 &&
	       (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "list") == 0))))
		return usage_error("unknown command \"%s\"", argv[0]);

	if (conf_load(path, 0, &cf, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_CONFIG;
	}
	r = store_open(cf->store.path, cf->store.busy_timeout, STORE_NOCREATE | STORE_SAMESCHEMA,
		       &st, err, sizeof(err));
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
	else if (strcmp(argv[1], "show") == 0)
		r = cmd_user_show(st, argc - 1, argv + 1);
	else
		r = cmd_user_list(st, argc - 1, argv + 1);
	store_close(st);
	conf_free(cf);
	return r;
}
