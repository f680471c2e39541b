/*
 * sync_print.c: what a sync run shows (sync_print.h): the dry run's plan on
 * its output, the rejected entries and the end of a run in the log. The
 * texts and MESSAGE_IDs are contracts (rosterd(8), the integration tests):
 * change them only on purpose.
 */
#include "log.h"
#include "sync_print.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LOGGED_REJECTS 100

static int
log_reject(const char *dn, const char *reason, void *arg)
{
	long long *n = arg;

	if (++*n <= MAX_LOGGED_REJECTS)
		log_fields(LOGL_WARN, &(struct log_ctx){ .dn = dn }, "entry \"%s\" rejected: %s",
			   dn, reason);
	return 0;
}

long long
sync_log_rejects(struct recon *rc)
{
	long long n = 0;

	recon_rejects_foreach(rc, log_reject, &n);
	if (n > MAX_LOGGED_REJECTS)
		log_warn("%lld more entries rejected", n - MAX_LOGGED_REJECTS);
	return n;
}

/* ---- the dry run's plan --------------------------------------------------- */

/* Directory text on its way to the plan: escaped where it could forge a
 * line or draw as something else (util.h's text_safe). The copies a line
 * needs are kept here and freed with it. */
struct esc {
	char *copy[4];
	int n;
};

static const char *
esc(struct esc *e, const char *s)
{
	char *t;

	if (s == NULL || text_safe(s, strlen(s), NULL))
		return s;
	if (e->n == 4 || text_escape(s, strlen(s), &t) < 0)
		return "(unprintable)";
	return e->copy[e->n++] = t;
}

static void
esc_free(struct esc *e)
{
	while (e->n > 0)
		free(e->copy[--e->n]);
}

static int
print_change(const struct recon_change *c, void *arg)
{
	FILE *out = arg;
	struct esc e = { .n = 0 };
	const char *user = c->username ? esc(&e, c->username) : "-";

	if (c->dn != NULL)
		fprintf(out, "%-8s %-20s \"%s\"  %s\n", c->action, user, esc(&e, c->dn),
			c->reason ? esc(&e, c->reason) : "");
	else
		fprintf(out, "%-8s %-20s %s\n", c->action, user, c->reason ? esc(&e, c->reason) : "");
	esc_free(&e);
	return 0;
}

static int
print_reject(const char *dn, const char *reason, void *arg)
{
	struct esc e = { .n = 0 };

	fprintf((FILE *)arg, "%-8s %-20s \"%s\"  %s\n", "reject", "-", esc(&e, dn),
		esc(&e, reason));
	esc_free(&e);
	return 0;
}

static int
print_action(const struct plugin_action *a, void *arg)
{
	struct esc e = { .n = 0 };

	fprintf((FILE *)arg, "%-8s %-20s %s  (%s)\n", a->action,
		a->subject ? esc(&e, a->subject) : "-", a->detail ? esc(&e, a->detail) : "",
		a->actor);
	esc_free(&e);
	return 0;
}

static void
print_hier_summary(FILE *out, const struct recon_opts *ro, const struct hier_counts *h,
		   long long groups_read)
{
	fprintf(out, "plan: %lld manager changes (%lld warnings, %lld cycles), %lld role changes",
		h->manager_changes, h->manager_warnings, h->manager_cycles, h->role_changes);
	if (ro->groups_read)
		fprintf(out, "; %lld groups read (%lld to create, %lld to update, %lld to delete), "
			"%lld joins, %lld leaves, %lld member values ignored%s", groups_read,
			h->groups_created, h->groups_updated, h->groups_deleted, h->joins,
			h->leaves, h->members_ignored, ro->groups_complete ? "" :
			" (incomplete group read: no leaves planned)");
	fputc('\n', out);
}

void
sync_print_plan(FILE *out, struct recon *rc, const struct run_report *r)
{
	const struct run_rec *rec = r->rec;

	recon_plan_foreach(rc, print_change, out);
	recon_rejects_foreach(rc, print_reject, out);
	if (r->plugins != NULL)
		plugins_actions_foreach(r->plugins, print_action, out);
	fprintf(out, "plan: %lld to create, %lld to update (%lld moved), %lld to disable, "
		"%lld to enable, %lld unchanged, %lld rejected; %lld entries read%s\n",
		rec->c.created, rec->c.updated, rec->c.renamed, rec->c.disabled, rec->c.enabled,
		rec->c.unchanged, rec->c.rejected, r->read,
		r->ro->complete ? "" : " (incomplete read: no disables planned)");
	print_hier_summary(out, r->ro, &rec->h, r->groups_read);
	if (r->plugins != NULL)
		fprintf(out, "plan: plugins: %lld to disable, %lld to enable, %lld to archive, "
			"%lld assignments, %lld unassignments\n", rec->pl.disabled,
			rec->pl.enabled, rec->pl.archived, rec->pl.assigned, rec->pl.unassigned);
	if (r->held != NULL)
		fprintf(out, "this run would be held: %s\n", r->held);
}

/* ---- the end of a run ----------------------------------------------------- */

void
sync_log_done(const struct run_report *r)
{
	const struct run_rec *rec = r->rec;
	const struct hier_counts *h = &rec->h;

	log_fields(LOGL_INFO, &(struct log_ctx){ .message_id = MSGID_RUN_COMPLETED },
		 "run %lld %s: %lld entries read from %s; %lld created, %lld updated "
		 "(%lld moved), %lld disabled, %lld enabled, %lld unchanged, %lld rejected; %.2f s",
		 rec->id, run_outcome_name(rec->outcome), r->read, rec->uri, rec->c.created,
		 rec->c.updated, rec->c.renamed, rec->c.disabled, rec->c.enabled, rec->c.unchanged,
		 rec->c.rejected, rec->duration);
	if (r->ro->groups_read || h->manager_changes || h->role_changes)
		log_info("run %lld: %lld manager changes (%lld warnings, %lld cycles); %lld groups "
			 "read (%lld created, %lld updated, %lld deleted), %lld joins, %lld leaves, "
			 "%lld member values ignored; %lld role changes", rec->id,
			 h->manager_changes, h->manager_warnings, h->manager_cycles,
			 r->groups_read, h->groups_created, h->groups_updated,
			 h->groups_deleted, h->joins, h->leaves, h->members_ignored,
			 h->role_changes);
	if (r->plugins != NULL)
		log_info("run %lld: plugins: %lld disabled, %lld enabled, %lld archived, "
			 "%lld assigned, %lld unassigned", rec->id, rec->pl.disabled, rec->pl.enabled,
			 rec->pl.archived, rec->pl.assigned, rec->pl.unassigned);
	if (r->bad_dns > 0)
		log_warn("%lld manager values were not DNs and were left out", r->bad_dns);
}

void
sync_log_held(const struct run_rec *rec, const char *why)
{
	log_fields(LOGL_ERR, &(struct log_ctx){ .message_id = MSGID_RUN_HELD },
		   "run %lld held: %s; nothing was changed. To let this plan through, "
		   "check it with rosterd --dry-run, then: rosterctl run approve %lld",
		   rec->id, why, rec->id);
}

void
sync_log_failed(const struct run_rec *rec)
{
	log_fields(LOGL_ERR, &(struct log_ctx){ .message_id = MSGID_RUN_FAILED },
		   "run %lld failed after %.2f s: %s; nothing was changed", rec->id,
		   rec->duration, rec->error ? rec->error : "see the messages above");
}
