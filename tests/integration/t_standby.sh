#!/usr/bin/env bash
# t_standby: two rosterd services on one PostgreSQL store, active and standby.
# Proves: the first service syncs and the second, started after it, stands by
# (STATUS=Standby: ...) and runs nothing; a kill -9 of the active one inside
# its run's write transaction (the crasher test plugin, in its first event)
# leaves the store as it was before that run (people, audit log, outbox, the
# refresh cookie); the standby takes over within seconds, on its own, and its
# run applies the change once (one create in the audit log), resuming from the
# stored cookie (a refresh of the changes, not a read of everyone); the killed
# run is recorded failed. When the active one loses its database connection
# (its server processes terminated), the other takes over and the first
# stands by once it has connected again.
. "$(dirname "$0")/lib.sh"
needs_store pg
. "$(dirname "$0")/service.sh"

start_directory <(gen_people 30 u)
write_conf 'mode = "refresh"; interval = 10;'
sync_once
assert_eq "ok 30 0 0 0 0 0" "$(run_counts)"

# Instance A: the crasher plugin kills it in its 2nd callback; its first run
# (nothing changed: run_end alone) passes.
export ROSTERD_CONF_PLUGINS="{ name = \"crasher\"; path = \"$ROSTERD_BUILD/tests/plugins/crasher.so\"; }"
write_conf 'mode = "refresh"; interval = 10;'
notify_start
mark=$(notify_mark)
CRASHER_KILL_AT=2 svc_start
A_PID=$SVC_PID
wait_notify "$mark" 'STATUS=Idle' 30
assert_eq 2 "$(sql "SELECT count(*) FROM sync_runs WHERE outcome = 'ok'")" "A's first run"

# Instance B, its own notify socket: stands by.
B_SOCK=$TEST_TMP/notify-b.sock
B_LOG=$TEST_TMP/notify-b.log
"$NOTIFY_TOOL" "$B_SOCK" >"$B_LOG" 2>/dev/null &
track_pid $!
wait_for 10 test -S "$B_SOCK" || fail "notify-listen for B did not start"
NOTIFY_SOCKET=$B_SOCK "$ROSTERD" -c "$CONF" >"$TEST_TMP/b.out" 2>"$TEST_TMP/b.err" &
B_PID=$!
track_pid "$B_PID"
b_has() { grep -Eq -- "$1" "$B_LOG"; }
wait_for 20 b_has 'STATUS=Standby: another rosterd is active' ||
	fail "B did not stand by" "$(cat "$B_LOG")" "$(cat "$TEST_TMP/b.err")"
sleep 4
assert_eq 2 "$(sql "SELECT count(*) FROM sync_runs")" "B runs nothing while A is active"
assert_no_match "$(cat "$B_LOG")" 'STATUS=Syncing' "B did not sync"

note "kill -9 of the active one inside its run's transaction"
before=$(sql_dump people audit_log outbox state)
ldif_person newbie New Person | ldap_admin_add
kill -USR1 "$A_PID"
wait_for 30 _t_stopped "$A_PID" || fail "A was not killed by the crasher plugin" "$(cat "$SVC_ERR")"
wait "$A_PID" 2>/dev/null || true
t_killed=$(date +%s)

note "B takes over and completes the next run, from the stored cookie"
wait_for 30 b_has 'STATUS=Idle' || fail "B did not take over" "$(cat "$B_LOG")" "$(cat "$TEST_TMP/b.err")"
took=$(( $(date +%s) - t_killed ))
[ "$took" -le 15 ] || fail "B took $took s to take over and sync"
note "standby took over and synced in ${took} s after the active one was killed"
assert_match "$(cat "$TEST_TMP/b.err")" 'taking over'
assert_sql 1 "SELECT count(*) FROM people WHERE username = 'newbie'"
assert_sql 1 "SELECT count(*) FROM audit_log WHERE subject = 'newbie' AND action = 'create'" \
	"the change applied once"
assert_sql "ok|1|1" "SELECT outcome, entries_read, created FROM sync_runs ORDER BY id DESC LIMIT 1" \
	"B's run read the one change since the stored cookie"
assert_sql 1 "SELECT count(*) FROM sync_runs WHERE outcome = 'failed'" "the killed run, marked failed"
after=$(sql_dump people audit_log outbox state)
assert_ne "$before" "$after" "B's run changed the store"
# What A's transaction did is gone: every row of before is still there, as
# it was, but the state rows B's run moves on (the cookie, the hierarchy's
# digest); the only rows added are B's.
gone=$(comm -23 <(sort <<<"$before") <(sort <<<"$after") | grep -v -e '^source:' -e '^hierarchy|' || true)
assert_eq "" "$gone" "rows of before changed by the killed run"
added=$(comm -13 <(sort <<<"$before") <(sort <<<"$after") | grep -v -e '^source:' -e '^hierarchy|' || true)
assert_eq 4 "$(grep -c newbie <<<"$added")" "rows added for newbie: the person, the create, the \
crasher plugin's notification and its audit row (once each)"
assert_eq 4 "$(wc -l <<<"$added")" "rows added"

note "the active one loses its connection: the other takes over"
mark=$(notify_mark)
svc_start
A_PID=$SVC_PID
wait_notify "$mark" 'STATUS=Standby: another rosterd is active' 30
pg_kill_backends "application_name = 'rosterd/$B_PID'"
wait_notify "$mark" 'STATUS=Idle' 30
assert_match "$(cat "$SVC_ERR")" 'taking over' "A took over when B's connection was lost"
# B finds out at its next run time (sync.interval), and stands by.
b_standby() { [ "$(grep -c 'STATUS=Standby' "$B_LOG")" -ge 2 ]; }
wait_for 30 b_standby || fail "B did not stand by again" "$(tail -5 "$B_LOG")" "$(tail -5 "$TEST_TMP/b.err")"
assert_match "$(cat "$TEST_TMP/b.err")" 'was lost' "B saw its connection lost"
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome = 'running'"
svc_stop
kill -TERM "$B_PID"
