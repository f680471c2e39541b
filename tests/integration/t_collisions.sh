#!/usr/bin/env bash
# t_collisions: entries that cannot become a person are rejected, the run goes on.
# Proves: two entries with one uid in a run -> the later one in read order is
# rejected (also when the uid differs only in case), an entry without uid is
# rejected; the run exits 0, logs "rejected" with the DN on stderr, counts them
# in sync_runs.rejected and lists them in run_rejects with a reason; the first
# holder keeps the username run after run; a synced person whose uid is
# removed is rejected but not taken for missing (not disabled); when the first
# holder leaves, the username stays with that (disabled) person and the
# others are still rejected.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-collide.ldif"
# 3 of the 9 entries are rejected on purpose: sync.max_reject_percent off.
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";
  max_reject_percent = 100.0;'
write_conf

sync_once
assert_eq "ok 4 0 0 0 0 3" "$(run_counts)"
assert_sql 7 "SELECT entries_read FROM sync_runs WHERE id = 1"
assert_sql "ann
ben
kim
sam" "SELECT username FROM people ORDER BY username"
assert_sql "cn=Sam One,ou=people,dc=example,dc=com|sam.one@example.com" "SELECT dn, email FROM people WHERE username = 'sam'" "the first entry in read order keeps sam"
assert_sql "cn=Sam Two,ou=people,dc=example,dc=com
cn=Sam Three,ou=people,dc=example,dc=com
cn=No Uid,ou=people,dc=example,dc=com" "SELECT dn FROM run_rejects WHERE run_id = 1 ORDER BY rowid"
assert_match "$(sql "SELECT reason FROM run_rejects WHERE dn LIKE 'cn=Sam Two,%'")" 'username "sam" is also used by "cn=Sam One' "collision reason"
assert_match "$(sql "SELECT reason FROM run_rejects WHERE dn LIKE 'cn=Sam Three,%'")" 'username "SAM" is also used by "cn=Sam One' "case-insensitive collision reason"
assert_match "$(sql "SELECT reason FROM run_rejects WHERE dn LIKE 'cn=No Uid,%'")" 'no username' "no-uid reason"
assert_contains "$ERR" rejected "stderr logs rejects"
assert_match "$ERR" 'cn=Sam Two,ou=people,dc=example,dc=com.*rejected' "stderr names the rejected DN"
assert_match "$ERR" 'cn=No Uid,ou=people,dc=example,dc=com.*rejected' "stderr names the no-uid DN"
assert_sql 0 "SELECT count(*) FROM audit_log WHERE subject LIKE '%Sam Two%' OR detail LIKE '%Sam Two%'"

note "second run: the same, nothing changes"
before=$(sql_dump people person_fields)
sync_once
assert_eq "ok 0 0 0 0 0 3" "$(run_counts)"
assert_eq "$before" "$(sql_dump people person_fields)" "people unchanged"
assert_sql 3 "SELECT count(*) FROM run_rejects WHERE run_id = 2"

note "kim's uid removed: rejected, but seen, so not disabled"
ldap_admin_modify <<EOF2
dn: cn=Kim Lee,$PEOPLE
changetype: modify
delete: uid
EOF2
sync_once
assert_eq "ok 0 0 0 0 0 4" "$(run_counts)"
assert_sql "invited|1" "SELECT status, missing_since IS NULL FROM people WHERE username = 'kim'"
assert_match "$(sql "SELECT reason FROM run_rejects WHERE run_id = 3 AND dn LIKE 'cn=Kim Lee,%'")" 'no username'

note "Sam One leaves: sam stays with the disabled person, Sam Two is still rejected"
ldap_admin_delete "cn=Sam One,$PEOPLE"
sync_once
assert_eq "ok 0 0 0 1 0 4" "$(run_counts)"
assert_sql "cn=Sam One,ou=people,dc=example,dc=com|disabled|missing" "SELECT dn, status, status_reason FROM people WHERE username = 'sam'"
assert_sql 4 "SELECT count(*) FROM people"
assert_match "$(sql "SELECT reason FROM run_rejects WHERE run_id = 4 AND dn LIKE 'cn=Sam Two,%'")" 'sam' "Sam Two still rejected"
