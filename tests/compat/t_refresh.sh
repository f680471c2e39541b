#!/usr/bin/env bash
# t_refresh: sync.mode = "refresh" on each server: RFC 4533 refreshOnly from
# slapd's syncprov and 389-DS's Content Synchronization plugin over its Retro
# Changelog, uSNChanged on Active Directory (Samba). After each step a twin
# store that full runs fill from the same directory must hold the same, column
# by column (twin_run).
# Proves: the first run reads everyone and keeps a cookie; a run with no change
# (RFC 4533: reads no entry) writes nothing; a modify, an add, a rename, a
# delete, a lock (nsAccountLock set) and an unlock (cleared) between runs are
# all applied (389-DS sends those entries without its operational attributes,
# nsUniqueId and nsAccountLock: rosterd reads them again by base searches);
# a member joining, a group deleted; a mass deletion over sync.max_disable is
# held with the cookie kept, and goes through once approved.
. "$(dirname "$0")/lib.sh"

export FX_FEATURES=contentsync
{
	fx_person alice Alice Archer "title: Engineer"
	fx_person bob Bob Baker
	fx_person carol Carol Clark
	fx_person dave Dave Dunn @disabled
	fx_person erin Erin Evans
	fx_person frank Frank Fox
	fx_person gina Gina Gray
	fx_person hal Hal Hill
} >"$TEST_TMP/people.ldif"
export ROSTERD_CONF_SYNC='max_disable = 3; max_disable_percent = 100.0; max_membership_removals_percent = 100.0; initial_status = "active";'
fx_start "$TEST_TMP/people.ldif"
{ fx_group eng "$(fx_p alice)" "$(fx_p bob)"; fx_group all "$(fx_p carol)" "$(fx_g eng)"; } | fx_add
fx_conf 'mode = "refresh";'
FULL_CONF=$TEST_TMP/full/rosterd.conf
FULL_DB=$TEST_TMP/full/learning.db
mkdir -p "$TEST_TMP/full"
CONF=$FULL_CONF fx_conf 'mode = "full";'

kept() { sql "SELECT coalesce((SELECT value FROM state WHERE key = 'source:refresh'), '')"; }
sync_on() { [ "$FX_CONTENTSYNC" = 1 ]; }
both() { fx_timed "${2:-refresh}" twin_run "${1:-0}"; }

note "first run: a refresh from nothing"
both 0 "first refresh"
assert_eq "ok 8 0 0 0 0 0" "$(run_counts)" "first run creates everyone"
assert_eq 8 "$(last_run entries_read)"
if sync_on; then
	assert_match "$(kept)" '^v1 fp=[0-9a-f]{16} full=[0-9]+ people=[0-9a-f]+ groups=[0-9a-f]+$' "the cookies are kept"
else
	assert_ne "" "$(kept)" "what the source keeps"
fi
assert_sql "all|alice|eng" "SELECT g.name, p.username, v.name FROM group_membership gm
	JOIN groups g ON g.id = gm.group_id JOIN people p ON p.id = gm.person_id
	JOIN groups v ON v.id = gm.via_group_id WHERE p.username = 'alice' AND g.name = 'all'"

note "no change: nothing read, nothing written"
before=$(fx_dump; sql_dump state)
both 0 "no-change refresh"
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "no-change run"
! sync_on || assert_eq 0 "$(last_run entries_read)" "a no-change refresh reads no entry"
assert_eq "$before" "$(fx_dump; sql_dump state)" "a no-change run writes nothing"

note "changes: modify, add, rename, delete, lock, unlock"
cookie=$(kept)
fx_set "$(fx_p alice)" title "Senior Engineer"
fx_person ivan Ivan Ito | fx_add
fx_rename frank frank.fox
fx_delete "$(fx_p gina)"
fx_disable bob
fx_enable dave
both 0 "refresh after six changes"
assert_eq "ok 1 2 1 2 1 0" "$(run_counts)" "created ivan, updated alice and frank (moved), disabled gina and bob, enabled dave"
! sync_on || assert_eq 6 "$(last_run entries_read)" "only the six changes were read"
assert_ne "$cookie" "$(kept)" "the cookie moved on"
assert_sql "bob|disabled|directory|1
dave|active||0
gina|disabled|missing|0" "SELECT username, status, coalesce(status_reason, ''), dir_disabled FROM people
	WHERE username IN ('bob', 'dave', 'gina') ORDER BY username"
assert_sql "Senior Engineer" "SELECT title FROM people WHERE username = 'alice'"
if [ "$FX_SERVER" = 389ds ]; then
	# sent without nsUniqueId and nsAccountLock, then read by base searches
	assert_match "$(cat "$DIRSRV_LOG")" "SRCH base=\"$(fx_p bob)\" scope=0" "bob's entry read again"
fi

note "groups: a member joins, a group goes"
printf 'dn: %s\nchangetype: modify\nadd: member\nmember: %s\n' "$(fx_g eng)" "$(fx_p ivan)" | fx_modify
both
assert_sql "all|eng
eng|eng" "SELECT g.name, v.name FROM group_membership gm JOIN groups g ON g.id = gm.group_id
	JOIN groups v ON v.id = gm.via_group_id JOIN people p ON p.id = gm.person_id
	WHERE p.username = 'ivan' ORDER BY 1"
fx_delete "$(fx_g all)"
both
assert_sql 0 "SELECT present FROM groups WHERE name = 'all'"

note "a mass deletion over sync.max_disable (3) is held; the cookie stays"
cookie=$(kept)
fx_delete "$(fx_p alice)" "$(fx_p carol)" "$(fx_p erin)" "$(fx_p hal)"
sync_once 4
assert_eq held "$(last_run outcome)"
assert_eq "$cookie" "$(kept)" "a held refresh keeps the old cookie"
assert_sql active "SELECT status FROM people WHERE username = 'alice'"
rctl_ok run approve "$(last_run id)"
twin_held
fx_timed "approved refresh" sync_once
assert_eq "ok 0 0 0 4 0 0" "$(run_counts)" "approved: the four are disabled"
assert_eq "$(twin_state "$FULL_DB")" "$(twin_state "$DB")" "the refreshed store equals the fully synced one"
assert_ne "$cookie" "$(kept)" "the cookie moved on once the run went through"
