#!/usr/bin/env bash
# t_member_of: memberships read from the people's memberOf as well as from the
# groups' member values, on each server, in full runs and in refresh runs.
# OpenLDAP's memberof overlay and Active Directory list a person's direct
# groups in memberOf; 389-DS's MemberOf plugin lists the groups reached
# through nested groups too.
# Proves: on every server the same direct edges and the same effective
# memberships, each with the group the person came through (a memberOf value
# that a nested group explains is not taken for a direct membership); then,
# with sync.mode = "refresh" against a twin store filled by full runs, a
# member moving between groups, a nested group leaving its parent, a person
# added to a group and a no-change run give the same store as full runs (on
# Samba refresh reads by uSNChanged). With
# memberships from memberOf alone (no member values), refresh runs on 389-DS,
# which sends a person whose memberOf changed, and gives the same store as
# full runs; OpenLDAP's memberof overlay changes memberOf unseen by syncprov,
# and Active Directory without a new uSNChanged on the person, so there
# rosterd reads in full, and says why.
. "$(dirname "$0")/lib.sh"

export FX_FEATURES="contentsync memberof"
for u in alice bob carol dave erin frank; do fx_person "$u" "${u^}" Example; done >"$TEST_TMP/people.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 100.0; max_membership_removals_percent = 100.0; initial_status = "active";'
export ROSTERD_CONF_ATTRIBUTES_EXTRA='member_of = "memberOf";'
fx_start "$TEST_TMP/people.ldif"
# Over LDAP, so that the server sets memberOf; each member there before it is named.
{
	fx_group sub "$(fx_p erin)"
	fx_group eng "$(fx_p alice)" "$(fx_p bob)" "$(fx_g sub)"
	fx_group all "$(fx_p carol)" "$(fx_g eng)"
	fx_group ops "$(fx_p dave)"
} | fx_add

eff() {   # effective membership as group:person(via)
	sql "SELECT g.name || ':' || p.username || '(' || v.name || ')' FROM group_membership m
	     JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id
	     JOIN groups v ON v.id = m.via_group_id ORDER BY g.name, p.username" | tr '\n' ' '
}
edges() {   # direct edges as group:member
	sql "SELECT g.name || ':' || coalesce(p.username, s.name) FROM group_members e
	     JOIN groups g ON g.id = e.group_id LEFT JOIN people p ON p.id = e.person_id
	     LEFT JOIN groups s ON s.id = e.member_group_id ORDER BY 1" | tr '\n' ' '
}

erin_of=$(fx_svc_search -b "$(fx_p erin)" -s base memberOf)
if [ "$FX_SERVER" = 389ds ]; then
	assert_contains "$erin_of" "memberOf: $(fx_g all)" "389-DS lists the groups reached through nesting"
else
	assert_not_contains "$erin_of" "memberOf: $(fx_g all)" "direct groups only"
fi
assert_contains "$erin_of" "memberOf: $(fx_g sub)" "the server sets memberOf"

note "full run: direct edges and the way in as the groups say"
sync_once
assert_eq "all:carol all:eng eng:alice eng:bob eng:sub ops:dave sub:erin " "$(edges)" "direct edges"
assert_eq "all:alice(eng) all:bob(eng) all:carol(all) all:erin(sub) eng:alice(eng) eng:bob(eng) eng:erin(sub) ops:dave(ops) sub:erin(sub) " \
	"$(eff)" "effective memberships, each with its way in"
assert_sql 0 "SELECT members_ignored FROM sync_runs ORDER BY id DESC LIMIT 1"

note "refresh runs against a twin store filled by full runs"
FULL_CONF=$TEST_TMP/full/rosterd.conf
FULL_DB=$TEST_TMP/full/learning.db
mkdir -p "$TEST_TMP/full"
CONF=$FULL_CONF fx_conf 'mode = "full";'
fx_conf 'mode = "refresh";'
edges_of() {   # the direct edges of store $1, by directory id
	sqlite3 -batch "$1" "SELECT g.dir_id, coalesce(p.dir_id, ''), coalesce(s.dir_id, '')
		FROM group_members e JOIN groups g ON g.id = e.group_id
		LEFT JOIN people p ON p.id = e.person_id
		LEFT JOIN groups s ON s.id = e.member_group_id ORDER BY 1, 2, 3"
}
both() {
	fx_timed "${1:-refresh}" twin_run
	assert_eq "$(edges_of "$FULL_DB")" "$(edges_of "$DB")" "the same direct edges as the full runs"
}
both "first refresh"
[ "$FX_CONTENTSYNC" = 0 ] || assert_not_contains "$ERR" "reading everything" "refresh mode with memberOf"

modify_member() {   # modify_member GROUP add|delete DN
	printf 'dn: %s\nchangetype: modify\n%s: member\nmember: %s\n' "$(fx_g "$1")" "$2" "$3" | fx_modify
}
note "bob moves from eng to ops"
modify_member eng delete "$(fx_p bob)"
modify_member ops add "$(fx_p bob)"
both "refresh: bob moved"
assert_contains "$(eff)" "ops:bob(ops)"
assert_not_contains "$(eff)" "all:bob"

note "sub leaves eng: erin is in sub alone"
modify_member eng delete "$(fx_g sub)"
both "refresh: sub left eng"
assert_eq "sub:erin(sub)" "$(eff | tr ' ' '\n' | grep erin | tr '\n' ' ' | sed 's/ $//')" "erin's memberships"

note "frank joins all directly"
modify_member all add "$(fx_p frank)"
both "refresh: frank joined"
assert_contains "$(eff)" "all:frank(all)"

note "no change"
before=$(fx_dump)
both "no-change refresh"
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)"
assert_eq "$before" "$(fx_dump)" "a no-change refresh writes nothing"
assert_eq "all:alice(eng) all:carol(all) all:frank(all) eng:alice(eng) ops:bob(ops) ops:dave(ops) sub:erin(sub) " \
	"$(eff)" "the memberships in the end"

note "memberships from memberOf alone"
export ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE=""
CONF=$FULL_CONF fx_conf 'mode = "full";'
fx_conf 'mode = "refresh";'
both "refresh from nothing, memberOf alone"
modify_member ops delete "$(fx_p bob)"
modify_member eng add "$(fx_p bob)"
both "refresh: bob back in eng, memberOf alone"
assert_contains "$(eff)" "eng:bob(eng)"
assert_not_contains "$(eff)" "ops:bob"
case $FX_SERVER in
389ds) assert_eq 1 "$(last_run entries_read)" "bob's entry alone: its memberOf changed" ;;
openldap) assert_contains "$ERR" "memberships from memberOf alone needs a server" "read in full, and why" ;;
samba) assert_contains "$ERR" "changes memberOf without a new uSNChanged" "read in full, and why" ;;
esac
