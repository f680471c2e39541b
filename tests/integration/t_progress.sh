#!/usr/bin/env bash
# t_progress: the progress line of a run in the foreground.
# Proves: rosterd --once on a terminal (a pty from script(1)) whose read
# lasts over a quarter of a second (slapd paused 0.6 s mid-read) draws
# "N entries read, M a second" lines in place (carriage return, erase to the
# end of line) and clears the line before the run's summary; with stderr a
# file, the same run writes no progress line and no control character.
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null || fail "script(1) (bsdutils) is missing"
gen_people 2000 >"$TEST_TMP/people.ldif"
start_directory "$TEST_TMP/people.ldif"
export ROSTERD_CONF_PAGE_SIZE=10
write_conf

# slow_read CMD...: run CMD in the background; slapd paused 0.6 s after 3 pages.
slow_read() {
	watch_search_results
	"$@" &
	SLOW_PID=$!
	track_pid "$SLOW_PID"
	watch_search_results_wait 3 30 || fail "slapd did not answer 3 pages within 30 s"
	kill -STOP "$SLAPD_PID"
	sleep 0.6
	kill -CONT "$SLAPD_PID"
	RC=0
	wait "$SLOW_PID" || RC=$?
}

note "on a terminal"
slow_read script -qefc "$ROSTERD -c $CONF --once" "$TEST_TMP/typescript"
assert_rc 0 "rosterd --once on a terminal"
tty_out=$(cat "$TEST_TMP/typescript")
assert_match "$tty_out" $'\r[0-9,]+ entries read, [0-9,]+ a second\e\\[K' "a progress line drawn in place"
assert_match "$tty_out" $'\r\e\\[Krosterd: run 1 ok: 2000 entries read' "the line cleared before the summary"

note "not a terminal"
slow_read "$ROSTERD" -c "$CONF" --once 2>"$TEST_TMP/err" >/dev/null
assert_rc 0 "rosterd --once, stderr a file"
err=$(cat "$TEST_TMP/err")
assert_contains "$err" "rosterd: run 2 ok"
assert_not_contains "$err" "entries read," "no progress line when stderr is not a terminal"
assert_not_contains "$err" $'\r' "no carriage return"
assert_not_contains "$err" $'\e' "no escape sequence"
