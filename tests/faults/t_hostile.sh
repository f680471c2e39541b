#!/usr/bin/env bash
# t_hostile: a directory that fails in the middle of the people search, at a
# precise entry, through tests/faults/ldap-proxy in front of the real slapd.
# Proves, over a directory of 10,000 people from which 50 more, in the store,
# have just been deleted (so that a complete read would disable 50, and the
# thresholds are wide open): a search
# cut after 1, 500 or 9,999 entries by a size limit (4), a time limit (3) or
# an administrative limit (11) the server reports, by a dropped connection,
# or by a server that stops answering (SIGSTOPped) until ldap.timeout, makes
# rosterd exit 1 and record the run "incomplete" with the cause, with exactly
# that many entries read, nothing created, updated or disabled, and every
# status as before. A server that answers "success" with nobody, a users
# base that exists but holds nobody, or a filter that matches nobody: held
# (exit 4), nothing changed. A users base that does not exist: the server
# says noSuchObject, so the read failed: incomplete, exit 1, nothing
# disabled. A paged search interrupted by a server restart (after 5,000
# entries, the proxy holding back the rest) fails cleanly: exit 1,
# incomplete, 5,000 entries; the next run reads each of the 10,000 entries
# once and disables the 50.
. "$(dirname "$0")/lib.sh"

N=10000
start_org $((N + 50)) 5
write_conf
sync_once
assert_eq "ok $((N + 50)) 0 0 0 0 0" "$(run_counts)"
for ((k = 100; k < 150; k++)); do printf 'uid=u%06d,%s\n' "$k" "$PEOPLE"; done >"$TEST_TMP/gone"
ldapdelete -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" -f "$TEST_TMP/gone"
status_before=$(sql "SELECT status, count(*) FROM people GROUP BY status")
assert_eq "invited|$((N + 50))" "$status_before"
canon_dump "$DB" noruns 1 >"$TEST_TMP/before.dump"
export ROSTERD_CONF_TIMEOUT=1

# through_proxy [SYNC_EXTRA]: the rosterd config pointing at the proxy.
through_proxy() { ROSTERD_CONF_URI=$PROXY_URI write_conf; }

# assert_incomplete N CAUSE: the last run read N entries and stopped there.
assert_incomplete() {
	assert_rc 1 "rosterd whose search was cut after $1 entries ($2)"
	assert_contains "$ERR" "incomplete after $1 entries"
	assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)" "run cut after $1 entries ($2)"
	assert_eq "$1" "$(last_run entries_read)" "entries read"
	assert_contains "$(last_run error)" "$2"
	assert_eq "$status_before" "$(sql "SELECT status, count(*) FROM people GROUP BY status")" "statuses"
	assert_store_as "$TEST_TMP/before.dump" "$DB" noruns 1 "the store (run records aside)"
	assert_eq "act $1" "$(grep '^act' "$PROXY_OUT" | cut -d' ' -f1-2)" "the proxy's own account"
}

t0=$(date +%s)
cases=0
for n in 1 500 9999; do
	for f in "done 4:Size limit exceeded" "done 3:Time limit exceeded" \
		"done 11:Administrative limit exceeded" "drop:Can't contact LDAP server" \
		"stall:no reply"; do
		mode=${f%%:*}
		cause=${f#*:}
		note "after $n entries: $mode ($cause)"
		case $mode in
		done*) start_proxy -a "$n" -m done -c "${mode#done }" ;;
		drop) start_proxy -a "$n" -m drop ;;
		stall) start_proxy -a "$n" -m stall -k "$SLAPD_PID" ;;
		esac
		through_proxy
		s0=$(date +%s%N)
		run_rosterd --once
		ms=$((($(date +%s%N) - s0) / 1000000))
		if [ "$mode" = stall ]; then
			assert_eq T "$(awk '/^State:/ { print $2 }' "/proc/$SLAPD_PID/status")" "slapd was stopped"
			kill -CONT "$SLAPD_PID"
			[ "$ms" -lt 8000 ] || fail "with ldap.timeout = 1, rosterd took $ms ms to give up"
		fi
		assert_incomplete "$n" "$cause"
		stop_proxy
		cases=$((cases + 1))
	done
done
figure "t_hostile: $cases cut searches (size, time, admin limit, dropped, stalled x after 1, 500, 9999 of $N entries) in $(($(date +%s) - t0)) s: all incomplete, exit 1, 0 disables"

note "success with nobody: held"
start_proxy -a 0 -m done -c 0
through_proxy
run_rosterd --once
assert_rc 4 "a server that says success and returns nobody"
assert_eq "held 0 0 0 $((N + 50)) 0 0" "$(run_counts)" "a held run records the plan it held"
assert_contains "$(last_run error)" "returned nobody"
assert_contains "$ERR" "nothing was changed"
assert_store_as "$TEST_TMP/before.dump" "$DB" noruns 1 "the store (run records aside)"
stop_proxy

note "a users base that holds nobody, a filter that matches nobody: held"
write_conf
sed -i "s|base = \"$PEOPLE\";|base = \"ou=groups,$SUFFIX\";|" "$CONF"
run_rosterd --once
assert_rc 4 "users base ou=groups"
assert_eq "held 0 0 0 $((N + 50)) 0 0" "$(run_counts)" "a held run records the plan it held"
write_conf
sed -i 's|filter = "(objectClass=inetOrgPerson)";|filter = "(\&(objectClass=inetOrgPerson)(uid=nobody-here))";|' "$CONF"
assert_contains "$(cat "$CONF")" "nobody-here"
run_rosterd --once
assert_rc 4 "a filter that matches nobody"
assert_eq "held 0 0 0 $((N + 50)) 0 0" "$(run_counts)" "a held run records the plan it held"

note "a users base that does not exist: noSuchObject, incomplete"
write_conf
sed -i "s|base = \"$PEOPLE\";|base = \"ou=nosuch,$SUFFIX\";|" "$CONF"
run_rosterd --once
assert_rc 1 "users base that does not exist"
assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)"
assert_contains "$(last_run error)" "No such object"
assert_store_as "$TEST_TMP/before.dump" "$DB" noruns 1 "the store (run records aside)"

note "paged search interrupted by a server restart after 5000 entries"
export ROSTERD_CONF_TIMEOUT=30 ROSTERD_CONF_PAGE_SIZE=100
start_proxy -a 5000 -m stall
through_proxy
bg_rosterd --once
wait_for 30 grep -q '^act 5000 stall' "$PROXY_OUT" || fail "the proxy never held the search" "$(cat "$PROXY_OUT")"
slapd_stop
slapd_start "$SLAPD_HOME"
wait_for 10 grep -q '^eof server' "$PROXY_OUT" || fail "the proxy did not see the server go" "$(cat "$PROXY_OUT")"
bg_wait 30
assert_rc 1 "a run whose server restarted mid-search"
assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)"
assert_eq 5000 "$(last_run entries_read)"
assert_store_as "$TEST_TMP/before.dump" "$DB" noruns 1 "the store (run records aside)"
stop_proxy
write_conf
sync_once
assert_eq "ok 0 0 0 50 0 0" "$(run_counts)" "the run after the restart"
assert_eq "$N" "$(last_run entries_read)" "each entry read once"
assert_sql "disabled|50
invited|$N" "SELECT status, count(*) FROM people GROUP BY status"
