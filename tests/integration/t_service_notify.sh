#!/usr/bin/env bash
# t_service_notify: rosterd as a Type=notify service, driven as systemd would.
# Proves: READY=1 comes once the store exists (created at start), before the
# first run; the first run sends "Syncing: ..." then "Idle. Last run HH:MM:SS:
# 10 created, N s"; WATCHDOG=1 pings keep coming while idle, never further
# apart than WATCHDOG_USEC (1 s); SIGUSR1 runs at once (a new person shows as
# "1 created"); without a signal the next run starts sync.interval (10 s)
# after the end of the last; SIGTERM sends STOPPING=1 and exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service.sh"

start_directory "$FIXTURES/people-small.ldif"
write_conf 'interval = 10;'
notify_start
SVC_WATCHDOG_USEC=1000000 svc_start

wait_notify 0 'READY=1'
ready_line=$(grep -n 'READY=1' "$NOTIFY_LOG" | head -1 | cut -d: -f1)
assert_store_exists
wait_notify 0 'STATUS=Idle\. Last run [0-9]{2}:[0-9]{2}:[0-9]{2}: 10 created, [0-9.]+ s'
first_sync=$(grep -n 'STATUS=Syncing' "$NOTIFY_LOG" | head -1 | cut -d: -f1)
[ -n "$first_sync" ] && [ "$ready_line" -lt "$first_sync" ] ||
	fail "READY=1 (line $ready_line) should come before the first Syncing status (line $first_sync)" \
		"$(cat "$NOTIFY_LOG")"
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)"

note "watchdog pings while idle"
mark=$(notify_mark)
sleep 2
pings=$(notify_since "$mark" | grep -c 'WATCHDOG=1' || true)
[ "$pings" -ge 3 ] || fail "expected at least 3 WATCHDOG=1 in 2 s with WATCHDOG_USEC=1 s, got $pings"
gap=$(grep 'WATCHDOG=1' "$NOTIFY_LOG" | awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1 } END { printf "%.3f", m }')
awk -v g="$gap" 'BEGIN { exit !(g < 1.0) }' || fail "watchdog pings $gap s apart, over WATCHDOG_USEC (1 s)"

note "SIGUSR1 runs at once"
ldif_person yannick Yannick Young | ldap_admin_add
mark=$(notify_mark)
kill -USR1 "$SVC_PID"
wait_notify "$mark" 'STATUS=Syncing' 5
wait_notify "$mark" 'STATUS=Idle\. Last run [0-9:]{8}: 1 created, [0-9.]+ s' 5
assert_sql 2 "SELECT count(*) FROM sync_runs"
assert_eq "ok 1 0 0 0 0 0" "$(run_counts)"
assert_eq yannick "$(col yannick username)"

note "the next run comes sync.interval after the end of the last"
idle_at=$(notify_since "$mark" | grep -E 'STATUS=Idle' | tail -1 | cut -d' ' -f1)
mark=$(notify_mark)
wait_notify "$mark" 'STATUS=Syncing' 15
sync_at=${NOTIFY_LINE%% *}
awk -v a="$idle_at" -v b="$sync_at" 'BEGIN { d = b - a; exit !(d >= 9.9 && d < 12) }' ||
	fail "the scheduled run started $(awk -v a="$idle_at" -v b="$sync_at" 'BEGIN { print b - a }') s after the last ended; expected 10 s"
wait_notify "$mark" 'STATUS=Idle\. Last run [0-9:]{8}: no changes' 5
assert_sql 3 "SELECT count(*) FROM sync_runs WHERE outcome = 'ok'"

note "SIGTERM"
mark=$(notify_mark)
svc_stop TERM
assert_rc 0 "rosterd stopped by SIGTERM"
grep -q 'STOPPING=1' < <(notify_since "$mark") || fail "no STOPPING=1 at SIGTERM" "$(notify_since "$mark")"
assert_contains "$ERR" "started: syncing every 10 s"
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome <> 'ok'"
