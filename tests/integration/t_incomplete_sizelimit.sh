#!/usr/bin/env bash
# t_incomplete_sizelimit: searches cut short by the server's limits, or by a
# referral.
# Proves: after a complete sync of 20 people, and with 3 of them deleted, a
# run by the service account under a slapd size limit of 5 (paged, page_size 2,
# so the limit hits mid-search) reads 5 entries, ends "incomplete", exits 1,
# names the size limit, and disables nobody (its one change is the enable
# below); --dry-run says so and plans no disable; rosterctl shows the run
# incomplete.
# A server that refuses paged results (adminLimitExceeded before any entry)
# is incomplete too, not an "empty directory", and so is a search that meets
# a referral object (rosterd follows none). Without the limit, the next run
# disables the 3. Seeing a disabled person again is enough to enable them,
# even in an incomplete run.
. "$(dirname "$0")/lib.sh"

gen_people 20 > "$TEST_TMP/people.ldif"
start_directory "$TEST_TMP/people.ldif"
# Thresholds that would let any number of disables through: only the
# completeness rule may stop the disables here.
export ROSTERD_CONF_SYNC='max_disable = 100000; max_disable_percent = 100.0; initial_status = "invited";'
export ROSTERD_CONF_PAGE_SIZE=2
write_conf
sync_once
assert_eq "ok 20 0 0 0 0 0" "$(run_counts)"

# user00002 leaves (disabled) and comes back: the limited run below sees it
# among its first 5 entries, and seeing it is enough to enable it.
ldif_ou leavers | ldap_admin_add
ldap_admin_modrdn "uid=user00002,$PEOPLE" "uid=user00002" "ou=leavers,$SUFFIX"
sync_once
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'user00002'"
ldap_admin_modrdn "uid=user00002,ou=leavers,$SUFFIX" "uid=user00002" "$PEOPLE"
for u in user00018 user00019 user00020; do ldap_admin_delete "uid=$u,$PEOPLE"; done
status_before=$(sql "SELECT username, status FROM people WHERE username <> 'user00002' ORDER BY username")

note "size limit 5 for the service account"
export SLAPD_EXTRA_DB_CONF='limits dn.exact="cn=rosterd,ou=system,dc=example,dc=com" size=5'
restart_directory
# The limit is in force: ldapsearch as the service account stops at 5.
n=$(ldap_svc_search -E pr=2/noprompt -b "$PEOPLE" '(objectClass=inetOrgPerson)' 1.1 2>/dev/null | grep -c '^dn:' || true)
assert_eq 5 "$n" "entries the limited service account gets from ldapsearch"

assert_contains "$(ldap_svc_search -E pr=2/noprompt -b "$PEOPLE" '(objectClass=inetOrgPerson)' 1.1 2>/dev/null)" \
	"uid=user00002,$PEOPLE" "user00002 among the 5 entries the limited search returns"

dry_run 1
assert_contains "$OUT" "incomplete read: no disables planned"
assert_match "$OUT" '^plan: 0 to create, 0 to update \(0 moved\), 0 to disable, 1 to enable'
assert_match "$OUT" '^enable +user00002 '
assert_no_match "$OUT" '^disable ' "no disable line in the plan"
assert_not_contains "$OUT" "would be held"

sync_once 1
assert_eq "incomplete 0 0 0 0 1 0" "$(run_counts)" "a size-limited run: one enable, no disable"
assert_sql "5" "SELECT entries_read FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_contains "$(last_run error)" "Size limit exceeded" "sync_runs.error"
assert_contains "$ERR" "incomplete"
assert_sql "user00002|invited" "SELECT username, status FROM people WHERE username = 'user00002'" "an incomplete run still gives access back"
assert_eq "$status_before" "$(sql "SELECT username, status FROM people WHERE username <> 'user00002' ORDER BY username")" "nobody else's status changed"
assert_sql "enable|user00002" "SELECT group_concat(action), group_concat(subject) FROM audit_log WHERE run_id = $(last_run id) AND action IN ('create', 'update', 'disable', 'enable')"
assert_sql "invited|20" "SELECT status, count(*) FROM people GROUP BY status"

dry_run 1
assert_contains "$OUT" "incomplete read: no disables planned"
assert_match "$OUT" '^plan: 0 to create, 0 to update \(0 moved\), 0 to disable'
assert_no_match "$OUT" '^disable ' "no disable line in the plan"
assert_not_contains "$OUT" "would be held"

rctl_ok status --json
assert_json '.last_run.outcome' incomplete
assert_json '.people.invited' 20
assert_json '.held_runs | length' 0

note "paged results refused (adminLimitExceeded): incomplete, not an empty directory"
export SLAPD_EXTRA_DB_CONF='limits dn.exact="cn=rosterd,ou=system,dc=example,dc=com" size.prtotal=disabled'
restart_directory
sync_once 1
assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)" "a run refused paged results"
assert_sql 0 "SELECT entries_read FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_contains "$(last_run error)" "Administrative limit exceeded"
assert_sql "invited|20" "SELECT status, count(*) FROM people GROUP BY status"

note "limit lifted: the 3 are disabled"
unset SLAPD_EXTRA_DB_CONF
restart_directory
sync_once
assert_eq "ok 0 0 0 3 0 0" "$(run_counts)"
assert_sql "user00018|disabled|missing
user00019|disabled|missing
user00020|disabled|missing" "SELECT username, status, status_reason FROM people WHERE status = 'disabled' ORDER BY username"
assert_store_sound

note "an unfollowed referral inside the users base: incomplete"
ldap_admin_delete "uid=user00005,$PEOPLE"
ldap_admin_add <<EOF
dn: ou=remote,$PEOPLE
objectClass: referral
objectClass: extensibleObject
ou: remote
ref: ldap://ldap.other.example/ou=remote,$PEOPLE
EOF
sync_once 1
assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)" "a run that met a referral"
assert_contains "$(last_run error)" "referral"
assert_sql "invited" "SELECT status FROM people WHERE username = 'user00005'"
# (a referral object is deleted with the ManageDsaIT control, -M)
ldapdelete -x -M -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" "ou=remote,$PEOPLE"
sync_once 0
assert_eq "ok 0 0 0 1 0 0" "$(run_counts)"
