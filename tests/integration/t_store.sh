#!/usr/bin/env bash
# t_store: the store is a file shared with the learning platform.
# Proves: a platform writer holding the write lock for less than
# store.busy_timeout only delays a run (exit 0); one holding it past a short
# busy_timeout when the run starts makes it exit 1 naming the lock, with the
# store unchanged and no run recorded; one taking the lock while the run
# reads the directory makes it exit 1 with the store unchanged (the run's
# record stays "running" until the next run marks it "failed": see the
# report); a store whose schema is newer than the binaries is refused by
# --once, --dry-run and rosterctl (exit 1) and left as it is.
. "$(dirname "$0")/lib.sh"
needs_store sqlite   # SQLite's locks and busy timeout

start_directory "$FIXTURES/people-small.ldif"
write_conf
sync_once
before=$(sql_dump people person_fields audit_log)

# hold_lock SECONDS: a platform writer holds the store's write lock (BEGIN
# IMMEDIATE) for SECONDS; returns once the lock is taken.
hold_lock() {
	rm -f "$TEST_TMP/locked"
	sqlite3 "$DB" "BEGIN IMMEDIATE;" ".shell touch $TEST_TMP/locked" ".shell sleep $1" "COMMIT;" >/dev/null &
	HOLDER=$!
	track_pid "$HOLDER"
	wait_for 10 test -e "$TEST_TMP/locked" || fail "the writer never took the lock"
}

note "a writer holds the lock for 1 s; busy_timeout is 5000 ms"
hold_lock 1
t0=$(date +%s%N)
sync_once 0
ms=$((($(date +%s%N) - t0) / 1000000))
wait "$HOLDER"
[ "$ms" -ge 700 ] || fail "the run should have waited for the lock, took only $ms ms"
assert_sql "2|ok" "SELECT id, outcome FROM sync_runs ORDER BY id DESC LIMIT 1"

note "busy_timeout = 100: the lock is held when the run starts"
sed -i 's|^store = {|store = { busy_timeout = 100;|' "$CONF"
hold_lock 0.6
run_rosterd --once
assert_rc 1 "a run that cannot lock the store"
assert_contains "$ERR" "locked"
wait "$HOLDER"
assert_sql 2 "SELECT count(*) FROM sync_runs" "no run recorded"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged"

note "busy_timeout = 100: the lock is taken while the run reads the directory"
ldap_admin_delete "uid=carol,$PEOPLE"
slapd_pause
bg_rosterd --once
run_started() { [ "$(sql "SELECT count(*) FROM sync_runs WHERE outcome = 'running'")" = 1 ]; }
wait_for 10 run_started || fail "the run never started"
hold_lock 1
slapd_resume
bg_wait 20
assert_rc 1 "a run that cannot lock the store to apply its plan"
assert_contains "$ERR" "locked"
wait "$HOLDER"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged"
stuck=$(sql "SELECT id FROM sync_runs WHERE outcome = 'running'")
sed -i 's|^store = { busy_timeout = 100;|store = {|' "$CONF"
sync_once 0
assert_sql "disabled" "SELECT status FROM people WHERE username = 'carol'"
if [ -n "$stuck" ]; then
	assert_sql failed "SELECT outcome FROM sync_runs WHERE id = $stuck"
fi
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome = 'running'"

note "a store from a newer rosterd"
set_schema_version 99
hash=$(store_hash)
for args in --once --dry-run; do
	run_rosterd $args
	assert_rc 1 "rosterd $args on a store with a newer schema"
	assert_contains "$ERR" "99"
done
run_rctl status
assert_rc 1 "rosterctl on a store with a newer schema"
assert_contains "$ERR" "99"
assert_eq "$hash" "$(store_hash)" "the newer store is left as it is"
