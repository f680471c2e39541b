#!/usr/bin/env bash
# t_reports_cli: rosterctl's views of the reporting tree and the groups, on a
# store synced from slapd whose manager and group tables are then filled with
# sqlite3 (the sync side is tested on its own).
# Proves: `reports UID` lists direct reports (table, CSV with quoting, JSON),
# `--all` everyone below in tree order with depth and manager, and a manager
# 2-cycle neither loops nor lists the person under themself; `chain UID`
# goes up to the top with levels, and on a cycle stops at the person met
# again, marks that row "cycle" and says so on stderr (exit 0); `user list`
# filters by --manager [--all], --group and --role, combined with --status;
# `group list` counts direct, effective and nested members and hides a
# deleted group unless --deleted; `group show` shows a group's lines and
# JSON, its direct members and its effective members with the group they
# came through, takes a DN in any spelling, refuses an ambiguous name with
# exit 1 listing the DNs, and a deleted group without --deleted; unknown
# users and groups are exit 1, bad usage exit 2 with nothing on stdout; each
# command's --help works without a config; the store file is not changed.
. "$(dirname "$0")/lib.sh"

G="ou=groups,$SUFFIX"
{
	ldif_person boss Bea Boss "title: Chief Executive" "departmentNumber: EXEC" "l: London"
	ldif_person hana Hana Hale "title: Head of Engineering, EMEA" "departmentNumber: ENG" "l: London"
	ldif_person omar Omar Ortiz "title: Head of Operations" "departmentNumber: OPS" "l: Paris"
	ldif_person dev1 Dev One "title: Engineer" "departmentNumber: ENG" "l: London"
	ldif_person dev2 Dev Two "title: Engineer" "departmentNumber: ENG" "l: Paris"
	ldif_person ivy Ivy Ives "title: Operator" "departmentNumber: OPS" "l: Paris"
	ldif_person cyc1 Cy One "departmentNumber: OPS"
	ldif_person cyc2 Cy Two "departmentNumber: OPS"
	ldif_ou london "$G"
	ldif_ou paris "$G"
} >"$TEST_TMP/people.ldif"
start_directory "$TEST_TMP/people.ldif"
write_conf
sync_once
assert_sql 8 "SELECT count(*) FROM people"

note "the synced state of managers and groups, written with sqlite3"
pid() { echo "(SELECT id FROM people WHERE username = '$1')"; }
gid() { echo "(SELECT id FROM groups WHERE dn = '$1,$G')"; }
sql "DELETE FROM person_managers; DELETE FROM group_membership; DELETE FROM group_members;
     DELETE FROM groups;
     UPDATE people SET role = 'admin' WHERE username = 'boss';
     UPDATE people SET role = 'manager' WHERE username IN ('hana', 'omar');
     UPDATE people SET status = 'active' WHERE username IN ('boss', 'dev1');"
for edge in hana:boss omar:boss dev1:hana dev2:hana ivy:omar cyc1:cyc2 cyc2:cyc1; do
	sql "INSERT INTO person_managers VALUES ($(pid "${edge%:*}"), 'primary', $(pid "${edge#*:}"))"
done
sql "INSERT INTO person_managers VALUES ($(pid ivy), 'secondary', $(pid hana))"
for g in cn=staff,ou=london:staff:1 cn=staff,ou=paris:staff:1 cn=eng:eng:1 cn=tools:tools:1 cn=old:old:0; do
	IFS=: read -r rdn name present <<<"$g"
	sql "INSERT INTO groups (dir_id, dn, dn_norm, name, description, present, created_at, updated_at)
	     VALUES ('gid-$rdn', '$rdn,$G', lower('$rdn,$G'), '$name', 'The $name group', $present, 't', 't')"
done
for m in cn=staff,ou=london:boss cn=staff,ou=london:hana cn=staff,ou=paris:omar \
	cn=eng:dev1 cn=eng:dev2 cn=tools:ivy cn=old:cyc1; do
	sql "INSERT INTO group_members VALUES ($(gid "${m%:*}"), $(pid "${m#*:}"), NULL)"
done
sql "INSERT INTO group_members VALUES ($(gid cn=eng), NULL, $(gid cn=tools));
     INSERT INTO group_members VALUES ($(gid cn=tools), NULL, $(gid cn=eng));"
for e in cn=staff,ou=london:boss:cn=staff,ou=london cn=staff,ou=london:hana:cn=staff,ou=london \
	cn=staff,ou=paris:omar:cn=staff,ou=paris cn=eng:dev1:cn=eng cn=eng:dev2:cn=eng \
	cn=eng:ivy:cn=tools cn=tools:ivy:cn=tools cn=tools:dev1:cn=eng cn=tools:dev2:cn=eng \
	cn=old:cyc1:cn=old; do
	IFS=: read -r grp who via <<<"$e"
	sql "INSERT INTO group_membership VALUES ($(gid "$grp"), $(pid "$who"), $(gid "$via"), '2026-11-21T10:00:00Z')"
done
hash=$(store_hash)

note "reports"
rctl_ok reports boss
assert_match "$(head -n 1 <<<"$OUT")" '^username +status +display_name +title +department +location$'
assert_match "$OUT" '^hana +invited +Hana Hale +Head of Engineering, EMEA +ENG +London$'
assert_eq 3 "$(wc -l <<<"$OUT")" "reports boss: header and two rows"
rctl_ok reports BOSS --format csv
assert_eq "username,status,display_name,title,department,location
hana,invited,Hana Hale,\"Head of Engineering, EMEA\",ENG,London
omar,invited,Omar Ortiz,Head of Operations,OPS,Paris" "$OUT" "reports as CSV"
rctl_ok reports boss --all --format json
assert_json '[.[] | "\(.username):\(.depth):\(.manager)"] | join(",")' \
	"hana:1:boss,dev1:2:hana,dev2:2:hana,omar:1:boss,ivy:2:omar"
assert_json '.[0] | [.display_name, .email, .role, .status] | join("|")' \
	"Hana Hale|hana@example.com|manager|invited"
rctl_ok reports --all hana --format csv
assert_eq "depth,username,manager,status,display_name,title,department,location" \
	"$(head -n 1 <<<"$OUT")" "reports --all CSV header"
assert_eq 3 "$(wc -l <<<"$OUT")" "reports --all hana: header and two rows"
rctl_ok reports dev1 --format json
assert_eq "[]" "$OUT" "no reports: an empty array"
rctl_ok reports cyc1 --all --format json
assert_json '[.[] | "\(.username):\(.depth)"] | join(",")' "cyc2:1"

note "chain"
rctl_ok chain dev2 --format json
assert_json '[.[] | "\(.level):\(.username):\(.cycle)"] | join(",")' "1:hana:false,2:boss:false"
assert_eq "" "$ERR" "no note without a cycle"
rctl_ok chain dev2
assert_match "$(head -n 1 <<<"$OUT")" '^level +username +status +display_name +title +department +location +cycle$'
assert_match "$OUT" '^2 +boss +active +Bea Boss +Chief Executive +EXEC +London +false$'
rctl_ok chain boss --format csv
assert_eq "level,username,status,display_name,title,department,location,cycle" "$OUT" \
	"the top has no chain: the CSV header only"
rctl_ok chain cyc1 --format json
assert_json '[.[] | "\(.level):\(.username):\(.cycle)"] | join(",")' "1:cyc2:false,2:cyc1:true"
assert_contains "$ERR" 'manager cycle: the chain of command of "cyc1" comes back to "cyc1"'

note "user list filters"
rctl_ok user list --manager boss --format json
assert_json '[.[].username] | join(",")' "hana,omar"
rctl_ok user list --manager boss --all --format json
assert_json '[.[].username] | join(",")' "dev1,dev2,hana,ivy,omar"
rctl_ok user list --manager boss --all --status active --format json
assert_json '[.[].username] | join(",")' "dev1"
rctl_ok user list --manager cyc2 --all --format json
assert_json '[.[].username] | join(",")' "cyc1"
rctl_ok user list --group eng --format json
assert_json '[.[].username] | join(",")' "dev1,dev2,ivy"
rctl_ok user list --group "CN=Staff, OU=London,$G" --format csv
assert_eq 3 "$(wc -l <<<"$OUT")" "user list --group by DN: header and two rows"
assert_match "$OUT" '^hana,'
rctl_ok user list --role manager --format json
assert_json '[.[].username] | join(",")' "hana,omar"
rctl_ok user list --group tools --role learner --location Paris --format json
assert_json '[.[].username] | join(",")' "dev2,ivy"

note "user show: managers and groups"
rctl_ok user show ivy --json
assert_json '[.manager, .secondary_manager] | join(",")' "omar,hana"
assert_json '.groups | join(",")' "eng,tools"
rctl_ok user show cyc1 --json
assert_json '.groups | length' 0
rctl_ok user show ivy
assert_match "$OUT" '^groups +eng, tools$'
assert_match "$OUT" '^secondary manager +hana$'

note "group list"
rctl_ok group list
assert_match "$(head -n 1 <<<"$OUT")" '^name +dn +members +effective_members +nested_groups$'
assert_match "$OUT" "^eng +cn=eng,$G +2 +3 +1\$"
assert_eq 5 "$(wc -l <<<"$OUT")" "group list: header and four groups"
assert_not_contains "$OUT" "cn=old"
rctl_ok group list --format json
assert_json '[.[] | "\(.name):\(.members):\(.effective_members):\(.nested_groups):\(.present)"] | join(",")' \
	"eng:2:3:1:true,staff:2:2:0:true,staff:1:1:0:true,tools:1:3:1:true"
assert_json '.[0].description' "The eng group"
rctl_ok group list --deleted --format csv
assert_eq "name,dn,members,effective_members,nested_groups,present" "$(head -n 1 <<<"$OUT")"
assert_match "$OUT" "^old,\"cn=old,$G\",1,1,0,false\$"
assert_match "$OUT" "^eng,\"cn=eng,$G\",2,3,1,true\$"

note "group show"
rctl_ok group show eng
assert_match "$OUT" "^dn +cn=eng,$G\$"
assert_match "$OUT" '^effective members +3$'
assert_match "$OUT" '^member of +tools$'
assert_match "$OUT" '^contains +tools$'
assert_match "$OUT" '^state +present$'
rctl_ok group show Tools --json
assert_json '[.name, .dn, .description, (.present | tostring), (.members | tostring), (.effective_members | tostring)] | join("|")' \
	"tools|cn=tools,$G|The tools group|true|1|3"
assert_json '[.parents[].name, .children[].name] | join(",")' "eng,eng"
run_rctl group show tools --format json
assert_rc 0 "group show --format json"
assert_json '.name' tools
rctl_ok group show eng --members --format csv
assert_eq "username,status,display_name,email
dev1,active,Dev One,dev1@example.com
dev2,invited,Dev Two,dev2@example.com" "$OUT" "group show --members as CSV"
rctl_ok group show eng --all
assert_match "$(head -n 1 <<<"$OUT")" '^username +status +display_name +email +via$'
assert_match "$OUT" '^ivy +invited +Ivy Ives +ivy@example\.com +tools$'
rctl_ok group show eng --all --json
assert_json '[.[] | "\(.username):\(.via):\(.via_dn)"] | join(",")' \
	"dev1:eng:cn=eng,$G,dev2:eng:cn=eng,$G,ivy:tools:cn=tools,$G"
rctl_ok group show "cn=STAFF,ou=paris,$G" --members --format json
assert_json '[.[].username] | join(",")' omar

note "ambiguous, deleted and unknown: exit 1"
run_rctl group show staff
assert_rc 1 "group show of an ambiguous name"
assert_eq "" "$OUT" "stdout of an ambiguous group show"
assert_contains "$ERR" '"staff" names several groups'
assert_contains "$ERR" "cn=staff,ou=london,$G"
assert_contains "$ERR" "cn=staff,ou=paris,$G"
run_rctl user list --group staff
assert_rc 1 "user list --group of an ambiguous name"
assert_contains "$ERR" "cn=staff,ou=paris,$G"
run_rctl group show old
assert_rc 1 "group show of a deleted group"
assert_contains "$ERR" 'no group "old" in the store (only a group deleted from the directory)'
rctl_ok group show old --deleted --members --format json
assert_json '[.[].username] | join(",")' cyc1
rctl_ok group show old --deleted
assert_match "$OUT" '^state +deleted from the directory$'
for args in "reports nobody" "chain nobody" "user list --manager nobody" \
	"user list --group nosuch" "group show nosuch" "group show nosuch --members"; do
	run_rctl $args
	assert_rc 1 "rosterctl $args"
	assert_eq "" "$OUT" "stdout of rosterctl $args"
done
assert_contains "$ERR" 'no group "nosuch" in the store'

note "bad usage: exit 2"
for args in "reports" "reports boss hana" "reports boss --bogus" "reports boss --format xml" \
	"chain" "chain boss --all" "chain boss --format yaml" "user list --all" \
	"user list --role boss" "user list --manager" "group" "group frob" "group show" \
	"group show eng extra" "group show eng --members --all" "group show eng --format csv" \
	"group list extra" "group list --format xml"; do
	run_rctl $args
	assert_rc 2 "rosterctl $args"
	assert_eq "" "$OUT" "stdout of rosterctl $args"
done

note "--help of each command, with no config needed"
for args in "reports" "chain" "group list" "group show" "user list"; do
	run "$ROSTERCTL" -c "$TEST_TMP/none.conf" $args --help
	assert_rc 0 "rosterctl $args --help"
	assert_contains "$OUT" "usage: rosterctl $args"
	assert_eq "" "$ERR" "stderr of rosterctl $args --help"
done
run "$ROSTERCTL" -c "$TEST_TMP/none.conf" group --help
assert_rc 0 "rosterctl group --help"
assert_contains "$OUT" "usage: rosterctl group list"
assert_contains "$OUT" "usage: rosterctl group show"
run "$ROSTERCTL" -c "$TEST_TMP/none.conf" user list --help
assert_contains "$OUT" "--manager UID"
assert_not_contains "$OUT" "usage: rosterctl user show"
run "$ROSTERCTL" --help
assert_contains "$OUT" "reports UID [--all]"
assert_contains "$OUT" "group show NAME"

assert_eq "$hash" "$(store_hash)" "the read commands left the store file unchanged"
