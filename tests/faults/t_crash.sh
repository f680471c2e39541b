#!/usr/bin/env bash
# t_crash: rosterd killed with SIGKILL at chosen points of a run over a
# directory of 10,000 people (5,000 in the short form) in 100 groups (50;
# bench/gen-org --groups: about 3 memberships a person) that changes between
# runs: people and group members come and go. A test plugin
# (tests/plugins/crasher.c) queues a notification for every event of a run.
# Proves: after every kill the store passes PRAGMA integrity_check and
# foreign_key_check, and its canonical dump (tests/faults/lib.sh) equals
# either its state before the run (the killed run's own "running" record
# aside) or the result of the same run done without a kill on a copy of the
# store; the next run recovers (marks the killed run failed) and goes on.
#
# Where the kill lands: each run is first done on a copy of the store with
# the iofail shim counting every write of the store and of SQLite's temporary
# files, every socket read and write and every line of the -v log, in order.
# The log lines split that sequence into the run's phases: start (recording
# the run), read (socket traffic), stage (temporary-file writes while
# reading), plan, apply (the people), hier (after "people applied": managers,
# groups, memberships, roles), plugin (after "applied": the plugins'
# callbacks), commit (after "plugins done", before "committed"), close (the
# checkpoint after the commit). A call of the phase this run aims at is
# picked at random, and the real run is killed by the shim (SIGKILL, before
# that call happens) at the same call: writes are deterministic for the same
# store and directory, so the kill lands where aimed, which the test checks
# from the killed run's log. In the hier phase the log lines between its
# steps ("managers in", "groups in", "roles in" ...) are kill points too,
# so that the points between its steps are aimed at however little it writes. In the plugin phase the
# plugin kills the process itself (CRASHER_KILL_AT) at the end of a callback
# picked at random among those of the clean run, after its notification was
# queued. Every tenth run is killed instead after a random delay within the
# clean run's duration. A kill between two calls leaves the files as a kill
# at the next call does, so the calls are the points that matter. Short: 10
# runs (one per phase); LONG=1: 200.
. "$(dirname "$0")/lib.sh"

RUNS=$(by_length 10 200)
N=$(by_length 5000 10000)
RANDOM=$((4242 + RUNS))
PHASES=(start read stage plan apply hier plugin commit close time)

start_org "$N" 7 --groups
mapfile -t GROUP_DNS < <(sed -n "s/^dn: \(cn=.*,ou=groups,.*\)/\1/p" "$TEST_TMP/org.ldif")
[ ${#GROUP_DNS[@]} -eq $((N / 100)) ] || fail "gen-org made ${#GROUP_DNS[@]} groups"
write_conf
sync_once
assert_eq "ok $N 0 0 0 0 0" "$(run_counts)"
memberships=$(sql "SELECT count(*) FROM group_membership")
[ "$memberships" -gt $((2 * N)) ] || fail "only $memberships memberships"
export ROSTERD_CONF_PLUGINS="{ name = \"crasher\"; path = \"$ROSTERD_BUILD/tests/plugins/crasher.so\"; }"
write_conf
mkdir -p "$TEST_TMP/clean"
CLEAN_CONF=$TEST_TMP/clean/rosterd.conf
ROSTERD_CONF_STORE_PATH=$TEST_TMP/clean/learning.db slapd_write_rosterd_conf "$CLEAN_CONF"

# change_directory I: a few people change, leave, arrive or come back.
deleted=()
change_directory() {
	local i=$1 k u f
	f=$TEST_TMP/changes.ldif
	: >"$f"
	for ((k = 0; k < RANDOM % 20 + (i % 10 == 0 ? 300 : 0); k++)); do
		printf 'dn: uid=u%06d,%s\nchangetype: modify\nreplace: title\ntitle: Title %d-%d\n\n' \
			$((RANDOM % N + 1)) "$PEOPLE" "$i" "$k" >>"$f"
	done
	for ((k = 0; k < RANDOM % 6; k++)); do
		u=$(printf 'u%06d' $((RANDOM % N + 1)))
		printf 'dn: uid=%s,%s\nchangetype: delete\n\n' "$u" "$PEOPLE" >>"$f"
		deleted+=("$u")
	done
	for ((k = 0; k < RANDOM % 6; k++)); do
		ldif_person "n${i}x$k" New "Person $i" | sed '1a changetype: add' >>"$f"
	done
	# group members join and leave
	for ((k = 0; k < RANDOM % 8; k++)); do
		printf 'dn: %s\nchangetype: modify\n%s: member\nmember: uid=u%06d,%s\n\n' \
			"${GROUP_DNS[RANDOM % ${#GROUP_DNS[@]}]}" "$([ $((RANDOM % 2)) = 0 ] && echo add || echo delete)" \
			$((RANDOM % N + 1)) "$PEOPLE" >>"$f"
	done
	# someone deleted earlier comes back (a new entry: a new entryUUID)
	if [ ${#deleted[@]} -gt 0 ] && [ $((RANDOM % 3)) = 0 ]; then
		u=${deleted[RANDOM % ${#deleted[@]}]}
		ldif_person "$u" Back Again | sed '1a changetype: add' >>"$f"
	fi
	# -c: a person deleted twice, or added back twice, is the directory's
	# business; what matters is that both runs see the same directory.
	ldapmodify -c -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" -f "$f" \
		>/dev/null 2>&1 || true
}

# phase_of_log FILE: the phase a -v log ends in.
phase_of_log() {
	local f=$1
	if grep -q 'debug: committed' "$f"; then echo close
	elif grep -q 'debug: plugins done' "$f"; then echo commit
	elif grep -q 'debug: applied' "$f"; then echo plugin
	elif grep -q 'debug: people applied' "$f"; then echo hier
	elif grep -q 'debug: planned' "$f"; then echo apply
	elif grep -q 'debug: read [0-9]* entries' "$f"; then echo plan
	elif grep -q 'debug: connected' "$f"; then echo read
	else echo start
	fi
}

# pick_target PHASE CALLS: "class ordinal" of a random call of PHASE in the
# call log of the clean run, or nothing when the phase made no such call.
# The log lines that start a phase are not kill points; in the hier phase
# the other log lines are.
pick_target() {
	awk -v want="$1" -v seed="$RANDOM" '
	BEGIN { srand(seed); phase = "start" }
	{
		cls = $3
		ord[cls]++
		if (cls == "err") {
			if ($0 ~ /debug: connected/) phase = "read"
			else if ($0 ~ /debug: read [0-9]+ entries/) phase = "plan"
			else if ($0 ~ /debug: planned/) phase = "apply"
			else if ($0 ~ /debug: people applied/) phase = "hier"
			else if ($0 ~ /debug: applied/) phase = "plugin"
			else if ($0 ~ /debug: plugins done/) phase = "commit"
			else if ($0 ~ /debug: committed/) phase = "close"
			else if (phase == "hier" && want == "hier") {
				n++
				if (rand() * n < 1) pick = cls " " ord[cls]
			}
			next
		}
		p = phase
		if (p == "read" && cls == "temp") p = "stage"
		if (p == "read" && cls != "sock") next
		if (p == "start" && cls != "store") next
		if (p != want) next
		n++
		if (rand() * n < 1) pick = cls " " ord[cls]
	}
	END { if (pick != "") print pick }' "$2"
}

declare -A aimed reached
same_pre=0
same_clean=0
killed=0
t0=$(date +%s)
for ((i = 1; i <= RUNS; i++)); do
	phase=${PHASES[(i - 1) % ${#PHASES[@]}]}
	change_directory "$i"
	# byte-identical copies, so that both runs make the same writes
	assert_eq "0|0|0" "$(sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)')" "checkpoint before run $i"
	rm -f "$TEST_TMP/clean/learning.db"* "$TEST_TMP/pre.db"*
	cp "$DB" "$TEST_TMP/pre.db"
	cp "$DB" "$TEST_TMP/clean/learning.db"

	# the clean run, counting its calls
	rm -f "$TEST_TMP/calls"
	c0=$(date +%s%N)
	IOFAIL_CLASSES=store,temp,sock,err IOFAIL_LOG="$TEST_TMP/calls" \
		run with_iofail "$ROSTERD" -c "$CLEAN_CONF" --once -v
	assert_rc 0 "run $i on the copy"
	clean_ms=$((($(date +%s%N) - c0) / 1000000))
	canon_dump "$TEST_TMP/clean/learning.db" >"$TEST_TMP/clean.dump"
	canon_dump "$TEST_TMP/pre.db" noruns >"$TEST_TMP/pre.dump"
	callbacks=$(sed -n 's/.*plugin crasher: \([0-9]*\) callbacks$/\1/p' <<<"$ERR")
	[ -n "$callbacks" ] || fail "run $i: the crasher plugin did not say how many callbacks it had" "$ERR"

	target=""
	tclass=""
	if [ "$phase" = plugin ]; then
		target="plugin $((RANDOM % callbacks + 1))"
	elif [ "$phase" != time ]; then
		target=$(pick_target "$phase" "$TEST_TMP/calls")
		if [ -z "$target" ]; then
			# this run wrote nothing in that phase (no cache spill): aim at the next
			phase=commit
			target=$(pick_target commit "$TEST_TMP/calls")
		fi
		[ -n "$target" ] || fail "run $i made no call in phase $phase" "$(tail -20 "$TEST_TMP/calls")"
	fi
	aimed[$phase]=$((${aimed[$phase]:-0} + 1))

	# the real run, killed
	if [ "$phase" = time ]; then
		delay=$(awk -v ms="$clean_ms" -v r="$RANDOM" 'BEGIN { printf "%.3f", ms * r / 32768 / 1000 }')
		bg_rosterd --once -v
		sleep "$delay"
		kill -KILL "$BG_PID" 2>/dev/null || true
		RC=0
		wait "$BG_PID" || RC=$?
		cp "$TEST_TMP/bg.err" "$TEST_TMP/victim.err"
		note "run $i: killed after $delay s (exit $RC)"
	elif [ "$phase" = plugin ]; then
		RC=0
		CRASHER_KILL_AT=${target#plugin } \
			"$ROSTERD" -c "$CONF" --once -v >/dev/null 2>"$TEST_TMP/victim.err" || RC=$?
		note "run $i: aimed at $phase, callback ${target#plugin } of $callbacks (exit $RC)"
	else
		read -r tclass tord <<<"$target"
		RC=0
		IOFAIL_CLASSES=$tclass IOFAIL_AT=$tord IOFAIL_ACTION=kill \
			with_iofail "$ROSTERD" -c "$CONF" --once -v >/dev/null 2>"$TEST_TMP/victim.err" || RC=$?
		note "run $i: aimed at $phase, $tclass call $tord (exit $RC)"
	fi
	got=$(phase_of_log "$TEST_TMP/victim.err")
	if grep -Eq 'Sanitizer|runtime error:|^==[0-9]+==' "$TEST_TMP/victim.err"; then
		fail "run $i: a sanitizer reported" "$(cat "$TEST_TMP/victim.err")"
	fi
	if [ "$RC" -eq 137 ]; then
		killed=$((killed + 1))
		reached[$got]=$((${reached[$got]:-0} + 1))
	elif [ "$RC" -ne 0 ]; then
		fail "run $i: rosterd exit $RC, neither killed (137) nor ok" "$(cat "$TEST_TMP/victim.err")"
	fi
	if [ "$phase" != time ] && [ "$tclass" != sock ]; then
		# writes and log lines repeat exactly: the kill must land where aimed
		assert_eq 137 "$RC" "run $i: killed at $target"
		want=$phase
		[ "$phase" = stage ] && want=read
		assert_eq "$want" "$got" "run $i: phase the kill landed in (by its log)"
	fi

	store_checks "$DB"
	canon_dump "$DB" >"$TEST_TMP/after.dump"
	if cmp -s "$TEST_TMP/after.dump" "$TEST_TMP/clean.dump"; then
		same_clean=$((same_clean + 1))
	else
		canon_dump "$DB" noruns >"$TEST_TMP/after-noruns.dump"
		if ! cmp -s "$TEST_TMP/after-noruns.dump" "$TEST_TMP/pre.dump"; then
			fail "run $i (aimed at $phase, exit $RC): the store is neither as before nor as after a clean run" \
				"$(diff "$TEST_TMP/pre.dump" "$TEST_TMP/after-noruns.dump" | head -20 || true)" \
				"$(diff "$TEST_TMP/clean.dump" "$TEST_TMP/after.dump" | head -20 || true)"
		fi
		# at most the killed run's own record is new, and it says running
		new=$(sql "SELECT count(*) FROM sync_runs WHERE outcome = 'running'")
		[ "$new" -le 1 ] || fail "run $i: $new runs left running"
		same_pre=$((same_pre + 1))
	fi
done
secs=$(($(date +%s) - t0))

note "recovery: the next run marks the killed one failed and completes"
sync_once
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome = 'running'"
store_checks "$DB"
sync_once
# (people re-added under a username the store still holds stay rejected)
assert_eq "ok 0 0 0 0 0" "$(run_counts | cut -d' ' -f1-6)" "a second run after the recovery finds nothing to do"

aimed_s=""
for k in "${PHASES[@]}"; do aimed_s="$aimed_s $k ${aimed[$k]:-0}"; done
reached_s=""
for k in start read plan apply hier plugin commit close; do reached_s="$reached_s $k ${reached[$k]:-0}"; done
figure "t_crash: $RUNS runs over $N people in ${secs} s, $killed killed; aimed at:$aimed_s; died in (by its log; read includes stage):$reached_s; store as before the run $same_pre times, as the clean run's result $same_clean"
