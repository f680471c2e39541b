#!/usr/bin/env bash
# t_service_backoff: the directory down, then back, under the service.
# Proves: with slapd stopped, the service stays up and retries with growing
# delays (sync.retry_delay 1 s doubled each time, less up to a quarter of
# jitter: the first retry in at most 1 s, the third in at least 3 s), shown
# as "Directory unreachable, retry in N s" and logged; it does not spin (one
# failed run recorded per attempt, no more); the people are untouched; once
# slapd is back the next retry succeeds without a restart ("Idle. Last run
# ...: no changes") and the service logs that the directory is reachable again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service.sh"

start_directory "$FIXTURES/people-small.ldif"
write_conf 'interval = 30; retry_delay = 1;'
sync_once
before=$(sql_dump people person_fields)
slapd_stop "$SLAPD_HOME"

notify_start
svc_start
wait_notify 0 'READY=1' 10
wait_notify_count 0 'STATUS=Directory unreachable, retry in [0-9]+ s' 3 10
delays=$(statuses_since 0 | sed -n 's/^Directory unreachable, retry in \([0-9]*\) s$/\1/p')
first=$(echo "$delays" | sed -n 1p)
third=$(echo "$delays" | sed -n 3p)
[ "$first" -le 1 ] && [ "$third" -ge 3 ] && [ "$third" -le 4 ] ||
	fail "backoff: expected the first retry in <= 1 s and the third in 3-4 s" "$(_t_show delays "$delays")"
running "$SVC_PID" || fail "rosterd exited while the directory was down"
assert_contains "$(cat "$SVC_ERR")" "retrying in"
attempts=$(sql "SELECT count(*) FROM sync_runs WHERE outcome = 'failed' AND directory_uri IS NULL")
[ "$attempts" -ge 3 ] && [ "$attempts" -le 4 ] || fail "expected 3 or 4 failed attempts so far, got $attempts (spinning?)"
assert_eq "$before" "$(sql_dump people person_fields)" "people untouched while the directory is down"

note "slapd back: recovery without a restart"
mark=$(notify_mark)
slapd_start "$SLAPD_HOME"
grep -q "$SLAPD_URI" "$CONF" || fail "slapd came back on another port; the test cannot go on"
wait_notify "$mark" 'STATUS=Idle\. Last run [0-9:]{8}: no changes' 10
svc_log_wait "directory reachable again after [0-9]+ failed attempts"
assert_eq ok "$(last_run outcome)"
assert_eq "$before" "$(sql_dump people person_fields)" "people untouched"
svc_stop TERM
assert_rc 0
