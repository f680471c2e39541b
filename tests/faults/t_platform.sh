#!/usr/bin/env bash
# t_platform: the learning platform uses the store while rosterd runs.
# Proves, over 10,000 people and runs with hundreds of changes each: while a
# reader holds one read transaction open across all the runs, another reader
# checks the store's invariants in short read transactions, and a writer
# updates course progress in short write transactions (busy timeout 5 s,
# tests/faults/platform.c), no SQLITE_BUSY or other error reaches any of
# them or rosterd (every run exits 0); the long reader sees the same store
# from start to end; the short readers never see a half-applied run (people
# = people the runs created; audit entries = each run's counts) and see
# more than one state; the writer's progress updates all survive (rosterd
# never touches assignments). The WAL stays bounded: with the long reader
# holding its snapshot it cannot be checkpointed, but once the reader is
# gone the next run (at most the third, on a loaded machine) leaves it at
# most 4 MiB (store_checkpoint() after the commit truncates it), however
# large the runs before made it.
# Short: 3 runs of 400 changes; LONG=1: 20 runs.
. "$(dirname "$0")/lib.sh"

N=10000
RUNS=$(by_length 3 20)
start_org "$N" 11
write_conf
sync_once
sql "INSERT INTO courses (code, title, created_at) VALUES
       ('SEC101', 'Security basics', '2026-01-01T00:00:00Z'),
       ('GDPR', 'Data protection', '2026-01-01T00:00:00Z');
     INSERT INTO assignments (person_id, course_id, status, source, assigned_at)
       SELECT p.id, c.id, 'enrolled', 'operator', '2026-01-02T00:00:00Z'
       FROM people p, courses c WHERE p.id % 5 = 0;"
assignments=$(sql "SELECT count(*) FROM assignments")
assert_eq 4000 "$assignments"
people0=$(sql "SELECT count(*) FROM people")

STOP=$TEST_TMP/stop
P=$ROSTERD_BUILD/tests/faults/platform
"$P" hold "$DB" "$STOP.hold" >"$TEST_TMP/hold.out" 2>"$TEST_TMP/hold.err" &
HOLD=$!
track_pid "$HOLD"
wait_for 10 grep -q ready "$TEST_TMP/hold.out" || fail "the long reader did not start" "$(cat "$TEST_TMP/hold.err")"
"$P" reader "$DB" "$STOP" >"$TEST_TMP/reader.out" 2>"$TEST_TMP/reader.err" &
READER=$!
track_pid "$READER"
"$P" writer "$DB" "$STOP" >"$TEST_TMP/writer.out" 2>"$TEST_TMP/writer.err" &
WRITER=$!
track_pid "$WRITER"

wal_max=0
for ((i = 1; i <= RUNS; i++)); do
	: >"$TEST_TMP/changes.ldif"
	for ((k = 0; k < 400; k++)); do
		u=$(( (i * 397 + k * 13) % N + 1 ))
		if [ $((k % 40)) = 0 ]; then
			printf 'dn: uid=u%06d,%s\nchangetype: delete\n\n' "$u" "$PEOPLE"
		else
			printf 'dn: uid=u%06d,%s\nchangetype: modify\nreplace: title\ntitle: Run %d\n\n' "$u" "$PEOPLE" "$i"
		fi
	done >>"$TEST_TMP/changes.ldif"
	for ((k = 0; k < 20; k++)); do ldif_person "p${i}x$k" New "Person $i" | sed '1a changetype: add'; done \
		>>"$TEST_TMP/changes.ldif"
	ldapmodify -c -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" \
		-f "$TEST_TMP/changes.ldif" >/dev/null 2>&1 || true
	sync_once
	assert_not_contains "$ERR" "locked"
	running "$WRITER" || fail "the writer stopped during run $i" "$(cat "$TEST_TMP/writer.err")"
	running "$READER" || fail "the reader stopped during run $i" "$(cat "$TEST_TMP/reader.err")"
	w=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
	[ "$w" -gt "$wal_max" ] && wal_max=$w
	note "run $i: $(run_counts); WAL $w bytes"
done
people1=$(sql "SELECT count(*) FROM people")

note "the long reader gone, the others still at work: the next run checkpoints, the WAL shrinks"
touch "$STOP.hold"
RC=0
wait "$HOLD" || RC=$?
[ "$RC" = 0 ] || fail "the long reader failed (exit $RC)" "$(cat "$TEST_TMP/hold.err")"
# Each run tries once, for 250 ms at most, while short readers come and go:
# on a loaded machine a run may find a reader every time; allow three runs.
[ "$wal_max" -gt $((4 * 1024 * 1024)) ] || fail "the WAL never grew past 4 MiB: the test proves nothing"
for try in 1 2 3; do
	sync_once
	w=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
	note "WAL: $wal_max bytes at most during the runs, $w after run $try with no long reader"
	[ "$w" -gt $((4 * 1024 * 1024)) ] || break
done
[ "$w" -le $((4 * 1024 * 1024)) ] || fail "the WAL is $w bytes after 3 runs with no long reader left"

touch "$STOP"
for p in "$READER" "$WRITER"; do
	RC=0
	wait "$p" || RC=$?
	[ "$RC" = 0 ] || fail "a platform process failed (exit $RC)" "$(cat "$TEST_TMP"/{hold,reader,writer}.err)"
done
hold=$(cat "$TEST_TMP/hold.out")
reader=$(cat "$TEST_TMP/reader.out")
writer=$(cat "$TEST_TMP/writer.out")
note "hold: $hold; reader: $reader; writer: $writer"
assert_eq "" "$(cat "$TEST_TMP"/{hold,reader,writer}.err)" "errors on the platform's side"
assert_contains "$hold" "before $people0 after $people0" "the long reader's view"
assert_ne "$people0" "$people1" "the runs created people"
states=$(sed -n 's/.* states \([0-9]*\)$/\1/p' <<<"$reader")
[ "$states" -ge 2 ] || fail "the short readers saw only $states state(s) of the store"
commits=$(sed -n 's/^commits \([0-9]*\) .*/\1/p' <<<"$writer")
[ "$commits" -gt 0 ] || fail "the writer committed nothing"
assert_sql "$assignments" "SELECT count(*) FROM assignments WHERE person_id IN (SELECT id FROM people)"
# the writer's last update of assignment k is its ceil((commits - k + 1)/n)th
assert_sql "$(awk -v c="$commits" -v n="$assignments" 'BEGIN { s = 0
	for (k = 1; k <= n; k++) { t = int((c - k) / n) + 1; if (k > c) t = 0; s += (7 * t) % 101 } print s }')" \
	"SELECT sum(progress) FROM assignments" "the writer's progress, all kept"
store_checks "$DB"
figure "t_platform: $RUNS runs over $N people with a reader holding one snapshot, short readers ($reader) and a progress writer ($writer): no SQLITE_BUSY; WAL at most $wal_max bytes while the snapshot was held, $w after run $try with no long reader"
