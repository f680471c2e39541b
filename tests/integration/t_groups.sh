#!/usr/bin/env bash
# t_groups: groupOfNames membership, nesting with a cycle, roles, and the
# safety of removals.
# Proves: member DNs resolve in any case or spacing; a member that is not a
# synced person (a contact in ou=system) is ignored and counted; nested groups
# (with engineering <-> eng-london a nesting cycle) give the transitive
# closure with the group each person came through, and the audit log has a
# join per effective membership; roles map lms-admins to admin. Removing a
# member makes leaves in every group it reached; more than
# sync.max_membership_removals_percent holds the run (exit 4) until approved.
# A renamed group keeps its id and membership; a deleted group is kept as
# not present and everyone leaves it; a group search cut by a size limit
# removes no membership and the run is incomplete (exit 1).
# ldap.groups.range_size changes nothing against slapd (not Active
# Directory: members are asked for whole).
. "$(dirname "$0")/lib.sh"

{
	for u in alice bob carol dave erin frank; do ldif_person "$u" "${u^}" Example; done
	ldif_group lms-admins "$(p alice)"
	ldif_group engineering "$(p bob)" "UID=Carol , OU=People,DC=Example,DC=Com" \
		"cn=contact,ou=system,$SUFFIX" "$(g eng-london)"
	ldif_group eng-london "$(p dave)" "uid=erin,ou=people,dc=example,dc=com" "$(g engineering)"
	ldif_group all-staff "$(g engineering)" "$(p frank)"
} > "$TEST_TMP/org.ldif"
start_directory "$TEST_TMP/org.ldif"
export ROSTERD_CONF_ROLES='{ group = "lms-admins"; role = "admin"; }'
write_conf

eff() {   # effective membership as group:person(via)
	sql "SELECT g.name || ':' || p.username || '(' || v.name || ')' FROM group_membership m
	     JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id
	     JOIN groups v ON v.id = m.via_group_id ORDER BY g.name, p.username" | tr '\n' ' '
}

sync_once
assert_eq "all-staff:bob(engineering) all-staff:carol(engineering) all-staff:dave(eng-london) all-staff:erin(eng-london) all-staff:frank(all-staff) eng-london:bob(engineering) eng-london:carol(engineering) eng-london:dave(eng-london) eng-london:erin(eng-london) engineering:bob(engineering) engineering:carol(engineering) engineering:dave(eng-london) engineering:erin(eng-london) lms-admins:alice(lms-admins) " "$(eff)" "effective membership"
assert_sql "4|4|0|1|14|0|1" "SELECT groups_read, groups_created, groups_deleted, members_ignored, memberships_joined, memberships_left, groups_complete FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_sql 9 "SELECT count(*) FROM group_members" "direct edges: 6 people + 3 nested"
assert_sql "group all-staff via eng-london" "SELECT detail FROM audit_log WHERE action = 'join' AND subject = 'dave' AND detail LIKE 'group all-staff%'"
assert_sql 4 "SELECT count(*) FROM audit_log WHERE action = 'group_create'"
assert_sql "admin" "SELECT role FROM people WHERE username = 'alice'"
assert_sql "alice|learner -> admin" "SELECT subject, detail FROM audit_log WHERE action = 'role'"

note "ldap.groups.range_size: slapd is not Active Directory, so no range is asked for"
before=$(eff)
ROSTERD_CONF_GROUPS_EXTRA="range_size = 2;" write_conf
sync_once
assert_eq "$before" "$(eff)" "the same memberships"
assert_sql "0|0|1" "SELECT memberships_joined, memberships_left, groups_complete FROM sync_runs ORDER BY id DESC LIMIT 1"
write_conf

note "rosterctl shows the groups"
rctl_ok user show dave --json
assert_eq "all-staff eng-london engineering" "$(jq -r '.groups | join(" ")' <<<"$OUT")" "dave's effective groups"
rctl_ok group show all-staff --all --format json
assert_eq "bob:engineering carol:engineering dave:eng-london erin:eng-london frank:all-staff" \
	"$(jq -r '[.[] | .username + ":" + .via] | join(" ")' <<<"$OUT")" "all-staff's effective members and their way in"
rctl_ok user list --group engineering --format csv
assert_eq 4 "$(tail -n +2 <<<"$OUT" | wc -l)" "engineering's effective members"
rctl_ok user list --role admin --format csv
assert_contains "$OUT" alice

note "no change: nothing written, the groups not worked out again"
before=$(sql_dump groups group_members group_membership audit_log people)
run_rosterd --once -v
assert_rc 0 "rosterd --once -v"
assert_eq "$before" "$(sql_dump groups group_members group_membership audit_log people)"
assert_contains "$ERR" "nothing they depend on changed"

note "carol removed from engineering: 3 leaves of 14 memberships, over 10%: held"
ldap_admin_modify <<EOF
dn: $(g engineering)
changetype: modify
delete: member
member: UID=Carol , OU=People,DC=Example,DC=Com
EOF
before=$(sql_dump groups group_members group_membership people)
sync_once 4
held=$(last_run id)
assert_contains "$ERR" "3 membership removals are 21.4% of 14 memberships"
assert_eq "$before" "$(sql_dump groups group_members group_membership people)" "a held run changes nothing"
dry_run 4
assert_match "$OUT" '^leave +carol +group all-staff via engineering$'
assert_match "$OUT" '^leave +carol +group eng-london via engineering$'
assert_match "$OUT" '^leave +carol +group engineering$'
rctl_ok run approve "$held"
sync_once
assert_sql "0|3" "SELECT memberships_joined, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_sql "" "SELECT g.name FROM group_membership m JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id WHERE p.username = 'carol'"
assert_sql 3 "SELECT count(*) FROM audit_log WHERE action = 'leave' AND subject = 'carol'"

note "eng-london renamed to eng-ldn (and engineering's member value with it, as refint would)"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 10.0; initial_status = "invited"; max_membership_removals_percent = 100.0;'
write_conf
london_id=$(sql "SELECT id FROM groups WHERE name = 'eng-london'")
ldap_admin_modrdn "$(g eng-london)" "cn=eng-ldn"
ldap_admin_modify <<EOF
dn: $(g engineering)
changetype: modify
delete: member
member: $(g eng-london)
-
add: member
member: $(g eng-ldn)
EOF
sync_once
assert_sql "$london_id|eng-ldn|1" "SELECT id, name, present FROM groups WHERE dir_id = (SELECT dir_id FROM groups WHERE id = $london_id)"
assert_sql "0|0|1" "SELECT memberships_joined, memberships_left, groups_updated FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_sql "changed: name (was eng-london) dn" "SELECT detail FROM audit_log WHERE action = 'group_update' AND run_id = $(last_run id)"
assert_contains "$(eff)" "eng-ldn:dave(eng-ldn)"

note "all-staff deleted: kept as not present, everyone leaves it"
ldap_admin_delete "$(g all-staff)"
sync_once
assert_sql "0" "SELECT present FROM groups WHERE name = 'all-staff'"
assert_sql "4|1" "SELECT memberships_left, groups_deleted FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_sql 0 "SELECT count(*) FROM group_membership m JOIN groups g ON g.id = m.group_id WHERE g.name = 'all-staff'"
assert_sql 0 "SELECT count(*) FROM group_members m JOIN groups g ON g.id = m.group_id OR g.id = m.member_group_id WHERE g.name = 'all-staff'"

note "a group search cut short by a size limit removes no membership"
{ for i in $(seq -w 1 15); do ldif_group "extra$i" "$(p frank)"; done; } | ldap_admin_add
sync_once
ldap_admin_modify <<EOF
dn: $(g extra01)
changetype: modify
replace: member
member: $(p alice)
EOF
before=$(sql_dump group_members group_membership)
export SLAPD_EXTRA_DB_CONF='limits dn.exact="cn=rosterd,ou=system,dc=example,dc=com" size=10'
restart_directory
write_conf
sync_once 1
assert_contains "$ERR" "group search incomplete"
assert_sql "incomplete|0|0" "SELECT outcome, groups_complete, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_sql 1 "SELECT count(*) FROM group_membership m JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id WHERE g.name = 'extra01' AND p.username = 'frank'" "frank still in extra01"
assert_sql 1 "SELECT present FROM groups WHERE name = 'extra15'" "groups not read are not deleted"
assert_store_sound
