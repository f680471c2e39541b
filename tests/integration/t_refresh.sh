#!/usr/bin/env bash
# t_refresh: sync.mode = "refresh" (RFC 4533 refreshOnly against slapd's syncprov).
# Proves: the first run reads everyone (a refresh from nothing) and keeps a
# cookie; a run with no change reads no entry and writes nothing; adds,
# modifies, modrdns, deletes and group changes between runs leave the store
# as a full run of the same directory leaves its own (a twin store synced in
# full after each step, compared column by column); a mass deletion over the
# threshold is held and the cookie is not advanced, then goes through once
# approved; a session log too short for the gap makes slapd fall back to the
# present phase, and exactly the deleted people go missing; the groups are
# read again only when a person changed in a way members are matched by
# (new, moved, gone, back) or a group changed; a changed filter
# makes a refresh from nothing; a server without syncprov is read in full,
# with one warning.
. "$(dirname "$0")/lib.sh"

export SLAPD_SESSIONLOG=100
start_directory "$FIXTURES/people-small.ldif"
{ ldif_group eng "$(p alice)" "$(p bob)"; ldif_group all "$(p carol)" "$(g eng)"; } | ldap_admin_add
sync_keys='max_disable = 3; max_disable_percent = 60.0; max_membership_removals_percent = 100.0; initial_status = "active";'
ROSTERD_CONF_SYNC="mode = \"refresh\"; $sync_keys" write_conf
# The twin: the same directory synced in full into its own store.
FULL_CONF=$TEST_TMP/full/rosterd.conf
FULL_DB=$TEST_TMP/full/learning.db
ROSTERD_CONF_SYNC="mode = \"full\"; $sync_keys" slapd_write_rosterd_conf "$FULL_CONF"
kept() { sql "SELECT value FROM state WHERE key = 'source:refresh'"; }

note "first run: a refresh from nothing"
twin_run
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)" "first refresh creates everyone"
assert_eq 10 "$(last_run entries_read)"
assert_match "$(kept)" '^v1 fp=[0-9a-f]{16} full=[0-9]+ people=[0-9a-f]+ groups=[0-9a-f]+$' "the cookies are kept"

note "no change: nothing read, nothing written"
before=$(sql_dump people person_fields person_managers audit_log state)
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "no-change refresh"
assert_eq 0 "$(last_run entries_read)" "a no-change refresh reads no entry"
assert_contains "$ERR" "0 changes since the last run"
assert_eq "$before" "$(sql_dump people person_fields person_managers audit_log state)" \
	"a no-change refresh changes nothing in the people tables"

note "changes between runs: modify, add, modrdn, delete"
cookie=$(kept)
set_attr "uid=bob,$PEOPLE" title "Chief Engineer"
ldif_person newbie New Bie "manager: uid=alice,$PEOPLE" | ldap_admin_add
ldap_admin_modrdn "uid=frank,$PEOPLE" "uid=frank.foster"
ldap_admin_delete "uid=dave,$PEOPLE"
twin_run
assert_eq "ok 1 2 1 1 0 0" "$(run_counts)" "refresh after four changes"
assert_eq 4 "$(last_run entries_read)" "only the four changes were read"
assert_sql "Chief Engineer" "SELECT title FROM people WHERE username = 'bob'"
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'dave'"
assert_sql "alice" "SELECT m.username FROM person_managers pm JOIN people p ON p.id = pm.person_id JOIN people m ON m.id = pm.manager_id WHERE p.username = 'newbie'"
assert_ne "$cookie" "$(kept)" "the cookie moved on"

note "group changes: a member joins, a group goes"
ldap_admin_modify <<LDIF
dn: $(g eng)
changetype: modify
add: member
member: $(p newbie)
LDIF
twin_run
assert_sql "all|eng
eng|eng" "SELECT g.name, v.name FROM group_membership gm JOIN groups g ON g.id = gm.group_id JOIN groups v ON v.id = gm.via_group_id JOIN people p ON p.id = gm.person_id WHERE p.username = 'newbie' ORDER BY 1"
ldap_admin_delete "$(g all)"
twin_run
assert_sql 0 "SELECT present FROM groups WHERE name = 'all'"

groups_read() { sql "SELECT coalesce(groups_complete, -1) FROM sync_runs ORDER BY id DESC LIMIT 1"; }
note "a person's change that members are not matched by: the groups are not read"
set_attr "uid=carol,$PEOPLE" mail carol@new.example.com
twin_run
assert_eq "ok 0 1 0 0 0 0" "$(run_counts)"
assert_eq -1 "$(groups_read)" "no group read for a changed mail"

note "people members are matched by: going, coming back, new: the groups are read again"
# bob leaves the people's base (gone: missing, out of eng), then comes back
# (in eng again, by the same member value, the group unchanged).
ldap_admin_modrdn "uid=bob,$PEOPLE" "uid=bob" "ou=system,dc=example,dc=com"
twin_run
assert_eq "ok 0 0 0 1 0 0" "$(run_counts)" "bob gone"
assert_eq 1 "$(groups_read)" "the groups read again for someone gone"
ldap_admin_modrdn "uid=bob,ou=system,dc=example,dc=com" "uid=bob" "$PEOPLE"
twin_run
assert_eq "ok 0 0 0 0 1 0" "$(run_counts)" "bob back"
assert_eq 1 "$(groups_read)" "the groups read again for someone back"
assert_sql "eng" "SELECT g.name FROM group_membership gm JOIN groups g ON g.id = gm.group_id JOIN people p ON p.id = gm.person_id WHERE p.username = 'bob'"
# A member value naming nobody yet, then the person it names.
ldap_admin_modify <<LDIF
dn: $(g eng)
changetype: modify
add: member
member: $(p latecomer)
LDIF
twin_run
ldif_person latecomer Late Comer | ldap_admin_add
twin_run
assert_eq "ok 1 0 0 0 0 0" "$(run_counts)" "latecomer created"
assert_eq 1 "$(groups_read)" "the groups read again for someone new"
assert_sql "eng" "SELECT g.name FROM group_membership gm JOIN groups g ON g.id = gm.group_id JOIN people p ON p.id = gm.person_id WHERE p.username = 'latecomer'"

note "a mass deletion over sync.max_disable (3) is held; the cookie stays"
cookie=$(kept)
for u in alice bob carol jose; do ldap_admin_delete "uid=$u,$PEOPLE"; done
sync_once 4
held=$(last_run id)
assert_eq held "$(last_run outcome)"
assert_eq "$cookie" "$(kept)" "a held refresh keeps the old cookie"
assert_sql "active" "SELECT status FROM people WHERE username = 'alice'"
sync_once 4
assert_eq "$cookie" "$(kept)" "held again: the same changes are sent again"
rctl_ok run approve "$(last_run id)"
sync_once
assert_eq "ok 0 0 0 4 0 0" "$(run_counts)" "approved: the four are disabled"
twin_held
assert_eq "$(twin_state "$FULL_DB")" "$(twin_state "$DB")" "the refreshed store equals the fully synced one"
assert_ne "$cookie" "$(kept)" "the cookie moved on once the run went through"

note "rosterctl resync: the next run reads everything"
rctl_ok resync
assert_eq "" "$(kept)" "resync forgets the cookies"
n_all=$(ldap_svc_search -b "$PEOPLE" '(objectClass=inetOrgPerson)' 1.1 | grep -c '^dn:')
twin_run
assert_eq "$n_all" "$(last_run entries_read)" "after resync, everyone was read"
assert_ne "" "$(kept)" "and new cookies kept"
run_rosterd -n
assert_rc 0 "rosterd -n"
assert_contains "$OUT" "sync.mode refresh"
assert_contains "$OUT" "advertises content synchronisation"

note "a session log too short for the gap: slapd sends a present phase"
export SLAPD_SESSIONLOG=2
restart_directory
ROSTERD_CONF_URI=$SLAPD_URI ROSTERD_CONF_SYNC="mode = \"refresh\"; $sync_keys" write_conf
ROSTERD_CONF_URI=$SLAPD_URI ROSTERD_CONF_SYNC="mode = \"full\"; $sync_keys" slapd_write_rosterd_conf "$FULL_CONF"
gen_people 6 extra | ldap_admin_add
twin_run
assert_eq "ok 6 0 0 0 0 0" "$(run_counts)"
for u in extra00001 extra00002 extra00003; do ldap_admin_delete "uid=$u,$PEOPLE"; done
twin_run
assert_eq "ok 0 0 0 3 0 0" "$(run_counts)" "exactly the three deleted go missing"
assert_sql "extra00001|extra00002|extra00003" "SELECT group_concat(username, '|') FROM (SELECT username FROM people WHERE username LIKE 'extra%' AND status = 'disabled' ORDER BY username)"

note "a changed filter: a refresh from nothing"
ROSTERD_CONF_USERS_FILTER='(&(objectClass=inetOrgPerson)(!(uid=zwei)))' \
	ROSTERD_CONF_URI=$SLAPD_URI ROSTERD_CONF_SYNC="mode = \"refresh\"; $sync_keys" write_conf
n_present=$(ldap_svc_search -b "$PEOPLE" '(&(objectClass=inetOrgPerson)(!(uid=zwei)))' 1.1 | grep -c '^dn:')
sync_once
assert_eq "$n_present" "$(last_run entries_read)" "everyone the new filter takes was read"
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'zwei'"

note "a server without syncprov: read in full, said once"
export SLAPD_NO_SYNCPROV=1
restart_directory
ROSTERD_CONF_URI=$SLAPD_URI ROSTERD_CONF_SYNC="mode = \"refresh\"; $sync_keys" write_conf
set_attr "uid=erin,ou=contractors,$PEOPLE" title "Contractor"
sync_once
assert_contains "$ERR" "does not offer content synchronisation"
n_all=$(ldap_svc_search -b "$PEOPLE" '(objectClass=inetOrgPerson)' 1.1 | grep -c '^dn:')
assert_eq "$n_all" "$(last_run entries_read)" "everyone read"
assert_sql "Contractor" "SELECT title FROM people WHERE username = 'erin'"
