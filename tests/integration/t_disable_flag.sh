#!/usr/bin/env bash
# t_disable_flag: the directory's own disabled flag (nsAccountLock, and an
# AD-style bitmask attribute).
# Proves: with disabled_attribute = "nsAccountLock", disabled_values = ["TRUE"],
# an entry locked before its first sync is created disabled (status_reason
# 'directory'); locking an existing person (value compared without case)
# disables them with status_reason 'directory', dir_disabled 1, audited; other
# values (FALSE) do nothing; a locked person is not disabled twice; removing
# the flag enables them back to prev_status; with disabled_bitmask = 2 on
# employeeType, "514" disables and "512" does not. Also checks that a run's
# "unchanged" count leaves out the people it disabled or enabled.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";'
export ROSTERD_CONF_USERS_EXTRA='disabled_attribute = "nsAccountLock"; disabled_values = [ "TRUE" ];'
write_conf
ERIN="uid=erin,ou=contractors,$PEOPLE"

note "erin locked before the first sync"
lock_person "$ERIN" TRUE
sync_once
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)"
assert_sql "disabled|directory|1" "SELECT status, status_reason, dir_disabled FROM people WHERE username = 'erin'"
assert_sql "invited|9" "SELECT status, count(*) FROM people WHERE username <> 'erin' GROUP BY status"
assert_sql "create|new entry, disabled in the directory" "SELECT action, detail FROM audit_log WHERE subject = 'erin'"

note "bob locked (TRUE), alice locked (true), dave FALSE"
lock_person "uid=bob,$PEOPLE" TRUE
lock_person "uid=alice,$PEOPLE" true
lock_person "uid=dave,$PEOPLE" FALSE
sync_once
assert_eq "ok 0 0 0 2 0 0" "$(run_counts)" "two directory disables"
unchanged_after_lock=$(last_run unchanged)
assert_sql "alice|disabled|directory|invited|1
bob|disabled|directory|invited|1
dave|invited||invited|0" \
	"SELECT username, status, status_reason, prev_status, dir_disabled FROM people WHERE username IN ('alice', 'bob', 'dave') ORDER BY username"
assert_sql "alice|disable|disabled in the directory
bob|disable|disabled in the directory" \
	"SELECT subject, action, detail FROM audit_log WHERE run_id = 2 ORDER BY subject"
assert_sql "alice@example.com|Chief Technology Officer" "SELECT email, title FROM people WHERE username = 'alice'" "data kept"

before=$(sql_dump people person_fields audit_log)
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "locked people are not disabled twice"
assert_eq "$before" "$(sql_dump people person_fields audit_log)" "store unchanged on a resync"

note "bob's and erin's flags removed"
unlock_person "uid=bob,$PEOPLE"
unlock_person "$ERIN"
sync_once
assert_eq "ok 0 0 0 0 2 0" "$(run_counts)" "two enables"
unchanged_after_unlock=$(last_run unchanged)
assert_sql "alice|disabled|directory|1
bob|invited||0
erin|invited||0" \
	"SELECT username, status, status_reason, dir_disabled FROM people WHERE username IN ('alice', 'bob', 'erin') ORDER BY username"
assert_sql "bob|enable|no longer disabled in the directory
erin|enable|no longer disabled in the directory" \
	"SELECT subject, action, detail FROM audit_log WHERE run_id = 4 ORDER BY subject"
assert_sql "create,manager,manager,role,disable,enable" "SELECT group_concat(action) FROM (SELECT action FROM audit_log WHERE subject = 'bob' ORDER BY id)"

note "an active person comes back active"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "active";'
CONF=$TEST_TMP/active/rosterd.conf DB=$TEST_TMP/active/learning.db
write_conf
sync_once
assert_sql "active|9" "SELECT status, count(*) FROM people WHERE status = 'active' GROUP BY status" "all but alice (locked) active"
lock_person "uid=frank,$PEOPLE" TRUE
sync_once
assert_sql "disabled|directory|active" "SELECT status, status_reason, prev_status FROM people WHERE username = 'frank'"
unlock_person "uid=frank,$PEOPLE"
sync_once
assert_sql "active|" "SELECT status, status_reason FROM people WHERE username = 'frank'"

note "disabled_bitmask = 2 on employeeType"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";'
export ROSTERD_CONF_USERS_EXTRA='disabled_attribute = "employeeType"; disabled_bitmask = 2;'
CONF=$TEST_TMP/bitmask/rosterd.conf DB=$TEST_TMP/bitmask/learning.db
write_conf
set_attr "uid=jose,$PEOPLE" employeeType 514
set_attr "uid=zwei,$PEOPLE" employeeType 512
sync_once
assert_sql "jose|disabled|directory
zwei|invited|" "SELECT username, status, status_reason FROM people WHERE username IN ('jose', 'zwei') ORDER BY username"
set_attr "uid=jose,$PEOPLE" employeeType 512
sync_once
assert_eq "ok 0 0 0 0 1 0" "$(run_counts)" "jose enabled when bit 2 is cleared"
assert_sql "invited" "SELECT status FROM people WHERE username = 'jose'"

note "unchanged counts only the people the run left alone"
# Run 2 read 10 entries and disabled 2 of them; run 4 read 10 and enabled 2.
assert_eq 8 "$unchanged_after_lock" "sync_runs.unchanged of the run that disabled alice and bob (10 read, 2 disabled)"
assert_eq 8 "$unchanged_after_unlock" "sync_runs.unchanged of the run that enabled bob and erin (10 read, 2 enabled)"
