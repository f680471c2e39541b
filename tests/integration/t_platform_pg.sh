#!/usr/bin/env bash
# t_platform_pg: the learning platform uses a PostgreSQL store while rosterd
# runs, as its own role with the README's grants (tests/tools/platform_pg.c).
# Proves: while a writer adds to course progress in one short transaction
# after another (serialization failures retried, as a client should) and a
# reader checks in REPEATABLE READ snapshots that no run is half written,
# three runs of hundreds of changes each (modified, deleted, added people,
# the course_rules plugin assigning the new ones a course) all exit 0; the
# platform gets no error; its progress updates all survive (the sum of the
# progress is the number of updates it committed); the reader saw no half
# run; the platform's role cannot change people.
. "$(dirname "$0")/lib.sh"
needs_store pg

N=2000
start_directory <(gen_people "$N" u)
write_conf
sync_once
rctl_ok course add SEC101 --title "Security basics"
sql "INSERT INTO assignments (person_id, course_id, status, source, assigned_at)
     SELECT p.id, c.id, 'enrolled', 'operator', '2026-01-02T00:00:00Z'
     FROM people p, courses c"
assert_sql "$N" "SELECT count(*) FROM assignments"
export ROSTERD_CONF_PLUGINS="{ name = \"course_rules\"; path = \"$(dirname "$ROSTERD")/plugins/course_rules.so\";
  rules = ( { everyone = true; courses = [ \"SEC101\" ]; } ); }"
export ROSTERD_CONF_SYNC='max_disable = 1000; max_disable_percent = 50.0; initial_status = "active";'
write_conf
pg_grant_platform

P=$ROSTERD_BUILD/tools/platform_pg
STOP=$TEST_TMP/stop
export PGPASSWORD=$PG_PLATFORM_PW
"$P" writer "$PG_PLATFORM_URL" rosterd "$STOP" >"$TEST_TMP/writer.out" 2>"$TEST_TMP/writer.err" &
WRITER=$!
track_pid "$WRITER"
"$P" reader "$PG_PLATFORM_URL" rosterd "$STOP" >"$TEST_TMP/reader.out" 2>"$TEST_TMP/reader.err" &
READER=$!
track_pid "$READER"
unset PGPASSWORD

for i in 1 2 3; do
	{
		for ((k = 1; k <= 300; k++)); do
			printf 'dn: uid=u%05d,%s\nchangetype: modify\nreplace: title\ntitle: Run %d\n\n' \
				$(( (i * 397 + k * 7) % 1000 + 1001 )) "$PEOPLE" "$i"
		done
		for ((k = 1; k <= 10; k++)); do
			printf 'dn: uid=u%05d,%s\nchangetype: delete\n\n' $(( i * 100 + k )) "$PEOPLE"
		done
		for ((k = 1; k <= 20; k++)); do ldif_person "p${i}x$k" New "Person $i" | sed '1a changetype: add'; done
	} | ldap_admin_modify
	sync_once
	assert_match "$(last_run "created || ' ' || updated || ' ' || disabled")" '^20 [0-9]+ 10$' "run $i's changes"
done
assert_sql 60 "SELECT count(*) FROM assignments a JOIN people p ON p.id = a.person_id
	WHERE p.username LIKE 'p_x%'" "the plugin's assignments of the new people"
touch "$STOP"
wait "$WRITER" || fail "the platform's writer failed" "$(cat "$TEST_TMP/writer.err")"
wait "$READER" || fail "the platform's reader failed" "$(cat "$TEST_TMP/reader.err")"
assert_eq "" "$(cat "$TEST_TMP/writer.err" "$TEST_TMP/reader.err")" "the platform's errors"
commits=$(sed -n 's/^commits \([0-9]*\) .*/\1/p' "$TEST_TMP/writer.out")
[ "${commits:-0}" -gt 0 ] || fail "the writer committed nothing" "$(cat "$TEST_TMP/writer.out")"
assert_sql "$commits" "SELECT sum(progress) FROM assignments" "every progress update the platform made"
snapshots=$(sed -n 's/^snapshots \([0-9]*\)$/\1/p' "$TEST_TMP/reader.out")
[ "${snapshots:-0}" -gt 10 ] || fail "the reader took too few snapshots" "$(cat "$TEST_TMP/reader.out")"
note "platform: $(cat "$TEST_TMP/writer.out"), $(cat "$TEST_TMP/reader.out")"

note "the platform's role reads, and writes only what its grants say"
export PGPASSWORD=$PG_PLATFORM_PW
run psql -X -q -v ON_ERROR_STOP=1 "$PG_PLATFORM_URL" -c "UPDATE rosterd.people SET status = 'active'"
assert_ne 0 "$RC" "the platform updating people"
assert_contains "$ERR" "permission denied"
run psql -X -q -A -t "$PG_PLATFORM_URL" -c "SELECT count(*) FROM rosterd.people"
assert_rc 0 "the platform reading people"
unset PGPASSWORD
