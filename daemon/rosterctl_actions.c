/*
 * rosterctl_actions.c: the operator's actions: account states (user verify,
 * invite, disable, enable, archive, restore, remove), courses (course add,
 * list, show), assignments (assign, unassign) and the outbox. Changes go
 * through actions.c, audited as "operator:<name>", in one transaction per
 * command: a command on several people (arguments, or --from a file or
 * standard input) changes all of them or, when one fails, none. The people
 * a command names (names_get, for_each_person) serve rosterctl_admin.c too,
 * whose commands ctl_action() hands on.
 */
#include "rosterctl.h"
#include "util.h"
#include "actions.h"
#include "query.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void
ctl_action_usage(FILE *out)
{
	fputs("  user verify|invite|disable|enable|archive|restore [--reason TEXT]\n"
	      "       UID... | --from FILE         change accounts (FILE - is stdin,\n"
	      "                                    one username a line)\n"
	      "  user remove UID... | --from FILE --yes\n"
	      "                                    purge people and their records\n"
	      "  user relink [--reason TEXT] UID... | --from FILE\n"
	      "                                    bind people whose entry is gone to the\n"
	      "                                    entry the last run rejected for their\n"
	      "                                    username (made again), records kept\n"
	      "  course add CODE [--title T] [--licences N]\n"
	      "  course list [--format table|csv|json|xlsx] [--output FILE]\n"
	      "  course show CODE [--format table|csv|json|xlsx] [--output FILE]\n"
	      "  assign UID... | --from FILE COURSE [--due YYYY-MM-DD]\n"
	      "       [--expires YYYY-MM-DD]         assign a course\n"
	      "  unassign UID... COURSE | unassign --from FILE COURSE\n"
	      "                                    give back never-started courses\n"
	      "  outbox [--all] [--format table|csv|json|xlsx] [--output FILE]\n"
	      "                                    notifications queued for the mailer\n",
	      out);
	ctl_admin_usage(out);
}

/* The user commands that are no state change of enum act_op. */
enum { USER_REMOVE = -1, USER_RELINK = -2 };

static const struct {
	const char *name;
	int op;                /* enum act_op, or USER_REMOVE, USER_RELINK */
} user_ops[] = {
	{ "verify", ACT_VERIFY }, { "invite", ACT_INVITE }, { "disable", ACT_DISABLE },
	{ "enable", ACT_ENABLE }, { "archive", ACT_ARCHIVE }, { "restore", ACT_RESTORE },
	{ "remove", USER_REMOVE }, { "relink", USER_RELINK },
};
#define NUSER_OPS (sizeof(user_ops) / sizeof(user_ops[0]))

bool
ctl_action_known(int argc, char **argv)
{
	if (ctl_admin_known(argc, argv))
		return true;
	if (strcmp(argv[0], "course") == 0 || strcmp(argv[0], "assign") == 0 ||
	    strcmp(argv[0], "unassign") == 0 || strcmp(argv[0], "outbox") == 0)
		return true;
	if (strcmp(argv[0], "user") != 0 || argc < 2)
		return false;
	for (size_t i = 0; i < NUSER_OPS; i++)
		if (strcmp(argv[1], user_ops[i].name) == 0)
			return true;
	return false;
}

/* ---- usernames ------------------------------------------------------------------ */

void
names_free(struct names *nm)
{
	for (size_t i = 0; nm->from != NULL && i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	free(nm->line);
}

/* Add name s, read on line ln of the file. 0 or -ENOMEM. */
static int
names_add(struct names *nm, const char *s, size_t ln)
{
	char **v = reallocarray(nm->v, nm->n + 1, sizeof(*v));
	size_t *l;

	if (v == NULL)
		return -ENOMEM;
	nm->v = v;
	l = reallocarray(nm->line, nm->n + 1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	nm->line = l;
	if ((v[nm->n] = strdup(s)) == NULL)
		return -ENOMEM;
	l[nm->n++] = ln;
	return 0;
}

/* One username a line of path ("-": standard input); blank lines and lines
 * starting with # are skipped, spaces around a name dropped. What the file
 * holds is never printed back (rosterctl may run with more rights than
 * whoever chose the file): messages give its line numbers. */
static int
names_read(const char *path, struct names *nm)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, ln = 0;
	ssize_t len;
	int r = 0;

	nm->from = strcmp(path, "-") == 0 ? "standard input" : path;
	if (f == NULL) {
		r = -errno;
		fprintf(stderr, "rosterctl: %s: %s\n", ctl_safe(path), strerror(errno));
		return r;
	}
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0) {
		char *s = line, *e = line + len;

		ln++;
		while (s < e && strchr(" \t\r\n", *s))
			s++;
		while (e > s && strchr(" \t\r\n", e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		*e = '\0';
		r = names_add(nm, s, ln);
	}
	if (r == 0 && ferror(f)) {
		r = -EIO;
		fprintf(stderr, "rosterctl: %s: cannot read it after line %zu\n", ctl_safe(nm->from),
			ln);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return r;
}

int
names_get(const char *from, int first, int last, char **argv, struct names *nm)
{
	memset(nm, 0, sizeof(*nm));
	if (from != NULL) {
		if (last > first)
			return usage_error("give usernames or --from, not both%s", "");
		if (names_read(from, nm) < 0) {
			names_free(nm);
			return EXIT_FAIL;
		}
		if (nm->n == 0) {
			fprintf(stderr, "rosterctl: no usernames in %s\n", ctl_safe(nm->from));
			names_free(nm);
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}
	if (last <= first)
		return usage_error("which people? Give usernames, or --from -%s", "");
	nm->v = calloc((size_t)(last - first), sizeof(*nm->v));
	if (nm->v == NULL)
		return EXIT_FAIL;
	for (int i = first; i < last; i++)
		nm->v[nm->n++] = argv[i];
	return EXIT_OK;
}

/* ---- running actions ------------------------------------------------------------- */

/* Begin a transaction and an action handle acting as the operator. */
static int
act_begin(struct store *st, char actor[300], struct act **a)
{
	char now[21];

	time_now_iso(now);
	snprintf(actor, 300, "operator:%s", operator_name());
	if (store_begin(st) < 0) {
		fprintf(stderr, "rosterctl: cannot lock the store for writing: %s\n",
			ctl_safe(store_errmsg(st)));
		return -EIO;
	}
	if (act_new(st, now, 0, a) < 0) {
		fprintf(stderr, "rosterctl: store: %s\n", store_errmsg(st));
		store_rollback(st);
		return -EIO;
	}
	act_set_actor(*a, actor);
	return 0;
}

/* Commit (ok) or roll back, then print what was done; the exit status. */
static int
act_finish(struct store *st, struct act *a, bool ok, char *done, size_t ndone)
{
	act_free(a);
	if (!ok) {
		store_rollback(st);
		return EXIT_FAIL;
	}
	if (store_commit(st) < 0) {
		fprintf(stderr, "rosterctl: store: commit failed: %s\n", store_errmsg(st));
		store_rollback(st);
		return EXIT_FAIL;
	}
	fwrite(done, 1, ndone, stdout);
	return EXIT_OK;
}

/* Whether person id is among the first n of ids; else it is added there. */
static bool
seen_before(long long *ids, size_t n, long long id)
{
	for (size_t k = 0; k < n; k++)
		if (ids[k] == id)
			return true;
	ids[n] = id;
	return false;
}

/* Say why name number i of nm could not be acted on: from a file, by its
 * line (the name is the file's content) unless it was found in the store. */
static void
person_failed(const struct names *nm, size_t i, bool found, struct act *a)
{
	if (nm->from == NULL)
		fprintf(stderr, "rosterctl: %s\n", ctl_safe(act_message(a)));
	else if (found)
		fprintf(stderr, "rosterctl: %s:%zu: %s\n", ctl_safe(nm->from), nm->line[i],
			ctl_safe(act_message(a)));
	else
		fprintf(stderr, "rosterctl: %s:%zu: no such user in the store\n",
			ctl_safe(nm->from), nm->line[i]);
}

/* See rosterctl.h; a person named twice, in whatever case, is acted on once. */
int
for_each_person(struct store *st, struct names *nm, person_fn fn, void *arg)
{
	char actor[300], *done = NULL;
	size_t ndone = 0, failed = 0, nids = 0;
	FILE *out = open_memstream(&done, &ndone);
	long long *ids = calloc(nm->n, sizeof(*ids));
	struct act *a = NULL;
	int r;

	if (out == NULL || ids == NULL || act_begin(st, actor, &a) < 0) {
		if (out != NULL)
			fclose(out);
		free(done);
		free(ids);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < nm->n; i++) {
		long long id;
		bool found;

		r = act_find_person(a, nm->v[i], &id);
		found = r == 0;
		if (found && seen_before(ids, nids, id))
			continue;
		nids += found;
		if (found)
			r = fn(a, id, arg);
		if (r == -EIO) {
			fprintf(stderr, "rosterctl: store: %s\n", ctl_safe(store_errmsg(st)));
			failed++;
			break;
		}
		if (r < 0) {
			person_failed(nm, i, found, a);
			failed++;
		} else {
			fprintf(out, "%s\n", ctl_safe(act_message(a)));
		}
	}
	free(ids);
	fclose(out);
	if (failed > 0)
		fprintf(stderr, "rosterctl: %zu of %zu failed: nothing was changed\n", failed, nm->n);
	r = act_finish(st, a, failed == 0, done, ndone);
	free(done);
	return r;
}

/* ---- user ------------------------------------------------------------------------ */

struct user_op {
	int op;
	const char *reason;
};

static int
user_one(struct act *a, long long person, void *arg)
{
	struct user_op *u = arg;

	if (u->op == USER_REMOVE)
		return act_remove(a, person);
	if (u->op == USER_RELINK)
		return act_relink(a, person, u->reason);
	return act_status(a, person, (enum act_op)u->op, u->reason);
}

static int
cmd_user(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'f' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	struct user_op u = { 0 };
	const char *from = NULL;
	struct names nm;
	bool yes = false;
	int c, r;

	for (size_t i = 0; i < NUSER_OPS; i++)
		if (strcmp(argv[1], user_ops[i].name) == 0)
			u.op = user_ops[i].op;
	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': u.reason = optarg; break;
		case 'f': from = optarg; break;
		case 'y': yes = true; break;
		default: return usage_error("user %s: bad option", argv[1]);
		}
	}
	if (u.op == USER_REMOVE && !yes)
		return usage_error("user remove purges people and all their training records "
				   "for good: add --yes%s", "");
	if (u.op != USER_REMOVE && yes)
		return usage_error("--yes is for user remove only%s", "");
	if ((r = names_get(from, optind + 1, argc, argv, &nm)) != EXIT_OK)
		return r;
	r = for_each_person(st, &nm, user_one, &u);
	names_free(&nm);
	return r;
}

/* ---- assign, unassign --------------------------------------------------------------- */

struct assign_op {
	const char *course, *due, *expires;
	bool unassign;
};

static int
assign_one(struct act *a, long long person, void *arg)
{
	struct assign_op *o = arg;

	if (o->unassign)
		return act_unassign(a, person, o->course, false);
	return act_assign_until(a, person, o->course, o->due, o->expires, 0);
}

static int
cmd_assign(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "due", required_argument, NULL, 'd' },
		{ "expires", required_argument, NULL, 'e' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct assign_op o = { .unassign = strcmp(argv[0], "unassign") == 0 };
	const char *from = NULL;
	struct names nm;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (o.unassign)
				return usage_error("unassign takes no --due%s", "");
			if (!act_date_ok(optarg))
				return usage_error("--due must be a date YYYY-MM-DD, not \"%s\"", optarg);
			o.due = optarg;
			break;
		case 'e':
			if (o.unassign)
				return usage_error("unassign takes no --expires%s", "");
			if (!act_date_ok(optarg))
				return usage_error("--expires must be a date YYYY-MM-DD, not \"%s\"",
						   optarg);
			o.expires = optarg;
			break;
		case 'f': from = optarg; break;
		default: return usage_error("%s: bad option", argv[0]);
		}
	}
	if (optind >= argc)
		return usage_error("%s needs a course code", argv[0]);
	o.course = argv[argc - 1];
	if ((r = names_get(from, optind, argc - 1, argv, &nm)) != EXIT_OK)
		return r;
	r = for_each_person(st, &nm, assign_one, &o);
	names_free(&nm);
	return r;
}

/* ---- course ----------------------------------------------------------------------- */

static int
course_add(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "title", required_argument, NULL, 't' },
		{ "licences", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *title = NULL;
	long long limit = -1;
	char actor[300], *end, line[1100];
	struct act *a = NULL;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': title = optarg; break;
		case 'l':
			limit = strtoll(optarg, &end, 10);
			if (*end != '\0' || optarg[0] == '\0' || limit < 0 || limit > 100000000)
				return usage_error("--licences must be a number from 0, not \"%s\"", optarg);
			break;
		default: return usage_error("course add: bad option%s", "");
		}
	}
	if (optind + 1 != argc)
		return usage_error("course add needs one course code%s", "");
	if (!act_code_ok(argv[optind]))
		return usage_error("\"%s\" is not a course code (1 to 64 of A-Z a-z 0-9 _ - .)",
				   argv[optind]);
	if (title != NULL && !utf8_valid(title, strlen(title)))
		return usage_error("--title is not UTF-8%s", "");
	if (act_begin(st, actor, &a) < 0)
		return EXIT_FAIL;
	r = act_course_define(a, argv[optind], title, limit, false);
	if (r < 0)
		fprintf(stderr, "rosterctl: %s\n",
			ctl_safe(r == -EIO ? store_errmsg(st) : act_message(a)));
	snprintf(line, sizeof(line), "%s\n", ctl_safe(act_message(a)));
	return act_finish(st, a, r >= 0, line, strlen(line));
}

/* --format, --output (and --all where all is not NULL) into p. */
static int
format_opt(int argc, char **argv, const char *what, struct printer *p, bool *all)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f' && parse_format(optarg, &p->fmt) == 0)
			continue;
		if (c == 'o') {
			p->output = optarg;
			continue;
		}
		if (c == 'a' && all != NULL) {
			*all = true;
			continue;
		}
		if (c == 'f')
			return usage_error("--format must be table, csv, json or xlsx, not \"%s\"",
					   optarg);
		return usage_error("%s: bad option", what);
	}
	return EXIT_OK;
}

static int
course_list(struct store *st, int argc, char **argv)
{
	static const char *const cols[] = {
		"code", "title", "licence_limit", "in_use", "pending", "waiting", "enrolled",
		"in_progress", "completed",
	};
	struct printer p = { .fmt = FMT_TABLE, .cols = cols, .ncols = 9, .out = stdout };
	int r = format_opt(argc, argv, "course list", &p, NULL);

	if (r != EXIT_OK)
		return r;
	if (optind != argc)
		return usage_error("course list: unexpected argument \"%s\"", argv[optind]);
	if ((r = printer_begin(&p)) != EXIT_OK)
		return r;
	return printer_finish(st, &p, query_courses(st, print_row, &p));
}

static int
append(json_t *row, void *arg)
{
	return json_array_append(arg, row) == 0 ? 0 : -ENOMEM;
}

static long long
jnum(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* course show --format json: the course o with its assignments, one
 * document; o is given up. */
static int
course_json(struct store *st, struct printer *p, json_t *o, const char *code)
{
	json_t *list = json_array();
	char *s;
	int r = list ? query_course_assignments(st, code, append, list) : -ENOMEM;

	if (r == 0 && json_object_set_new(o, "assignments", list) == 0) {
		s = json_dumps(o, JSON_PRETTY);
		fprintf(p->out, "%s\n", s ? s : "");
		free(s);
	} else {
		json_decref(list);
	}
	json_decref(o);
	if (r < 0)
		fprintf(stderr, "rosterctl: store: %s\n", store_errmsg(st));
	if (p->output != NULL && output_close(p, r >= 0) != EXIT_OK)
		return EXIT_FAIL;
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

/* course show as a table: four lines about the course o. */
static void
course_head(FILE *out, json_t *o, const char *code)
{
	json_t *t = json_object_get(o, "title");

	fprintf(out, "%-10s %s\n%-10s %s\n", "code", ctl_safe(code), "title",
		json_is_string(t) ? ctl_safe(json_string_value(t)) : "-");
	if (json_is_integer(json_object_get(o, "licence_limit")))
		fprintf(out, "%-10s %lld of %lld in use\n", "licences", jnum(o, "in_use"),
			jnum(o, "licence_limit"));
	else
		fprintf(out, "%-10s %lld in use, no limit\n", "licences", jnum(o, "in_use"));
	fprintf(out, "%-10s %lld pending, %lld waiting, %lld enrolled, %lld in progress, "
		"%lld completed\n\n", "people", jnum(o, "pending"), jnum(o, "waiting"),
		jnum(o, "enrolled"), jnum(o, "in_progress"), jnum(o, "completed"));
}

static int
course_show(struct store *st, int argc, char **argv)
{
	static const char *const cols[] = {
		"username", "status", "due", "assigned_at", "started_at", "completed_at", "source",
	};
	struct printer p = { .fmt = FMT_TABLE, .cols = cols, .ncols = 7, .out = stdout };
	json_t *o = NULL;
	int r = format_opt(argc, argv, "course show", &p, NULL);

	if (r != EXIT_OK)
		return r;
	if (optind + 1 != argc)
		return usage_error("course show needs one course code%s", "");
	r = query_course(st, argv[optind], &o);
	if (r == -ENOENT) {
		fprintf(stderr, "rosterctl: no course \"%s\"\n", ctl_safe(argv[optind]));
		return EXIT_FAIL;
	}
	if (r < 0)
		return printer_finish(st, &p, r);
	if ((r = printer_begin(&p)) != EXIT_OK) {
		json_decref(o);
		return r;
	}
	if (p.fmt == FMT_JSON)
		return course_json(st, &p, o, argv[optind]);
	if (p.fmt == FMT_TABLE)
		course_head(p.out, o, argv[optind]);
	json_decref(o);
	return printer_finish(st, &p, query_course_assignments(st, argv[optind], print_row, &p));
}

static int
cmd_course(struct store *st, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return course_add(st, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return course_list(st, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return course_show(st, argc - 1, argv + 1);
	return usage_error("course needs a subcommand: add, list or show%s", "");
}

/* ---- outbox ----------------------------------------------------------------------- */

static int
cmd_outbox(struct store *st, int argc, char **argv)
{
	static const char *const cols[] = {
		"id", "created_at", "kind", "username", "email", "course", "due", "message",
		"source", "sent_at",
	};
	struct printer p = { .fmt = FMT_TABLE, .cols = cols, .ncols = 10, .out = stdout };
	bool all = false;
	int r = format_opt(argc, argv, "outbox", &p, &all);

	if (r != EXIT_OK)
		return r;
	if (optind != argc)
		return usage_error("outbox: unexpected argument \"%s\"", argv[optind]);
	if ((r = printer_begin(&p)) != EXIT_OK)
		return r;
	return printer_finish(st, &p, query_outbox(st, all, print_row, &p));
}

int
ctl_action(struct store *st, int argc, char **argv)
{
	if (ctl_admin_known(argc, argv))
		return ctl_admin(st, argc, argv);
	if (strcmp(argv[0], "user") == 0)
		return cmd_user(st, argc, argv);
	if (strcmp(argv[0], "course") == 0)
		return cmd_course(st, argc, argv);
	if (strcmp(argv[0], "outbox") == 0)
		return cmd_outbox(st, argc, argv);
	return cmd_assign(st, argc, argv);
}
