#!/usr/bin/env bash
# t_group_styles: the other three ways a directory states membership, and a
# large group.
# Proves: groupOfUniqueNames members with and without the #'...'B UID suffix
# resolve to the same people; posixGroup memberUid values resolve by username
# (unknown usernames ignored and counted); memberOf read from the people (the
# memberof overlay, groups added online) gives the same membership, and a
# memberOf value naming a group outside ldap.groups.base is ignored and
# counted; a groupOfNames of 20,000 members is read and stored in full.
. "$(dirname "$0")/lib.sh"

members() {
	sql "SELECT g.name || ':' || group_concat(p.username, ',') FROM (SELECT * FROM group_membership
	     ORDER BY person_id) m JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id
	     GROUP BY g.name ORDER BY g.name" | tr '\n' ' '
}

note "uniqueMember"
{
	for u in ann ben cat; do ldif_person "$u" "${u^}" Example; done
	printf 'dn: cn=uniq,%s\nobjectClass: groupOfUniqueNames\ncn: uniq\n' "$GROUPS_OU"
	printf "uniqueMember: %s#'0101'B\nuniqueMember: %s\nuniqueMember: UID=Cat,OU=People,DC=example,DC=com#''B\n\n" "$(p ann)" "$(p ben)"
} > "$TEST_TMP/uniq.ldif"
start_directory "$TEST_TMP/uniq.ldif"
export ROSTERD_CONF_GROUPS_FILTER='(objectClass=groupOfUniqueNames)'
export ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE=uniqueMember
write_conf
sync_once
assert_eq "uniq:ann,ben,cat " "$(members)"
assert_sql "0" "SELECT members_ignored FROM sync_runs ORDER BY id DESC LIMIT 1"

note "memberUid"
reset_store
{
	for u in ann ben cat; do ldif_person "$u" "${u^}" Example; done
	printf 'dn: cn=staff,%s\nobjectClass: posixGroup\ncn: staff\ngidNumber: 5000\n' "$GROUPS_OU"
	printf 'memberUid: %s\n' ann CAT nobody
	echo
} > "$TEST_TMP/posix.ldif"
start_directory "$TEST_TMP/posix.ldif"
export ROSTERD_CONF_GROUPS_FILTER='(objectClass=posixGroup)'
export ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE=memberUid
write_conf
sync_once
assert_eq "staff:ann,cat " "$(members)"
assert_sql "1" "SELECT members_ignored FROM sync_runs ORDER BY id DESC LIMIT 1" "memberUid nobody ignored"

note "memberOf (memberof overlay), groups added online"
reset_store
unset ROSTERD_CONF_GROUPS_FILTER ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE
export SLAPD_EXTRA_GLOBAL_CONF='moduleload memberof'
export SLAPD_EXTRA_DB_CONF='overlay memberof'
{ for u in ann ben cat; do ldif_person "$u" "${u^}" Example; done; } > "$TEST_TMP/mo.ldif"
start_directory "$TEST_TMP/mo.ldif"
ldap_admin_add <<EOF
dn: cn=readers,$GROUPS_OU
objectClass: groupOfNames
cn: readers
member: $(p ann)
member: $(p cat)

dn: ou=elsewhere,$SUFFIX
objectClass: organizationalUnit
ou: elsewhere

dn: cn=outside,ou=elsewhere,$SUFFIX
objectClass: groupOfNames
cn: outside
member: $(p ben)
EOF
assert_contains "$(ldap_svc_search -b "$(p ann)" -s base memberOf)" "memberOf: cn=readers,$GROUPS_OU" "the overlay sets memberOf"
# Membership from the people only: the groups are read without members.
export ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE=""
export ROSTERD_CONF_ATTRIBUTES='id = "entryUUID"; username = "uid"; email = "mail"; member_of = "memberOf";'
write_conf
sync_once
assert_eq "readers:ann,cat " "$(members)"
assert_sql "1" "SELECT members_ignored FROM sync_runs ORDER BY id DESC LIMIT 1" "memberOf outside the groups base ignored"
ldap_admin_modify <<EOF
dn: cn=readers,$GROUPS_OU
changetype: modify
delete: member
member: $(p cat)
EOF
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 10.0; initial_status = "invited"; max_membership_removals_percent = 100.0;'
write_conf
sync_once
assert_eq "readers:ann " "$(members)"
assert_sql "cat|group readers" "SELECT subject, detail FROM audit_log WHERE action = 'leave'"
slapd_stop
unset SLAPD_EXTRA_GLOBAL_CONF SLAPD_EXTRA_DB_CONF ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE ROSTERD_CONF_ATTRIBUTES ROSTERD_CONF_SYNC

note "a group of 20,000 members"
reset_store
gen_people 20000 > "$TEST_TMP/big.ldif"
awk -v base="$PEOPLE" -v g="$GROUPS_OU" 'BEGIN {
	printf "dn: cn=everyone,%s\nobjectClass: groupOfNames\ncn: everyone\n", g
	for (i = 1; i <= 20000; i++) printf "member: uid=user%05d,%s\n", i, base
	printf "\n"
}' >> "$TEST_TMP/big.ldif"
start_directory "$TEST_TMP/big.ldif"
write_conf
sync_once
assert_sql "20000" "SELECT count(*) FROM group_membership m JOIN groups g ON g.id = m.group_id WHERE g.name = 'everyone'"
assert_sql "20000|0" "SELECT memberships_joined, members_ignored FROM sync_runs ORDER BY id DESC LIMIT 1"
sync_once
assert_sql "0|0" "SELECT memberships_joined, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
