#!/usr/bin/env bash
# t_smoke: the short scenario make check runs on every server: first sync,
# changes, a no-change resync, then the same in refresh mode.
# Proves: people are created with their fields and the server's stable id (of
# its own form), a person disabled in the directory is created disabled; an
# attribute change updates only that person, a new entry is created, a flag set
# disables and a delete disables as missing; a resync with no change writes
# nothing and counts everyone unchanged. With sync.mode = "refresh" (RFC 4533
# where the server offers it: OpenLDAP, 389-DS; Samba is read in full): a
# refresh from nothing changes nothing; a lock set, a lock cleared and a
# changed title arrive (389-DS sends those entries without nsAccountLock:
# rosterd reads them again); a no-change refresh reads no entry and writes
# nothing; a full run after it finds nothing to change.
# A config of the server's preset (ldap.preset) alone, with no filter or
# attribute written, passes rosterd -n's schema check and reads the same
# people, fields, ids and flags.
. "$(dirname "$0")/lib.sh"

export FX_FEATURES=contentsync

{
	fx_person alice Alice Archer "title: Engineer"
	fx_person bob Bob Baker "title: Accountant"
	fx_person carol Carol Clark "title: Director"
	fx_person dave Dave Dunn @disabled
} >"$TEST_TMP/people.ldif"
fx_start "$TEST_TMP/people.ldif"

note "first sync"
fx_timed "first sync" sync_once
assert_eq "ok 4 0 0 0 0 0" "$(run_counts)" "first sync counts"
assert_sql "alice|alice@example.com|Alice|Archer|Alice Archer|Engineer|invited
bob|bob@example.com|Bob|Baker|Bob Baker|Accountant|invited
carol|carol@example.com|Carol|Clark|Carol Clark|Director|invited
dave|dave@example.com|Dave|Dunn|Dave Dunn||disabled" \
	"SELECT username, email, given_name, family_name, display_name, coalesce(title, ''), status FROM people ORDER BY username"
assert_sql "directory|1" "SELECT status_reason, dir_disabled FROM people WHERE username = 'dave'"
assert_match "$(col alice dir_id)" "$FX_ID_RE" "the stable id in the server's form"
assert_eq "$(fx_p alice)" "$(col alice dn)" "the DN as the server gives it"

note "the server's preset alone (ldap.preset) reads the same people"
mkdir -p "$TEST_TMP/preset"
fx_conf_preset "$TEST_TMP/preset/rosterd.conf"
run "$ROSTERD" -c "$TEST_TMP/preset/rosterd.conf" -n
assert_rc 0 "the preset's attributes are in the server's schema"
run "$ROSTERD" -c "$TEST_TMP/preset/rosterd.conf" --once
assert_rc 0 "a run with the preset's map"
people="SELECT username, dir_id, dn, email, given_name, family_name, display_name,
	coalesce(title, ''), status, coalesce(status_reason, ''), dir_disabled FROM people ORDER BY username"
assert_eq "$(sql "$people")" "$(sqlite3 -batch "$TEST_TMP/preset/learning.db" "$people")" \
	"the people as the explicit map reads them"

note "changes"
fx_set "$(fx_p alice)" title "Senior Engineer"
fx_person erin Erin Evans | fx_add
fx_disable bob
fx_delete "$(fx_p carol)"
fx_timed "sync with changes" sync_once
assert_eq "ok 1 1 0 2 0 0" "$(run_counts)" "counts after the changes"
assert_sql "alice|Senior Engineer|invited|
bob|Accountant|disabled|directory
carol|Director|disabled|missing
dave||disabled|directory
erin||invited|" "SELECT username, coalesce(title, ''), status, coalesce(status_reason, '') FROM people ORDER BY username"
assert_sql "changed: title" "SELECT detail FROM audit_log WHERE run_id = 2 AND action = 'update' AND subject = 'alice'"

note "no change: nothing written"
before=$(fx_dump)
fx_timed "no-change resync" sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "resync counts"
assert_sql 4 "SELECT unchanged FROM sync_runs ORDER BY id DESC LIMIT 1" "the 4 entries read, all unchanged"
assert_eq "$before" "$(fx_dump)" "a no-change resync writes nothing"

note "refresh mode"
fx_conf 'mode = "refresh";'
fx_timed "refresh from nothing" sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "a refresh from nothing of the same directory"
fx_disable alice
fx_enable dave
fx_set "$(fx_p erin)" title "Engineer"
fx_timed "refresh with changes" sync_once
assert_eq "ok 0 1 0 1 1 0" "$(run_counts)" "erin updated, alice disabled, dave enabled"
[ "$FX_CONTENTSYNC" = 0 ] || assert_eq 3 "$(last_run entries_read)" "only the three changed entries"
assert_sql "alice|disabled|directory|Senior Engineer
dave|invited||
erin|invited||Engineer" "SELECT username, status, coalesce(status_reason, ''), coalesce(title, '')
	FROM people WHERE username IN ('alice', 'dave', 'erin') ORDER BY username"
before=$(fx_dump)
fx_timed "no-change refresh" sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "no-change refresh"
[ "$FX_CONTENTSYNC" = 0 ] || assert_eq 0 "$(last_run entries_read)" "a no-change refresh reads no entry"
assert_eq "$before" "$(fx_dump)" "a no-change refresh writes nothing"
fx_conf
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "a full run after the refreshes finds nothing to change"
