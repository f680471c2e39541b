#!/usr/bin/env bash
# t_first_sync: the first sync of people-small.ldif into an empty store.
# Proves: rosterd -n accepts the config; --once exits 0 and creates one people
# row per entry with every mapped field (custom fields, multi-valued values
# joined by a line feed, normalised manager DNs, entryUUID as dir_id), status
# sync.initial_status ("invited"; "active" when configured), a sync_runs row
# with the right counts and URI, one audit_log "create" per person; the search
# is really paged (page_size 3 gives several SEARCH RESULTs in slapd's log);
# scope "one" leaves out the sub-OU.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
write_conf

run_rosterd -n
assert_rc 0 "rosterd -n"
assert_contains "$OUT" "configuration ok"
assert_no_store

sync_once
assert_sql 10 "SELECT count(*) FROM people"
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)" "run counts (outcome created updated renamed disabled enabled rejected)"
assert_sql "1|10|$SLAPD_URI" "SELECT id, entries_read, directory_uri FROM sync_runs"
assert_sql 1 "SELECT finished_at IS NOT NULL AND duration >= 0 AND error IS NULL FROM sync_runs"
assert_sql "invited|10" "SELECT status, count(*) FROM people GROUP BY status"
assert_sql 0 "SELECT count(*) FROM people WHERE status_reason IS NOT NULL OR dir_disabled <> 0 OR missing_since IS NOT NULL"
assert_sql 0 "SELECT count(*) FROM run_rejects"
assert_store_sound
[ "$STORE" != sqlite ] || assert_sql wal "PRAGMA journal_mode"
assert_eq "$(ls "$ROSTERD_TOP"/schema/[0-9]*.sql | wc -l)" "$(schema_version)" "schema version: every migration applied"

note "alice: every field"
assert_sql "uid=alice,ou=people,dc=example,dc=com|uid=alice,ou=people,dc=example,dc=com|alice|alice@example.com|Alice|Archer|Alice Archer|1001|ENG|London|Chief Technology Officer||" \
	"SELECT dn, dn_norm, username, email, given_name, family_name, display_name, employee_number,
	        department, location, title, manager_dn, secondary_manager_dn FROM people WHERE username = 'alice'"
assert_sql "manager|invited|0" "SELECT role, status, dir_disabled FROM people WHERE username = 'alice'" "alice has direct reports: manager"
assert_match "$(col alice member_since)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "member_since is RFC 3339 UTC"
uuid=$(ldap_svc_search -b "uid=alice,$PEOPLE" -s base entryUUID | sed -n 's/^entryUUID: //p')
assert_match "$uuid" '^[0-9a-f-]{36}$' "alice's entryUUID from slapd"
assert_eq "$uuid" "$(col alice dir_id)" "dir_id is the entryUUID"
assert_sql "cost_centre|ENG" "SELECT name, value FROM person_fields f JOIN people p ON p.id = f.person_id WHERE p.username = 'alice'"

note "bob: manager in odd case and spacing, secretary"
assert_eq "uid=alice,ou=people,dc=example,dc=com" "$(col bob manager_dn)" "bob's manager_dn normalised"
assert_eq "uid=carol,ou=people,dc=example,dc=com" "$(col bob secondary_manager_dn)" "bob's secondary_manager_dn"

note "dave: no mail, two departmentNumber values"
assert_sql "1|ENG|uid=alice,ou=people,dc=example,dc=com" "SELECT email IS NULL, department, manager_dn FROM people WHERE username = 'dave'"
assert_sql 1 "SELECT value = 'ENG' || char(10) || 'OPS' FROM person_fields f JOIN people p ON p.id = f.person_id
	WHERE p.username = 'dave' AND f.name = 'cost_centre'" "dave's cost_centre is both values joined by a line feed"

note "erin: in a sub-OU, no employeeNumber, no manager"
assert_sql "uid=erin,ou=contractors,ou=people,dc=example,dc=com|1|1" \
	"SELECT dn, employee_number IS NULL, manager_dn IS NULL FROM people WHERE username = 'erin'"
assert_sql 10 "SELECT count(*) FROM person_fields WHERE name = 'cost_centre'"

note "audit log: one create per person, then the managers and roles they got, by sync, in run 1"
assert_sql "sync|create|1|10
sync|manager|1|9
sync|role|1|4" "SELECT actor, action, run_id, count(*) FROM audit_log GROUP BY actor, action, run_id ORDER BY 1, 2, 3"
assert_sql "bob|primary manager: none -> alice
bob|secondary manager: none -> carol
zoe|primary manager: none -> alice" "SELECT subject, detail FROM audit_log WHERE action = 'manager' AND subject IN ('bob', 'zoe') ORDER BY subject, detail" "manager DNs in mixed case and spacing resolve"
assert_sql 0 "SELECT count(*) FROM audit_log a LEFT JOIN people p ON p.id = a.person_id WHERE p.id IS NULL OR p.username <> a.subject"

note "rosterctl sees it"
rctl_ok status --json
assert_json '.people.total' 10
assert_json '.people.invited' 10
assert_json '.last_run.outcome' ok

note "paged search: page_size 3"
CONF=$TEST_TMP/paged/rosterd.conf DB=$TEST_TMP/paged/learning.db
ROSTERD_CONF_PAGE_SIZE=3 write_conf
mark=$(slapd_log_mark)
sync_once
pages=$(slapd_log_since "$mark" | grep -c 'SEARCH RESULT' || true)
[ "$pages" -ge 4 ] || fail "page_size 3 over 10 entries should take at least 4 search results in slapd's log, got $pages"
assert_sql 10 "SELECT count(*) FROM people"
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)"

note "initial_status = active"
CONF=$TEST_TMP/active/rosterd.conf DB=$TEST_TMP/active/learning.db
ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 10.0; initial_status = "active";' write_conf
sync_once
assert_sql "active|10" "SELECT status, count(*) FROM people GROUP BY status"

note "scope = one leaves out ou=contractors"
CONF=$TEST_TMP/one/rosterd.conf DB=$TEST_TMP/one/learning.db
ROSTERD_CONF_USERS_EXTRA='scope = "one";' write_conf
sync_once
assert_sql 9 "SELECT count(*) FROM people"
assert_sql 0 "SELECT count(*) FROM people WHERE username = 'erin'"
