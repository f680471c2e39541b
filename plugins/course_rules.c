/*
 * course_rules.c: assign courses by rule. Each rule matches people by
 * effective group, department, location, title or custom field (exact values
 * or fnmatch(3) globs; every criterion given must match, any value of a
 * list may) and gives course codes with a due date: due_days after the
 * assignment, or a fixed date; and, with expire_days, access that ends that
 * many days after the assignment (the host expires it). A person is evaluated when they appear,
 * change, come back or join or leave a group; every invited or active person
 * is evaluated again in the run after the rules change, so a new rule reaches
 * the people who already match it. Optionally a rule's courses are given back
 * (never started ones only) when the person stops matching it. A rule may
 * recur: a completed assignment older than recur_days is archived and a new
 * one assigned. Courses (with licence limits) may be defined here too.
 *
 * The host applies and audits every assignment; this plugin only decides.
 * A course the store does not have is logged by the host and skipped, so a
 * typo in one rule does not stop every sync.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rosterd/plugin.h>

#include "util.h"

#define H(ctx) ((ctx)->host)

struct field_crit {
	char *name;
	struct pu_list values;
};

struct rule {
	int index;
	struct pu_list group, department, location, title;
	struct field_crit *fields;
	size_t nfields;
	bool everyone, unassign;
	struct pu_list courses;
	long long due_days;      /* -1: none */
	const char *due;         /* fixed date, or NULL (from the settings tree) */
	long long recur_days;    /* 0: once */
	long long expire_days;   /* 0: access without end */
};

struct state {
	struct rule *rules;
	size_t nrules;
	bool uses_groups;
	char digest[17];
	/* the person of the last group event evaluated, and that event's run */
	char last[256], last_now[32];
	long long last_run;
};

static void
rule_free(struct rule *r)
{
	pu_list_free(&r->group);
	pu_list_free(&r->department);
	pu_list_free(&r->location);
	pu_list_free(&r->title);
	for (size_t i = 0; i < r->nfields; i++) {
		free(r->fields[i].name);
		pu_list_free(&r->fields[i].values);
	}
	free(r->fields);
	pu_list_free(&r->courses);
}

static void
fini(void *arg)
{
	struct state *st = arg;

	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nrules; i++)
		rule_free(&st->rules[i]);
	free(st->rules);
	free(st);
}

/* ---- settings ------------------------------------------------------------------ */

static int
read_courses(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg)
{
	static const char *const known[] = { "code", "title", "licences", NULL };
	const struct rosterd_setting *list = H(ctx)->setting_get(cfg, "courses");
	int bad = 0;

	if (list == NULL)
		return 0;
	if (H(ctx)->setting_type(list) != ROSTERD_SETTING_LIST)
		return H(ctx)->setting_error(ctx, list, "must be a list ( { code = \"...\"; } )");
	for (int i = 0; i < H(ctx)->setting_count(list); i++) {
		const struct rosterd_setting *c = H(ctx)->setting_at(list, i);
		const char *code = NULL, *title = NULL;
		long long licences = -1;
		int r;

		if (H(ctx)->setting_type(c) != ROSTERD_SETTING_GROUP) {
			bad += H(ctx)->setting_error(ctx, c, "must be a group { code = \"...\"; }") < 0;
			continue;
		}
		bad += H(ctx)->setting_check(ctx, c, known) > 0;
		if (pu_string(ctx, c, "code", &code) < 0 || pu_string(ctx, c, "title", &title) < 0 ||
		    pu_int(ctx, c, "licences", -1, 0, 100000000, &licences) < 0) {
			bad++;
			continue;
		}
		if (code == NULL) {
			bad += H(ctx)->setting_error(ctx, c, "needs a code") < 0;
			continue;
		}
		r = H(ctx)->define_course(ctx, code, title, licences);
		if (r == -EINVAL)
			bad += H(ctx)->setting_error(ctx, H(ctx)->setting_get(c, "code"),
						     "\"%s\" is not a course code (1 to 64 of A-Z a-z "
						     "0-9 _ - .)", code) < 0;
		else if (r == -EEXIST || r == -EBUSY)
			bad += H(ctx)->setting_error(ctx, H(ctx)->setting_get(c, "code"),
						     "course %s is defined twice", code) < 0;
		else if (r < 0)
			return r;
	}
	return bad ? -EINVAL : 0;
}

static int
read_fields(struct rosterd_ctx *ctx, const struct rosterd_setting *rs, struct rule *r)
{
	const struct rosterd_setting *f = H(ctx)->setting_get(rs, "field");
	int n;

	if (f == NULL)
		return 0;
	if (H(ctx)->setting_type(f) != ROSTERD_SETTING_GROUP || H(ctx)->setting_count(f) == 0)
		return H(ctx)->setting_error(ctx, f, "must be a group { custom_field = \"value\"; }");
	n = H(ctx)->setting_count(f);
	r->fields = calloc((size_t)n, sizeof(*r->fields));
	if (r->fields == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const struct rosterd_setting *m = H(ctx)->setting_at(f, i);
		struct field_crit *fc = &r->fields[r->nfields];

		if ((fc->name = strdup(H(ctx)->setting_name(m))) == NULL)
			return -ENOMEM;
		r->nfields++;
		if (pu_list(ctx, f, fc->name, &fc->values) < 0)
			return -EINVAL;
	}
	return 0;
}

static int
read_rule(struct rosterd_ctx *ctx, const struct rosterd_setting *rs, bool unassign_default,
	  struct rule *r)
{
	static const char *const known[] = {
		"group", "department", "location", "title", "field", "everyone", "courses",
		"due_days", "due", "recur_days", "expire_days", "unassign", NULL,
	};
	long day;
	int e = 0;

	if (H(ctx)->setting_type(rs) != ROSTERD_SETTING_GROUP)
		return H(ctx)->setting_error(ctx, rs, "must be a group { group = \"...\"; "
					     "courses = [ ... ]; }");
	if (H(ctx)->setting_check(ctx, rs, known) > 0)
		e = -EINVAL;
	if (pu_list(ctx, rs, "group", &r->group) < 0 ||
	    pu_list(ctx, rs, "department", &r->department) < 0 ||
	    pu_list(ctx, rs, "location", &r->location) < 0 ||
	    pu_list(ctx, rs, "title", &r->title) < 0 ||
	    pu_list(ctx, rs, "courses", &r->courses) < 0 ||
	    read_fields(ctx, rs, r) < 0 ||
	    pu_bool(ctx, rs, "everyone", false, &r->everyone) < 0 ||
	    pu_bool(ctx, rs, "unassign", unassign_default, &r->unassign) < 0 ||
	    pu_int(ctx, rs, "due_days", -1, 0, 3650, &r->due_days) < 0 ||
	    pu_int(ctx, rs, "recur_days", 0, 1, 36500, &r->recur_days) < 0 ||
	    pu_int(ctx, rs, "expire_days", 0, 1, 36500, &r->expire_days) < 0 ||
	    pu_string(ctx, rs, "due", &r->due) < 0)
		return -EINVAL;
	if (r->courses.n == 0)
		e = H(ctx)->setting_error(ctx, rs, "needs courses = [ \"CODE\", ... ]");
	if (!r->everyone && r->group.n + r->department.n + r->location.n + r->title.n +
	    r->nfields == 0)
		e = H(ctx)->setting_error(ctx, rs, "matches no one: give group, department, "
					  "location, title or field, or everyone = true");
	if (r->due != NULL && r->due_days >= 0)
		e = H(ctx)->setting_error(ctx, H(ctx)->setting_get(rs, "due"),
					  "give due or due_days, not both");
	if (r->expire_days > 0 && !ROSTERD_HAS(H(ctx), struct rosterd_host, assign_course_until))
		e = H(ctx)->setting_error(ctx, H(ctx)->setting_get(rs, "expire_days"),
					  "needs a rosterd of plugin ABI 1.1 or later");
	if (r->due != NULL && (strlen(r->due) != 10 || pu_day(r->due, &day) < 0))
		e = H(ctx)->setting_error(ctx, H(ctx)->setting_get(rs, "due"),
					  "\"%s\" is not a date YYYY-MM-DD", r->due);
	return e;
}

static void
digest_list(unsigned long long *h, const struct pu_list *l)
{
	*h = pu_hash(*h, &l->n, sizeof(l->n));
	for (size_t i = 0; i < l->n; i++)
		*h = pu_hash(*h, l->v[i], strlen(l->v[i]));
}

/* A fingerprint of the rules: when it changes, everyone is evaluated again. */
static void
digest_rules(struct state *st)
{
	unsigned long long h = PU_HASH_INIT;

	for (size_t i = 0; i < st->nrules; i++) {
		struct rule *r = &st->rules[i];
		long long nums[] = { r->everyone, r->unassign, r->due_days, r->recur_days };

		digest_list(&h, &r->group);
		digest_list(&h, &r->department);
		digest_list(&h, &r->location);
		digest_list(&h, &r->title);
		for (size_t k = 0; k < r->nfields; k++) {
			h = pu_hash(h, r->fields[k].name, strlen(r->fields[k].name));
			digest_list(&h, &r->fields[k].values);
		}
		digest_list(&h, &r->courses);
		h = pu_hash(h, nums, sizeof(nums));
		h = pu_hash(h, r->due ? r->due : "", r->due ? strlen(r->due) : 0);
		/* only when set: rules without it keep the digest they had */
		if (r->expire_days > 0)
			h = pu_hash(h, &r->expire_days, sizeof(r->expire_days));
	}
	snprintf(st->digest, sizeof(st->digest), "%016llx", h);
}

static int
init(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg, void **out)
{
	static const char *const known[] = { "courses", "rules", "unassign", NULL };
	const struct rosterd_setting *rules = H(ctx)->setting_get(cfg, "rules");
	struct state *st = calloc(1, sizeof(*st));
	bool unassign = false;
	int e = 0, n;

	if (st == NULL)
		return -ENOMEM;
	if (H(ctx)->setting_check(ctx, cfg, known) > 0)
		e = -EINVAL;
	if (pu_bool(ctx, cfg, "unassign", false, &unassign) < 0)
		e = -EINVAL;
	if (read_courses(ctx, cfg) < 0)
		e = -EINVAL;
	if (rules != NULL && H(ctx)->setting_type(rules) != ROSTERD_SETTING_LIST) {
		e = H(ctx)->setting_error(ctx, rules, "must be a list ( { ... }, ... )");
		rules = NULL;
	}
	n = H(ctx)->setting_count(rules);
	if (n > 0 && (st->rules = calloc((size_t)n, sizeof(*st->rules))) == NULL) {
		fini(st);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct rule *r = &st->rules[st->nrules++];
		int rr;

		r->index = i;
		rr = read_rule(ctx, H(ctx)->setting_at(rules, i), unassign, r);
		if (rr == -ENOMEM) {
			fini(st);
			return rr;
		}
		if (rr < 0)
			e = rr;
		if (r->group.n > 0)
			st->uses_groups = true;
	}
	if (e < 0) {
		fini(st);
		return e;
	}
	digest_rules(st);
	*out = st;
	return 0;
}

/* ---- deciding ------------------------------------------------------------------ */

static bool
rule_matches(struct rosterd_ctx *ctx, const struct rule *r, const struct rosterd_person *p,
	     const char *const *groups, size_t ngroups)
{
	if (r->everyone)
		return true;
	if (r->department.n && !pu_list_match(&r->department, p->department, false))
		return false;
	if (r->location.n && !pu_list_match(&r->location, p->location, false))
		return false;
	if (r->title.n && !pu_list_match(&r->title, p->title, false))
		return false;
	for (size_t i = 0; i < r->nfields; i++)
		if (!pu_list_match(&r->fields[i].values,
				   H(ctx)->person_field(ctx, p, r->fields[i].name), false))
			return false;
	if (r->group.n) {
		size_t i;
		for (i = 0; i < ngroups; i++)
			if (pu_list_match(&r->group, groups[i], true))
				break;
		if (i == ngroups)
			return false;
	}
	return true;
}

/* Whether course is among the courses of a matching rule. */
static bool
wanted(const struct state *st, const bool *match, const char *course)
{
	for (size_t i = 0; i < st->nrules; i++)
		for (size_t k = 0; match[i] && k < st->rules[i].courses.n; k++)
			if (strcmp(st->rules[i].courses.v[k], course) == 0)
				return true;
	return false;
}

/* Assign course by rule ru to username, today being that day number. */
static int
give(struct rosterd_ctx *ctx, const struct rule *ru, const char *username, const char *course,
     long today)
{
	char due[11], expires[11];

	if (ru->due_days >= 0)
		pu_day_text(today + (long)ru->due_days, due);
	if (ru->expire_days == 0)
		return H(ctx)->assign_course(ctx, username, course,
					     ru->due_days >= 0 ? due : ru->due, (int)ru->recur_days);
	pu_day_text(today + (long)ru->expire_days, expires);
	return H(ctx)->assign_course_until(ctx, username, course, ru->due_days >= 0 ? due : ru->due,
					   expires, (int)ru->recur_days);
}

/* Assign what the matching rules give p, and give back what rules with
 * unassign no longer give. Only a store failure is an error. */
static int
evaluate(struct rosterd_ctx *ctx, struct state *st, const struct rosterd_person *p,
	 const char *now)
{
	const char *const *groups = NULL;
	size_t ngroups = 0;
	bool *match;
	long today;
	int r = 0;

	if (strcmp(p->status, "invited") != 0 && strcmp(p->status, "active") != 0)
		return 0;
	if (st->uses_groups && (r = H(ctx)->person_groups(ctx, p, &groups, &ngroups)) < 0)
		return r;
	if (pu_day(now, &today) < 0)
		return -EINVAL;
	match = calloc(st->nrules + 1, sizeof(*match));
	if (match == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < st->nrules; i++)
		match[i] = rule_matches(ctx, &st->rules[i], p, groups, ngroups);
	for (size_t i = 0; i < st->nrules && r != -EIO; i++) {
		const struct rule *ru = &st->rules[i];

		for (size_t k = 0; k < ru->courses.n && r != -EIO; k++) {
			const char *c = ru->courses.v[k];
			/* A course already assigned is left as it is: the first
			 * matching rule's due date holds. */
			if (match[i])
				r = give(ctx, ru, p->username, c, today);
			else if (ru->unassign && !wanted(st, match, c))
				r = H(ctx)->unassign_course(ctx, p->username, c);
		}
	}
	free(match);
	/* Refusals (a course the store lacks) are logged by the host. */
	return r == -EIO ? r : 0;
}

/* Whether the person was created in this run: the run applies every change
 * (memberships included) before the first event, so their created event
 * evaluated them with everything this run knows. */
static bool
new_this_run(const struct rosterd_person *p, const char *now)
{
	return p->member_since != NULL && strcmp(p->member_since, now) == 0;
}

static int
on_event(struct rosterd_ctx *ctx, void *arg, const struct rosterd_event *ev)
{
	struct state *st = arg;
	const char *user = ev->person->username;

	switch (ev->kind) {
	case ROSTERD_EV_CREATED:
	case ROSTERD_EV_UPDATED:
	case ROSTERD_EV_REAPPEARED:
		return evaluate(ctx, st, ev->person, ev->now);
	case ROSTERD_EV_GROUP_JOINED:
	case ROSTERD_EV_GROUP_LEFT:
		/* A person's group events come one after another, each seeing
		 * all of their memberships: one evaluation does for all. */
		if (!st->uses_groups || new_this_run(ev->person, ev->now) ||
		    (strcmp(st->last, user) == 0 && st->last_run == ev->run_id &&
		     strcmp(st->last_now, ev->now) == 0))
			return 0;
		snprintf(st->last, sizeof(st->last), "%s", user);
		snprintf(st->last_now, sizeof(st->last_now), "%s", ev->now);
		st->last_run = ev->run_id;
		return evaluate(ctx, st, ev->person, ev->now);
	default:
		return 0;
	}
}

struct pass {
	struct state *st;
	const char *now;
	bool skip_new;
};

static int
pass_one(struct rosterd_ctx *ctx, const struct rosterd_person *p, void *arg)
{
	struct pass *ps = arg;

	/* People created in this run were evaluated by their event already. */
	if (ps->skip_new && new_this_run(p, ps->now))
		return 0;
	return evaluate(ctx, ps->st, p, ps->now);
}

static int
run_end(struct rosterd_ctx *ctx, void *arg, const struct rosterd_event *ev)
{
	struct state *st = arg;
	struct pass ps = { st, ev->now, false };
	struct rosterd_query q = { .size = sizeof(q),
				   .statuses = ROSTERD_ST_INVITED | ROSTERD_ST_ACTIVE };
	char seen[32];
	int r;

	/* New or changed rules: everyone they may concern, once. */
	r = H(ctx)->state_get(ctx, "rules", seen, sizeof(seen));
	if (r == -ENOENT || (r >= 0 && strcmp(seen, st->digest) != 0)) {
		H(ctx)->log(ctx, ROSTERD_LOG_INFO, "the rules changed: evaluating everyone");
		ps.skip_new = true;
		r = H(ctx)->people_foreach(ctx, &q, pass_one, &ps);
		ps.skip_new = false;
		if (r < 0 ||
		    (r = H(ctx)->state_set(ctx, "rules", st->digest)) < 0)
			return r;
	} else if (r < 0) {
		return r;
	}
	/* Recurring training that has come round again. */
	for (size_t i = 0; i < st->nrules; i++) {
		const struct rule *ru = &st->rules[i];
		for (size_t k = 0; ru->recur_days > 0 && k < ru->courses.n; k++) {
			q.completed_course = ru->courses.v[k];
			q.completed_days = (int)ru->recur_days;
			if ((r = H(ctx)->people_foreach(ctx, &q, pass_one, &ps)) < 0)
				return r;
		}
	}
	return 0;
}

ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
	ROSTERD_PLUGIN_HEAD,
	.name = "course_rules",
	.version = "1.0",
	.init = init,
	.on_event = on_event,
	.run_end = run_end,
	.fini = fini,
};
