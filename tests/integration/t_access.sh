#!/usr/bin/env bash
# t_access: access that expires and finished training archived, with rosterctl
# and real sync runs against a real slapd, course_rules loaded from the build.
# Proves: assign --expires stores the last day of access (a day past or not a
# date is refused); access UID lists a person's courses with status, due and
# expiry (table, JSON); access UID COURSE --expires DATE|never changes it,
# audited, and a day already past expires it at once; when the day has passed
# a sync run (no operator) makes the assignment "expired" in its transaction
# (a dry run says so and changes nothing):
# the record kept, a never-started one's licence back to the pool (the one
# waiting is enrolled), a started one keeps its licence, an "expired"
# notification queued, audited as the sync's with the run id; completed
# training keeps its access; course_rules' expire_days sets expires and the
# rule does not assign again what expired, an operator does; assignment
# archive archives completed training only, keeps it in user show's history,
# and with --reassign --due assigns it again in the same transaction; bad
# usage exits 2 and changes nothing.
. "$(dirname "$0")/lib.sh"

PDIR=$(dirname "$ROSTERD")/plugins
start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "active";'
export SUDO_USER=nobody SUDO_UID=65534
export ROSTERD_CONF_PLUGINS="
  { name = \"course_rules\"; path = \"$PDIR/course_rules.so\";
    courses = ( { code = \"ONBOARD\"; } );
    rules = ( { department = \"OPS\"; courses = [ \"ONBOARD\" ]; expire_days = 30; } ); }"
write_conf
sync_once
TODAY=$(date -u +%F)
IN30=$(date -u -d '+30 days' +%F)
FUTURE=$(date -u -d '+400 days' +%F)
# "The day has passed": the store's clock cannot be moved, so an expiry is
# set to a past day in SQL, as time would.
PAST=2020-01-31

note "course_rules: expire_days"
assert_sql "carol|$IN30
erin|$IN30
frank|$IN30" "SELECT p.username, a.expires FROM assignments a JOIN people p ON p.id = a.person_id ORDER BY 1"
assert_contains "$(sql "SELECT detail FROM audit_log WHERE action = 'assign' AND subject = 'carol'")" "ONBOARD, access until $IN30: enrolled"

note "assign --expires"
rctl_ok course add LIM --licences 1
rctl_ok course add SEC101
rctl_ok assign alice LIM --due 2030-06-30 --expires "$FUTURE"
assert_eq "alice: LIM due 2030-06-30, access until $FUTURE: enrolled" "$OUT"
rctl_ok assign bob LIM
assert_contains "$OUT" "waiting for a licence"
run_rctl assign jose LIM --expires 2030-02-30
assert_rc 2 "--expires not a date"
run_rctl assign jose SEC101 --expires "$PAST"
assert_rc 1 "--expires a day past"
assert_contains "$ERR" "access cannot end on $PAST: that day has passed"
assert_sql 0 "SELECT count(*) FROM assignments a JOIN people p ON p.id = a.person_id WHERE p.username = 'jose'"

note "access UID"
rctl_ok access alice
assert_match "$OUT" '^code +status +due +expires +assigned_at +completed_at +ended_at +source$'
assert_match "$OUT" "^LIM +enrolled +2030-06-30 +$FUTURE "
rctl_ok access alice --format json
assert_json '.[0] | [.code, .status, .due, .expires, .title, .source] | map(tostring) | join(" ")' \
	"LIM enrolled 2030-06-30 $FUTURE null operator:nobody"
run_rctl access alice LIM
assert_rc 2 "access UID COURSE without --expires"
run_rctl access nobody-here
assert_rc 1 "access of an unknown person"

note "access UID COURSE --expires"
rctl_ok access alice LIM --expires never
assert_eq "alice: LIM: access until no end (was $FUTURE)" "$OUT"
assert_sql "" "SELECT expires FROM assignments a JOIN courses c ON c.id = a.course_id WHERE c.code = 'LIM' AND a.status = 'enrolled'"
rctl_ok access alice LIM --expires never
assert_eq "alice: LIM: access until no end already" "$OUT"
rctl_ok access alice LIM --expires "$IN30"
assert_sql "operator:nobody|expiry|alice|LIM: access until $IN30 (was no end)" \
	"SELECT actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT 1"
run_rctl access alice LIM --expires soon
assert_rc 2 "--expires neither a date nor never"
run_rctl access alice SEC101 --expires never
assert_rc 1 "a course not assigned"
assert_contains "$ERR" "alice: SEC101 not assigned"

note "a sync run expires access whose day has passed"
rctl_ok assign carol dave SEC101
# carol has started SEC101 on the platform; dave has completed it
sql "UPDATE assignments SET status = 'in_progress', started_at = '$TODAY', progress = 40 WHERE person_id = (SELECT id FROM people WHERE username = 'carol') AND course_id = (SELECT id FROM courses WHERE code = 'SEC101')"
sql "UPDATE assignments SET status = 'completed', started_at = '$TODAY', completed_at = '${TODAY}T09:00:00Z', progress = 100 WHERE person_id = (SELECT id FROM people WHERE username = 'dave')"
run_rctl access dave SEC101 --expires 2031-01-01
assert_rc 1 "completed training keeps its access"
assert_contains "$ERR" "dave has completed SEC101"
sql "UPDATE assignments SET expires = '$PAST' WHERE status IN ('enrolled', 'in_progress', 'completed') AND course_id IN (SELECT id FROM courses WHERE code IN ('LIM', 'SEC101'))"
dry_run
assert_contains "$ERR" "access ended for 2 assignments: they would expire"
assert_sql 0 "SELECT count(*) FROM assignments WHERE status = 'expired'" "a dry run expires nothing"
sync_once
assert_contains "$ERR" "access ended for 2 assignments: expired"
RUN=$(last_run id)
assert_sql "alice|LIM|expired|$PAST
bob|LIM|enrolled|
carol|SEC101|expired|$PAST
dave|SEC101|completed|$PAST" "SELECT p.username, c.code, a.status, a.expires FROM assignments a JOIN people p ON p.id = a.person_id JOIN courses c ON c.id = a.course_id WHERE c.code <> 'ONBOARD' ORDER BY 1"
assert_sql "alice|1
bob|0
carol|0" "SELECT p.username, l.released_at IS NOT NULL FROM licences l JOIN assignments a ON a.id = l.assignment_id JOIN people p ON p.id = a.person_id JOIN courses c ON c.id = a.course_id WHERE c.code <> 'ONBOARD' AND p.username <> 'dave' ORDER BY 1"
assert_sql 1 "SELECT licences_in_use FROM courses WHERE code = 'LIM'"
assert_sql "sync|$RUN|alice|LIM: access ended $PAST (was enrolled): never started, released
sync|$RUN|carol|SEC101: access ended $PAST (was in_progress): its record kept" \
	"SELECT actor, run_id, subject, detail FROM audit_log WHERE action = 'expire' ORDER BY id"
assert_sql "expired|alice|LIM|2030-06-30|access ended $PAST|sync
expired|carol|SEC101||access ended $PAST|sync" \
	"SELECT kind, username, course, due, message, source FROM outbox WHERE kind = 'expired' ORDER BY id"
assert_sql "enrol|bob|LIM: a licence came back, enrolled" "SELECT action, subject, detail FROM audit_log WHERE action = 'enrol'"
assert_sql "$(date -u +%F)" "SELECT substr(ended_at, 1, 10) FROM assignments WHERE status = 'expired' AND person_id = (SELECT id FROM people WHERE username = 'alice')"
rctl_ok user show alice --json
assert_json '.courses | map(.code + ":" + .status + ":" + .expires) | join(",")' "LIM:expired:$PAST"
assert_json '.activity.assignments.expired' 1
rctl_ok user show alice
assert_match "$OUT" "^courses +LIM \\(expired, due 2030-06-30, access until $PAST\\)$"
sync_once
assert_sql 2 "SELECT count(*) FROM audit_log WHERE action = 'expire'" "a second run expires nothing more"

note "an expired course is assigned again by an operator"
run_rctl access alice LIM --expires 2031-01-01
assert_rc 1 "expired: not current"
assert_contains "$ERR" "assigned again with rosterctl assign"
rctl_ok assign alice LIM
assert_contains "$OUT" "alice: LIM: waiting for a licence"

note "a past day given to access expires at once"
rctl_ok assign erin SEC101
rctl_ok access erin SEC101 --expires "$PAST"
assert_eq "erin: SEC101: access until $PAST (was no end): the day has passed, expired" "$OUT"
assert_sql "expired" "SELECT a.status FROM assignments a JOIN courses c ON c.id = a.course_id JOIN people p ON p.id = a.person_id WHERE c.code = 'SEC101' AND p.username = 'erin'"

note "course_rules does not assign again what expired"
sql "UPDATE assignments SET expires = '$PAST' WHERE person_id = (SELECT id FROM people WHERE username = 'frank') AND course_id = (SELECT id FROM courses WHERE code = 'ONBOARD')"
set_attr "$(p frank)" title "Operator"
sync_once
assert_sql "expired" "SELECT group_concat(a.status) FROM assignments a JOIN people p ON p.id = a.person_id JOIN courses c ON c.id = a.course_id WHERE p.username = 'frank' AND c.code = 'ONBOARD'"
assert_sql 1 "SELECT count(*) FROM audit_log WHERE action = 'update' AND subject = 'frank'" "frank was updated, so the rule saw him"
rctl_ok assign frank ONBOARD
assert_sql "expired,enrolled" "SELECT group_concat(a.status) FROM (SELECT a.status FROM assignments a JOIN people p ON p.id = a.person_id JOIN courses c ON c.id = a.course_id WHERE p.username = 'frank' AND c.code = 'ONBOARD' ORDER BY a.id) a"

note "assignment archive"
run_rctl assignment archive bob LIM
assert_rc 1 "archiving unfinished training"
assert_contains "$ERR" "bob: LIM is enrolled: only completed training is archived"
rctl_ok assignment archive dave SEC101
assert_eq "dave: SEC101: completed, archived (kept in the history)" "$OUT"
assert_sql "archived|active" "SELECT a.status, p.status FROM assignments a JOIN people p ON p.id = a.person_id WHERE p.username = 'dave'"
assert_sql "operator:nobody|assignment-archive|SEC101: completed, archived (kept in the history)" \
	"SELECT actor, action, detail FROM audit_log WHERE subject = 'dave' ORDER BY id DESC LIMIT 1"
run_rctl assignment archive dave SEC101
assert_rc 1 "nothing left to archive"
# a second cycle, completed, archived and assigned again at once
rctl_ok assign dave SEC101
sql "UPDATE assignments SET status = 'completed', completed_at = '${TODAY}T10:00:00Z' WHERE status = 'enrolled' AND person_id = (SELECT id FROM people WHERE username = 'dave')"
rctl_ok assignment archive dave SEC101 --reassign --due 2031-03-31
assert_eq "dave: SEC101: completed, archived (kept in the history); assigned again: SEC101 due 2031-03-31: enrolled" "$OUT"
rctl_ok user show dave --json
assert_json '[.courses[] | .status + ":" + (.due // "-")] | join(",")' "archived:-,archived:-,enrolled:2031-03-31"
assert_json '.activity.assignments | [.archived, .enrolled, .completed] | map(tostring) | join(" ")' "2 1 0"
rctl_ok access dave
assert_match "$(printf '%s\n' "$OUT" | sed -n 2p)" '^SEC101 +enrolled +2031-03-31 '
run_rctl assignment archive dave SEC101 --due 2031-03-31
assert_rc 2 "--due without --reassign"
run_rctl assignment retire dave SEC101
assert_rc 2 "an unknown subcommand"
