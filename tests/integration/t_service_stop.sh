#!/usr/bin/env bash
# t_service_stop: SIGTERM in the middle of a long run.
# Proves: with 3,000 people synced and a change waiting in the directory, a
# service run (page_size 10) that gets SIGTERM while slapd is paused mid-read
# stops: STOPPING=1, exit 0 within seconds, the run recorded "failed" with "stopped before it ended", nothing
# of the waiting change applied (people and audit log as before), PRAGMA
# integrity_check ok, no run left "running". The status during the read says
# "Syncing: N of ~3,000 people". While the read is stuck no WATCHDOG=1 is
# sent, but SIGTERM is heard: rosterd abandons the search and stops within
# a second or so, without waiting for ldap.timeout (10 s) or for slapd.
# The same for rosterd --once, which exits 1, and there SIGHUP and SIGUSR1
# stop the run the same way (logged), not kill it silently.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service.sh"

N=3000
gen_people "$N" >"$TEST_TMP/people.ldif"
start_directory "$TEST_TMP/people.ldif"
export ROSTERD_CONF_PAGE_SIZE=10
write_conf 'interval = 3600;'
sync_once
assert_eq "ok $N 0 0 0 0 0" "$(run_counts)"
set_attr "uid=user00005,$PEOPLE" title "Changed"
ldif_person newcomer New Comer | ldap_admin_add
before=$(sql_dump people person_fields audit_log)

# pause_mid_read CMD...: start CMD, pause slapd after a few pages of its read.
pause_mid_read() {
	watch_search_results
	"$@"
	watch_search_results_wait 5 30 || fail "slapd did not answer 5 pages within 30 s"
	kill -STOP "$SLAPD_PID"
}

note "service: SIGTERM while the read waits for slapd"
notify_start
SVC_WATCHDOG_USEC=400000 pause_mid_read svc_start
wait_notify 0 'READY=1' 10
wait_notify 0 'STATUS=Syncing: [0-9,]+ of ~3,000 people' 10
# A process stuck waiting sends no WATCHDOG=1 (pings would be 0.1 s apart).
sleep 0.2
mark=$(notify_mark)
sleep 0.6
assert_eq "" "$(notify_since "$mark" | grep WATCHDOG || true)" "no watchdog ping while the read is stuck"
t0=$(date +%s%N)
svc_stop TERM
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
running "$SLAPD_PID" && kill -CONT "$SLAPD_PID"
assert_rc 0 "service stopped by SIGTERM mid-run"
[ "$ms" -lt 3000 ] || fail "SIGTERM while slapd is silent should stop rosterd within a second or so (ldap.timeout is 10 s), took $ms ms"
after=$(notify_since "$mark" | cut -d' ' -f2- | tr '\t' '\n' | grep -E '^(WATCHDOG|STOPPING)=1$' | tr '\n' ' ')
assert_eq "STOPPING=1 " "$after" "no ping while stuck, then it stops"
assert_contains "$ERR" "stopped before it ended"
assert_eq "failed" "$(last_run outcome)"
assert_contains "$(last_run error)" "stopped before it ended"
read_n=$(last_run entries_read)
[ "$read_n" -gt 0 ] && [ "$read_n" -lt "$N" ] || fail "entries_read should be between 1 and $((N - 1)), got $read_n"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged by the stopped run"
assert_store_sound
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome = 'running'"

note "--once: SIGTERM mid-read"
pause_mid_read bg_rosterd --once
kill -TERM "$BG_PID"
bg_wait 3
kill -CONT "$SLAPD_PID"
assert_rc 1 "rosterd --once stopped by SIGTERM"
assert_contains "$(last_run error)" "stopped before it ended"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged by the stopped run"
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome = 'running'"

# SIGHUP (a terminal or ssh session going away) and SIGUSR1 mean nothing to
# one run: they stop it as SIGTERM does, said in the log, never a silent
# death that leaves the run "running".
for sig in HUP USR1; do
	note "--once: SIG$sig mid-read"
	pause_mid_read bg_rosterd --once
	kill -"$sig" "$BG_PID"
	bg_wait 3
	kill -CONT "$SLAPD_PID"
	assert_rc 1 "rosterd --once stopped by SIG$sig"
	assert_contains "$ERR" "stopping on signal $(kill -l "$sig") (${sig}): the run in progress is rolled back"
	assert_contains "$(last_run error)" "stopped before it ended"
	assert_eq failed "$(last_run outcome)"
	assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged by the run SIG$sig stopped"
	assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome = 'running'"
done

note "an undisturbed run applies the waiting change"
sync_once
assert_eq "ok 1 1 0 0 0 0" "$(run_counts)"
