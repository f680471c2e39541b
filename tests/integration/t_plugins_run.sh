#!/usr/bin/env bash
# t_plugins_run: the three rule plugins at work in real runs against a real
# slapd, loaded with dlopen from the build.
# Proves: course_rules assigns by effective group (nesting flattened) with a
# due date, pending for invited people (no licence) and an enrolment once
# they are active; a course with a licence pool of 1 makes the second
# assignment wait, and archive_rules' archival of the holder gives the
# licence back to the waiting person in the same run; disable_rules waits
# grace_runs complete runs before disabling a missing person (the core
# disables no one while it is loaded, an incomplete run neither counts nor
# disables), disables on an HR end date in the past, never touches a
# protected account, and enables again when the person returns; every action
# is audited as plugin:<name> with the run id, and the events arrive in the
# documented order; --dry-run lists the plugins' actions and changes nothing;
# plugin disables count against sync.max_disable (held, exit 4, then approved);
# a plugin error rolls back the whole run, people and memberships included.
. "$(dirname "$0")/lib.sh"

PDIR=$(dirname "$ROSTERD")/plugins
TDIR=$(dirname "$ROSTERD")/tests/plugins
{
	for u in admin1 alice bob carol dave erin; do ldif_person "$u" "${u^}" Example; done
	ldif_group all-staff "$(g engineering)" "$(p alice)"
	ldif_group engineering "$(p bob)" "$(g eng-london)"
	ldif_group eng-london "$(p carol)"
	ldif_group licensed "$(p dave)" "$(p erin)"
} > "$TEST_TMP/org.ldif"
start_directory "$TEST_TMP/org.ldif"

# end_date: the HR end date, from carLicense (a free string attribute)
export ROSTERD_CONF_ATTRIBUTES='id = "entryUUID"; username = "uid"; email = "mail";
    given_name = "givenName"; family_name = "sn"; display_name = "cn";
    manager = "manager"; department = "departmentNumber";
    custom = { end_date = "carLicense"; };'
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 100.0; max_membership_removals_percent = 100.0; initial_status = "invited";'
PLUGINS="
  { name = \"disable_rules\"; path = \"$PDIR/disable_rules.so\"; grace_runs = 2;
    end_date_field = \"end_date\"; protected = [ \"admin*\" ]; },
  { name = \"course_rules\"; path = \"$PDIR/course_rules.so\";
    courses = ( { code = \"SEC101\"; title = \"Security\"; },
                { code = \"LIC1\"; title = \"One seat\"; licences = 1; } );
    rules = ( { group = \"all-staff\"; courses = [ \"SEC101\" ]; due_days = 30; },
              { group = \"licensed\"; courses = [ \"LIC1\" ]; } ); },
  { name = \"archive_rules\"; path = \"$PDIR/archive_rules.so\"; after_days = 1; }"
export ROSTERD_CONF_PLUGINS=$PLUGINS
write_conf

asg() {   # asg USER COURSE: the status of the person's current assignment
	sql "SELECT a.status FROM assignments a JOIN people p ON p.id = a.person_id
	     JOIN courses c ON c.id = a.course_id WHERE p.username = '$1' AND c.code = '$2'
	     AND a.status NOT IN ('released', 'archived')"
}

note "dry run of the first sync: the plugins' actions listed, nothing written"
dry_run
assert_contains "$OUT" "(plugin:course_rules)"
assert_match "$OUT" "assign +carol +.*SEC101"
assert_match "$OUT" "plan: plugins: 0 to disable, 0 to enable, 0 to archive, [1-9][0-9]* assignments"
assert_no_store

note "first sync: SEC101 by the nested all-staff group, pending while invited"
sync_once
run1=$(last_run id)
for u in alice bob carol; do assert_eq pending "$(asg "$u" SEC101)" "$u's SEC101"; done
assert_eq "" "$(asg dave SEC101)" "dave is not in all-staff"
assert_sql 0 "SELECT count(*) FROM licences" "pending assignments hold no licence"
due=$(date -u -d "+30 days" +%F)
assert_sql "$due" "SELECT a.due FROM assignments a JOIN people p ON p.id = a.person_id WHERE p.username = 'carol'"
assert_sql "plugin:course_rules|$run1" "SELECT DISTINCT actor || '|' || run_id FROM audit_log WHERE action = 'assign'"
assert_sql "5" "SELECT plugin_assigned FROM sync_runs WHERE id = $run1" "3 SEC101 + 2 LIC1"
rctl_ok runs --limit 1 --format json
assert_json '[.[0].plugin_assigned, .[0].memberships_joined, .[0].groups_read] | map(tostring) | join(" ")' "5 8 4"
assert_sql "pending pending" "SELECT group_concat(status, ' ') FROM (SELECT a.status FROM assignments a JOIN courses c ON c.id = a.course_id WHERE c.code = 'LIC1' ORDER BY a.id)"

note "active people are enrolled; the pool of LIC1 holds one"
rctl_ok user verify carol dave erin
assert_eq enrolled "$(asg carol SEC101)" "carol active: enrolled"
assert_eq enrolled "$(asg dave LIC1)" "dave got the only LIC1 licence"
assert_eq waiting "$(asg erin LIC1)" "erin waits for LIC1"
assert_sql 1 "SELECT licences_in_use FROM courses WHERE code = 'LIC1'"
sync_once
assert_eq waiting "$(asg erin LIC1)" "a run gives no licence that is not free"

note "grace_runs = 2: dave missing, disabled on the second complete run only"
ldap_admin_delete "$(p dave)" "$(p admin1)"
sync_once
assert_eq "active" "$(col dave status)" "dave after one missing run: the core disables no one"
assert_ne "" "$(col dave missing_since)" "missing_since is set"
assert_sql 0 "SELECT plugin_disabled FROM sync_runs ORDER BY id DESC LIMIT 1"
# an incomplete run (size limit 2 for the service account) neither counts nor disables
export SLAPD_EXTRA_DB_CONF="limits dn.exact=\"$SLAPD_SVC_DN\" size=2"
ROSTERD_CONF_PAGE_SIZE=1 restart_directory
ROSTERD_CONF_PAGE_SIZE=1 write_conf
sync_once 1
assert_eq "incomplete" "$(last_run outcome)"
assert_eq "active" "$(col dave status)" "an incomplete run disables no one"
unset SLAPD_EXTRA_DB_CONF
restart_directory
write_conf
sync_once
assert_sql "disabled|disable_rules" "SELECT status, status_reason FROM people WHERE username = 'dave'" "dave after the second complete missing run"
assert_sql "plugin:disable_rules|$(last_run id)" "SELECT actor || '|' || run_id FROM audit_log WHERE action = 'disable' AND subject = 'dave'"
assert_sql 1 "SELECT plugin_disabled FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_eq "invited" "$(col admin1 status)" "admin1 is protected: never disabled"
assert_eq enrolled "$(asg dave LIC1)" "disabling takes no licence back"
assert_eq waiting "$(asg erin LIC1)"

note "archive_rules: dave disabled for 2 days is archived; his licence goes to erin"
sql "UPDATE people SET status_changed_at = '$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)' WHERE username = 'dave'"
sync_once
assert_sql "archived" "SELECT status FROM people WHERE username = 'dave'"
assert_sql "released" "SELECT a.status FROM assignments a JOIN people p ON p.id = a.person_id JOIN courses c ON c.id = a.course_id WHERE p.username = 'dave' AND c.code = 'LIC1'"
assert_eq enrolled "$(asg erin LIC1)" "the licence came back to the pool and went to erin in the same run"
assert_sql 1 "SELECT licences_in_use FROM courses WHERE code = 'LIC1'"
assert_sql "plugin:archive_rules" "SELECT actor FROM audit_log WHERE action = 'archive' AND subject = 'dave'"

note "HR end date in the past: bob disabled; cleared: enabled again"
printf 'dn: %s\nchangetype: modify\nreplace: carLicense\ncarLicense: 2020-01-31\n' "$(p bob)" | ldap_admin_modify
sync_once
assert_sql "disabled|disable_rules" "SELECT status, status_reason FROM people WHERE username = 'bob'"
assert_contains "$(sql "SELECT detail FROM audit_log WHERE action = 'disable' AND subject = 'bob'")" "end_date 2020-01-31 has passed"
printf 'dn: %s\nchangetype: modify\ndelete: carLicense\n' "$(p bob)" | ldap_admin_modify
sync_once
assert_sql "invited|" "SELECT status, coalesce(status_reason, '') FROM people WHERE username = 'bob'" "bob back to the status he had"
assert_sql "plugin:disable_rules" "SELECT actor FROM audit_log WHERE action = 'enable' AND subject = 'bob'"

note "plugin disables count against sync.max_disable: held, then approved"
printf 'dn: %s\nchangetype: modify\nreplace: carLicense\ncarLicense: 2020-01-31\n' "$(p carol)" | ldap_admin_modify
ROSTERD_CONF_SYNC='max_disable = 0; max_disable_percent = 100.0; max_membership_removals_percent = 100.0; initial_status = "invited";' write_conf
before=$(store_hash)
sync_once 4
assert_eq held "$(last_run outcome)"
held=$(last_run id)
assert_eq "active" "$(col carol status)" "a held run changes nothing"
assert_contains "$(last_run error)" "1 disables exceed sync.max_disable (0)"
rctl_ok run approve "$held"
sync_once
assert_sql "disabled|disable_rules" "SELECT status, status_reason FROM people WHERE username = 'carol'" "the approved plan went through"
write_conf

note "the events of a run, in order, as a plugin sees them"
EVENTS=$TEST_TMP/events
ROSTERD_CONF_PLUGINS="$PLUGINS, { name = \"recorder\"; path = \"$TDIR/recorder.so\"; file = \"$EVENTS\"; }" write_conf
ldif_person frank Frank Example | ldap_admin_add
printf 'dn: %s\nchangetype: modify\nreplace: mail\nmail: erin@new.example.com\n-\nreplace: manager\nmanager: %s\n' \
	"$(p erin)" "$(p bob)" | ldap_admin_modify
printf 'dn: %s\nchangetype: modify\nadd: member\nmember: %s\n' "$(g eng-london)" "$(p frank)" | ldap_admin_modify
ldif_ou leavers | ldap_admin_add
ldap_admin_modrdn "$(p alice)" uid=alice "ou=leavers,$SUFFIX"
sync_once
assert_eq "created frank
updated erin email manager
missing admin1 runs=7
missing alice runs=1
manager-changed erin old=- new=bob
group-joined frank all-staff via=eng-london
group-joined frank eng-london via=-
group-joined frank engineering via=eng-london
group-left alice all-staff via=-
run-end complete=1 dry_run=0" "$(cat "$EVENTS")" "the events of the run"
: > "$EVENTS"
ldap_admin_modrdn "uid=alice,ou=leavers,$SUFFIX" uid=alice "$PEOPLE"
sync_once
assert_contains "$(cat "$EVENTS")" "reappeared alice flags=1"

note "a plugin that fails rolls back the whole run"
ROSTERD_CONF_STORE_PATH=$TEST_TMP/fresh.db ROSTERD_CONF_PLUGINS="$PLUGINS,
  { name = \"failing\"; path = \"$TDIR/failing.so\"; fail_on = \"run_end\"; }" write_conf
DB=$TEST_TMP/fresh.db
run_rosterd --once
assert_rc 1 "a plugin error fails the run"
assert_contains "$ERR" "plugin failing failed at the end of the run"
assert_sql "failed" "SELECT outcome FROM sync_runs"
assert_contains "$(sql "SELECT error FROM sync_runs")" "plugin failing"
for t in people groups group_membership assignments courses audit_log outbox; do
	assert_sql 0 "SELECT count(*) FROM $t" "$t after the rolled-back run"
done
