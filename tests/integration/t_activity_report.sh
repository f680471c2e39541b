#!/usr/bin/env bash
# t_activity_report: rosterctl report activity and user show's activity
# summary, against a scenario whose numbers are known: a real sync and
# rosterctl's actions this month, and a few of the facts moved to last month
# in SQL (the store's clock cannot be moved back).
# Proves: a row a month, the first and last clipped to --from and --to (--to
# defaults to today, no option to this month); people created, invited,
# activated, disabled, archived, restored and removed, assignments made,
# completed, overdue and expired, licences in use at the month's end (now for
# this month) are counted where they happened; CSV, JSON, table and xlsx
# (read back from the workbook) carry the same; user show gives a person's
# assignments by status and the last change with who made it; bad usage is
# exit 2.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";'
export SUDO_USER=nobody SUDO_UID=65534
write_conf
sync_once
TODAY=$(date -u +%F)
TM=${TODAY:0:7}
LM=$(date -u -d "$TM-15 -1 month" +%Y-%m)
LM_END=$(date -u -d "$TM-01 -1 day" +%F)

note "this month"
rctl_ok user invite alice bob
rctl_ok user verify alice bob carol
rctl_ok course add C --licences 5
rctl_ok assign alice bob dave C
rctl_ok assign carol C --expires 2099-12-31
sql "UPDATE assignments SET expires = '2020-01-31' WHERE person_id = (SELECT id FROM people WHERE username = 'carol')"
sync_once
assert_sql 1 "SELECT count(*) FROM assignments WHERE status = 'expired'"
rctl_ok user disable erin
rctl_ok user archive erin
rctl_ok user restore erin
rctl_ok user remove zwei --yes
# the platform: alice completed C
sql "UPDATE assignments SET status = 'completed', completed_at = '${TODAY}T08:00:00Z', progress = 100 WHERE person_id = (SELECT id FROM people WHERE username = 'alice')"

note "last month"
sql "UPDATE audit_log SET at = '$LM-15T10:00:00Z' WHERE action = 'create' AND subject IN ('alice', 'bob')"
sql "UPDATE assignments SET due = '$LM-15' WHERE person_id = (SELECT id FROM people WHERE username = 'bob')"
sql "UPDATE licences SET granted_at = '$LM-10T10:00:00Z' WHERE assignment_id = (SELECT a.id FROM assignments a JOIN people p ON p.id = a.person_id WHERE p.username = 'alice')"

note "the report"
HEAD="month,from,to,created,invited,activated,disabled,enabled,archived,restored,removed,assigned,completed,overdue,expired,licences_in_use"
LM_ROW="$LM,$LM-01,$LM_END,2,0,0,0,0,0,0,0,0,0,1,0,1"
TM_ROW="$TM,$TM-01,$TODAY,8,2,3,1,0,1,1,1,4,1,0,1,2"
rctl_ok report activity --from "$LM-01" --format csv
assert_eq "$HEAD
$LM_ROW
$TM_ROW" "$OUT"
rctl_ok report activity --month "$LM" --format json
assert_json '.[0] | [.month, .created, .overdue, .licences_in_use, .assigned] | map(tostring) | join(" ")' "$LM 2 1 1 0"
assert_json 'length' 1
rctl_ok report activity
assert_match "$OUT" '^month +from +to +created +invited +activated +disabled +enabled +archived +restored +removed +assigned +completed +overdue +expired +licences_in_use$'
assert_match "$OUT" "^$TM +$TM-01 +$(date -u -d "$TM-01 +1 month -1 day" +%F) +8 +2 +3 +1 +0 +1 +1 +1 +4 +1 +0 +1 +2\$"
# the middle of last month only: created on the 15th, due on the 15th,
# alice's licence since the 10th
rctl_ok report activity --from "$LM-12" --to "$LM-14" --format csv
assert_eq "$HEAD
$LM,$LM-12,$LM-14,0,0,0,0,0,0,0,0,0,0,0,0,1" "$OUT"
rctl_ok report activity --from "$LM-01" --format xlsx --output "$TEST_TMP/activity.xlsx"
assert_file_exists "$TEST_TMP/activity.xlsx"
unzip -p "$TEST_TMP/activity.xlsx" xl/worksheets/sheet1.xml > "$TEST_TMP/sheet.xml"
assert_contains "$(cat "$TEST_TMP/sheet.xml")" '<c r="P1" s="1" t="inlineStr"><is><t>licences_in_use</t>'
# the two month rows: 2 created last month, 8 this month, as numbers
assert_match "$(grep -o '<c r="D[23]"[^/]*<v>[0-9]*</v>' "$TEST_TMP/sheet.xml" | sed 's/.*<v>//; s/<.*//' | tr '\n' ' ')" '^2 8 $'

note "usage"
for bad in "--month $TM --from $LM-01" "--to $TODAY" "--month 2026-13" "--month 2026-1" \
	"--from $TODAY --to $LM-01" "--from 2026-02-30" "--from 1000-01-01" "--format xml" "extra"; do
	# shellcheck disable=SC2086
	run_rctl report activity $bad
	assert_rc 2 "report activity $bad"
done
run_rctl report
assert_rc 2 "report without activity"

note "user show: the person's activity"
rctl_ok user show alice --json
assert_json '.activity.assignments | [.completed, .enrolled, .expired] | map(tostring) | join(" ")' "1 0 0"
assert_json '.activity.last_change | [.by, .action, .detail] | join("|")' "operator:nobody|assign|C: enrolled"
rctl_ok user show carol
assert_match "$OUT" '^assignments +1 expired$'
assert_match "$OUT" '^last change +[0-9T:-]+Z by sync: expire \(C: access ended 2020-01-31 \(was enrolled\): never started, released\)$'
rctl_ok user show frank
assert_match "$OUT" '^assignments +-$'
assert_match "$OUT" '^last change +[0-9T:-]+Z by sync: manager \(primary manager: none -> carol\)$'
