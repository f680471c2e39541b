#!/usr/bin/env bash
# t_modify_rename: attribute changes, renames (modrdn) and moves.
# Proves: a changed mapped attribute updates that person only (updated 1 each,
# audit "update" naming the changed fields, custom fields rewritten); a modrdn
# that changes the uid keeps the same people row (same id, new username and
# DN, renamed 1, no duplicate); a move to another OU (newsuperior) and an RDN
# rename with an escaped comma likewise; two people swapping usernames in one
# run is taken (no reject, both rows keep their ids).
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
write_conf
sync_once
id_of() { sql "SELECT id FROM people WHERE dir_id = $(sql_quote "$1")"; }
uuid_of() { col "$1" dir_id; }

note "modify: bob's mail and title, dave's departments"
bob_id=$(col bob id)
set_attr "uid=bob,$PEOPLE" mail bob.baker@example.com
set_attr "uid=bob,$PEOPLE" title "Senior Engineer"
set_attr "uid=dave,$PEOPLE" departmentNumber SALES
sync_once
assert_eq "ok 0 2 0 0 0 0" "$(run_counts)" "counts after two modifies"
assert_eq 8 "$(last_run unchanged)" "unchanged count after two modifies"
assert_sql "$bob_id|bob.baker@example.com|Senior Engineer|Bob Baker" \
	"SELECT id, email, title, display_name FROM people WHERE username = 'bob'"
assert_sql "SALES|SALES" "SELECT p.department, f.value FROM people p JOIN person_fields f ON f.person_id = p.id WHERE p.username = 'dave'"
assert_sql "bob|changed: email title
dave|changed: department fields" \
	"SELECT subject, detail FROM audit_log WHERE run_id = 2 AND action = 'update' ORDER BY subject"
assert_sql 2 "SELECT count(*) FROM audit_log WHERE run_id = 2"
assert_sql 10 "SELECT count(*) FROM people"

note "modrdn: uid=frank -> uid=frank.foster"
frank_uuid=$(uuid_of frank)
frank_id=$(col frank id)
ldap_admin_modrdn "uid=frank,$PEOPLE" "uid=frank.foster"
sync_once
assert_eq "ok 0 1 1 0 0 0" "$(run_counts)" "counts after a modrdn"
assert_sql 10 "SELECT count(*) FROM people"
assert_sql 0 "SELECT count(*) FROM people WHERE username = 'frank'"
assert_sql "$frank_id|frank.foster|uid=frank.foster,ou=people,dc=example,dc=com|uid=frank.foster,ou=people,dc=example,dc=com|invited" \
	"SELECT id, username, dn, dn_norm, status FROM people WHERE dir_id = $(sql_quote "$frank_uuid")"
assert_sql "update" "SELECT group_concat(action) FROM audit_log WHERE run_id = 3"
assert_sql "$frank_id" "SELECT person_id FROM audit_log WHERE run_id = 3"

note "move: erin out of ou=contractors; RDN rename: cn=Smith\\, John -> cn=Smith\\, Johnny"
erin_id=$(col erin id)
js_id=$(col jsmith id)
ldap_admin_modrdn "uid=erin,ou=contractors,$PEOPLE" "uid=erin" "$PEOPLE"
ldap_admin_modrdn "cn=Smith\\, John,$PEOPLE" "cn=Smith\\, Johnny"
sync_once
assert_eq "ok 0 2 2 0 0 0" "$(run_counts)" "counts after a move and an RDN rename"
assert_sql 10 "SELECT count(*) FROM people"
assert_sql "$erin_id|uid=erin,ou=people,dc=example,dc=com|uid=erin,ou=people,dc=example,dc=com" \
	"SELECT id, dn, dn_norm FROM people WHERE username = 'erin'"
# slapd spells the new RDN's comma \2C; the store keeps the DN as the directory gives it.
js_dn=$(ldap_svc_search -b "$PEOPLE" '(uid=jsmith)' 1.1 | sed -n 's/^dn: //p')
assert_eq "cn=Smith\\2C Johnny,ou=people,dc=example,dc=com" "$js_dn" "slapd's spelling of the renamed DN"
assert_sql "$js_id|$js_dn|cn=smith\\, johnny,ou=people,dc=example,dc=com|Smith, Johnny" \
	"SELECT id, dn, dn_norm, display_name FROM people WHERE username = 'jsmith'"

note "usernames swapped between jsmith and zoe in one run"
zoe_id=$(col zoe id)
zoe_dn=$(col zoe dn)
set_attr "$js_dn" uid tmp-swap
set_attr "$zoe_dn" uid jsmith
set_attr "$js_dn" uid zoe
sync_once
assert_eq "ok 0 2 0 0 0 0" "$(run_counts)" "counts after a username swap"
assert_sql "$js_id" "SELECT id FROM people WHERE username = 'zoe'" "the old jsmith row now has username zoe"
assert_sql "$zoe_id" "SELECT id FROM people WHERE username = 'jsmith'" "the old zoe row now has username jsmith"
assert_sql "Smith, Johnny" "SELECT display_name FROM people WHERE username = 'zoe'"
assert_sql 10 "SELECT count(*) FROM people"
assert_sql 0 "SELECT count(*) FROM run_rejects"

note "no-change resync after all that"
before=$(sql_dump people person_fields)
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)"
assert_eq "$before" "$(sql_dump people person_fields)" "store unchanged"
