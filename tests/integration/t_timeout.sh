#!/usr/bin/env bash
# t_timeout: a directory server that stops answering (SIGSTOP), and runs that
# overlap or die.
# Proves: with ldap.timeout = 1, a run whose slapd freezes after a few pages
# gives up within seconds, exits 1, records "incomplete" with a "no reply"
# error and disables nobody (thresholds wide open); with ldap.timeout = 4 it
# gives up one timeout after the freeze, the group search failing at once on
# the connection that stalled; a run whose slapd is
# frozen before the bind exits 3 within seconds; a second rosterd on the same
# store while one is running exits 1 ("another rosterd run is in progress")
# and records nothing; a run whose process is SIGKILLed stays "running" until
# the next run marks it "failed"; a search ended by the server's time limit
# (slapd frozen inside a one-page search under `limits ... time=1`) is
# incomplete too (exit 1, no disables), not an empty directory.
. "$(dirname "$0")/lib.sh"

N=3000
gen_people "$N" > "$TEST_TMP/people.ldif"
start_directory "$TEST_TMP/people.ldif"
export ROSTERD_CONF_SYNC='max_disable = 100000; max_disable_percent = 100.0; initial_status = "invited";'
export ROSTERD_CONF_PAGE_SIZE=10 ROSTERD_CONF_TIMEOUT=1
write_conf
sync_once
assert_eq "ok $N 0 0 0 0 0" "$(run_counts)"
before=$(sql_dump people person_fields audit_log)

note "slapd frozen mid-search"
mark=$(slapd_log_mark)
watch_search_results
t0=$(date +%s%N)
bg_rosterd --once
watch_search_results_wait 3 30 || fail "slapd did not answer 3 pages within 30 s"
kill -STOP "$SLAPD_PID"
pages=$(search_results_since "$mark")
note "slapd frozen after $pages pages"
running "$BG_PID" || fail "rosterd finished before slapd could be frozen ($pages pages)"
bg_wait 20
ms=$((($(date +%s%N) - t0) / 1000000))
note "rosterd gave up after $ms ms"
assert_rc 1 "rosterd facing a frozen slapd"
[ "$ms" -lt 8000 ] || fail "with timeout = 1, rosterd should give up within seconds, took $ms ms"
assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)"
assert_contains "$(last_run error)" "no reply"
assert_contains "$ERR" "incomplete"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged"

note "slapd frozen mid-search, timeout = 4: one timeout, not one for the people and one for the groups"
kill -CONT "$SLAPD_PID"
export ROSTERD_CONF_TIMEOUT=4
write_conf
mark=$(slapd_log_mark)
watch_search_results
bg_rosterd --once
watch_search_results_wait 3 30 || fail "slapd did not answer 3 pages within 30 s"
kill -STOP "$SLAPD_PID"
t0=$(date +%s%N)
running "$BG_PID" || fail "rosterd finished before slapd could be frozen"
bg_wait 30
ms=$((($(date +%s%N) - t0) / 1000000))
note "rosterd gave up $ms ms after slapd froze"
assert_rc 1 "rosterd facing a frozen slapd"
[ "$ms" -lt 7000 ] || fail "rosterd waited more than one ldap.timeout (4 s) for a frozen slapd: $ms ms"
assert_contains "$ERR" "group search incomplete after 0 groups"
assert_contains "$ERR" "not sent"
assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged"
export ROSTERD_CONF_TIMEOUT=1
write_conf

note "slapd frozen before the bind"
t0=$(date +%s%N)
run_rosterd --once
ms=$((($(date +%s%N) - t0) / 1000000))
assert_rc 3 "rosterd whose server does not answer the bind"
[ "$ms" -lt 8000 ] || fail "with timeout = 1, the bind should fail within seconds, took $ms ms"
assert_sql failed "SELECT outcome FROM sync_runs ORDER BY id DESC LIMIT 1"
kill -CONT "$SLAPD_PID"

note "two runs at once on one store"
export ROSTERD_CONF_TIMEOUT=30
write_conf
runs_before=$(sql "SELECT count(*) FROM sync_runs")
slapd_pause
bg_rosterd --once
first=$BG_PID
# It holds the run lock once its run is recorded as running.
running_row() { [ "$(sql "SELECT count(*) FROM sync_runs WHERE outcome = 'running'")" = 1 ]; }
wait_for 10 running_row || fail "the first rosterd never recorded its run"
run_rosterd --once
assert_rc 1 "a second rosterd on the same store"
assert_contains "$ERR" "another rosterd run is in progress"
assert_sql "$((runs_before + 1))" "SELECT count(*) FROM sync_runs" "the refused run records nothing"

note "the first one SIGKILLed: its run is marked failed by the next"
kill -KILL "$first"
wait "$first" 2>/dev/null || true
crashed=$(sql "SELECT id FROM sync_runs WHERE outcome = 'running'")
assert_ne "" "$crashed" "a run left running by the killed rosterd"
slapd_resume
sync_once
assert_sql "failed|the run did not finish: the process ended, or could not record its outcome" "SELECT outcome, error FROM sync_runs WHERE id = $crashed"
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged"
assert_store_sound

note "server time limit: slapd frozen for 2.5 s inside a one-page search, under time=1"
export SLAPD_EXTRA_DB_CONF='limits dn.exact="cn=rosterd,ou=system,dc=example,dc=com" time=1'
restart_directory
export ROSTERD_CONF_PAGE_SIZE=100000 ROSTERD_CONF_TIMEOUT=10
write_conf
# If the machine is so busy that slapd sends the whole page before it is
# frozen, the search succeeds (slapd logs err=0): try again.
for attempt in 1 2 3; do
	mark=$(slapd_log_mark)
	exec {SRCH}< <(exec timeout 30 tail -n +"$((mark + 1))" -f "$SLAPD_HOME/slapd.log")
	bg_rosterd --once
	# (the people search, not the root DSE read at connect)
	grep -m 1 'SRCH base="ou=people' <&"$SRCH" >"$TEST_TMP/srch.seen" || fail "slapd never logged the search"
	kill -STOP "$SLAPD_PID"
	sleep 2.5
	kill -CONT "$SLAPD_PID"
	exec {SRCH}<&-
	bg_wait 20
	op=$(grep -o 'conn=[0-9]* op=[0-9]*' "$TEST_TMP/srch.seen")
	result=$(slapd_log_since "$mark" | grep "$op SEARCH RESULT" | head -n 1)
	note "attempt $attempt: slapd's result: ${result#* SEARCH RESULT }"
	case $result in *" err=3 "*) break ;; esac
	assert_rc 0 "a run that slapd answered in full"
	[ "$attempt" -lt 3 ] || fail "slapd sent the whole page before it was frozen, 3 times"
done
assert_rc 1 "a run whose search hit the server's time limit"
assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)"
assert_contains "$(last_run error)" "Time limit exceeded"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged"
