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
#  - the 1,501-member group sent as Active Directory sends it, in ranges of
#    400 values (the proxy sends "member;range=0-399" and answers rosterd's
#    requests for "member;range=400-*" and so on with the next 400): a first
#    sync through the proxy fetches the 3 further ranges and gives the very
#    store a first sync straight to slapd gives; so does a run that removes
#    memberships from other groups; a member who leaves the big group is
#    removed and one who joins is added by a ranged run;
#  - the fetch of a further range cut: answered with a size limit, the
#    connection dropped, the reply stalled past ldap.timeout, or a reply
#    whose range does not advance (it starts at 0 again): exit 1, the run
#    incomplete (groups_complete 0), a warning of a group read in part and
#    an error naming the group, the range and the cause, no membership
#    removed (the member who left the big group stays), the store as
#    before; the next ranged run removes the one who left; SIGTERM while
#    rosterd waits for a further range (ldap.timeout 30 s) stops it within
#    3 s, the run failed, the store as before;
#  - with the memberships read from the people (memberOf, set by the
#    memberof overlay; the groups read without members), memberOf sent in
#    ranges of 2 values and fetched whole, during the paged people search,
#    for every person of 3 or more groups: the same memberships; and a
#    people search cut after 1,000 of the 2,000 removes no membership (3,355
#    would go if the rule were only "the group search was complete").
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
secs_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'; }
t0=$(date +%s.%N)
sync_once
t_direct=$(secs_since "$t0")
assert_sql "ok|$NGROUPS|$NGROUPS|1" "SELECT outcome, groups_read, groups_created, groups_complete FROM sync_runs"
big_members() { sql "SELECT count(*) FROM group_membership m JOIN groups g ON g.id = m.group_id WHERE g.name = 'big'"; }
assert_eq "$BIG" "$(big_members)" "the big group's members"
members0=$(sql "SELECT count(*) FROM group_membership")
ROSTERD_CONF_TIMEOUT=5
export ROSTERD_CONF_TIMEOUT

through_proxy() { ROSTERD_CONF_URI=$PROXY_URI write_conf; }
# canon_uri DB: canon_dump DB with the runs' URIs (slapd's, the proxies') as URI
canon_uri() { canon_dump "$1" | sed -E "s#'ldap://127\.0\.0\.1:[0-9]+/?'#'URI'#g"; }
# ranges: the proxy's answers to the requests for the next ranges of the big group
ranges() { grep "^range cn=big,$GROUPS_OU " "$PROXY_OUT" | cut -d' ' -f3 | paste -sd' ' || true; }
K=400
RANGES="400-799 800-1199 1200-*"

note "a first sync through the proxy, the big group's members in ranges of $K"
t0=$(date +%s.%N)
start_proxy -r "member:$K"
mkdir -p "$TEST_TMP/ranged"
ROSTERD_CONF_URI=$PROXY_URI ROSTERD_CONF_STORE_PATH=$TEST_TMP/ranged/learning.db write_conf
sync_once
t_ranged=$(secs_since "$t0")
assert_eq "ranged cn=big,$GROUPS_OU $BIG $K" "$(grep '^ranged' "$PROXY_OUT")" "the proxy's own account"
assert_eq "$RANGES" "$(ranges)" "the further ranges rosterd asked for"
assert_not_contains "$ERR" "only part of their members"
assert_eq "$BIG" "$(DB=$TEST_TMP/ranged/learning.db big_members)" "the big group's members after a first sync in ranges"
canon_uri "$DB" >"$TEST_TMP/direct.dump"
canon_uri "$TEST_TMP/ranged/learning.db" >"$TEST_TMP/ranged.dump"
cmp -s "$TEST_TMP/direct.dump" "$TEST_TMP/ranged.dump" ||
	fail "the first sync in ranges differs from the one straight to slapd (< direct, > ranged)" \
		"$(diff "$TEST_TMP/direct.dump" "$TEST_TMP/ranged.dump" | head -20 || true)"
stop_proxy
write_conf
figure "t_group_faults: a first sync of $N people in $NGROUPS groups through the proxy, the $BIG-member group as member;range=0-$((K - 1)) and 3 further ranges fetched ($RANGES) in ${t_ranged} s (straight to slapd: ${t_direct} s): the store equals that of a first sync straight to slapd"

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

note "the big group read in ranges, while memberships went from other groups"
start_proxy -r "member:$K"
through_proxy
sync_once
assert_eq "ranged cn=big,$GROUPS_OU $BIG $K" "$(grep '^ranged' "$PROXY_OUT")" "the proxy's own account"
assert_eq "$RANGES" "$(ranges)" "the further ranges rosterd asked for"
assert_not_contains "$ERR" "only part of their members"
assert_eq "$BIG" "$(big_members)" "the big group's members after a ranged read"
left=$(last_run memberships_left)
[ "$left" -gt 0 ] || fail "the ranged run removed none of the memberships that went from the directory"
assert_sql "ok|$NGROUPS|1|$left" "SELECT outcome, groups_read, groups_deleted, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
canon_uri "$DB" >"$TEST_TMP/ranged.dump"
stop_proxy

note "the same run straight to slapd gives the same store"
rm -f "$DB-wal" "$DB-shm"
cp "$TEST_TMP/copy.db" "$DB"
write_conf
sync_once
assert_sql "ok|$left" "SELECT outcome, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
canon_uri "$DB" >"$TEST_TMP/direct.dump"
cmp -s "$TEST_TMP/direct.dump" "$TEST_TMP/ranged.dump" ||
	fail "the ranged run's store differs from the direct run's (< direct, > ranged)" \
		"$(diff "$TEST_TMP/direct.dump" "$TEST_TMP/ranged.dump" | head -20 || true)"

uid() { printf 'u%06d' "$1"; }
in_big() { sql "SELECT count(*) FROM group_membership m JOIN groups g ON g.id = m.group_id
	JOIN people p ON p.id = m.person_id WHERE g.name = 'big' AND p.username = '$1'"; }
big_changes() { sql "SELECT action || ' ' || subject FROM audit_log WHERE run_id = $(last_run id)
	AND detail = 'group big' ORDER BY action, subject" | paste -sd' '; }
note "$(uid 700) leaves the big group (from its second range), $(uid $((BIG + 1))) joins: a ranged read does both"
printf 'dn: cn=big,%s\nchangetype: modify\ndelete: member\nmember: uid=%s,%s\n-\nadd: member\nmember: uid=%s,%s\n' \
	"$GROUPS_OU" "$(uid 700)" "$PEOPLE" "$(uid $((BIG + 1)))" "$PEOPLE" | ldap_admin_modify
start_proxy -r "member:$K"
through_proxy
sync_once
assert_eq "$RANGES" "$(ranges)" "the further ranges rosterd asked for"
assert_eq "$BIG 0 1" "$(big_members) $(in_big "$(uid 700)") $(in_big "$(uid $((BIG + 1)))")" \
	"the big group's members, $(uid 700) in it, $(uid $((BIG + 1))) in it, after a ranged read"
assert_eq "join $(uid $((BIG + 1))) leave $(uid 700)" "$(big_changes)" "the big group's joins and leaves audited"
assert_sql "ok|1|1" "SELECT outcome, memberships_joined, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
stop_proxy
figure "t_group_faults: the $BIG-member group in 4 ranges of $K: a run that removes $left memberships from other groups gives the store a run straight to slapd gives; a member who left (from the second range) removed and one who joined added by a ranged run"

note "$(uid 800) leaves the big group; the fetch of a further range fails in 4 ways"
printf 'dn: cn=big,%s\nchangetype: modify\ndelete: member\nmember: uid=%s,%s\n' \
	"$GROUPS_OU" "$(uid 800)" "$PEOPLE" | ldap_admin_modify
before_id=$(last_run id)
canon_dump "$DB" noruns "$before_id" >"$TEST_TMP/before.dump"
t0=$(date +%s)
cases=0
# the proxy's options (with -r member:K) | its act line | the ranges it
# answered | what the run's error says (@URI@: the proxy's URI)
CUTS=("-d cn=big,$GROUPS_OU -a 2 -m done -c 4|act 2 done 4|400-799|member;range=800-*: Size limit exceeded (4): injected by ldap-proxy"
      "-d cn=big,$GROUPS_OU -a 1 -m drop|act 1 drop||member;range=400-*: Can't contact LDAP server"
      "-d cn=big,$GROUPS_OU -a 3 -m stall|act 3 stall|400-799 800-1199|member;range=1200-*: no reply from @URI@ within $ROSTERD_CONF_TIMEOUT s"
      "-s||0-399|member;range=400-*: answered with member;range=0-399 and 400 values")
for c in "${CUTS[@]}"; do
	IFS='|' read -r opts act answered cause <<<"$c"
	note "a further range of the big group cut: ldap-proxy -r member:$K $opts"
	# shellcheck disable=SC2086  # the proxy's options, word by word
	start_proxy -r "member:$K" $opts
	through_proxy
	run_rosterd --once
	assert_rc 1 "rosterd whose fetch of the big group's ranges failed ($opts)"
	assert_eq "$act" "$(grep '^act' "$PROXY_OUT" || true)" "the proxy's own account"
	assert_eq "$answered" "$(ranges)" "the further ranges the proxy answered"
	assert_contains "$ERR" "1 groups came with only part of their members"
	assert_contains "$ERR" "group search incomplete after"
	assert_contains "$(last_run error)" "ranged values of \"cn=big,$GROUPS_OU\": ${cause//@URI@/$PROXY_URI}"
	assert_sql "incomplete|0|0|0" "SELECT outcome, groups_complete, memberships_left, groups_deleted
		FROM sync_runs ORDER BY id DESC LIMIT 1"
	assert_eq 1 "$(in_big "$(uid 800)")" "$(uid 800) in the big group"
	assert_store_as "$TEST_TMP/before.dump" "$DB" noruns "$before_id" "the store (run records aside)"
	stop_proxy
	cases=$((cases + 1))
done
figure "t_group_faults: $cases cuts of the big group's further ranges (size limit, dropped connection, no reply in ${ROSTERD_CONF_TIMEOUT} s, a range that does not advance) in $(($(date +%s) - t0)) s: all incomplete, exit 1, the group warned of as read in part, 0 membership removals, the store as before"

note "SIGTERM while rosterd waits for a further range (ldap.timeout 30 s)"
start_proxy -r "member:$K" -d "cn=big,$GROUPS_OU" -a 2 -m stall
ROSTERD_CONF_TIMEOUT=30 through_proxy
bg_rosterd --once
wait_for 10 grep -q '^act 2 stall' "$PROXY_OUT" || fail "the proxy did not stall the second range search"
sleep 0.5   # rosterd waits for the reply
t0=$(date +%s%N)
kill -TERM "$BG_PID"
bg_wait 10
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_rc 1 "rosterd --once stopped by SIGTERM while it waited for a range"
[ "$ms" -lt 3000 ] || fail "SIGTERM while a range search waits should stop rosterd within a second or so (ldap.timeout is 30 s), took $ms ms"
assert_eq "failed" "$(last_run outcome)"
assert_contains "$(last_run error)" "stopped before it ended"
assert_store_as "$TEST_TMP/before.dump" "$DB" noruns "$before_id" "the store (run records aside)"
stop_proxy
figure "t_group_faults: SIGTERM while rosterd waited for the big group's second further range (ldap.timeout 30 s): stopped in $ms ms, exit 1, the run failed, the store as before"

note "the next ranged run removes $(uid 800)"
start_proxy -r "member:$K"
through_proxy
sync_once
assert_eq "$RANGES" "$(ranges)" "the further ranges rosterd asked for"
assert_eq "leave $(uid 800)" "$(big_changes)" "the big group's joins and leaves audited"
assert_sql "ok|0|1" "SELECT outcome, memberships_joined, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
stop_proxy
write_conf

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

note "memberOf sent in ranges of 2 values, fetched during the paged people search (pages of 100)"
start_proxy -r "memberOf:2"
ROSTERD_CONF_PAGE_SIZE=100 through_proxy
t0=$(date +%s.%N)
sync_once
t_ranged=$(secs_since "$t0")
assert_sql "ok|0|0" "SELECT outcome, memberships_joined, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1" \
	"memberOf in ranges gives the same memberships"
assert_not_contains "$ERR" "part"
many=$(sql "SELECT count(*) FROM (SELECT person_id FROM group_members WHERE person_id IS NOT NULL
	GROUP BY person_id HAVING count(*) > 2)")
[ "$many" -gt 100 ] || fail "only $many people are in more than 2 groups"
assert_eq "$many" "$(grep -c '^ranged ' "$PROXY_OUT")" "people whose memberOf the proxy sent in ranges"
further=$(grep -c '^range ' "$PROXY_OUT")
[ "$further" -ge "$many" ] || fail "$further further ranges of memberOf fetched for $many people"
stop_proxy
figure "t_group_faults: memberOf of the $many people in more than 2 groups sent in ranges of 2 values, $further further ranges fetched during the paged people search, in ${t_ranged} s: the same memberships"
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
