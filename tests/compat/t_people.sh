#!/usr/bin/env bash
# t_people: a person's life in the directory, on each server.
# Proves: a username change (new RDN) keeps the same person (same row and
# stable id), counted as updated and moved; a person disabled by the
# directory's flag is enabled back to the status they had when the flag goes;
# an entry deleted disables its person as missing, data kept; a new entry with
# a missing person's username (a new stable id) is rejected, not merged; an
# entry moved out of the users base and back is disabled, then enabled (same
# row); a resync with no change writes nothing.
. "$(dirname "$0")/lib.sh"

{
	fx_ou staff
	for u in alice bob carol dave; do fx_person "$u" "${u^}" Example "title: T-$u"; done
} >"$TEST_TMP/people.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 100.0; initial_status = "active";'
# ou=staff is outside the users base (ou=people): entries go there to leave.
fx_start "$TEST_TMP/people.ldif"
sync_once
assert_eq "ok 4 0 0 0 0 0" "$(run_counts)" "first sync"
alice_id=$(col alice id)
alice_dir_id=$(col alice dir_id)

note "alice renamed to alicia"
fx_rename alice alicia
sync_once
assert_eq "ok 0 1 1 0 0 0" "$(run_counts)" "a rename is an update and a move"
assert_sql "$alice_id|$alice_dir_id|alicia|active" "SELECT id, dir_id, username, status FROM people WHERE username = 'alicia'"
assert_eq "$(fx_p alicia)" "$(col alicia dn)" "the new DN"
assert_sql 0 "SELECT count(*) FROM people WHERE username = 'alice'"

note "bob disabled by the directory's flag, then enabled"
fx_disable bob
sync_once
assert_eq "ok 0 0 0 1 0 0" "$(run_counts)" "the flag disables"
assert_sql "disabled|directory|active|1" "SELECT status, status_reason, prev_status, dir_disabled FROM people WHERE username = 'bob'"
fx_enable bob
sync_once
assert_eq "ok 0 0 0 0 1 0" "$(run_counts)" "clearing the flag enables"
assert_sql "active||0" "SELECT status, coalesce(status_reason, ''), dir_disabled FROM people WHERE username = 'bob'"

note "carol deleted: disabled as missing, data kept"
carol_row=$(sql "SELECT id, dir_id, dn, email, title FROM people WHERE username = 'carol'")
fx_delete "$(fx_p carol)"
sync_once
assert_eq "ok 0 0 0 1 0 0" "$(run_counts)" "a delete disables"
assert_sql "disabled|missing|active" "SELECT status, status_reason, prev_status FROM people WHERE username = 'carol'"
assert_eq "$carol_row" "$(sql "SELECT id, dir_id, dn, email, title FROM people WHERE username = 'carol'")" "carol's data kept"

note "a new entry with carol's username is not carol"
fx_person carol Carol Clone | fx_add
sync_once
assert_eq "ok 0 0 0 0 0 1" "$(run_counts)" "the new entry is rejected"
assert_match "$(sql "SELECT reason FROM run_rejects WHERE run_id = $(last_run id)")" carol "the reason names the username"
assert_eq "$carol_row" "$(sql "SELECT id, dir_id, dn, email, title FROM people WHERE username = 'carol'")" "carol's row untouched"
fx_delete "$(fx_p carol)"

note "dave moved out of the users base and back"
dave_id=$(col dave id)
fx_move dave staff
sync_once
assert_eq "ok 0 0 0 1 0 0" "$(run_counts)" "out of the base: missing"
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'dave'"
rdn=$(fx_p dave)
rdn=${rdn%%,*}
fx_modrdn "$rdn,$(fx_ou_dn staff)" "$rdn" "$(fx_ou_dn people)"
sync_once
assert_eq "ok 0 0 0 0 1 0" "$(run_counts)" "back in the base: enabled"
assert_sql "$dave_id|active||" "SELECT id, status, coalesce(status_reason, ''), coalesce(missing_since, '') FROM people WHERE username = 'dave'"

note "no change: nothing written"
before=$(fx_dump)
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "resync"
assert_eq "$before" "$(fx_dump)" "a no-change resync writes nothing"
