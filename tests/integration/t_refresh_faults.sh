#!/usr/bin/env bash
# t_refresh_faults: a refresh (sync.mode = "refresh") that does not end whole.
# Proves: a refresh cut by a size limit is incomplete (exit 1), applies no
# disable (the person deleted in the directory keeps access), keeps the old
# cookie, and the next whole refresh applies the deletion (entries the
# server both presents and sends whole, as slapd does in a present phase,
# are taken, not rejected); a refresh from a server that does not answer
# fails (exit 3) and changes nothing.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='mode = "refresh"; max_disable = 50; max_disable_percent = 100.0; initial_status = "active";'
write_conf
kept() { sql "SELECT value FROM state WHERE key = 'source:refresh'"; }
sync_once
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)"
cookie=$(kept)
assert_ne "" "$cookie" "a cookie is kept"

note "a refresh cut by a size limit"
ldap_admin_delete "uid=dave,$PEOPLE"
gen_people 6 new | ldap_admin_add
export SLAPD_EXTRA_DB_CONF="limits dn.exact=\"$SLAPD_SVC_DN\" size=3"
restart_directory
ROSTERD_CONF_URI=$SLAPD_URI write_conf
sync_once 1
assert_eq incomplete "$(last_run outcome)"
assert_eq 0 "$(last_run disabled)" "an incomplete refresh disables no one"
assert_sql "active" "SELECT status FROM people WHERE username = 'dave'" "dave keeps access"
assert_eq "$cookie" "$(kept)" "an incomplete refresh keeps the old cookie"
assert_contains "$ERR" "no one will be disabled by this run"

note "the limit lifted: the next refresh is whole and applies the deletion"
unset SLAPD_EXTRA_DB_CONF
restart_directory
ROSTERD_CONF_URI=$SLAPD_URI write_conf
sync_once
assert_eq ok "$(last_run outcome)"
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'dave'"
assert_sql 6 "SELECT count(*) FROM people WHERE username LIKE 'new%'"
assert_ne "$cookie" "$(kept)" "the cookie moved on"
assert_eq 0 "$(last_run rejected)" "entries both presented and sent whole are taken, not rejected"
cookie=$(kept)

note "a server that does not answer"
ldap_admin_delete "uid=erin,ou=contractors,$PEOPLE"
ROSTERD_CONF_TIMEOUT=2 ROSTERD_CONF_URI=$SLAPD_URI write_conf
slapd_pause
run_rosterd --once
slapd_resume
assert_rc 3 "a refresh from a silent server"
assert_eq failed "$(last_run outcome)"
assert_sql "active" "SELECT status FROM people WHERE username = 'erin'" "erin keeps access"
assert_eq "$cookie" "$(kept)" "the cookie stays"

note "the server back: the deletion is applied"
ROSTERD_CONF_URI=$SLAPD_URI write_conf
sync_once
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'erin'"
assert_eq 0 "$(last_run rejected)" "nothing rejected"
