#!/usr/bin/env bash
# t_actions: the operator's actions in rosterctl on people synced from slapd.
# Proves: course add (title, licence limit; a second add of the same code and a
# bad code refused); assign to an invited person is pending and takes no
# licence, user verify makes it an enrolment and queues an "assigned"
# notification; user show (table and --json) lists courses with status and
# due date; bulk verify --from - (stdin); a licence pool of 1 makes the second
# assignment wait, course show/list report it; disable then archive of the
# holder releases the never-started assignment and the waiting person is
# enrolled; restore brings an archived person who is in the directory back to
# the status they had, and a sync leaves them so; a sync never enables an
# operator's disable, enable does; a bulk action with one unknown username
# changes nothing; unassign gives back only never-started courses; invite
# only for invited people; remove needs --yes and purges, its audit entry
# kept; the outbox lists what was queued (unsent, --all, JSON); every change is
# audited as operator:NAME; bad usage exits 2 and changes nothing.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";'
# rosterctl runs as root here: sudo's SUDO_USER is taken when SUDO_UID is its uid
export SUDO_USER=nobody SUDO_UID=65534
write_conf
sync_once
assert_sql "invited|10" "SELECT status, count(*) FROM people GROUP BY status"

note "courses"
rctl_ok course add SEC101 --title "Security essentials"
assert_eq "course SEC101 added" "$OUT"
rctl_ok course add LIM --licences 1
run_rctl course add SEC101
assert_rc 1 "adding a course twice"
assert_contains "$ERR" "course SEC101 exists already"
assert_sql "SEC101|Security essentials||operator:nobody
LIM||1|operator:nobody" "SELECT code, title, licence_limit, source FROM courses ORDER BY id"

note "pending until active"
rctl_ok assign alice SEC101 --due 2026-12-31
assert_eq "alice: SEC101 due 2026-12-31: pending until the account is active" "$OUT"
assert_sql "pending|operator:nobody|2026-12-31" "SELECT status, source, due FROM assignments"
assert_sql 0 "SELECT count(*) FROM licences"
rctl_ok user show alice --json
assert_json '.courses | map([.code, .status, .due] | join(" ")) | join(",")' "SEC101 pending 2026-12-31"
rctl_ok user verify alice
assert_eq "alice: active" "$OUT"
assert_sql "active" "SELECT status FROM people WHERE username = 'alice'"
assert_sql "enrolled" "SELECT status FROM assignments"
assert_sql 1 "SELECT count(*) FROM licences WHERE released_at IS NULL"
assert_sql "assigned|alice|alice@example.com|SEC101|2026-12-31" "SELECT kind, username, email, course, due FROM outbox"
rctl_ok user show alice
assert_match "$OUT" '^courses +SEC101 \(enrolled, due 2026-12-31\)$'

note "bulk verify from standard input"
run "$ROSTERCTL" -c "$CONF" user verify --from - <<<$'bob\n\n# a comment\n  zoe  '
assert_rc 0 "user verify --from -"
assert_eq "bob: active
zoe: active" "$OUT"
assert_sql "alice,bob,zoe" "SELECT group_concat(username) FROM (SELECT username FROM people WHERE status = 'active' ORDER BY username)"

note "a licence pool of one"
rctl_ok assign bob zoe LIM
assert_eq "bob: LIM: enrolled
zoe: LIM: waiting for a licence: the pool is empty" "$OUT"
rctl_ok course show LIM --format json
assert_json '[.code, .licence_limit, .in_use, .waiting, .enrolled] | map(tostring) | join(" ")' "LIM 1 1 1 1"
assert_json '[.assignments[] | .username + ":" + .status] | join(",")' "bob:enrolled,zoe:waiting"
rctl_ok course show LIM
assert_match "$OUT" '^licences +1 of 1 in use$'
assert_match "$OUT" '^zoe +waiting +'
rctl_ok course list --format csv
assert_eq "code,title,licence_limit,in_use,pending,waiting,enrolled,in_progress,completed
LIM,,1,1,0,1,1,0,0
SEC101,Security essentials,,1,0,0,1,0,0" "$OUT"

note "disable, archive: the licence goes to the one waiting"
rctl_ok user disable bob --reason "left the company"
assert_eq "bob: disabled" "$OUT"
assert_sql "disabled|operator|active" "SELECT status, status_reason, prev_status FROM people WHERE username = 'bob'"
rctl_ok user archive bob
assert_eq "bob: archived; 1 never-started assignment released" "$OUT"
assert_sql "bob|released
zoe|enrolled" "SELECT p.username, a.status FROM assignments a JOIN people p ON p.id = a.person_id JOIN courses c ON c.id = a.course_id WHERE c.code = 'LIM' ORDER BY p.username"
assert_sql "disable|active -> disabled: left the company
archive|disabled -> archived; released, never started: LIM" \
	"SELECT action, detail FROM audit_log WHERE subject = 'bob' AND actor = 'operator:nobody' AND action IN ('disable', 'archive') ORDER BY id"
assert_sql "enrol|LIM: a licence came back, enrolled" "SELECT action, detail FROM audit_log WHERE subject = 'zoe' AND action = 'enrol'"

note "restore: bob is in the directory, so back to active; a sync leaves him so"
rctl_ok user restore bob
assert_eq "bob: active" "$OUT"
sync_once
assert_sql "active|" "SELECT status, coalesce(status_reason, '') FROM people WHERE username = 'bob'"
assert_sql "released" "SELECT a.status FROM assignments a JOIN people p ON p.id = a.person_id WHERE p.username = 'bob' AND a.course_id = (SELECT id FROM courses WHERE code = 'LIM')"

note "a sync never enables what an operator disabled; enable does"
rctl_ok user disable zoe
sync_once
assert_sql "disabled|operator" "SELECT status, status_reason FROM people WHERE username = 'zoe'"
rctl_ok user enable zoe
assert_eq "zoe: active" "$OUT"
rctl_ok user enable zoe
assert_eq "zoe: already active" "$OUT" "enabling twice is no change"

note "a bulk action with an unknown username changes nothing"
before=$(sql_dump people assignments audit_log outbox)
run_rctl user disable alice nobody frank
assert_rc 1 "user disable with an unknown username"
assert_contains "$ERR" 'no user "nobody" in the store'
assert_contains "$ERR" "1 of 3 failed: nothing was changed"
assert_eq "" "$OUT"
assert_eq "$before" "$(sql_dump people assignments audit_log outbox)" "the store after a failed bulk action"
run_rctl user archive alice
assert_rc 1 "archiving an active person"
assert_contains "$ERR" "alice is active: only a disabled account is archived (disable it first)"

note "unassign gives back never-started courses only"
sql "UPDATE assignments SET status = 'in_progress', started_at = '2026-01-01T00:00:00Z' WHERE course_id = (SELECT id FROM courses WHERE code = 'SEC101')"
run_rctl unassign alice SEC101
assert_rc 1 "unassign of a started course"
assert_contains "$ERR" "alice has started SEC101 (in_progress): training records are kept"
rctl_ok unassign zoe LIM
assert_eq "zoe: LIM: released (was enrolled)" "$OUT"
assert_sql 0 "SELECT count(*) FROM licences WHERE released_at IS NULL AND course_id = (SELECT id FROM courses WHERE code = 'LIM')"

note "invite"
rctl_ok user invite dave
assert_eq "dave: invitation queued" "$OUT"
run_rctl user invite alice
assert_rc 1 "inviting an active person"

note "remove: only with --yes, for good"
ldap_admin_delete "uid=carol,$PEOPLE"
carol_id=$(col carol id)
rctl_ok assign carol SEC101
run_rctl user remove carol
assert_rc 2 "user remove without --yes"
assert_contains "$ERR" "add --yes"
assert_sql 1 "SELECT count(*) FROM people WHERE username = 'carol'"
rctl_ok user remove carol --yes
assert_eq "carol: removed with 1 assignment" "$OUT"
assert_sql 0 "SELECT count(*) FROM people WHERE username = 'carol'"
assert_sql 0 "SELECT count(*) FROM assignments WHERE person_id = $carol_id"
assert_sql "operator:nobody|remove|carol|" "SELECT actor, action, subject, coalesce(CAST(person_id AS TEXT), '') FROM audit_log WHERE action = 'remove'"
assert_sql 0 "SELECT count(*) FROM audit_log WHERE person_id = $carol_id"
sync_once
assert_sql 0 "SELECT count(*) FROM people WHERE username = 'carol'"

note "outbox"
rctl_ok outbox --format json
assert_json '[.[] | .kind + ":" + .username] | join(",")' "assigned:alice,assigned:bob,disabled:bob,assigned:zoe,disabled:zoe,invite:dave"
sql "UPDATE outbox SET sent_at = '2026-06-01T00:00:00Z' WHERE kind = 'disabled'"
rctl_ok outbox --format csv
assert_eq 5 "$(wc -l <<<"$OUT")" "header and four unsent"
assert_eq "id,created_at,kind,username,email,course,due,message,source,sent_at" "$(head -n 1 <<<"$OUT")"
rctl_ok outbox --all --format json
assert_json 'length' 6
assert_json '[.[] | select(.kind == "disabled") | .message] | join(",")' "left the company,"
rctl_ok outbox
assert_match "$(head -n 1 <<<"$OUT")" '^id +created_at +kind +username'

note "every change audited as the operator"
assert_sql 0 "SELECT count(*) FROM audit_log WHERE actor LIKE 'operator:%' AND actor <> 'operator:nobody'"
assert_sql 0 "SELECT count(*) FROM audit_log WHERE actor LIKE 'operator:%' AND run_id IS NOT NULL"
assert_sql "archive assign course-add disable enable enrol invite remove restore unassign verify" \
	"SELECT group_concat(action, ' ') FROM (SELECT DISTINCT action FROM audit_log WHERE actor = 'operator:nobody' ORDER BY action)"

note "bad usage: exit 2, nothing changed"
before=$(sql_dump people courses assignments audit_log outbox)
for args in "user disable" "user frob alice" "assign alice" "assign alice SEC101 --due 2026-13-01" \
	"unassign alice SEC101 --due 2026-01-01" "course" "course add" "course add bad!code" \
	"course add X --licences -1" "course show" "course list extra" "outbox extra" \
	"outbox --format xml" "user verify alice --yes" "user disable --bogus alice"; do
	run_rctl $args
	assert_rc 2 "rosterctl $args"
	assert_eq "" "$OUT" "stdout of rosterctl $args"
done
run "$ROSTERCTL" -c "$CONF" user disable alice --from - </dev/null
assert_rc 2 "usernames and --from together"
assert_eq "$before" "$(sql_dump people courses assignments audit_log outbox)" "bad usage changed nothing"
run_rctl course show NOPE
assert_rc 1 "course show of a course that does not exist"
run_rctl assign alice NOPE
assert_rc 1 "assigning a course that does not exist"
assert_contains "$ERR" 'no course "NOPE"'

note "each action command has its --help"
for c in "user disable" "user remove" "course add" "assign" "unassign" "outbox"; do
	run "$ROSTERCTL" $c --help
	assert_rc 0 "rosterctl $c --help"
	assert_contains "$OUT" "usage: rosterctl ${c%% *}"
done
