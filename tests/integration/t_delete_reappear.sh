#!/usr/bin/env bash
# t_delete_reappear: people who leave the directory and come back.
# Proves: an entry deleted from the directory -> its person is disabled with
# status_reason 'missing', prev_status and missing_since set, data and custom
# fields kept, audited; the next run does not disable again; an entry moved out
# of the users base and back (same entryUUID) is disabled, then enabled to its
# previous status (not sync.initial_status), same row, missing_since cleared,
# history (create, disable, enable) kept in the audit log; a new entry
# re-using a missing person's uid (new entryUUID) is rejected, not merged;
# on_missing = "keep" disables nobody but still records missing_since; a
# person disabled by an operator or archived (set in the store) is never
# enabled or re-disabled by a run, while their profile still follows the
# directory.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "active";'
write_conf
sync_once
assert_sql "active|10" "SELECT status, count(*) FROM people GROUP BY status"
carol_id=$(col carol id)
carol_row=$(sql "SELECT dir_id, dn, email, given_name, family_name, display_name, employee_number, department, location, title, manager_dn FROM people WHERE username = 'carol'")

note "carol deleted from the directory"
ldap_admin_delete "uid=carol,$PEOPLE"
sync_once
assert_eq "ok 0 0 0 1 0 0" "$(run_counts)" "counts after a delete"
assert_sql "$carol_id|disabled|missing|active|0" "SELECT id, status, status_reason, prev_status, dir_disabled FROM people WHERE username = 'carol'"
assert_sql 1 "SELECT missing_since IS NOT NULL FROM people WHERE username = 'carol'"
assert_eq "$carol_row" "$(sql "SELECT dir_id, dn, email, given_name, family_name, display_name, employee_number, department, location, title, manager_dn FROM people WHERE username = 'carol'")" "carol's data kept"
assert_sql "cost_centre|OPS" "SELECT name, value FROM person_fields WHERE person_id = $carol_id"
assert_sql "disable|carol|carol|not found in the directory
manager|bob|bob|secondary manager: carol -> none
manager|frank|frank|primary manager: carol -> none
manager|jose|jose|primary manager: carol -> none" "SELECT action, subject, (SELECT username FROM people p WHERE p.id = a.person_id), detail FROM audit_log a WHERE run_id = 2 AND action IN ('disable', 'manager') ORDER BY a.id" "carol disabled; the people she managed lose her as manager"
assert_sql "active|9" "SELECT status, count(*) FROM people WHERE status <> 'disabled' GROUP BY status"

sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "a missing person is not disabled twice"
assert_sql 0 "SELECT count(*) FROM audit_log WHERE run_id = 3"

note "a new entry with carol's uid (new entryUUID) does not take over her account"
ldif_person carol Carol Clone | ldap_admin_add
sync_once
assert_eq "ok 0 0 0 0 0 1" "$(run_counts)" "the impostor is rejected"
assert_sql "uid=carol,ou=people,dc=example,dc=com" "SELECT dn FROM run_rejects WHERE run_id = 4"
assert_match "$(sql "SELECT reason FROM run_rejects WHERE run_id = 4")" 'carol' "reject reason names the username"
assert_contains "$ERR" "rejected"
assert_sql "$carol_id|disabled|missing|$(echo "$carol_row" | cut -d'|' -f1)" "SELECT id, status, status_reason, dir_id FROM people WHERE username = 'carol'"
assert_sql 10 "SELECT count(*) FROM people"
ldap_admin_delete "uid=carol,$PEOPLE"

note "frank moved out of the users base, then back"
ldif_ou leavers | ldap_admin_add
frank_id=$(col frank id)
frank_uuid=$(col frank dir_id)
ldap_admin_modrdn "uid=frank,$PEOPLE" "uid=frank" "ou=leavers,$SUFFIX"
sync_once
assert_eq "ok 0 0 0 1 0 0" "$(run_counts)" "counts after frank left"
assert_sql "disabled|missing|active" "SELECT status, status_reason, prev_status FROM people WHERE username = 'frank'"

# Change initial_status: a re-enabled person must go back to prev_status.
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";'
write_conf
ldap_admin_modrdn "uid=frank,ou=leavers,$SUFFIX" "uid=frank" "$PEOPLE"
sync_once
assert_eq "ok 0 0 0 0 1 0" "$(run_counts)" "counts after frank came back"
assert_sql "$frank_id|$frank_uuid|active|1|1" \
	"SELECT id, dir_id, status, status_reason IS NULL, missing_since IS NULL FROM people WHERE username = 'frank'"
assert_sql 10 "SELECT count(*) FROM people"
assert_sql "create,manager,manager,disable,enable" "SELECT group_concat(action) FROM (SELECT action FROM audit_log WHERE person_id = $frank_id ORDER BY id)"
assert_sql "back in the directory" "SELECT detail FROM audit_log WHERE person_id = $frank_id AND action = 'enable'"
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'carol'"

note "on_missing = keep"
write_conf 'on_missing = "keep";'
ldap_admin_delete "uid=erin,ou=contractors,$PEOPLE"
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "on_missing keep disables nobody"
assert_sql "active|1" "SELECT status, missing_since IS NOT NULL FROM people WHERE username = 'erin'"

note "operator decisions are kept: operator-disabled and archived people are never enabled by a run"
write_conf
sql "UPDATE people SET status = 'disabled', status_reason = 'operator', prev_status = status WHERE username = 'alice';
     UPDATE people SET status = 'archived', status_reason = NULL WHERE username = 'bob';"
set_attr "uid=bob,$PEOPLE" title "Archived Engineer"
sync_once
assert_sql "alice|disabled|operator
bob|archived|" "SELECT username, status, status_reason FROM people WHERE username IN ('alice', 'bob') ORDER BY username"
assert_sql "Archived Engineer" "SELECT title FROM people WHERE username = 'bob'" "profiles follow the directory whatever the status"
assert_sql 0 "SELECT count(*) FROM audit_log WHERE run_id = $(last_run id) AND action IN ('enable', 'disable') AND subject IN ('alice', 'bob')"
# (erin, missing and kept active under on_missing = "keep", is disabled now that it is "disable" again)
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'erin'"
ldap_admin_delete "uid=alice,$PEOPLE"
sync_once
assert_sql "disabled|operator" "SELECT status, status_reason FROM people WHERE username = 'alice'" "a missing operator-disabled person keeps the operator's reason"
