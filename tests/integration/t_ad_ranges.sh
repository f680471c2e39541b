#!/usr/bin/env bash
# t_ad_ranges: Active Directory's range retrieval, against a Samba AD DC.
# Samba sends a whole attribute unless a range is asked for (Windows cuts at
# 1,500 values), so ldap.groups.range_size asks for the members 100 at a time
# and rosterd's own range path (dir.c) fetches the rest; the LDAP relay
# writes what passes through it (SAMBA_RELAY_TRACE), so the requests and the
# replies' ranges can be read. tests/faults/t_group_faults tests the same
# path against a proxy that cuts it.
# Proves: a group of 252 members (alice, bob and 250 contacts) is asked for
# as member;range=0-99, then 100-199 and 200-299, the last reply's range ends
# in "*" (200-*), and the run is complete with the 2 people in it and the
# 250 contacts counted as ignored values; a group smaller than a range comes
# as member;range=0-*; the store is the one a run without ranges gives, and
# that run asks for no range.
. "$(dirname "$0")/lib.sh"
# shellcheck source=../lib/samba.sh
. "$ROSTERD_TOP/tests/lib/samba.sh"

AD=$TEST_TMP/samba
ad_stop() { samba_stop "$AD"; }
T_CLEANUP+=(ad_stop)

samba_setup "$AD"
{
	for u in alice bob; do
		printf 'dn: CN=%s,OU=people,%s\nobjectClass: user\nsAMAccountName: %s\nuserAccountControl: 544\n\n' \
			"$u" "$SAMBA_SUFFIX" "$u"
	done
	for i in $(seq 1 250); do
		printf 'dn: CN=c%03d,OU=system,%s\nobjectClass: contact\n\n' "$i" "$SAMBA_SUFFIX"
	done
	printf 'dn: CN=big,OU=groups,%s\nobjectClass: group\nsAMAccountName: big\n' "$SAMBA_SUFFIX"
	printf 'member: CN=%s,OU=people,%s\n' alice "$SAMBA_SUFFIX" bob "$SAMBA_SUFFIX"
	for i in $(seq 1 250); do printf 'member: CN=c%03d,OU=system,%s\n' "$i" "$SAMBA_SUFFIX"; done
	printf '\ndn: CN=small,OU=groups,%s\nobjectClass: group\nsAMAccountName: small\n' "$SAMBA_SUFFIX"
	printf 'member: CN=alice,OU=people,%s\n\n' "$SAMBA_SUFFIX"
} >"$TEST_TMP/ad.ldif"
samba_load "$AD" "$TEST_TMP/ad.ldif"
SAMBA_RELAY_TRACE=1 samba_start "$AD"
RELAY_LOG=$AD/log/relay.log
note "Samba AD DC through $SAMBA_URI"

members() {
	sql "SELECT gname || ':' || group_concat(u, ',') FROM (SELECT g.name AS gname, p.username AS u
	     FROM group_membership m JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id
	     ORDER BY 1, 2) x GROUP BY gname ORDER BY gname" | tr '\n' ' '
}

note "members asked for 100 at a time"
ROSTERD_CONF_GROUPS_EXTRA="range_size = 100;" samba_write_rosterd_conf "$CONF"
mark=$(wc -c <"$RELAY_LOG")
sync_once
seen=$(tail -c +"$((mark + 1))" "$RELAY_LOG" | tr -c '[:print:]' '\n')
for r in 0-99 100-199 200-299; do
	assert_contains "$seen" "member;range=$r" "rosterd asked for the range $r"
done
assert_contains "$seen" "member;range=200-*" "the last reply's range ends in *"
assert_not_contains "$seen" "member;range=300-" "no range after the last"
assert_contains "$seen" "member;range=0-*" "the small group in one range"
assert_eq "big:alice,bob small:alice " "$(members)" "the members of both groups"
assert_sql "1|250|0" "SELECT groups_complete, members_ignored, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1" \
	"a complete group read with every value of the big group (the contacts ignored)"
store() {   # what the runs wrote, without their times
	sql "SELECT dir_id, dn, username, status, role FROM people ORDER BY id;
	     SELECT dir_id, dn, name, present FROM groups ORDER BY id;
	     SELECT * FROM group_members ORDER BY 1, 2, 3;
	     SELECT group_id, person_id, via_group_id FROM group_membership ORDER BY 1, 2"
}
ranged=$(store)

note "without range_size: Samba sends whole attributes and no range is asked for"
rm -f "$DB"*
samba_write_rosterd_conf "$CONF"
mark=$(wc -c <"$RELAY_LOG")
sync_once
seen=$(tail -c +"$((mark + 1))" "$RELAY_LOG" | tr -c '[:print:]' '\n')
assert_not_contains "$seen" "range=" "no range asked for or sent"
assert_eq "$ranged" "$(store)" \
	"the store a run with ranges gave"
