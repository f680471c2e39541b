/*
 * recon_priv.h: what reconcile.c and hierarchy.c share, and nothing else
 * includes: the temporary tables through which a run's staging, plan and
 * hierarchy pass, the SQL that makes them, and a few helpers.
 *
 * The tables live in the connection's temporary database (a file of its own,
 * deleted when the store is closed), never in the store. Their DDL is
 * schema/temp_recon.sql (schema_recon_tables): recon_stage_begin() drops and
 * creates every one of them, empty, before the directory is read; they stay
 * after recon_free() until the next recon_stage_begin() or store_close().
 * The staging tables are written in the staging transaction (store.h:
 * store_begin_temp), which holds no lock on the store; everything else is
 * written inside the run's write transaction and rolled back with it (a
 * held run, a dry run). Rows are kept in the order they were written by a
 * "seq INTEGER PRIMARY KEY" where the order is reported.
 *
 * Staging, one row per entry or value read (recon_stage_*(), reconcile.c):
 *
 *   stage_people     a person read, and changed since the last run (read
 *                    unchanged: only marked, see rosterd_skipped below).
 *                    seq: the order read. dir_id: the directory's stable id
 *                    (unique). dn as read, dn_norm normalised (RFC 4514).
 *                    username (as attrmap.c prepared it) and the other
 *                    mapped fields, a column each named as in people
 *                    (field_column(); manager_dn and secondary_manager_dn
 *                    are normalised DNs). dir_disabled: 1 when the
 *                    directory's flag says disabled. hash: person_hash() of
 *                    all that was read, people.src_hash once applied.
 *                    username_key: username_key() of username (fold.h),
 *                    unique: what usernames are compared by; NULL only in
 *                    a row restaged from a person stored without one.
 *                    Also written by recon_plan: the skipped people it must
 *                    look at again (restage_skipped, from their own row) and
 *                    the removal of the entries whose username is held.
 *                    Read by the plan (creates, updates, statuses, events)
 *                    and the apply (creates, updates, dir_disabled and hash).
 *   stage_fields     the custom fields of a staged person: dir_id, name,
 *                    value (a name given twice: the last value). Read by the
 *                    plan (did they change) and the apply.
 *   stage_seen       dir_id of entries read but not staged as a person
 *                    (rejected, or their username held): their people are
 *                    not missing. Read by the plan (unseen).
 *   stage_gone       dir_id of the people a source that reads changes
 *                    named gone. Read by the plan of a lazy handle (unseen)
 *                    and recon_stage_members_may_change().
 *   stage_rejects    seq, dn, reason of each entry refused, in order; for
 *                    an entry whose username a person not read holds, its
 *                    dir_id and that person (held_by), for rosterctl user
 *                    relink. Read by recon_plan (counted), recon_apply
 *                    (run_rejects) and recon_rejects_foreach().
 *   stage_member_of  dir_id, group_dn: the memberOf values (normalised DNs)
 *                    of every person read, staged or skipped; a person read
 *                    with none has a row with group_dn "" (so that whom it
 *                    read is known); and of every group read when nesting
 *                    is read from memberOf alone. Read by the hierarchy
 *                    (resolve_members), by person through its index
 *                    stage_member_of_id (schema_recon_member_of_index).
 *   stage_primary    dir_id, token, is_group: Active Directory's primary
 *                    group (ldap.groups.primary_group): a person's
 *                    primaryGroupID (is_group 0, every person read) and a
 *                    group's primaryGroupToken (is_group 1). Read by the
 *                    hierarchy (resolve_members).
 *   stage_groups     a group read: seq, dir_id (unique), dn, dn_norm, name,
 *                    description (NULL: none), partial (1: the server sent
 *                    only part of its members: nobody leaves it). Read by
 *                    the hierarchy.
 *   stage_member_lists  group_dir_id, list: a group's member values
 *                    (normalised DNs, or usernames for memberUid), each
 *                    ending in NUL, one row a group with members. Read by
 *                    recon_members_expand().
 *
 * The plan of the people (recon_plan(), reconcile.c):
 *
 *   stage_members    group_dir_id, value: the member lists a row a value,
 *                    written by recon_members_expand() when the groups are
 *                    worked out; read by resolve_members (hierarchy.c)
 *                    through its index stage_members_value
 *                    (schema_recon_members_index).
 *   held             seq (of stage_people), dir_id, dn, reason: the staged
 *                    entries whose username a person not seen (or read
 *                    unchanged) holds, one round of reject_held_usernames;
 *                    held_by: that person when not read at all; moved to
 *                    stage_rejects and stage_seen.
 *   unseen           person_id of the people this run did not read at all
 *                    (neither staged, skipped nor rejected). Read by the plan
 *                    (disables for missing, events) and the apply
 *                    (missing_since).
 *   plan             the changes to the people, seq their order (creates,
 *                    updates, disables, enables; each by username). action:
 *                    create, update, disable, enable. person_id: NULL for a
 *                    create. dir_id, username, dn: the person's as read (a
 *                    missing person's: as stored). reason: for the audit log
 *                    and the printer ("new entry", "changed: email title",
 *                    "not found in the directory"...). code: update 'moved'
 *                    (the DN changed); disable 'directory' or 'missing';
 *                    enable the status_reason it undoes. fields: an update
 *                    that changes the custom fields. links: an update that
 *                    changes what managers and memberships are resolved by
 *                    (DN, username, manager DNs). Read by recon_apply,
 *                    recon_plan_digest, recon_plan_foreach and the events.
 *   pre_events       kind (enum rosterd_event_kind: 3 directory-disabled,
 *                    4 missing, 5 reappeared), person_id, flags (reappeared:
 *                    ROSTERD_BACK_*): the events only the store before the
 *                    apply shows; written only when plugins are loaded.
 *
 * Managers, groups, memberships and roles (recon_hierarchy(), hierarchy.c):
 *
 *   hier             every change, seq its order, applied and audited from
 *                    here. action: manager, group_create, group_update,
 *                    group_delete, join, leave, role. person_id, group_id:
 *                    whom and which group it concerns (NULL: none). kind: a
 *                    manager's primary or secondary; a role change's new
 *                    role. old_id, new_id: a manager change's old and new
 *                    manager (NULL: none); a leave's old and a join's new way
 *                    in (the group the person came through). subject: the
 *                    username or the group name; detail: what the audit log
 *                    and the printer say. Read also by recon_plan_digest
 *                    (leaves), recon_plan_foreach and the events.
 *   want_mgr         person_id, kind: the manager a present person should
 *                    have (manager_id; NULL when none), the DN it comes from
 *                    (dn) and why there is none (problem).
 *   resolved         group_id, person_id, member_group_id: what each member
 *                    and memberOf value names (a present person, a present
 *                    group; both NULL: nothing, counted as ignored).
 *                    from_member_of: 1 for a memberOf value (or, with
 *                    memberOf alone, a direct edge kept for a person whose
 *                    memberOf the run did not read), which nesting may
 *                    explain.
 *                    Indexed person by person when nesting is to be looked
 *                    at (schema_recon_resolved_index).
 *   nest             anc, des: group des is below group anc through one
 *                    nesting or more (both the same: a cycle), from the
 *                    member values resolved.
 *   want_edges       group_id, person_id or member_group_id: the direct
 *                    edges wanted (group_members), indexed once filled
 *                    (schema_recon_edges_index).
 *   want_eff         group_id, person_id, via: the effective memberships
 *                    wanted (group_membership), indexed person by person once
 *                    filled (schema_recon_eff_index).
 *   role_groups      group_id, rank (enum role): the groups the config maps
 *                    to a role.
 *
 * The events (recon_events_foreach(), reconcile.c):
 *
 *   events           seq, kind, person_id, changed, group_id, old_id, flags,
 *                    via (a join's way in when not the group itself, else 0):
 *                    the run's plugin events in the order handed out,
 *                    materialised first because the plugins write to the
 *                    tables they come from.
 *
 * The SQL function rosterd_skipped(dir_id), defined while a handle lives
 * (store_define_predicate): 1 when this run read that person unchanged and
 * did not stage them (a lazy handle, recon_stage_begin_changes(), once the
 * read named only changes: everyone of the store it did not name, except
 * those missing before).
 */
#ifndef ROSTERD_RECON_PRIV_H
#define ROSTERD_RECON_PRIV_H

#include <stdint.h>

#include "recon.h"
#include "schema.h"   /* schema_recon_*, schema_attention */
#include "store.h"

/* Run one statement to its end, binding :now, :run (unless a dry run) and
 * :initial from o where it names them (o may be NULL). The statement is
 * prepared once and kept by the store for the next call with the same text.
 * Returns the number of rows changed, or a negative errno (store_errmsg
 * says why). */
int recon_sql(struct recon *rc, const char *sql, const struct recon_opts *o);
/* recon_sql() for a statement that writes the audit log, timed apart
 * (recon_times): while applying the plan, or working out the hierarchy. */
enum recon_part { RECON_APPLY, RECON_HIERARCHY };
int recon_audit_sql(struct recon *rc, enum recon_part part, const char *sql,
		    const struct recon_opts *o);
/* Count secs more of writing the audit log (recon_times). */
void recon_audit_add(struct recon *rc, enum recon_part part, double secs);
/* The integer in the first column of the first row of sql, or a negative
 * errno (also when there is no row). */
long long recon_count(struct recon *rc, const char *sql);

/* Bind, from 1 on, what staging and a first load write of a person first:
 * dir_id, dn, dn_norm, the fields (field_column() order), then key (the
 * username's comparison key). The next parameter's index. */
int recon_bind_person(struct stmt *s, const struct person_rec *p, const char *key);
/* The people columns those are (recon_bind_person), between before and
 * after, into sql: 0 or -ENOSPC. */
int recon_person_columns(char *sql, size_t len, const char *before, const char *after);
/* The store the handle works on. */
struct store *recon_store(struct recon *rc);
/* The first load under way (load.h), or NULL: the run stages. */
struct load *recon_load(struct recon *rc);
/* A digest of everything staged about groups (entries, members, memberOf). */
uint64_t recon_group_digest(const struct recon *rc);
/* How many people recon_apply changed in a way that can move a manager or a
 * membership: created, a new DN, username or manager DN, missing or back. */
long long recon_people_changed(const struct recon *rc);

#endif
