#!/usr/bin/env bash
# t_incomplete_killed: slapd killed in the middle of a paged search.
# Proves: with 5,000 people synced once, a run (page_size 20) whose slapd is
# paused after a few pages and then SIGKILLed ends with exit 1 (not 0, not a
# crash or sanitizer report), the run recorded as "incomplete" with the error,
# fewer entries read than exist, zero disables (thresholds are wide open, so
# only the completeness rule can stop them), the store intact
# (PRAGMA integrity_check) and no run left "running"; after slapd restarts,
# a run is complete and changes nothing.
. "$(dirname "$0")/lib.sh"

N=5000
gen_people "$N" > "$TEST_TMP/people.ldif"
start_directory "$TEST_TMP/people.ldif"
export ROSTERD_CONF_SYNC='max_disable = 100000; max_disable_percent = 100.0; initial_status = "invited";'
export ROSTERD_CONF_PAGE_SIZE=20
write_conf
sync_once
assert_eq "ok $N 0 0 0 0 0" "$(run_counts)"
before=$(sql_dump people person_fields audit_log)

note "kill slapd after a few pages"
# The whole run takes a fraction of a second: if the machine is so busy that
# rosterd finishes before slapd is paused, resume and try again.
for attempt in 1 2 3; do
	mark=$(slapd_log_mark)
	watch_search_results
	bg_rosterd --once
	watch_search_results_wait 3 30 || fail "slapd did not answer 3 pages within 30 s"
	kill -STOP "$SLAPD_PID"   # slapd_pause, without its checks: every millisecond counts
	pages=$(search_results_since "$mark")
	note "attempt $attempt: slapd paused after $pages pages"
	running "$BG_PID" && [ "$pages" -lt $((N / 20)) ] && break
	kill -CONT "$SLAPD_PID"
	bg_wait 30
	assert_rc 0 "a run that slapd answered in full"
	[ "$attempt" -lt 3 ] || fail "rosterd finished before slapd could be paused, 3 times; make the directory bigger"
done
slapd_kill
bg_wait 30
assert_rc 1 "rosterd whose slapd was killed mid-search"
assert_contains "$ERR" "incomplete"
assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)"
read_n=$(last_run entries_read)
[ "$read_n" -gt 0 ] && [ "$read_n" -lt "$N" ] || fail "entries_read should be between 1 and $((N - 1)), got $read_n"
assert_ne "" "$(last_run error)" "sync_runs.error is set"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged by the killed run"
assert_sql "invited|$N" "SELECT status, count(*) FROM people GROUP BY status"
assert_store_sound
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome = 'running'"

note "slapd back: complete run, nothing to do"
slapd_start "$SLAPD_HOME"
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)"
assert_sql "$N" "SELECT entries_read FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged"
