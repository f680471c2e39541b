#!/usr/bin/env bash
# t_resync_nochange: a resync with nothing changed in the directory writes
# nothing but its own sync_runs row.
# Proves: after the first sync, a second --once exits 0 with 0 created/updated/
# disabled/enabled and 10 unchanged; people, person_fields and audit_log are
# identical (sqlite .dump before/after, updated_at included); the same holds
# after directory changes to attributes rosterd does not map (description)
# and a modify that rewrites a mapped value with the same value.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
write_conf
sync_once
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)"
before=$(sql_dump people person_fields audit_log person_managers groups group_members group_membership)
audit_before=$(sql "SELECT count(*) FROM audit_log")
assert_sql 10 "SELECT count(*) FROM audit_log WHERE action = 'create'" "audited creates after the first sync"
assert_sql 0 "SELECT count(*) FROM audit_log WHERE run_id IS NOT 1" "every audit row of the first sync names its run"

# Let a second tick pass, so that a needless rewrite of updated_at would show.
sleep 1
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "no-change resync counts"
assert_eq 10 "$(last_run unchanged)" "unchanged count of a no-change resync"
assert_sql 2 "SELECT count(*) FROM sync_runs"
assert_sql "2|10" "SELECT id, entries_read FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_eq "$before" "$(sql_dump people person_fields audit_log person_managers groups group_members group_membership)" "people/person_fields/audit_log unchanged by a no-change resync"
assert_sql "$audit_before" "SELECT count(*) FROM audit_log"
assert_sql 0 "SELECT count(*) FROM audit_log WHERE run_id = 2"
assert_sql 0 "SELECT count(*) FROM run_rejects"

note "unmapped attribute changed, mapped value rewritten unchanged"
set_attr "uid=alice,$PEOPLE" description "changed, but rosterd does not map description"
set_attr "uid=bob,$PEOPLE" mail "bob@example.com"
set_attr "uid=dave,$PEOPLE" departmentNumber ENG OPS
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "counts after irrelevant directory changes"
assert_eq 10 "$(last_run unchanged)" "unchanged count"
assert_eq "$before" "$(sql_dump people person_fields audit_log person_managers groups group_members group_membership)" "store unchanged after irrelevant directory changes"

note "rosterctl runs agrees"
rctl_ok runs --format json
assert_json 'length' 3
assert_json '[.[] | .outcome] | unique | join(",")' ok
assert_json '.[0].id' 3
assert_json '.[0].unchanged' 10
assert_json '.[0].created + .[0].updated + .[0].disabled + .[0].enabled' 0
