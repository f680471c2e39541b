/*
 * rosterctl_admin.c: what a learning platform's admin does beyond the
 * account states: a person's courses and when their access ends (access),
 * finished training archived and assigned again (assignment archive), roles
 * pinned against the directory's rules (user role), and the activity report
 * (report activity). Changes go through actions.c as rosterctl_actions.c's
 * do: audited as "operator:<name>", one transaction a command, all of the
 * people named or none.
 */
#include "rosterctl.h"
#include "util.h"
#include "actions.h"
#include "query.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void
ctl_admin_usage(FILE *out)
{
	fputs("  access UID [--format table|csv|json|xlsx] [--output FILE]\n"
	      "                                    a person's courses: status, due, access\n"
	      "  access UID... | --from FILE COURSE --expires YYYY-MM-DD|never\n"
	      "                                    when access to COURSE ends\n"
	      "  assignment archive UID... | --from FILE COURSE\n"
	      "       [--reassign [--due YYYY-MM-DD] [--expires YYYY-MM-DD]]\n"
	      "                                    archive completed training, assign again\n"
	      "  user role UID... | --from FILE admin|manager|learner|auto\n"
	      "                                    pin a role, or give it back to the\n"
	      "                                    directory's rules (auto)\n"
	      "  report activity [--month YYYY-MM | --from YYYY-MM-DD [--to YYYY-MM-DD]]\n"
	      "       [--format table|csv|json|xlsx] [--output FILE]\n"
	      "                                    what happened, a row a month\n", out);
}

bool
ctl_admin_known(int argc, char **argv)
{
	return strcmp(argv[0], "access") == 0 || strcmp(argv[0], "assignment") == 0 ||
	       strcmp(argv[0], "report") == 0 ||
	       (strcmp(argv[0], "user") == 0 && argc >= 2 && strcmp(argv[1], "role") == 0);
}

/* A date option's value: EXIT_OK, or the exit status of a usage error. */
static int
date_arg(const char *opt, const char *v)
{
	if (!act_date_ok(v))
		return usage_error(opt, v);
	return EXIT_OK;
}

/* ---- access ---------------------------------------------------------------- */

struct expiry_op {
	const char *course, *expires;   /* expires NULL: no end */
};

static int
expiry_one(struct act *a, long long person, void *arg)
{
	const struct expiry_op *o = arg;

	return act_set_expiry(a, person, o->course, o->expires);
}

/* access UID: the person's assignments. */
static int
access_list(struct store *st, const char *username, struct printer *p)
{
	static const char *const cols[] = {
		"code", "status", "due", "expires", "assigned_at", "completed_at", "ended_at",
		"source", "title", "started_at", "progress",
	};
	long long id;
	int r;

	p->cols = cols;
	p->ncols = p->fmt == FMT_TABLE ? 8 : 11;
	if ((r = find_person(st, username, &id)) != EXIT_OK || (r = printer_begin(p)) != EXIT_OK)
		return r;
	return printer_finish(st, p, query_access(st, id, print_row, p));
}

static int
cmd_access(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "expires", required_argument, NULL, 'e' },
		{ "from", required_argument, NULL, 'F' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct printer p = { .fmt = FMT_TABLE, .out = stdout };
	struct expiry_op o = { 0 };
	const char *from = NULL;
	bool listing_opts = false;
	struct names nm;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e': o.expires = optarg; break;
		case 'F': from = optarg; break;
		case 'o': p.output = optarg; listing_opts = true; break;
		case 'f':
			if (parse_format(optarg, &p.fmt) < 0)
				return usage_error("--format must be table, csv, json or xlsx, not \"%s\"",
						   optarg);
			listing_opts = true;
			break;
		default: return usage_error("access: bad option%s", "");
		}
	}
	if (o.expires == NULL) {
		if (from != NULL || optind + 1 != argc)
			return usage_error("access UID lists one person's courses; to end access: "
					   "access UID... COURSE --expires DATE|never%s", "");
		return access_list(st, argv[optind], &p);
	}
	if (listing_opts)
		return usage_error("access: --format and --output are for the listing, not "
				   "--expires%s", "");
	if (strcmp(o.expires, "never") == 0)
		o.expires = NULL;
	else if ((r = date_arg("--expires must be a date YYYY-MM-DD or never, not \"%s\"",
			       o.expires)) != EXIT_OK)
		return r;
	if (optind >= argc)
		return usage_error("access --expires needs a course code%s", "");
	o.course = argv[argc - 1];
	if ((r = names_get(from, optind, argc - 1, argv, &nm)) != EXIT_OK)
		return r;
	r = for_each_person(st, &nm, expiry_one, &o);
	names_free(&nm);
	return r;
}

/* ---- assignment archive ------------------------------------------------------ */

struct archive_op {
	const char *course, *due, *expires;
	bool again;
};

static int
archive_one(struct act *a, long long person, void *arg)
{
	const struct archive_op *o = arg;

	return act_archive_assignment(a, person, o->course, o->again, o->due, o->expires);
}

/* argv: "archive" and its arguments. */
static int
cmd_assignment_archive(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reassign", no_argument, NULL, 'r' },
		{ "due", required_argument, NULL, 'd' },
		{ "expires", required_argument, NULL, 'e' },
		{ "from", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct archive_op o = { 0 };
	const char *from = NULL;
	struct names nm;
	int c, r = EXIT_OK;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1 && r == EXIT_OK) {
		switch (c) {
		case 'r': o.again = true; break;
		case 'F': from = optarg; break;
		case 'd':
			o.due = optarg;
			r = date_arg("--due must be a date YYYY-MM-DD, not \"%s\"", optarg);
			break;
		case 'e':
			o.expires = optarg;
			r = date_arg("--expires must be a date YYYY-MM-DD, not \"%s\"", optarg);
			break;
		default: return usage_error("assignment archive: bad option%s", "");
		}
	}
	if (r != EXIT_OK)
		return r;
	if (!o.again && (o.due != NULL || o.expires != NULL))
		return usage_error("assignment archive: --due and --expires go with --reassign%s",
				   "");
	if (optind >= argc)
		return usage_error("assignment archive needs a course code%s", "");
	o.course = argv[argc - 1];
	if ((r = names_get(from, optind, argc - 1, argv, &nm)) != EXIT_OK)
		return r;
	r = for_each_person(st, &nm, archive_one, &o);
	names_free(&nm);
	return r;
}

/* ---- user role ----------------------------------------------------------------- */

static int
role_one(struct act *a, long long person, void *arg)
{
	return act_set_role(a, person, arg);
}

/* argv: "role" and its arguments. */
static int
cmd_user_role(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *role;
	struct names nm;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'F')
			return usage_error("user role: bad option%s", "");
		from = optarg;
	}
	if (optind >= argc)
		return usage_error("user role needs a role: admin, manager, learner or auto%s", "");
	role = argv[argc - 1];
	if (strcmp(role, "admin") && strcmp(role, "manager") && strcmp(role, "learner") &&
	    strcmp(role, "auto"))
		return usage_error("user role: the role is admin, manager, learner or auto, "
				   "not \"%s\"", role);
	if ((r = names_get(from, optind, argc - 1, argv, &nm)) != EXIT_OK)
		return r;
	r = for_each_person(st, &nm, role_one, strcmp(role, "auto") == 0 ? NULL : (void *)role);
	names_free(&nm);
	return r;
}

/* ---- report activity -------------------------------------------------------- */

struct period {
	const char *month, *from, *to;
	char first[11], last[11];
};

/* The report's days from the options (none: the month under way): EXIT_OK,
 * or the exit status of a usage error. */
static int
period_settle(struct period *pd, const char *now)
{
	char day[11];
	int r;

	if (pd->month != NULL && (pd->from != NULL || pd->to != NULL))
		return usage_error("report activity: --month, or --from and --to, not both%s", "");
	if (pd->to != NULL && pd->from == NULL)
		return usage_error("report activity: --to goes with --from%s", "");
	if (pd->from != NULL) {
		if ((r = date_arg("--from must be a date YYYY-MM-DD, not \"%s\"", pd->from)) ||
		    (pd->to && (r = date_arg("--to must be a date YYYY-MM-DD, not \"%s\"", pd->to))))
			return r;
		snprintf(pd->first, sizeof(pd->first), "%s", pd->from);
		snprintf(pd->last, sizeof(pd->last), "%.10s", pd->to ? pd->to : now);
		if (strcmp(pd->first, pd->last) > 0)
			return usage_error("report activity: --from is after --to%s", "");
	} else {
		snprintf(day, sizeof(day), "%.7s-01", pd->month ? pd->month : now);
		if ((pd->month && strlen(pd->month) != 7) || !act_date_ok(day))
			return usage_error("--month must be a month YYYY-MM, not \"%s\"", pd->month);
		snprintf(pd->first, sizeof(pd->first), "%s", day);
		query_month_end(day, pd->last);
	}
	if ((atoi(pd->last) - atoi(pd->first)) * 12 + atoi(pd->last + 5) - atoi(pd->first + 5) >=
	    QUERY_ACTIVITY_MONTHS)
		return usage_error("report activity: at most 1200 months%s", "");
	return EXIT_OK;
}

/* argv: "activity" and its options. */
static int
cmd_report_activity(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "month", required_argument, NULL, 'm' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct printer p = { .fmt = FMT_TABLE, .cols = query_activity_columns, .out = stdout };
	struct period pd = { 0 };
	char now[21];
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': pd.month = optarg; break;
		case 'F': pd.from = optarg; break;
		case 't': pd.to = optarg; break;
		case 'o': p.output = optarg; break;
		case 'f':
			if (parse_format(optarg, &p.fmt) < 0)
				return usage_error("--format must be table, csv, json or xlsx, not \"%s\"",
						   optarg);
			break;
		default: return usage_error("report activity: bad option%s", "");
		}
	}
	if (optind != argc)
		return usage_error("report activity: unexpected argument \"%s\"", argv[optind]);
	time_now_iso(now);
	if ((r = period_settle(&pd, now)) != EXIT_OK)
		return r;
	while (p.cols[p.ncols] != NULL)
		p.ncols++;
	if ((r = printer_begin(&p)) != EXIT_OK)
		return r;
	return printer_finish(st, &p, query_activity(st, pd.first, pd.last, now, print_row, &p));
}

int
ctl_admin(struct store *st, int argc, char **argv)
{
	if (strcmp(argv[0], "access") == 0)
		return cmd_access(st, argc, argv);
	if (strcmp(argv[0], "user") == 0)
		return cmd_user_role(st, argc - 1, argv + 1);
	if (strcmp(argv[0], "assignment") == 0) {
		if (argc < 2 || strcmp(argv[1], "archive") != 0)
			return usage_error("assignment needs a subcommand: archive%s", "");
		return cmd_assignment_archive(st, argc - 1, argv + 1);
	}
	if (argc < 2 || strcmp(argv[1], "activity") != 0)
		return usage_error("report needs a subcommand: activity%s", "");
	return cmd_report_activity(st, argc - 1, argv + 1);
}
