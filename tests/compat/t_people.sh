#!/usr/bin/env bash
# t_people: a person's life in the directory, on each server.
# Proves: a username change (new RDN) keeps the same person (same row and
# stable id), counted as updated and moved; a person disabled by the
# directory's flag is enabled back to the status they had when the flag goes;
# an entry deleted disables its person as missing, data kept; a new entry with
# a missing person's username (a new stable id) is rejected by every run, not
# merged, and the rejection names rosterctl user relink, which binds the
# person to the new entry (audited), so the next run updates and enables
# them with their assignment kept (relink refuses a person whose entry is
# there, and one with no rejected entry); an
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
rctl_ok course add SEC-101
rctl_ok assign carol SEC-101
carol_row=$(sql "SELECT id, dir_id, dn, email, title FROM people WHERE username = 'carol'")
fx_delete "$(fx_p carol)"
sync_once
assert_eq "ok 0 0 0 1 0 0" "$(run_counts)" "a delete disables"
assert_sql "disabled|missing|active" "SELECT status, status_reason, prev_status FROM people WHERE username = 'carol'"
assert_eq "$carol_row" "$(sql "SELECT id, dir_id, dn, email, title FROM people WHERE username = 'carol'")" "carol's data kept"

note "a new entry with carol's username is not carol"
run_rctl user relink carol
assert_rc 1 "relink with no entry rejected for carol"
assert_contains "$ERR" "the last run rejected no entry for the username \"carol\""
fx_person carol Carol Clone | fx_add
sync_once
assert_eq "ok 0 0 0 0 0 1" "$(run_counts)" "the new entry is rejected"
assert_match "$(sql "SELECT reason FROM run_rejects WHERE run_id = $(last_run id)")" carol "the reason names the username"
assert_contains "$ERR" "\"rosterctl user relink carol\" binds them to it"
assert_eq "$carol_row" "$(sql "SELECT id, dir_id, dn, email, title FROM people WHERE username = 'carol'")" "carol's row untouched"
sync_once
assert_eq "ok 0 0 0 0 0 1" "$(run_counts)" "and again by every run"

note "carol rehired: rosterctl user relink binds carol to the new entry, records kept"
new_id=$(sql "SELECT dir_id FROM run_rejects WHERE run_id = $(last_run id)")
assert_match "$new_id" "$FX_ID_RE" "the rejected entry's id is kept"
assert_ne "$(col carol dir_id)" "$new_id" "a new id"
run_rctl user relink bob
assert_rc 1 "bob's entry is in the directory"
assert_contains "$ERR" "bob: their entry is in the directory"
rctl_ok user relink --reason "rehired" carol
assert_contains "$OUT" "carol: bound to \"$(fx_p carol)\""
assert_eq "$new_id" "$(col carol dir_id)" "carol's row has the new entry's id"
assert_sql "relink|carol" "SELECT action, subject FROM audit_log WHERE actor LIKE 'operator:%' ORDER BY id DESC LIMIT 1"
assert_match "$(sql "SELECT detail FROM audit_log WHERE action = 'relink'")" ": rehired$" "the reason in the audit"
sync_once
assert_eq "ok 0 1 0 0 1 0" "$(run_counts)" "the new entry updates carol and enables her"
assert_sql "$(cut -d'|' -f1 <<<"$carol_row")|active|Carol Clone|SEC-101" \
	"SELECT p.id, p.status, p.display_name, c.code FROM people p JOIN assignments a ON a.person_id = p.id
	 JOIN courses c ON c.id = a.course_id WHERE p.username = 'carol'" "the same row, her course still hers"

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
