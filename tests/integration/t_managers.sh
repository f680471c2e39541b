#!/usr/bin/env bash
# t_managers: the reporting tree from the manager and secretary attributes.
# Proves: a four-level tree resolves by normalised DN (mixed case, spacing,
# \, against \2C); a manager DN that matches nobody, lies outside the synced
# people, or names the person themself gives no manager and a counted warning
# (the run still succeeds); two manager cycles (2 and 3 people) are stored as
# the directory says and reported once each per run; a no-change resync
# writes nothing; manager changes between runs are audited as
# "primary manager: old -> new"; roles follow direct reports (manager) and
# fall back to learner when the last report leaves.
. "$(dirname "$0")/lib.sh"

m() { printf 'manager: %s' "$1"; }
{
	ldif_person ceo Cleo Ceo
	ldif_person vp1 Vic One "$(m "UID=CEO , OU=People,DC=Example,DC=Com")"
	ldif_person vp2 Val Two "$(m "uid=ceo,ou=people,dc=example,dc=com")" \
		"secretary: uid=vp1,ou=people,dc=example,dc=com"
	# uid "o,brien": the DN escapes the comma as \, ; vp1's report names it as \2C.
	printf 'dn: uid=o\\,brien,%s\nobjectClass: inetOrgPerson\nuid: o,brien\ncn: Orla Brien\nsn: Brien\nmanager: uid=vp1,ou=people,dc=example,dc=com\n\n' "$PEOPLE"
	ldif_person dev1 Dee One "$(m "uid=o\\2Cbrien,ou=people,dc=example,dc=com")"
	ldif_person dev2 Dan Two "$(m "uid=O\\2cBrien, ou=people, dc=example, dc=com")"
	ldif_person ghostly Gus Tly "$(m "uid=ghost,ou=people,dc=example,dc=com")"
	ldif_person outsider Oz Sider "$(m "cn=admin,dc=example,dc=com")"
	ldif_person selfish Sel Fish "$(m "uid=selfish,ou=people,dc=example,dc=com")"
	ldif_person cyca Cy A "$(m "uid=cycb,ou=people,dc=example,dc=com")"
	ldif_person cycb Cy B "$(m "uid=cyca,ou=people,dc=example,dc=com")"
	ldif_person tri1 Tri One "$(m "uid=tri2,ou=people,dc=example,dc=com")"
	ldif_person tri2 Tri Two "$(m "uid=tri3,ou=people,dc=example,dc=com")"
	ldif_person tri3 Tri Three "$(m "uid=tri1,ou=people,dc=example,dc=com")"
} > "$TEST_TMP/tree.ldif"
start_directory "$TEST_TMP/tree.ldif"
write_conf

mgrs() {
	sql "SELECT p.username, pm.kind, m.username FROM person_managers pm
	     JOIN people p ON p.id = pm.person_id JOIN people m ON m.id = pm.manager_id
	     ORDER BY p.username, pm.kind"
}

sync_once
assert_eq "cyca|primary|cycb
cycb|primary|cyca
dev1|primary|o,brien
dev2|primary|o,brien
o,brien|primary|vp1
tri1|primary|tri2
tri2|primary|tri3
tri3|primary|tri1
vp1|primary|ceo
vp2|primary|ceo
vp2|secondary|vp1" "$(mgrs)" "resolved managers"
assert_sql "3|2|11" "SELECT manager_warnings, manager_cycles, manager_changes FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_contains "$ERR" 'person ghostly: primary manager "uid=ghost,ou=people,dc=example,dc=com" matches nobody among the synced people'
assert_contains "$ERR" 'person outsider: primary manager "cn=admin,dc=example,dc=com" is outside the synced people'
assert_contains "$ERR" 'person selfish: primary manager "uid=selfish,ou=people,dc=example,dc=com" names the person themself'
assert_eq 2 "$(grep -c 'manager cycle in the directory' <<<"$ERR")" "each cycle reported once"
assert_contains "$ERR" "manager cycle in the directory: cyca -> cycb -> cyca"
assert_contains "$ERR" "manager cycle in the directory: tri1 -> tri2 -> tri3 -> tri1"
assert_sql "ceo|manager
cyca|manager
cycb|manager
dev1|learner
o,brien|manager
selfish|learner
tri1|manager
vp1|manager
vp2|learner" "SELECT username, role FROM people WHERE username IN ('ceo','vp1','vp2','o,brien','dev1','selfish','cyca','cycb','tri1') ORDER BY username" "roles from direct reports"

note "rosterctl walks the tree from the directory's data"
rctl_ok reports ceo --all --format json
assert_eq "vp1:1 o,brien:2 dev1:3 dev2:3 vp2:1" "$(jq -r '[.[] | .username + ":" + (.depth | tostring)] | join(" ")' <<<"$OUT")" "everyone below ceo, in tree order"
rctl_ok chain dev1 --format json
assert_eq "o,brien vp1 ceo" "$(jq -r '[.[].username] | join(" ")' <<<"$OUT")" "dev1's chain of command"
rctl_ok chain tri1 --format json
assert_eq "tri2 tri3 tri1 true" "$(jq -r '[.[].username] + [.[-1].cycle | tostring] | join(" ")' <<<"$OUT")" "a chain on a cycle ends, marked"
rctl_ok user list --manager o,brien --format csv
assert_eq 2 "$(tail -n +2 <<<"$OUT" | wc -l)" "o,brien's direct reports"
rctl_ok user show vp2 --json
assert_json '.manager' ceo
assert_json '.secondary_manager' vp1

note "no change: nothing written, the cycles reported again"
before=$(sql_dump people person_managers audit_log)
sync_once
assert_eq "$before" "$(sql_dump people person_managers audit_log)"
assert_sql "0|3|2" "SELECT manager_changes, manager_warnings, manager_cycles FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_eq 2 "$(grep -c 'manager cycle in the directory' <<<"$ERR")" "cycles reported once per run"

note "manager changes: dev1 moves to vp2, vp2 loses the secretary, the 2-cycle is broken"
ldap_admin_modify <<EOF
dn: uid=dev1,$PEOPLE
changetype: modify
replace: manager
manager: uid=vp2,$PEOPLE

dn: uid=vp2,$PEOPLE
changetype: modify
delete: secretary

dn: uid=cycb,$PEOPLE
changetype: modify
delete: manager
EOF
sync_once
run_id=$(last_run id)
assert_sql "cycb|primary manager: cyca -> none
dev1|primary manager: o,brien -> vp2
vp2|secondary manager: vp1 -> none" \
	"SELECT subject, detail FROM audit_log WHERE run_id = $run_id AND action = 'manager' ORDER BY subject"
assert_sql "3|3|1" "SELECT manager_changes, manager_warnings, manager_cycles FROM sync_runs WHERE id = $run_id"
assert_sql "cyca|manager -> learner
vp2|learner -> manager" "SELECT subject, detail FROM audit_log WHERE run_id = $run_id AND action = 'role' ORDER BY subject"

note "the last report of o,brien leaves: o,brien goes back to learner"
ldap_admin_modify <<EOF
dn: uid=dev2,$PEOPLE
changetype: modify
replace: manager
manager: uid=vp2,$PEOPLE
EOF
sync_once
assert_sql "o,brien|manager -> learner" "SELECT subject, detail FROM audit_log WHERE run_id = $(last_run id) AND action = 'role'"

note "a manager deleted from the directory: the reports lose the manager, with a warning"
ldap_admin_delete "uid=vp2,$PEOPLE"
sync_once
assert_sql "dev1|primary manager: vp2 -> none
dev2|primary manager: vp2 -> none" \
	"SELECT subject, detail FROM audit_log WHERE run_id = $(last_run id) AND action = 'manager' ORDER BY subject"
assert_contains "$ERR" 'person dev1: primary manager "uid=vp2,ou=people,dc=example,dc=com" matches nobody'
assert_store_sound
