/*
 * hierarchy.c: who reports to whom, who is in which group, and the roles
 * that follow, reconciled in SQL after the people of a run are applied.
 *
 * Managers: the normalised manager DNs kept on each person are resolved
 * against the people present in the directory. A DN that matches nobody,
 * lies outside the synced people, or names the person themself gives no
 * manager and a counted warning. Cycles are stored as the directory says and
 * reported once per run; every query on the tree is cycle-safe.
 *
 * Groups: staged groups are matched by their stable id (a renamed group keeps
 * its rows); member values resolve to people (by DN or username) or, when
 * nesting is on, to groups. Direct edges go to group_members; effective
 * membership (the transitive closure, computed with a recursive CTE whose
 * UNION makes nesting cycles harmless) goes to group_membership with the
 * group each person came through. Nothing is removed unless every search the
 * removal depends on was complete.
 *
 * Roles: admin or manager from the config's group mappings, manager for
 * anyone with a direct report, learner otherwise; the highest wins. Everyone
 * of the store has the role their memberships and reports give, also a
 * person who left the directory (missing: no membership, no report).
 *
 * Every change is written to temp.hier first, then applied and audited from
 * there, so the dry-run printer and the plugins see exactly what was done.
 * The temporary tables are described in recon_priv.h; all SQL goes through
 * the store's statement API.
 */
#include "log.h"
#include "util.h"
#include "dn.h"
#include "recon_priv.h"
#include "keyset.h"
#include "load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOGGED 20

static const char *const role_names[] = { "learner", "manager", "admin" };

/* ---- managers ----------------------------------------------------------- */

/* The manager each present person should have, of one kind, with the
 * problem when there is none. :base is the normalised users base. */
static int
want_managers(struct recon *rc, const char *kind, const char *column, const char *base)
{
	char sql[2048];
	struct stmt *s;
	int n, r;

	/* A person whose manager DN two people have: the first. (The DN's
	 * last length(base) + 1 characters, from a start counted from the left:
	 * SQLite and PostgreSQL count a negative start differently.) */
	n = snprintf(sql, sizeof(sql),
		"INSERT INTO temp.want_mgr (person_id, kind, manager_id, dn, problem) "
		"SELECT p.id, '%s', CASE WHEN m.id <> p.id THEN m.id END, p.%s, "
		"CASE WHEN m.id = p.id THEN 'names the person themself' "
		" WHEN m.id IS NOT NULL THEN NULL "
		" WHEN ?1 IS NOT NULL AND p.%s <> ?1 "
		" AND substr(p.%s, length(p.%s) - length(?1)) <> ',' || ?1 "
		" THEN 'is outside the synced people' "
		" ELSE 'matches nobody among the synced people' END "
		"FROM people p LEFT JOIN people m ON m.dn_norm = p.%s AND m.missing_since IS NULL "
		"WHERE p.%s IS NOT NULL AND p.missing_since IS NULL ON CONFLICT DO NOTHING",
		kind, column, column, column, column, column, column);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return -ENOSPC;
	if ((r = store_prepare(recon_store(rc), sql, &s)) < 0)
		return r;
	if ((r = stmt_bind_text(s, 1, base)) == 0)
		r = stmt_step(s);
	stmt_done(s);
	return r < 0 ? r : 0;
}

static int
log_manager_problems(struct recon *rc, long long *count)
{
	struct stmt *s;
	long long n = 0;
	int r;

	if ((r = store_prepare(recon_store(rc),
			       "SELECT p.username, w.kind, w.dn, w.problem FROM temp.want_mgr w "
			       "JOIN people p ON p.id = w.person_id WHERE w.problem IS NOT NULL "
			       "ORDER BY p.username, w.kind", &s)) < 0)
		return r;
	while ((r = stmt_step(s)) == 1) {
		if (++n <= MAX_LOGGED)
			log_warn("person %s: %s manager \"%s\" %s; no %s manager set",
				 stmt_text(s, 0), stmt_text(s, 1), stmt_text(s, 2),
				 stmt_text(s, 3), stmt_text(s, 1));
	}
	stmt_done(s);
	if (r < 0)
		return r;
	if (n > MAX_LOGGED)
		log_warn("%lld more manager values gave no manager", n - MAX_LOGGED);
	*count = n;
	return 0;
}

/* Manager changes of present people: into temp.hier, then applied. */
static int
sync_managers(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	char *base = NULL;
	const char *users_base = o->cf->ldap.users.base;
	int r;

	if (dn_normalize(users_base, strlen(users_base), &base) < 0)
		base = NULL;   /* checked by the server; without it, no "outside" */
	r = recon_sql(rc, "DELETE FROM temp.want_mgr", NULL);
	if (r >= 0)
		r = want_managers(rc, "primary", "manager_dn", base);
	if (r == 0)
		r = want_managers(rc, "secondary", "secondary_manager_dn", base);
	free(base);
	if (r < 0 || (r = log_manager_problems(rc, &c->manager_warnings)) < 0)
		return r;

	r = recon_sql(rc,
		"INSERT INTO temp.hier (action, person_id, kind, old_id, new_id, subject, detail) "
		"SELECT 'manager', x.person_id, x.kind, x.old_id, x.new_id, p.username, "
		" x.kind || ' manager: ' || coalesce(om.username, 'none') || ' -> ' || "
		" coalesce(nm.username, 'none') "
		"FROM (SELECT w.person_id, w.kind, pm.manager_id AS old_id, w.manager_id AS new_id "
		"      FROM temp.want_mgr w LEFT JOIN person_managers pm "
		"      ON pm.person_id = w.person_id AND pm.kind = w.kind "
		"      WHERE w.manager_id IS NOT pm.manager_id "
		"      UNION ALL "
		"      SELECT pm.person_id, pm.kind, pm.manager_id, NULL FROM person_managers pm "
		"      JOIN people q ON q.id = pm.person_id AND q.missing_since IS NULL "
		"      WHERE NOT EXISTS (SELECT 1 FROM temp.want_mgr w "
		"       WHERE w.person_id = pm.person_id AND w.kind = pm.kind)) x "
		"JOIN people p ON p.id = x.person_id "
		"LEFT JOIN people om ON om.id = x.old_id LEFT JOIN people nm ON nm.id = x.new_id "
		"ORDER BY p.username, x.kind", NULL);
	if (r < 0)
		return r;
	c->manager_changes = r;
	if (r == 0)
		return 0;
	if ((r = recon_sql(rc,
		"DELETE FROM person_managers WHERE EXISTS (SELECT 1 FROM temp.hier h "
		"WHERE h.action = 'manager' AND h.new_id IS NULL "
		"AND h.person_id = person_managers.person_id AND h.kind = person_managers.kind)",
		NULL)) < 0)
		return r;
	r = recon_sql(rc,
		"INSERT INTO person_managers (person_id, kind, manager_id) "
		"SELECT person_id, kind, new_id FROM temp.hier "
		"WHERE action = 'manager' AND new_id IS NOT NULL "
		"ON CONFLICT (person_id, kind) DO UPDATE SET manager_id = excluded.manager_id", NULL);
	return r < 0 ? r : 0;
}

/* The primary managers of the present people, by person id: the people's ids
 * in *idp and their managers' in *mgrp (both the caller's to free; NULL when
 * there are none), *np of each. 0, or a negative errno. */
static int
primary_edges(struct recon *rc, long long **idp, long long **mgrp, size_t *np)
{
	struct stmt *s;
	long long *id = NULL, *mgr = NULL;
	size_t n = 0, cap = 0;
	int r;

	if ((r = store_prepare(recon_store(rc),
			       "SELECT pm.person_id, pm.manager_id FROM person_managers pm "
			       "JOIN people p ON p.id = pm.person_id AND p.missing_since IS NULL "
			       "WHERE pm.kind = 'primary' ORDER BY pm.person_id", &s)) < 0)
		return r;
	while ((r = stmt_step(s)) == 1) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 1024;
			long long *a, *b;

			if ((a = realloc(id, ncap * sizeof(*a))) != NULL)
				id = a;
			if ((b = realloc(mgr, ncap * sizeof(*b))) != NULL)
				mgr = b;
			if (a == NULL || b == NULL) {
				r = -ENOMEM;
				break;
			}
			cap = ncap;
		}
		id[n] = stmt_int(s, 0);
		mgr[n++] = stmt_int(s, 1);
	}
	stmt_done(s);
	if (r < 0) {
		free(id);
		free(mgr);
		return r;
	}
	*idp = id;
	*mgrp = mgr;
	*np = n;
	return 0;
}

/* Log the cycle through row i ("a -> b -> a", by username; a long one cut
 * short), name looking a person's username up by id. */
static void
log_cycle(struct stmt *name, const long long *id, const int *next, int i)
{
	char names[1024] = "";
	int j = i;

	do {
		stmt_bind_int(name, 1, id[j]);
		if (strlen(names) < 900 && stmt_step(name) == 1)
			str_appendf(names, sizeof(names), "%s -> ", stmt_text(name, 0));
		stmt_reset(name);
		j = next[j];
	} while (j != i);
	stmt_bind_int(name, 1, id[i]);
	if (stmt_step(name) == 1)
		str_appendf(names, sizeof(names), "%s", stmt_text(name, 0));
	stmt_reset(name);
	log_warn("manager cycle in the directory: %s; stored as it is", names);
}

/*
 * Cycles of the primary manager tree. Every person has at most one primary
 * manager, so following the edges from any person ends at the top or in a
 * cycle; each cycle is found once by walking from every unvisited person and
 * stopping at the first person visited before. Logged once per run, counted
 * in *ncycles.
 */
static int
find_cycles(struct recon *rc, long long *ncycles)
{
	struct stmt *name = NULL;
	long long *id = NULL, *mgr = NULL, found = 0;
	size_t n = 0;
	int *next = NULL, *mark = NULL, r;

	if ((r = primary_edges(rc, &id, &mgr, &n)) < 0)
		return r;
	if ((r = store_prepare(recon_store(rc), "SELECT username FROM people WHERE id = ?1",
			       &name)) < 0)
		goto out;
	next = malloc((n + 1) * sizeof(*next));
	mark = calloc(n + 1, sizeof(*mark));
	if (next == NULL || mark == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* next[i]: the row of i's manager (ids are sorted), or -1 at the top. */
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (id[mid] < mgr[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		next[i] = (lo < n && id[lo] == mgr[i]) ? (int)lo : -1;
	}
	/* mark: 0 unvisited, walk number + 1 while on this walk, -1 done. */
	for (size_t start = 0; start < n; start++) {
		int walk = (int)start + 1, i;

		for (i = (int)start; i >= 0 && mark[i] == 0; i = next[i])
			mark[i] = walk;
		/* i on a cycle first found by this walk: count it, name the first few. */
		if (i >= 0 && mark[i] == walk && ++found <= MAX_LOGGED)
			log_cycle(name, id, next, i);
		for (int k = (int)start; k >= 0 && mark[k] == walk; k = next[k])
			mark[k] = -1;
	}
	if (found > MAX_LOGGED)
		log_warn("%lld more manager cycles", found - MAX_LOGGED);
	*ncycles = found;
out:
	stmt_done(name);
	free(id);
	free(mgr);
	free(next);
	free(mark);
	return r;
}

/* ---- groups ------------------------------------------------------------- */

/* The group rows: created, updated (renamed, moved, described anew, back
 * after being deleted) and, after a complete search, deleted. */
static int
sync_group_rows(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	long long r;

	r = recon_sql(rc,
		"INSERT INTO temp.hier (action, subject, detail) "
		"SELECT 'group_create', s.name, s.dn FROM temp.stage_groups s "
		"WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.dir_id = s.dir_id) "
		"ORDER BY s.name", NULL);
	if (r < 0)
		return (int)r;
	c->groups_created = r;
	r = recon_sql(rc,
		"INSERT INTO temp.hier (action, group_id, subject, detail) "
		"SELECT 'group_update', g.id, s.name, 'changed:' "
		" || CASE WHEN g.name IS NOT s.name COLLATE BINARY THEN ' name (was ' || g.name "
		"    || ')' ELSE '' END "
		" || CASE WHEN g.dn IS NOT s.dn COLLATE BINARY THEN ' dn' ELSE '' END "
		" || CASE WHEN g.description IS NOT s.description COLLATE BINARY "
		"    THEN ' description' ELSE '' END "
		" || CASE WHEN g.present = 0 THEN ' back in the directory' ELSE '' END "
		"FROM temp.stage_groups s JOIN groups g ON g.dir_id = s.dir_id "
		"WHERE g.name IS NOT s.name COLLATE BINARY OR g.dn IS NOT s.dn COLLATE BINARY "
		" OR g.description IS NOT s.description COLLATE BINARY OR g.present = 0 "
		"ORDER BY s.name", NULL);
	if (r < 0)
		return (int)r;
	c->groups_updated = r;
	if (o->groups_complete) {
		r = recon_sql(rc,
			"INSERT INTO temp.hier (action, group_id, subject, detail) "
			"SELECT 'group_delete', g.id, g.name, 'not found in the directory' "
			"FROM groups g WHERE g.present = 1 AND NOT EXISTS "
			" (SELECT 1 FROM temp.stage_groups s WHERE s.dir_id = g.dir_id) "
			"ORDER BY g.name", NULL);
		if (r < 0)
			return (int)r;
		c->groups_deleted = r;
	}
	if ((r = recon_sql(rc,
		"INSERT INTO groups (dir_id, dn, dn_norm, name, description, present, "
		"created_at, updated_at) SELECT s.dir_id, s.dn, s.dn_norm, s.name, s.description, "
		"1, :now, :now FROM temp.stage_groups s WHERE NOT EXISTS "
		"(SELECT 1 FROM groups g WHERE g.dir_id = s.dir_id) ORDER BY s.seq", o)) < 0 ||
	    (r = recon_sql(rc,
		"UPDATE groups SET name = s.name, dn = s.dn, dn_norm = s.dn_norm, "
		"description = s.description, present = 1, updated_at = :now "
		"FROM temp.stage_groups s WHERE s.dir_id = groups.dir_id AND groups.id IN "
		"(SELECT group_id FROM temp.hier WHERE action = 'group_update')", o)) < 0 ||
	    (r = recon_sql(rc,
		"UPDATE groups SET present = 0, updated_at = :now FROM temp.hier h "
		"WHERE h.action = 'group_delete' AND groups.id = h.group_id", o)) < 0)
		return (int)r;
	/* The created groups' ids, for the audit log: the last present group
	 * of each DN, found by a join (groups has no index on dn: a lookup a
	 * row read every group for each, 2.5 s for 10,000 new groups). */
	r = recon_sql(rc,
		"UPDATE temp.hier SET group_id = m.id FROM (SELECT dn, max(id) AS id FROM groups "
		" WHERE present = 1 GROUP BY dn) m "
		"WHERE temp.hier.action = 'group_create' AND m.dn = temp.hier.detail", NULL);
	return r < 0 ? (int)r : 0;
}

/* Drop the memberOf rows of temp.resolved that nesting explains: the
 * person is also in a group below that one (through nesting, not in a cycle
 * with it). 389-DS lists the groups a person reaches through nested groups
 * too: in eng, itself a member of all, the person has memberOf eng and all,
 * and only eng is direct (all comes through eng, by the closure). Nothing
 * to do when no group is a member of another. */
static int
member_of_nested(struct recon *rc)
{
	long long n = recon_count(rc, "SELECT EXISTS (SELECT 1 FROM temp.resolved "
				  "WHERE member_group_id IS NOT NULL)");

	if (n <= 0)
		return n < 0 ? -EIO : 0;
	if (recon_sql(rc, "DELETE FROM temp.nest", NULL) < 0 ||
	    recon_sql(rc, "INSERT INTO temp.nest SELECT DISTINCT group_id, member_group_id "
		      "FROM temp.resolved WHERE member_group_id IS NOT NULL", NULL) < 0 ||
	    recon_sql(rc, "WITH RECURSIVE c(anc, des) AS (SELECT anc, des FROM temp.nest "
		      " UNION SELECT c.anc, n.des FROM c JOIN temp.nest n ON n.anc = c.des) "
		      "INSERT OR IGNORE INTO temp.nest SELECT anc, des FROM c", NULL) < 0 ||
	    store_exec(recon_store(rc), schema_recon_resolved_index) < 0)
		return -EIO;
	/* SQLite: rowid. A group's memberOf (389-DS lists the groups above
	 * the direct one too) the same way, by the group it names. */
	return recon_sql(rc,
		"DELETE FROM temp.resolved WHERE rowid IN (SELECT r.rowid FROM temp.resolved r "
		"JOIN temp.resolved o ON o.person_id = r.person_id AND o.group_id <> r.group_id "
		"JOIN temp.nest n ON n.anc = r.group_id AND n.des = o.group_id "
		"WHERE r.from_member_of = 1 AND NOT EXISTS (SELECT 1 FROM temp.nest b "
		" WHERE b.anc = o.group_id AND b.des = r.group_id))", NULL) < 0 ||
	       recon_sql(rc,
		"DELETE FROM temp.resolved WHERE rowid IN (SELECT r.rowid FROM temp.resolved r "
		"JOIN temp.resolved o ON o.member_group_id = r.member_group_id "
		" AND o.group_id <> r.group_id "
		"JOIN temp.nest n ON n.anc = r.group_id AND n.des = o.group_id "
		"WHERE r.from_member_of = 1 AND r.member_group_id IS NOT NULL AND NOT EXISTS "
		" (SELECT 1 FROM temp.nest b WHERE b.anc = o.group_id AND b.des = r.group_id))",
		NULL) < 0 ? -EIO : 0;
}

/* The memberships read from the people (memberOf) into temp.resolved. With
 * no member values read from the groups (ldap.groups.member_attribute ""),
 * a present person whose memberOf this run did not read (a refresh named
 * them unchanged, or not at all; their entry was rejected) keeps the direct
 * edges they have: their memberOf is as it was, as the server changes it
 * with the person's entry (the refresh sources read in full where they
 * cannot count on that). With member values, those of the groups decide
 * for them. Then the values nesting explains go. */
static int
resolve_member_of(struct recon *rc, const struct recon_opts *o)
{
	if (recon_sql(rc,
		"INSERT INTO temp.resolved SELECT g.id, p.id, NULL, 1 "
		"FROM temp.stage_member_of m JOIN people p ON p.dir_id = m.dir_id "
		"JOIN groups g ON g.dn_norm = m.group_dn AND g.present = 1", NULL) < 0)
		return -EIO;
	if (o->cf->ldap.groups.nmember_attrs == 0 &&
	    (store_exec(recon_store(rc), schema_recon_member_of_index) < 0 ||
	     recon_sql(rc,
		"INSERT INTO temp.resolved SELECT gm.group_id, gm.person_id, NULL, 1 "
		"FROM group_members gm JOIN people p ON p.id = gm.person_id "
		" AND p.missing_since IS NULL "
		"JOIN groups g ON g.id = gm.group_id AND g.present = 1 "
		"WHERE NOT EXISTS (SELECT 1 FROM temp.stage_member_of m "
		" WHERE m.dir_id = p.dir_id)", NULL) < 0))
		return -EIO;
	/* memberOf alone, nested: a group's own memberOf (groups are entries
	 * too, read whole with the groups) says which groups it is in. */
	if (o->cf->ldap.groups.nmember_attrs == 0 && o->cf->ldap.groups.nested &&
	    recon_sql(rc,
		"INSERT INTO temp.resolved SELECT g.id, NULL, c.id, 1 "
		"FROM temp.stage_member_of m JOIN groups c ON c.dir_id = m.dir_id AND c.present = 1 "
		"JOIN groups g ON g.dn_norm = m.group_dn AND g.present = 1 AND g.id <> c.id",
		NULL) < 0)
		return -EIO;
	return member_of_nested(rc);
}

/* What each member value of the staged groups resolves to: a present
 * person, a present group (nesting), or nothing (ignored and counted). */
static int
resolve_members(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	const struct conf *cf = o->cf;
	long long r;

	/* The values are looked up in their own order: people's ids follow
	 * their DNs and usernames closely, so the people rows are then read
	 * nearly in order instead of once per value at random (at 300,000
	 * values, 0.6 s instead of 1.5 s). The index is built here, only by the
	 * runs that need it. */
	if ((r = recon_members_expand(rc)) < 0 ||
	    (r = recon_sql(rc, "DELETE FROM temp.resolved", NULL)) < 0 ||
	    (r = store_exec(recon_store(rc), schema_recon_members_index)) < 0)
		return (int)r;
	/* SQLite: INDEXED BY (both) */
	if (cf->ldap.groups.member_style == MEMBERS_UID)
		r = recon_sql(rc,
			"INSERT INTO temp.resolved (group_id, person_id, member_group_id) "
			"SELECT g.id, p.id, NULL FROM temp.stage_members v INDEXED BY stage_members_value "
			"JOIN groups g ON g.dir_id = v.group_dir_id "
			"LEFT JOIN people p ON p.username = v.value AND p.missing_since IS NULL "
			"ORDER BY v.value", NULL);
	else
		r = recon_sql(rc,
			"INSERT INTO temp.resolved (group_id, person_id, member_group_id) "
			"SELECT g.id, p.id, g2.id FROM temp.stage_members v INDEXED BY stage_members_value "
			"JOIN groups g ON g.dir_id = v.group_dir_id "
			"LEFT JOIN people p ON p.dn_norm = v.value AND p.missing_since IS NULL "
			"LEFT JOIN groups g2 ON p.id IS NULL AND g2.dn_norm = v.value "
			" AND g2.present = 1 AND g2.id <> g.id ORDER BY v.value", NULL);
	if (r < 0)
		return (int)r;
	if (cf->ldap.member_of_attr != NULL && (r = resolve_member_of(rc, o)) < 0)
		return (int)r;
	/* Active Directory's primary group, which member leaves out: a person's
	 * primaryGroupID is the group's primaryGroupToken. A token two groups
	 * read share (a domain group and a Builtin one) names neither. */
	if (cf->ldap.groups.primary_group &&
	    recon_sql(rc,
		"INSERT INTO temp.resolved (group_id, person_id) SELECT g.id, p.id "
		"FROM temp.stage_primary sp JOIN people p ON p.dir_id = sp.dir_id "
		"JOIN (SELECT token, min(dir_id) AS dir_id FROM temp.stage_primary "
		"      WHERE is_group = 1 GROUP BY token HAVING count(*) = 1) t ON t.token = sp.token "
		"JOIN groups g ON g.dir_id = t.dir_id AND g.present = 1 WHERE sp.is_group = 0",
		NULL) < 0)
		return -EIO;
	/* Values naming nobody synced; memberOf values naming a group outside the
	 * synced groups are counted apart, as they have no group row. */
	c->members_ignored = recon_count(rc,
		cf->ldap.groups.nested ?
		"SELECT count(*) FROM temp.resolved WHERE person_id IS NULL "
		" AND member_group_id IS NULL" :
		"SELECT count(*) FROM temp.resolved WHERE person_id IS NULL");
	if (c->members_ignored < 0)
		return -EIO;
	if (cf->ldap.member_of_attr != NULL) {
		long long outside = recon_count(rc,
			"SELECT count(*) FROM temp.stage_member_of m WHERE m.group_dn <> '' AND "
			"NOT EXISTS (SELECT 1 FROM groups g WHERE g.dn_norm = m.group_dn "
			"AND g.present = 1)");
		if (outside < 0)
			return -EIO;
		c->members_ignored += outside;
	}
	if (recon_sql(rc, "DELETE FROM temp.want_edges", NULL) < 0 ||
	    recon_sql(rc, cf->ldap.groups.nested ?
		      "INSERT INTO temp.want_edges SELECT DISTINCT group_id, person_id, "
		      "CASE WHEN person_id IS NULL THEN member_group_id END FROM temp.resolved "
		      "WHERE person_id IS NOT NULL OR member_group_id IS NOT NULL" :
		      "INSERT INTO temp.want_edges SELECT DISTINCT group_id, person_id, NULL "
		      "FROM temp.resolved WHERE person_id IS NOT NULL", NULL) < 0 ||
	    store_exec(recon_store(rc), schema_recon_edges_index) < 0)
		return -EIO;
	return 0;
}

/* Direct edges: add the new ones; remove the ones gone, only from groups read
 * in full (a group whose members came in part keeps its edges), and every
 * edge of a deleted group. Returns the number of edges changed. */
/* The edges to a group of temp.want_edges that group_members has not:
 * added. The number added, or a negative errno. */
static long long
add_group_edges(struct recon *rc)
{
	return recon_sql(rc,
		"INSERT INTO group_members (group_id, member_group_id) "
		"SELECT w.group_id, w.member_group_id FROM temp.want_edges w "
		"WHERE w.member_group_id IS NOT NULL AND NOT EXISTS "
		"(SELECT 1 FROM group_members gm WHERE gm.group_id = w.group_id "
		" AND gm.member_group_id = w.member_group_id)", NULL);
}

/* Remove the edges temp.want_edges has not, of groups read in full, and
 * every edge of a deleted group: of any kind, or (a first load, whose edges
 * to people are all new and not in want_edges) only those to a group.
 * SQLite: rowid (the edges to a person and to a group, in one) */
#define REMOVE_EDGES(which) \
	"DELETE FROM group_members WHERE rowid IN (" \
	"SELECT gm.rowid FROM group_members gm JOIN groups g ON g.id = gm.group_id " \
	"JOIN temp.stage_groups s ON s.dir_id = g.dir_id AND s.partial = 0 " \
	"WHERE " which " CASE WHEN gm.person_id IS NOT NULL THEN NOT EXISTS " \
	" (SELECT 1 FROM temp.want_edges w WHERE w.group_id = gm.group_id " \
	"  AND w.person_id = gm.person_id) " \
	" ELSE NOT EXISTS (SELECT 1 FROM temp.want_edges w " \
	"  WHERE w.group_id = gm.group_id AND w.member_group_id = gm.member_group_id) END " \
	"UNION ALL SELECT gm.rowid FROM group_members gm JOIN groups g " \
	" ON g.id = gm.group_id OR g.id = gm.member_group_id WHERE g.present = 0)"
static const char REMOVE_EDGES_ANY[] = REMOVE_EDGES("");
static const char REMOVE_EDGES_TO_GROUPS[] = REMOVE_EDGES("gm.member_group_id IS NOT NULL AND");
#undef REMOVE_EDGES

/* The number removed, or a negative errno. */
static long long
remove_edges(struct recon *rc, const char *sql)
{
	return recon_sql(rc, sql, NULL);
}

static long long
sync_edges(struct recon *rc, bool removals)
{
	/* With no edge yet (a first sync), there is none to keep or remove. */
	long long had = recon_count(rc, "SELECT EXISTS (SELECT 1 FROM group_members)");
	long long added, removed = 0;

	if (had < 0)
		return had;
#define INSERT_EDGES \
	"INSERT INTO group_members (group_id, person_id) SELECT w.group_id, w.person_id " \
	"FROM temp.want_edges w WHERE w.person_id IS NOT NULL "
#define NEW_EDGES_ONLY \
	"AND NOT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = w.group_id " \
	" AND gm.person_id = w.person_id) "
#define PERSON_BY_PERSON "ORDER BY w.person_id, w.group_id"
	/* Person by person: the foreign key checks read the people rows in order. */
	added = recon_sql(rc, had ? INSERT_EDGES NEW_EDGES_ONLY PERSON_BY_PERSON :
			  INSERT_EDGES PERSON_BY_PERSON, NULL);
#undef INSERT_EDGES
#undef NEW_EDGES_ONLY
#undef PERSON_BY_PERSON
	if (added >= 0) {
		long long n = add_group_edges(rc);
		added = n < 0 ? n : added + n;
	}
	if (added < 0)
		return added;
	if (removals && had && (removed = remove_edges(rc, REMOVE_EDGES_ANY)) < 0)
		return removed;
	return added + removed;
}

/* Effective membership: the closure over nested groups (UNION, not UNION ALL,
 * so a nesting cycle adds nothing new and the recursion ends), each person
 * with the group they came through (the group itself when direct).
 * SQLite: max() of a comparison (PostgreSQL: bool_or) */
#define EFFECTIVE(into, since) \
	"WITH RECURSIVE clo(anc, des) AS (" \
	" SELECT id, id FROM groups WHERE present = 1" \
	" UNION" \
	" SELECT c.anc, gm.member_group_id FROM clo c JOIN group_members gm" \
	" ON gm.group_id = c.des WHERE gm.member_group_id IS NOT NULL)" \
	"INSERT INTO " into " " \
	"SELECT c.anc, gm.person_id, CASE WHEN max(c.des = c.anc) THEN c.anc ELSE min(c.des) END" \
	since " FROM clo c JOIN group_members gm ON gm.group_id = c.des AND gm.person_id IS NOT NULL " \
	"GROUP BY c.anc, gm.person_id"
static const char want_eff_sql[] = EFFECTIVE("temp.want_eff (group_id, person_id, via)", "");
/* A first load's: every one is a join, written in the table's order. */
static const char eff_loaded_sql[] =
	EFFECTIVE("group_membership (group_id, person_id, via_group_id, since)", ", :now");
#undef EFFECTIVE

static int
sync_membership(struct recon *rc, const struct recon_opts *o, bool removals,
		struct hier_counts *c)
{
	long long r;

	/* then the index to go through it person by person */
	if ((r = recon_sql(rc, "DELETE FROM temp.want_eff", NULL)) < 0 ||
	    (r = recon_sql(rc, want_eff_sql, NULL)) < 0 ||
	    (r = store_exec(recon_store(rc), schema_recon_eff_index)) < 0)
		return (int)r;
	/* Person by person, so that the people rows (and the memberships, by
	 * their person index) are read in order, not once per membership at
	 * random: at 337,000 joins 0.6 s instead of 1.3 s. They are also
	 * reported (audit log, dry run) person by person: the audit rows' foreign
	 * key checks then read the people rows in order too (at 337,000 joins
	 * 0.6 s instead of 1.6-1.8 s for the audit log).
	 * SQLite: INDEXED BY (both) */
	r = recon_sql(rc,
		"INSERT INTO temp.hier (action, person_id, group_id, new_id, subject, detail) "
		"SELECT 'join', w.person_id, w.group_id, w.via, p.username, 'group ' || g.name "
		" || CASE WHEN w.via <> w.group_id THEN ' via ' || v.name ELSE '' END "
		"FROM temp.want_eff w INDEXED BY want_eff_person JOIN people p ON p.id = w.person_id "
		"JOIN groups g ON g.id = w.group_id JOIN groups v ON v.id = w.via "
		"WHERE NOT EXISTS (SELECT 1 FROM group_membership m "
		" INDEXED BY group_membership_person "
		" WHERE m.person_id = w.person_id AND m.group_id = w.group_id) "
		"ORDER BY p.username, g.name", NULL);
	if (r < 0)
		return (int)r;
	c->joins = r;
	if (removals) {
		r = recon_sql(rc,
			"INSERT INTO temp.hier (action, person_id, group_id, old_id, subject, detail) "
			"SELECT 'leave', m.person_id, m.group_id, m.via_group_id, p.username, "
			" 'group ' || g.name || CASE WHEN m.via_group_id <> m.group_id "
			"  THEN ' via ' || v.name ELSE '' END "
			"FROM group_membership m JOIN people p ON p.id = m.person_id "
			"JOIN groups g ON g.id = m.group_id JOIN groups v ON v.id = m.via_group_id "
			"WHERE NOT EXISTS (SELECT 1 FROM temp.want_eff w "
			" WHERE w.group_id = m.group_id AND w.person_id = m.person_id) "
			"ORDER BY p.username, g.name", NULL);
		if (r < 0)
			return (int)r;
		c->leaves = r;
	}
	/* Leaves by key; joins person by person, as reported (their foreign key
	 * checks read the people rows in order); a new way in only for
	 * memberships kept. */
	if ((c->leaves > 0 && (r = recon_sql(rc,
		"DELETE FROM group_membership WHERE (group_id, person_id) IN "
		"(SELECT group_id, person_id FROM temp.hier WHERE action = 'leave')", NULL)) < 0) ||
	    (r = recon_sql(rc,
		"INSERT INTO group_membership (group_id, person_id, via_group_id, since) "
		"SELECT group_id, person_id, new_id, :now FROM temp.hier WHERE action = 'join' "
		"ORDER BY seq", o)) < 0 ||
	    (c->memberships_before > 0 && (r = recon_sql(rc,
		"UPDATE group_membership SET via_group_id = w.via FROM temp.want_eff w "
		"WHERE w.group_id = group_membership.group_id "
		"AND w.person_id = group_membership.person_id "
		"AND w.via <> group_membership.via_group_id", NULL)) < 0))
		return (int)r;
	return 0;
}

/* Whether this run may remove edges and memberships: a leave needs the
 * whole group search, and the whole people search when membership is read
 * from the people (memberOf, primary group). */
static bool
removals_allowed(const struct recon_opts *o)
{
	return o->groups_complete &&
	       (o->complete || (o->cf->ldap.member_of_attr == NULL &&
				!o->cf->ldap.groups.primary_group));
}

/* The groups' counts, and their rows. */
static int
group_rows(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	long long partial;

	c->groups_read = recon_count(rc, "SELECT count(*) FROM temp.stage_groups");
	c->memberships_before = recon_count(rc, "SELECT count(*) FROM group_membership");
	partial = recon_count(rc, "SELECT count(*) FROM temp.stage_groups WHERE partial <> 0");
	if (c->groups_read < 0 || c->memberships_before < 0 || partial < 0)
		return -EIO;
	if (partial > 0)
		log_warn("%lld groups came with only part of their members (ranged values); "
			 "no one leaves those groups this run", partial);
	return sync_group_rows(rc, o, c);
}

/* After the group rows: members, edges and memberships. */
static int
sync_groups_edges(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	bool removals = removals_allowed(o);
	long long edges;
	double t = time_mono();
	int r;

	if ((r = resolve_members(rc, o, c)) < 0)
		return r;
	log_debug("group rows and members resolved in %.3f s", time_mono() - t);
	if ((edges = sync_edges(rc, removals)) < 0)
		return (int)edges;
	log_debug("%lld direct edges changed in %.3f s", edges, time_mono() - t);
	return sync_membership(rc, o, removals, c);
}

static int
sync_groups(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	int r = group_rows(rc, o, c);

	return r < 0 ? r : sync_groups_edges(rc, o, c);
}

/* ---- roles -------------------------------------------------------------- */

/* The groups the config maps to a role, matched by DN or by name. */
static int
role_groups(struct recon *rc, const struct conf *cf)
{
	struct stmt *s;
	int r;

	if ((r = recon_sql(rc, "DELETE FROM temp.role_groups", NULL)) < 0 ||
	    (r = store_prepare(recon_store(rc),
			       "INSERT INTO temp.role_groups (group_id, rank) SELECT id, ?1 "
			       "FROM groups WHERE present = 1 AND (dn_norm = ?2 OR "
			       "(?2 IS NULL AND name = ?3 COLLATE NOCASE))", &s)) < 0)
		return r;
	r = 0;
	for (size_t i = 0; i < cf->nroles && r == 0; i++) {
		const char *g = cf->roles[i].group;
		char *norm = NULL;
		long long n;

		if (strchr(g, '=') != NULL && dn_normalize(g, strlen(g), &norm) < 0)
			norm = NULL;
		stmt_bind_int(s, 1, (int)cf->roles[i].role);
		stmt_bind_text(s, 2, norm);
		stmt_bind_text(s, 3, g);
		n = stmt_run(s);
		stmt_reset(s);   /* before norm goes */
		free(norm);
		if (n < 0)
			r = (int)n;
		else if (n == 0)
			log_warn("roles: no group \"%s\" among the synced groups; its role "
				 "\"%s\" goes to no one", g, role_names[cf->roles[i].role]);
	}
	stmt_done(s);
	return r;
}

/* Everyone's role, the general way: for each person, the highest
 * of their groups' and of having a report; a role an operator pinned
 * (role_source 'operator') is left as it is. */
static const char roles_sql[] =
	"INSERT INTO temp.hier (action, person_id, subject, detail, kind) "
	"SELECT 'role', id, username, role || ' -> ' || want, want FROM ("
	" SELECT p.id, p.username, p.role, CASE max("
	"  coalesce((SELECT max(r.rank) FROM group_membership m JOIN temp.role_groups r "
	"   ON r.group_id = m.group_id WHERE m.person_id = p.id), 0),"
	"  CASE WHEN EXISTS (SELECT 1 FROM person_managers pm JOIN people q "
	"   ON q.id = pm.person_id AND q.missing_since IS NULL "
	"   WHERE pm.manager_id = p.id AND pm.kind = 'primary') THEN 1 ELSE 0 END) "
	"  WHEN 2 THEN 'admin' WHEN 1 THEN 'manager' ELSE 'learner' END AS want "
	" FROM people p WHERE p.role_source = 'directory') "
	"WHERE role <> want ORDER BY username";

/* A first load's: everyone loaded is a learner, so only those a role group
 * or a report makes more change, found from the groups and reports
 * themselves rather than by asking for every person. */
static const char roles_loaded_sql[] =
	"INSERT INTO temp.hier (action, person_id, subject, detail, kind) "
	"SELECT 'role', p.id, p.username, p.role || ' -> ' || w.want, w.want FROM ("
	" SELECT id, CASE max(rank) WHEN 2 THEN 'admin' ELSE 'manager' END AS want FROM ("
	"  SELECT manager_id AS id, 1 AS rank FROM person_managers WHERE kind = 'primary'"
	"  UNION ALL SELECT m.person_id, r.rank FROM temp.role_groups r"
	"  JOIN group_membership m ON m.group_id = r.group_id) GROUP BY id HAVING max(rank) > 0) w "
	"JOIN people p ON p.id = w.id WHERE p.role <> w.want AND p.role_source = 'directory' "
	"ORDER BY p.username";

/* The roles that change (by sql, one of the above): into temp.hier, then
 * applied. */
static int
sync_roles(struct recon *rc, const struct recon_opts *o, struct hier_counts *c, const char *sql)
{
	long long r;

	if ((r = role_groups(rc, o->cf)) < 0)
		return (int)r;
	if ((r = recon_sql(rc, sql, NULL)) < 0)
		return (int)r;
	c->role_changes = r;
	if (r == 0)
		return 0;
	r = recon_sql(rc,
		"UPDATE people SET role = h.kind, updated_at = :now FROM temp.hier h "
		"WHERE h.action = 'role' AND h.person_id = people.id", o);
	return r < 0 ? (int)r : 0;
}

/* ---- a first load ------------------------------------------------------- */

/*
 * A run that loaded a store with no people (load.h) works managers and
 * groups out from what it loaded: each manager DN and member value is
 * found through the keys of the DNs the load kept, not by a query; as
 * nothing was there before, nothing is compared with what was, and every
 * manager and membership is new. Rows go in in the order of their tables'
 * keys, and the indexes the load took down are built after them
 * (store_bulk_index). The rows are those the general way writes from the
 * same store; the audit rows too, in another order. Where the keys cannot
 * tell two DNs apart, or memberships come from memberOf values, the
 * general way does the work instead.
 */

/* Whether dn is base or under it (both normalised). */
static bool
under_base(const char *dn, size_t n, const char *base)
{
	size_t b = strlen(base);

	return (n == b && memcmp(dn, base, b) == 0) ||
	       (n > b && dn[n - b - 1] == ',' && memcmp(dn + n - b, base, b) == 0);
}

/* Person id's manager of one kind, named by dn: a row of person_managers
 * (ins), or the problem in temp.want_mgr (prob), as want_managers() has it.
 * 1 a manager, 0 none, or a negative errno. */
static int
loaded_manager(struct recon *rc, struct stmt *ins, struct stmt *prob, long long id,
	       const char *kind, const char *dn, size_t n, const char *base)
{
	long long m = load_person_id(recon_load(rc), dn, n);
	struct stmt *s = m > 0 && m != id ? ins : prob;
	int r;

	stmt_bind_int(s, 1, id);
	stmt_bind_text(s, 2, kind);
	if (s == ins)
		stmt_bind_int(s, 3, m);
	else
		stmt_bind_text(s, 3, dn);
	if (s == prob)
		stmt_bind_text(s, 4, m == id ? "names the person themself" :
			       base != NULL && !under_base(dn, n, base) ?
			       "is outside the synced people" :
			       "matches nobody among the synced people");
	r = stmt_step(s);
	stmt_reset(s);
	return r < 0 ? r : s == ins;
}

/* The managers of everyone loaded, in person_managers' order (audited with
 * the rest: audit_loaded). */
static int
managers_loaded(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	const char *users_base = o->cf->ldap.users.base;
	struct stmt *s = NULL, *ins = NULL, *prob = NULL;
	char *base = NULL;
	int r;

	if (dn_normalize(users_base, strlen(users_base), &base) < 0)
		base = NULL;   /* as sync_managers() */
	if ((r = recon_sql(rc, "DELETE FROM temp.want_mgr", NULL)) < 0 ||
	    (r = store_prepare(recon_store(rc), "SELECT id, manager_dn, secondary_manager_dn "
			       "FROM people WHERE manager_dn IS NOT NULL "
			       "OR secondary_manager_dn IS NOT NULL ORDER BY id", &s)) < 0 ||
	    (r = store_prepare(recon_store(rc), "INSERT INTO person_managers (person_id, kind, "
			       "manager_id) VALUES (?1, ?2, ?3)", &ins)) < 0 ||
	    (r = store_prepare(recon_store(rc), "INSERT INTO temp.want_mgr (person_id, kind, "
			       "manager_id, dn, problem) VALUES (?1, ?2, NULL, ?3, ?4)", &prob)) < 0)
		goto out;
	while (r >= 0 && (r = stmt_step(s)) == 1) {
		for (int k = 0; k < 2 && r >= 0; k++) {
			if (stmt_type(s, 1 + k) == STORE_NULL)
				continue;
			r = loaded_manager(rc, ins, prob, stmt_int(s, 0), k ? "secondary" : "primary",
					   stmt_text(s, 1 + k), stmt_bytes(s, 1 + k), base);
			c->manager_changes += r == 1;
		}
	}
out:
	stmt_done(s);
	stmt_done(ins);
	stmt_done(prob);
	free(base);
	return r < 0 ? r : log_manager_problems(rc, &c->manager_warnings);
}

/* The present groups by the key of their DN: 0, 1 when two share a key
 * (then only the general way can tell them apart), or a negative errno. */
static int
group_keys(struct recon *rc, struct keyset *ks)
{
	struct stmt *s;
	int r;

	if ((r = store_prepare(recon_store(rc), "SELECT id, dn_norm FROM groups WHERE present = 1",
			       &s)) < 0)
		return r;
	while ((r = stmt_step(s)) == 1) {
		uint64_t k1, k2;

		keyset_key(stmt_text(s, 1), stmt_bytes(s, 1), &k1, &k2);
		if ((r = keyset_add(ks, k1, k2, stmt_int(s, 0), 0)) < 0)
			break;
	}
	stmt_done(s);
	for (size_t i = 0; r == 0 && i < ks->n; i++)
		if (ks->flag[i] & KEYSET_SHARED)
			r = 1;
	return r;
}

/* A list of ids, for a group's members. */
struct ids {
	long long *v;
	size_t n, cap;
};

static int
ids_add(struct ids *l, long long id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		long long *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = id;
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Group g's edges to people, in order of person id, once each. */
static int
person_edges(struct stmt *ins, long long g, struct ids *l)
{
	int r = 0;

	qsort(l->v, l->n, sizeof(*l->v), id_cmp);
	for (size_t i = 0; i < l->n && r >= 0; i++) {
		if (i > 0 && l->v[i] == l->v[i - 1])
			continue;
		stmt_bind_int(ins, 1, g);
		stmt_bind_int(ins, 2, l->v[i]);
		r = stmt_step(ins);
		stmt_reset(ins);
	}
	l->n = 0;
	return r < 0 ? r : 0;
}

/* One member value of group g: a person loaded (into l), a present group
 * other than g (nesting: an edge wanted, in temp.want_edges by ins_g), or
 * nothing (counted as resolve_members() counts). */
static int
loaded_member(struct recon *rc, const struct conf *cf, const struct keyset *groups,
	      struct stmt *ins_g, long long g, const char *v, size_t n, struct ids *l,
	      struct hier_counts *c)
{
	const struct load *ld = recon_load(rc);
	long long p, g2 = 0;
	long i;
	int r;

	if (cf->ldap.groups.member_style == MEMBERS_UID)
		p = load_username_id(ld, v, n);
	else
		p = load_person_id(ld, v, n);
	if (p > 0)
		return ids_add(l, p);
	if (cf->ldap.groups.member_style != MEMBERS_UID &&
	    (i = keyset_find_text(groups, v, n)) >= 0 && groups->e[i].value != g)
		g2 = groups->e[i].value;
	if (g2 == 0 || !cf->ldap.groups.nested) {
		c->members_ignored++;
		return 0;
	}
	stmt_bind_int(ins_g, 1, g);
	stmt_bind_int(ins_g, 2, g2);
	r = stmt_step(ins_g);
	stmt_reset(ins_g);
	return r < 0 ? r : 0;
}

/* Every staged group's member values: its edges to people straight into
 * group_members (a group, then its people in id order), those to groups
 * into temp.want_edges. */
static int
members_loaded(struct recon *rc, const struct recon_opts *o, const struct keyset *groups,
	       struct hier_counts *c)
{
	struct stmt *s = NULL, *ins_p = NULL, *ins_g = NULL;
	struct ids l = { 0 };
	int r;

	if ((r = recon_sql(rc, "DELETE FROM temp.want_edges", NULL)) < 0 ||
	    (r = store_prepare(recon_store(rc), "SELECT g.id, l.list FROM temp.stage_member_lists l "
			       "JOIN groups g ON g.dir_id = l.group_dir_id", &s)) < 0 ||
	    (r = store_prepare(recon_store(rc), "INSERT INTO group_members (group_id, person_id) "
			       "VALUES (?1, ?2)", &ins_p)) < 0 ||
	    (r = store_prepare(recon_store(rc), "INSERT INTO temp.want_edges (group_id, "
			       "member_group_id) SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM "
			       "temp.want_edges WHERE group_id = ?1 AND member_group_id = ?2)",
			       &ins_g)) < 0)
		goto out;
	while ((r = stmt_step(s)) == 1) {
		long long g = stmt_int(s, 0);
		const char *list = stmt_blob(s, 1);
		size_t len = stmt_bytes(s, 1);

		for (size_t off = 0, n; off < len && r >= 0; off += n + 1) {
			n = strnlen(list + off, len - off);
			r = loaded_member(rc, o->cf, groups, ins_g, g, list + off, n, &l, c);
		}
		if (r < 0 || (r = person_edges(ins_p, g, &l)) < 0)
			break;
	}
out:
	free(l.v);
	stmt_done(s);
	stmt_done(ins_p);
	stmt_done(ins_g);
	return r < 0 ? r : 0;
}

/* Names by id (of groups, of managers), for the audit rows of a load. */
struct names {
	long long *id;
	char **name;
	size_t n, cap;
};

static void
names_free(struct names *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->name[i]);
	free(g->name);
	free(g->id);
}

/* The rows of sql (id, name; in order of id) into g. */
static int
names_load(struct recon *rc, const char *sql, struct names *g)
{
	struct stmt *s;
	int r;

	if ((r = store_prepare(recon_store(rc), sql, &s)) < 0)
		return r;
	while ((r = stmt_step(s)) == 1) {
		if (g->n == g->cap) {
			size_t cap = g->cap ? 2 * g->cap : 256;
			long long *id = realloc(g->id, cap * sizeof(*id));
			char **name = id ? realloc(g->name, cap * sizeof(*name)) : NULL;

			if (id != NULL)
				g->id = id;
			if (name == NULL) {
				r = -ENOMEM;
				break;
			}
			g->name = name;
			g->cap = cap;
		}
		if ((g->name[g->n] = strdup(stmt_text(s, 1))) == NULL) {
			r = -ENOMEM;
			break;
		}
		g->id[g->n++] = stmt_int(s, 0);
	}
	stmt_done(s);
	return r < 0 ? r : 0;
}

static const char *
names_find(const struct names *g, long long id)
{
	const long long *at = bsearch(&id, g->id, g->n, sizeof(*g->id), id_cmp);

	return at ? g->name[at - g->id] : "";
}

/* The audit rows of a load, person by person (audit_loaded). */
struct audit_pass {
	struct stmt *people, *mgr, *join, *ins;
	int mr, jr;                 /* where mgr and join stand: 1 a row, 0 the end */
	struct names groups, managers;
	const struct recon_opts *o;
};

static int
audit_row(struct audit_pass *a, const char *action, long long person, const char *username,
	  const char *detail)
{
	int r;

	stmt_bind_text(a->ins, 1, a->o->now);
	stmt_bind_int(a->ins, 2, a->o->run_id);
	stmt_bind_text(a->ins, 3, action);
	stmt_bind_int(a->ins, 4, person);
	stmt_bind_text(a->ins, 5, username);
	stmt_bind_text(a->ins, 6, detail);
	r = stmt_step(a->ins);
	stmt_reset(a->ins);
	return r < 0 ? r : 0;
}

/* Person p's rows: the creation, the managers, the joins. */
static int
audit_person(struct audit_pass *a, long long p, const char *username, bool dir_disabled)
{
	char detail[1024];
	int r = audit_row(a, "create", p, username, dir_disabled ?
			  "new entry, disabled in the directory" : "new entry");

	for (; r == 0 && a->mr == 1 && stmt_int(a->mgr, 0) == p; a->mr = stmt_step(a->mgr)) {
		snprintf(detail, sizeof(detail), "%s manager: none -> %s", stmt_text(a->mgr, 1),
			 names_find(&a->managers, stmt_int(a->mgr, 2)));
		r = audit_row(a, "manager", p, username, detail);
	}
	for (; r == 0 && a->jr == 1 && stmt_int(a->join, 0) == p; a->jr = stmt_step(a->join)) {
		long long g = stmt_int(a->join, 1), via = stmt_int(a->join, 2);

		snprintf(detail, sizeof(detail), "group %s%s%s", names_find(&a->groups, g),
			 via != g ? " via " : "", via != g ? names_find(&a->groups, via) : "");
		r = audit_row(a, "join", p, username, detail);
	}
	return r < 0 ? r : a->mr < 0 ? a->mr : a->jr < 0 ? a->jr : 0;
}

/* The audit rows of a first load, person by person in order of id, each
 * person's creation, managers and joins together: the people, their
 * managers and their memberships read side by side in that order (the
 * memberships sorted once; "+" keeps the index out of the ORDER BY, for
 * SQLite), so that no row is looked up at random. The managers'
 * usernames are read first, as the groups' names. */
static int
audit_loaded(struct recon *rc, const struct recon_opts *o)
{
	struct audit_pass a = { .o = o };
	double t = time_mono();
	int r;

	if ((r = names_load(rc, "SELECT id, name FROM groups ORDER BY id", &a.groups)) < 0 ||
	    (r = names_load(rc, "SELECT id, username FROM people WHERE id IN (SELECT manager_id "
			    "FROM person_managers) ORDER BY id", &a.managers)) < 0 ||
	    (r = store_prepare(recon_store(rc), "SELECT id, username, dir_disabled FROM people "
			       "ORDER BY id", &a.people)) < 0 ||
	    (r = store_prepare(recon_store(rc), "SELECT person_id, kind, manager_id FROM "
			       "person_managers ORDER BY person_id, kind", &a.mgr)) < 0 ||
	    (r = store_prepare(recon_store(rc), "SELECT person_id, group_id, via_group_id "
			       "FROM group_membership ORDER BY +person_id, +group_id", &a.join)) < 0 ||
	    (r = store_prepare(recon_store(rc), "INSERT INTO audit_log (at, run_id, actor, "
			       "action, person_id, subject, detail) VALUES (?1, ?2, 'sync', ?3, ?4, "
			       "?5, ?6)", &a.ins)) < 0)
		goto out;
	a.mr = stmt_step(a.mgr);
	a.jr = stmt_step(a.join);
	while ((r = stmt_step(a.people)) == 1 &&
	       (r = audit_person(&a, stmt_int(a.people, 0), stmt_text(a.people, 1),
				 stmt_int(a.people, 2) != 0)) == 0)
		;
out:
	names_free(&a.groups);
	names_free(&a.managers);
	stmt_done(a.people);
	stmt_done(a.mgr);
	stmt_done(a.join);
	stmt_done(a.ins);
	recon_audit_add(rc, RECON_HIERARCHY, time_mono() - t);
	return r < 0 ? r : 0;
}

/* The groups of a first load: their rows, the edges, and every effective
 * membership a join, audited person by person. A store whose groups' DNs
 * share a key takes the general way. */
static int
groups_loaded(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	struct store *st = recon_store(rc);
	struct keyset groups = { 0 };
	long long had, n = 0;
	double t = time_mono();
	int r;

	if ((r = group_rows(rc, o, c)) < 0 || (r = group_keys(rc, &groups)) < 0)
		goto out;
	if (r == 1) {
		keyset_free(&groups);
		if ((r = store_bulk_index(st, NULL)) < 0)
			return r;
		return sync_groups_edges(rc, o, c);
	}
	/* Edges to groups (nesting) may be there from runs before; to people
	 * none can be: a store of nobody. */
	/* The edges to people in, their indexes are built: what follows reads
	 * the edges by group. */
	if ((had = recon_count(rc, "SELECT EXISTS (SELECT 1 FROM group_members)")) < 0 ||
	    (r = members_loaded(rc, o, &groups, c)) < 0 ||
	    (load_forget_keys(recon_load(rc)), r = store_bulk_index(st, "group_members")) < 0 ||
	    (r = store_exec(st, schema_recon_edges_index)) < 0 ||
	    (n = add_group_edges(rc)) < 0 ||
	    (removals_allowed(o) && had && (n = remove_edges(rc, REMOVE_EDGES_TO_GROUPS)) < 0))
		goto fail;
	log_debug("group rows and members in %.3f s", time_mono() - t);
	if ((n = recon_sql(rc, eff_loaded_sql, o)) < 0)
		goto fail;
	c->joins = n;
	log_debug("%lld memberships in %.3f s", n, time_mono() - t);
	goto out;
fail:
	r = r < 0 ? r : n < 0 ? (int)n : -EIO;
out:
	keyset_free(&groups);
	return r < 0 ? r : 0;
}

/* Managers, groups and roles of a first load. */
static int
work_out_loaded(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	double t = time_mono();
	int r;

	if ((r = managers_loaded(rc, o, c)) < 0)
		return r;
	log_debug("managers in %.3f s", time_mono() - t);
	t = time_mono();
	if (o->groups_read && (r = groups_loaded(rc, o, c)) < 0)
		return r;
	log_debug("groups in %.3f s", time_mono() - t);
	/* The keys of the DNs have done their work (groups_loaded lets them
	 * go as soon as the members are found): their memory goes to what
	 * follows, the sorts of the index builds, the reporting tree. */
	load_forget_keys(recon_load(rc));
	if ((r = find_cycles(rc, &c->manager_cycles)) < 0)
		return r;
	t = time_mono();
	if ((r = audit_loaded(rc, o)) < 0)
		return r;
	log_debug("audit of the load in %.3f s", time_mono() - t);
	t = time_mono();
	/* Every index the load took down, before anything reads by them. */
	if ((r = store_bulk_index(recon_store(rc), NULL)) < 0 ||
	    (r = sync_roles(rc, o, c, roles_loaded_sql)) < 0)
		return r;
	log_debug("indexes and roles in %.3f s", time_mono() - t);
	return 0;
}

/* ---- the whole ---------------------------------------------------------- */

/*
 * Managers, memberships and roles depend only on the people rows, the staged
 * groups and memberOf values, and the config. A run that changed no person
 * and staged the same groups as the last run that worked them all out
 * cannot change any of them, so it skips the work: the state row
 * "hierarchy" keeps a digest of those inputs and the counts to report again.
 */
static int
inputs_digest(struct recon *rc, const struct recon_opts *o, const char *state, char *out,
	      size_t len)
{
	const struct conf *cf = o->cf;
	unsigned long long groups = o->groups_read ? (unsigned long long)recon_group_digest(rc) : 0;
	const char *last = strstr(state, " groups=");
	long long people;
	int n, r;

	if ((r = store_query_int(recon_store(rc), "SELECT count(*) FROM people", &people)) < 0)
		return r;
	/* Groups not read because none changed: what they were last time. */
	if (o->groups_same && (last == NULL || sscanf(last, " groups=%16llx", &groups) != 1))
		groups = 0;
	n = snprintf(out, len, "v1 people=%lld groups=%016llx style=%d nested=%d member_of=%s "
		     "primary=%d base=%s roles=", people, groups,
		     (int)cf->ldap.groups.member_style, cf->ldap.groups.nested,
		     cf->ldap.member_of_attr ? cf->ldap.member_of_attr : "",
		     cf->ldap.groups.primary_group, cf->ldap.users.base);
	for (size_t i = 0; i < cf->nroles && n > 0 && (size_t)n < len; i++)
		n += snprintf(out + n, len - (size_t)n, "%s:%d;", cf->roles[i].group,
			      (int)cf->roles[i].role);
	return n > 0 && (size_t)n < len ? 0 : -ENOSPC;
}

/* The state row, key "hierarchy": "DIGEST\nWARNINGS IGNORED CYCLES"; "" when
 * none. */
static int
state_get(struct recon *rc, char *buf, size_t len)
{
	int r = store_state_get(recon_store(rc), "hierarchy", buf, len);

	if (r == -ENOENT || r == -ENOSPC) {
		buf[0] = '\0';   /* none, or not one of ours: work it all out */
		return 0;
	}
	return r < 0 ? r : 0;
}

int
recon_hierarchy_forget(struct store *st)
{
	return store_state_put(st, "hierarchy", NULL);
}

/* Whether the state row says this run's inputs were all worked out before;
 * if so, the counts it kept go to c. */
static bool
unchanged_since(const char *state, const char *digest, struct hier_counts *c)
{
	size_t dlen = strlen(digest);

	return strncmp(state, digest, dlen) == 0 && state[dlen] == '\n' &&
	       sscanf(state + dlen + 1, "%lld %lld %lld", &c->manager_warnings,
		      &c->members_ignored, &c->manager_cycles) == 3;
}

/* Managers, groups and roles, the general way; after a first load whose
 * keys cannot do it (work_out_loaded), with the indexes it took down built
 * first. */
static int
work_out(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	const struct load *ld = recon_load(rc);
	double t = time_mono();
	int r;

	if (ld != NULL && !load_keys_shared(ld) && o->cf->ldap.member_of_attr == NULL &&
	    !o->cf->ldap.groups.primary_group)
		return work_out_loaded(rc, o, c);
	/* The people a load wrote are audited here (on the load's own way,
	 * with their managers and joins: audit_loaded). */
	if (ld != NULL && ((r = store_bulk_index(recon_store(rc), NULL)) < 0 ||
			   (r = recon_audit_sql(rc, RECON_HIERARCHY,
				"INSERT INTO audit_log (at, run_id, actor, action, person_id, subject, "
				"detail) SELECT :now, :run, 'sync', 'create', id, username, CASE WHEN "
				"dir_disabled THEN 'new entry, disabled in the directory' ELSE 'new entry' "
				"END FROM people ORDER BY id", o)) < 0))
		return r;
	if ((r = sync_managers(rc, o, c)) < 0 ||
	    (r = find_cycles(rc, &c->manager_cycles)) < 0)
		return r;
	log_debug("managers in %.3f s", time_mono() - t);
	t = time_mono();
	if (o->groups_read && (r = sync_groups(rc, o, c)) < 0)
		return r;
	log_debug("groups in %.3f s", time_mono() - t);
	t = time_mono();
	if ((r = sync_roles(rc, o, c, roles_sql)) < 0)
		return r;
	log_debug("roles in %.3f s", time_mono() - t);
	return 0;
}

int
recon_hierarchy(struct recon *rc, const struct recon_opts *o, struct hier_counts *c)
{
	char digest[2048], state[2200], value[2200];
	/* Only a run that could work everything out may be remembered. */
	bool whole = o->complete && (!o->groups_read || o->groups_complete);
	int r;

	memset(c, 0, sizeof(*c));
	if (recon_sql(rc, "DELETE FROM temp.hier", NULL) < 0)
		return -EIO;
	if ((r = state_get(rc, state, sizeof(state))) < 0 ||
	    (r = inputs_digest(rc, o, state, digest, sizeof(digest))) < 0)
		return r;
	if (whole && recon_people_changed(rc) == 0 && unchanged_since(state, digest, c)) {
		/* Nobody leaves a group: the count the removal threshold
		 * divides by is not needed. */
		c->groups_read = recon_count(rc, "SELECT count(*) FROM temp.stage_groups");
		if (c->groups_read < 0)
			return -EIO;
		if (c->manager_warnings > 0)
			log_warn("%lld manager values give no manager, as in the last run",
				 c->manager_warnings);
		log_debug("managers, groups and roles: nothing they depend on changed");
		/* The same cycles as the last run: named again, if any. */
		return c->manager_cycles > 0 ? find_cycles(rc, &c->manager_cycles) : 0;
	}
	if ((r = work_out(rc, o, c)) < 0)
		return r;
	snprintf(value, sizeof(value), "%s\n%lld %lld %lld", digest, c->manager_warnings,
		 c->members_ignored, c->manager_cycles);
	/* A run that could not work everything out forgets the digest only if
	 * it changed something: otherwise the store still matches it. */
	if (whole)
		r = store_state_put(recon_store(rc), "hierarchy", value);
	else if (c->manager_changes + c->joins + c->leaves + c->role_changes +
		 c->groups_created + c->groups_updated + c->groups_deleted > 0)
		r = store_state_put(recon_store(rc), "hierarchy", NULL);
	if (r < 0)
		return r;
	r = recon_audit_sql(rc, RECON_HIERARCHY,
		"INSERT INTO audit_log (at, run_id, actor, action, person_id, subject, detail) "
		"SELECT :now, :run, 'sync', action, person_id, subject, detail FROM temp.hier "
		"ORDER BY seq", o);
	return r < 0 ? r : 0;
}
