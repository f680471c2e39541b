#!/usr/bin/env bash
# t_safety_held: the safety thresholds and the operator's approval.
# Proves: a run over sync.max_disable is rolled back (people and audit
# unchanged), recorded "held" with its counts and a plan_digest, exits 4 and
# names `rosterctl run approve ID` on stderr; --dry-run says it would be held
# (exit 4); rosterctl status lists the held run; approving a missing run, a
# run that was not held, or a used approval fails (exit 1), a non-number is a
# usage error (exit 2); after `rosterctl run approve ID` (exit 0, audited) the
# next run with the same disables goes through (exit 0) and records
# approval_used_by; max_disable_percent holds likewise, and an approval does
# not let a different plan through; an empty result while the store has
# enabled people is held even with thresholds wide open.
. "$(dirname "$0")/lib.sh"

gen_people 20 > "$TEST_TMP/people.ldif"
start_directory "$TEST_TMP/people.ldif"
export ROSTERD_CONF_SYNC='max_disable = 3; max_disable_percent = 50.0; initial_status = "invited";'
write_conf
sync_once
people_before=$(sql_dump people person_fields)
audit_before=$(sql_dump audit_log)

note "4 people deleted, max_disable = 3"
for i in 17 18 19 20; do ldap_admin_delete "uid=user000$i,$PEOPLE"; done
sync_once 4
held=$(last_run id)
assert_eq 2 "$held" "id of the held run"
assert_eq "held 0 0 0 4 0 0" "$(run_counts)" "the held run records its plan's counts"
assert_match "$(last_run plan_digest)" '^[0-9a-f]{16}$' "plan_digest of the held run"
assert_contains "$(last_run error)" "max_disable"
assert_contains "$ERR" "rosterctl run approve $held"
assert_eq "$people_before" "$(sql_dump people person_fields)" "people unchanged by a held run"
assert_eq "$audit_before" "$(sql_dump audit_log)" "audit log unchanged by a held run"
assert_sql "invited|20" "SELECT status, count(*) FROM people GROUP BY status"

hash=$(store_hash)
dry_run 4
assert_eq 4 "$(grep -c '^disable ' <<<"$OUT")" "disable lines in the dry-run plan"
assert_match "$OUT" '^this run would be held: .*max_disable'
assert_eq "$hash" "$(store_hash)" "a dry run leaves the store unchanged"

rctl_ok status --json
assert_json '[.held_runs[].id] | join(",")' "$held"
rctl_ok status
assert_contains "$OUT" "held run $held awaits approval"

sync_once 4
held2=$(last_run id)
assert_eq 3 "$held2"
assert_sql 1 "SELECT count(DISTINCT plan_digest) FROM sync_runs WHERE id IN ($held, $held2)" "two identical held plans share a digest"

note "approve: wrong ids first"
run_rctl run approve 999
assert_rc 1 "approve a missing run"
assert_contains "$ERR" "999"
run_rctl run approve 1
assert_rc 1 "approve a run that was not held"
run_rctl run approve abc
assert_rc 2 "approve a non-number"
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE approved_at IS NOT NULL"

rctl_ok run approve "$held2"
assert_sql 1 "SELECT approved_at IS NOT NULL AND approved_by IS NOT NULL AND approval_used_by IS NULL FROM sync_runs WHERE id = $held2"
assert_sql "approve-run|run $held2" "SELECT action, subject FROM audit_log WHERE actor LIKE 'operator:%'"

note "the next identical run goes through"
sync_once 0
ok_run=$(last_run id)
assert_eq "ok 0 0 0 4 0 0" "$(run_counts)"
assert_sql "$ok_run" "SELECT approval_used_by FROM sync_runs WHERE id = $held2"
assert_sql "user00017|disabled|missing
user00018|disabled|missing
user00019|disabled|missing
user00020|disabled|missing" "SELECT username, status, status_reason FROM people WHERE status = 'disabled' ORDER BY username"
assert_sql 4 "SELECT count(*) FROM audit_log WHERE run_id = $ok_run AND action = 'disable'"
run_rctl run approve "$held2"
assert_rc 1 "approve an approval already used"
rctl_ok status --json
assert_json '.held_runs | length' 0

note "max_disable_percent = 10: 2 of 16 is 12.5%"
export ROSTERD_CONF_SYNC='max_disable = 100; max_disable_percent = 10.0; initial_status = "invited";'
write_conf
ldap_admin_delete "uid=user00015,$PEOPLE" "uid=user00016,$PEOPLE"
sync_once 4
held3=$(last_run id)
assert_contains "$(last_run error)" "max_disable_percent"
rctl_ok run approve "$held3"
note "... and one more leaves before the next run: a different plan is not approved"
ldap_admin_delete "uid=user00014,$PEOPLE"
sync_once 4
held4=$(last_run id)
assert_sql "" "SELECT approval_used_by FROM sync_runs WHERE id = $held3"
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE id = $held3 AND plan_digest = (SELECT plan_digest FROM sync_runs WHERE id = $held4)"
assert_sql 16 "SELECT count(*) FROM people WHERE status = 'invited'"
rctl_ok run approve "$held4"
sync_once 0
assert_eq "ok 0 0 0 3 0 0" "$(run_counts)"
assert_sql 13 "SELECT count(*) FROM people WHERE status = 'invited'"

note "empty result: held whatever the thresholds"
export ROSTERD_CONF_SYNC='max_disable = 100000; max_disable_percent = 100.0; initial_status = "invited";'
write_conf
ldif_ou empty | ldap_admin_add
sed -i "s|base = \"ou=people,$SUFFIX\"|base = \"ou=empty,$SUFFIX\"|" "$CONF"
assert_contains "$(cat "$CONF")" "ou=empty"
people_before=$(sql_dump people person_fields)
sync_once 4
assert_eq "held 0 0 0 13 0 0" "$(run_counts)"
assert_contains "$(last_run error)" "nobody"
assert_eq "$people_before" "$(sql_dump people person_fields)" "people unchanged by an empty result"
dry_run 4
assert_contains "$OUT" "this run would be held"
