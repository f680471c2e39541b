#!/usr/bin/env bash
# t_group_faults: a group search that fails, and a group whose members come
# in part, through tests/faults/ldap-proxy in front of the real slapd.
# Over 2,000 people in 20 groups (bench/gen-org --groups) and one group of
# 1,501 members, after a complete first sync, the directory changes so that
# a complete read would remove memberships and delete a group (thresholds
# wide open). Proves:
#  - the group search cut after 1, after several and after all but one of
#    the group entries (LONG=1: after each number of them) (the proxy counts
#    only entries under ou=groups), by a size limit the server reports or by
#    a dropped connection (LONG=1: also a time and an administrative limit),
#    while the people search completes: exit 1, the run incomplete (groups_complete 0)
#    with every person read, no membership removed (memberships_left 0), no
#    group deleted, and the store as before (run records aside);
#  - the people search cut after 1,000 of the 2,000 people, the group search
#    complete: exit 1, nobody disabled, and the only memberships removed are
#    those that went from the groups (the people not read keep theirs);
#  - the 1,501-member group sent as Active Directory sends it (the proxy
#    renames "member" to "member;range=0-1499" and keeps the first 1,500
#    values): no member of that group loses their membership, not even the
#    1,501st, while the same run removes the other memberships that went
#    from the directory; the same run straight to slapd removes them;
#  - and when the 1,501st member really leaves the big group and another
#    joins, a ranged read keeps the one (rosterd cannot know) and adds
#    nobody; a complete read does both;
#  - with the memberships read from the people (memberOf, set by the
#    memberof overlay; the groups read without members), a people search
#    cut after 1,000 of the 2,000 removes no membership (3,355 would go if
#    the rule were only "the group search was complete").
. "$(dirname "$0")/lib.sh"

N=2000
BIG=1501
GROUPS_OU="ou=groups,$SUFFIX"
export ROSTERD_CONF_SYNC="$ROSTERD_CONF_SYNC max_membership_removals_percent = 100.0;"

"$GEN_ORG" "$N" --seed 3 --groups >"$TEST_TMP/org.ldif"
{
	printf 'dn: cn=big,%s\nobjectClass: groupOfNames\ncn: big\n' "$GROUPS_OU"
	for ((k = 1; k <= BIG; k++)); do printf 'member: uid=u%06d,%s\n' "$k" "$PEOPLE"; done
	echo
} >>"$TEST_TMP/org.ldif"
# The groups are added online, so that the memberof overlay sets memberOf
# on their members (used at the end).
export SLAPD_EXTRA_GLOBAL_CONF='moduleload memberof' SLAPD_EXTRA_DB_CONF='overlay memberof'
awk -v RS= -v ORS='\n\n' -v ou=",$GROUPS_OU" 'index($0, ou "\n") && /^dn: cn=/' "$TEST_TMP/org.ldif" \
	>"$TEST_TMP/groups.ldif"
awk -v RS= -v ORS='\n\n' -v ou=",$GROUPS_OU" '!(index($0, ou "\n") && /^dn: cn=/)' "$TEST_TMP/org.ldif" \
	>"$TEST_TMP/people.ldif"
start_directory "$TEST_TMP/people.ldif"
ldap_admin_add <"$TEST_TMP/groups.ldif"
NGROUPS=$(grep -c "^dn: cn=.*,$GROUPS_OU" "$TEST_TMP/org.ldif")
write_conf
sync_once
assert_sql "ok|$NGROUPS|$NGROUPS|1" "SELECT outcome, groups_read, groups_created, groups_complete FROM sync_runs"
big_members() { sql "SELECT count(*) FROM group_membership m JOIN groups g ON g.id = m.group_id WHERE g.name = 'big'"; }
assert_eq "$BIG" "$(big_members)" "the big group's members"
members0=$(sql "SELECT count(*) FROM group_membership")

# What a complete read would now remove: 5 members of one group, and a whole group.
small=$(grep -m1 "^dn: cn=engineering" "$TEST_TMP/org.ldif" | cut -d' ' -f2)
gone=$(grep "^dn: cn=" "$TEST_TMP/org.ldif" | sed -n 5p | cut -d' ' -f2)
awk -v dn="dn: $small" '$0 == dn { on = 1 } on && /^$/ { exit }
	on && /^member: uid=/ && n++ < 5 { print $2 }' "$TEST_TMP/org.ldif" >"$TEST_TMP/leaving"
assert_eq 5 "$(wc -l <"$TEST_TMP/leaving")" "members to remove from $small"
{
	printf 'dn: %s\nchangetype: modify\ndelete: member\n' "$small"
	sed 's/^/member: /' "$TEST_TMP/leaving"
	printf '\ndn: %s\nchangetype: delete\n' "$gone"
} | ldap_admin_modify
gone_members=$(sql "SELECT count(*) FROM group_membership m JOIN groups g ON g.id = m.group_id WHERE g.dn = '$gone'")
[ "$gone_members" -gt 0 ] || fail "the group to delete, $gone, has no members in the store"
NGROUPS=$((NGROUPS - 1))   # in the directory now
canon_dump "$DB" noruns 1 >"$TEST_TMP/before.dump"
ROSTERD_CONF_TIMEOUT=5
export ROSTERD_CONF_TIMEOUT

through_proxy() { ROSTERD_CONF_URI=$PROXY_URI write_conf; }

t0=$(date +%s)
cases=0
CUTS=$(by_length "1 7 $((NGROUPS - 1))" "$(seq -s ' ' 1 $((NGROUPS - 1)))")
FAULTS=("done 4:Size limit exceeded" "drop:Can't contact LDAP server")
[ "$LONG" = 1 ] && FAULTS+=("done 3:Time limit exceeded" "done 11:Administrative limit exceeded")
for n in $CUTS; do
	for f in "${FAULTS[@]}"; do
		mode=${f%%:*}
		cause=${f#*:}
		note "group search cut after $n groups: $mode ($cause)"
		case $mode in
		done*) start_proxy -d "$GROUPS_OU" -a "$n" -m done -c "${mode#done }" ;;
		drop) start_proxy -d "$GROUPS_OU" -a "$n" -m drop ;;
		esac
		through_proxy
		run_rosterd --once
		assert_rc 1 "rosterd whose group search was cut after $n groups ($cause)"
		assert_contains "$ERR" "group search incomplete after $n groups"
		assert_eq "act $n" "$(grep '^act' "$PROXY_OUT" | cut -d' ' -f1-2)" "the proxy's own account"
		assert_sql "incomplete|$N|$n|0|0|0" "SELECT outcome, entries_read, groups_read,
			groups_complete, memberships_left, groups_deleted FROM sync_runs ORDER BY id DESC LIMIT 1"
		assert_contains "$(last_run error)" "$cause"
		assert_eq "$members0" "$(sql "SELECT count(*) FROM group_membership")" "memberships"
		assert_store_as "$TEST_TMP/before.dump" "$DB" noruns 1 "the store (run records aside)"
		stop_proxy
		cases=$((cases + 1))
	done
done
figure "t_group_faults: $cases cut group searches (${#FAULTS[@]} faults x after $(wc -w <<<"$CUTS") numbers of groups from 1 to $((NGROUPS - 1)) of $NGROUPS; people search complete, $N people) in $(($(date +%s) - t0)) s: all incomplete, exit 1, 0 membership removals, 0 groups deleted"

note "the people search cut after 1,000 of $N, the group search complete"
sqlite3 "$DB" ".backup '$TEST_TMP/copy.db'"
start_proxy -d "$PEOPLE" -a 1000 -m done -c 4
through_proxy
run_rosterd --once
assert_rc 1 "rosterd whose people search was cut after 1000 entries"
assert_sql "incomplete|1000|$NGROUPS|1|0|$((5 + gone_members))|1" "SELECT outcome, entries_read,
	groups_read, groups_complete, disabled, memberships_left, groups_deleted FROM sync_runs ORDER BY id DESC LIMIT 1"
small_cn=${small%%,*}
gone_cn=${gone%%,*}
assert_sql 0 "SELECT count(*) FROM audit_log WHERE run_id = $(last_run id) AND action = 'leave'
	AND detail <> 'group ${gone_cn#cn=}' AND NOT (detail = 'group ${small_cn#cn=}'
	AND subject IN ($(sed 's/^uid=\([^,]*\),.*/'"'"'\1'"'"'/' "$TEST_TMP/leaving" | paste -sd,)))" \
	"leaves other than of the members removed from ${small_cn#cn=} and of ${gone_cn#cn=}"
figure "t_group_faults: people search cut after 1000 of $N, groups complete: exit 1, 0 disables, $((5 + gone_members)) memberships removed, exactly those that went from the groups"
stop_proxy
rm -f "$DB-wal" "$DB-shm"
cp "$TEST_TMP/copy.db" "$DB"

note "the big group read in a range, as Active Directory sends it"
start_proxy -r "member:1500"
through_proxy
sync_once
assert_eq "ranged cn=big,$GROUPS_OU $BIG 1500" "$(grep '^ranged' "$PROXY_OUT")" "the proxy's own account"
assert_contains "$ERR" "1 groups came with only part of their members"
assert_eq "$BIG" "$(big_members)" "the big group's members after a ranged read"
assert_sql "$BIG" "SELECT count(*) FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE g.name = 'big'" "the big group's direct members"
assert_sql 0 "SELECT count(*) FROM audit_log WHERE action = 'leave' AND detail = 'group big'" "leaves of the big group"
left=$(last_run memberships_left)
[ "$left" -gt 0 ] || fail "the ranged run removed none of the memberships that went from the directory"
assert_sql "ok|$NGROUPS|1|$left" "SELECT outcome, groups_read, groups_deleted, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
stop_proxy

note "the same run straight to slapd removes the same memberships"
rm -f "$DB-wal" "$DB-shm"
cp "$TEST_TMP/copy.db" "$DB"
write_conf
sync_once
assert_sql "ok|$left" "SELECT outcome, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_eq "$BIG" "$(big_members)" "the big group's members after a complete read"

note "u$BIG leaves the big group, u$((BIG + 1)) joins: a ranged read keeps the one (rosterd cannot know) and adds nobody"
printf 'dn: cn=big,%s\nchangetype: modify\ndelete: member\nmember: uid=u%06d,%s\n-\nadd: member\nmember: uid=u%06d,%s\n' \
	"$GROUPS_OU" "$BIG" "$PEOPLE" $((BIG + 1)) "$PEOPLE" | ldap_admin_modify
in_big() { sql "SELECT count(*) FROM group_membership m JOIN groups g ON g.id = m.group_id
	JOIN people p ON p.id = m.person_id WHERE g.name = 'big' AND p.username = '$1'"; }
start_proxy -r "member:1500"
through_proxy
sync_once
assert_eq "ranged cn=big,$GROUPS_OU $BIG 1500" "$(grep '^ranged' "$PROXY_OUT")" "the proxy's own account"
assert_eq "$BIG 1 0" "$(big_members) $(in_big "$(printf 'u%06d' "$BIG")") $(in_big "$(printf 'u%06d' $((BIG + 1)))")" \
	"the big group's members, u$BIG in it, u$((BIG + 1)) in it, after a ranged read"
stop_proxy
write_conf
sync_once
assert_eq "$BIG 0 1" "$(big_members) $(in_big "$(printf 'u%06d' "$BIG")") $(in_big "$(printf 'u%06d' $((BIG + 1)))")" \
	"the big group's members, u$BIG in it, u$((BIG + 1)) in it, after a complete read"
figure "t_group_faults: a $BIG-member group sent as member;range=0-1499 (1,500 values): 0 of its members removed in 2 ranged runs (while the same run removes $left memberships from other groups, as a complete read does); the member who really left is removed by the next complete read"

note "memberships read from the people (memberOf): the people search cut after 1,000 of $N"
# The groups come without members: memberOf on the people is all there is.
export ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE=""
export ROSTERD_CONF_ATTRIBUTES='id = "entryUUID"; username = "uid"; email = "mail";
    given_name = "givenName"; family_name = "sn"; display_name = "cn";
    manager = "manager"; secondary_manager = "secretary";
    department = "departmentNumber"; location = "l"; title = "title";
    employee_number = "employeeNumber";
    custom = { cost_centre = "departmentNumber"; }; member_of = "memberOf";'
write_conf
sync_once
assert_sql "0|0" "SELECT memberships_joined, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1" \
	"memberOf gives the same memberships as the groups' member values"
canon_dump "$DB" noruns "$(last_run id)" >"$TEST_TMP/before.dump"
start_proxy -d "$PEOPLE" -a 1000 -m done -c 4
through_proxy
run_rosterd --once
assert_rc 1 "rosterd whose people search was cut after 1000 entries"
assert_sql "incomplete|1000|1|0" "SELECT outcome, entries_read, groups_complete, memberships_left
	FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_store_as "$TEST_TMP/before.dump" "$DB" noruns "$(($(last_run id) - 1))" "the store (run records aside)"
stop_proxy
write_conf
sync_once
assert_sql "0|0" "SELECT memberships_joined, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1" \
	"a complete read after the cut one"
figure "t_group_faults: memberships read from memberOf, people search cut after 1000 of $N: exit 1, 0 of $(sql "SELECT count(*) FROM group_membership") memberships removed"
