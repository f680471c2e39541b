#!/usr/bin/env bash
# t_389ds: what 389 Directory Server (tests/lib/dirsrv.sh) needs of rosterd
# beyond the common scenarios (tests/compat).
# Proves: groupOfNames (member) and groupOfUniqueNames (uniqueMember, with a
# UID suffix) read together with member_attribute = [ "member",
# "uniqueMember" ], nested across the two kinds, give every membership with
# its way in (with "member" alone the groupOfUniqueNames have no members);
# in refresh mode, 100 people locked at once, whom 389-DS sends without
# nsAccountLock and nsUniqueId, are read again by base searches (several in
# flight) and all disabled; with ldap.attributes.id = "entryUUID" (which
# 389-DS gives only to entries added online) a refresh ends incomplete,
# saying that the server names entries by another id (nsUniqueId);
# a paged search cut by the account's nsPagedLookThroughLimit, and a content
# synchronisation cut by its nsLookThroughLimit or its nsSizeLimit (2,000 by
# default: a refresh from nothing of more people needs it raised), end
# incomplete (exit 1, no one disabled, no cookie kept), the message naming
# the limits to raise on the account.
. "$(dirname "$0")/lib.sh"
# shellcheck source=../lib/dirsrv.sh
. "$ROSTERD_TOP/tests/lib/dirsrv.sh"

DS=$TEST_TMP/389ds
ds_stop() { dirsrv_stop "$DS"; }
T_CLEANUP+=(ds_stop)
person() { printf 'dn: uid=%s,ou=people,%s\nobjectClass: top\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: Example\n\n' "$1" "$DIRSRV_SUFFIX" "$1" "$1"; }
pdn() { printf 'uid=%s,ou=people,%s' "$1" "$DIRSRV_SUFFIX"; }
gdn() { printf 'cn=%s,ou=groups,%s' "$1" "$DIRSRV_SUFFIX"; }

dirsrv_setup "$DS"
dirsrv_enable "$DS" contentsync
{
	for u in alice bob carol dave; do person "$u"; done
	for i in $(seq -w 1 100); do person "p$i"; done
	printf 'dn: %s\nobjectClass: top\nobjectClass: groupOfNames\ncn: eng\nmember: %s\nmember: %s\n\n' \
		"$(gdn eng)" "$(pdn alice)" "$(gdn ops)"
	printf 'dn: %s\nobjectClass: top\nobjectClass: groupOfUniqueNames\ncn: ops\nuniqueMember: %s#'"'"'0101'"'"'B\nuniqueMember: %s\n\n' \
		"$(gdn ops)" "$(pdn bob)" "$(pdn carol)"
	printf 'dn: %s\nobjectClass: top\nobjectClass: groupOfUniqueNames\ncn: all\nuniqueMember: %s\nuniqueMember: %s\n\n' \
		"$(gdn all)" "$(gdn eng)" "$(pdn dave)"
} | dirsrv_load "$DS" -
dirsrv_start "$DS"
note "ns-slapd at $DIRSRV_URI"

export ROSTERD_CONF_GROUPS_FILTER='(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))'
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 100.0; max_membership_removals_percent = 100.0;'
eff() {   # effective membership as group:person(via)
	sql "SELECT g.name || ':' || p.username || '(' || v.name || ')' FROM group_membership m
	     JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id
	     JOIN groups v ON v.id = m.via_group_id ORDER BY g.name, p.username" | tr '\n' ' '
}

note "member and uniqueMember read together"
ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTES='[ "member", "uniqueMember" ]' dirsrv_write_rosterd_conf "$CONF"
sync_once
assert_eq "all:alice(eng) all:bob(ops) all:carol(ops) all:dave(all) eng:alice(eng) eng:bob(ops) eng:carol(ops) ops:bob(ops) ops:carol(ops) " \
	"$(eff)" "memberships of both kinds of group, nested across them"
assert_sql "0|0" "SELECT members_ignored, (SELECT count(*) FROM run_rejects) FROM sync_runs ORDER BY id DESC LIMIT 1"

note "member alone: the groupOfUniqueNames have no members"
ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE=member dirsrv_write_rosterd_conf "$CONF"
sync_once
assert_eq "eng:alice(eng) " "$(eff)" "only eng's member values"

note "refresh: 100 people locked at once, sent without nsAccountLock, read again"
dirsrv_write_rosterd_conf "$CONF" 'mode = "refresh";'
sync_once
assert_match "$(sql "SELECT value FROM state WHERE key = 'source:refresh'")" '^v1 ' "a cookie kept"
for i in $(seq -w 1 100); do
	printf 'dn: %s\nchangetype: modify\nreplace: nsAccountLock\nnsAccountLock: true\n\n' "$(pdn "p$i")"
done | dirsrv_admin_modify
sync_once
assert_eq "ok 0 0 0 100 0 0" "$(run_counts)" "the hundred disabled"
assert_eq 100 "$(last_run entries_read)" "only the hundred read"
assert_sql 100 "SELECT count(*) FROM people WHERE username LIKE 'p%' AND status = 'disabled'
	AND status_reason = 'directory' AND dir_disabled = 1"
assert_eq 100 "$(grep -c 'SRCH base="uid=p[0-9]*,ou=people,dc=example,dc=com" scope=0' "$DIRSRV_LOG")" \
	"each read again by a base search"

note "refresh with ldap.attributes.id = \"entryUUID\": 389-DS names entries by nsUniqueId"
person zoe | dirsrv_admin_add   # online: the entryuuid plugin gives it one
assert_match "$(dirsrv_svc_search -b "$(pdn zoe)" -s base entryUUID)" '^entryUUID: [0-9a-f-]{36}$' "zoe has an entryUUID"
mkdir -p "$TEST_TMP/uuid"
ROSTERD_CONF_ATTRIBUTES='id = "entryUUID"; username = "uid";' \
	dirsrv_write_rosterd_conf "$TEST_TMP/uuid/rosterd.conf" 'mode = "refresh";'
run "$ROSTERD" -c "$TEST_TMP/uuid/rosterd.conf" --once
assert_rc 1 "an incomplete refresh"
assert_contains "$ERR" "content synchronisation names \"$(pdn zoe)\" "
assert_contains "$ERR" "but its entryUUID is"
assert_contains "$ERR" "ldap.attributes.id must be the attribute the server names entries by"
dirsrv_write_rosterd_conf "$CONF"

note "the account's nsPagedLookThroughLimit cuts the paged search"
printf 'dn: %s\nchangetype: modify\nreplace: nsPagedLookThroughLimit\nnsPagedLookThroughLimit: 2\n' \
	"$DIRSRV_SVC_DN" | dirsrv_admin_modify
sync_once 1
assert_eq incomplete "$(last_run outcome)"
assert_contains "$ERR" "Administrative limit exceeded (11)"
assert_contains "$ERR" "raise nsPagedLookThroughLimit and nsPagedIDListScanLimit on the service account's entry"
assert_contains "$(last_run error)" "nsPagedLookThroughLimit" "the run record names the fix too"
assert_sql 100 "SELECT count(*) FROM people WHERE status = 'disabled'" "an incomplete read disables no one"

note "the account's nsLookThroughLimit cuts a content synchronisation"
printf 'dn: %s\nchangetype: modify\ndelete: nsPagedLookThroughLimit\n-\nreplace: nsLookThroughLimit\nnsLookThroughLimit: 2\n' \
	"$DIRSRV_SVC_DN" | dirsrv_admin_modify
dirsrv_write_rosterd_conf "$CONF" 'mode = "refresh";'
rctl_ok resync   # the next run refreshes from nothing: it reads everyone
sync_once 1
assert_contains "$ERR" "content synchronisation of \"ou=people,$DIRSRV_SUFFIX\" ended: Administrative limit exceeded (11)"
assert_contains "$ERR" "raise nsLookThroughLimit and nsIDListScanLimit on the service account's entry"
assert_eq "" "$(sql "SELECT value FROM state WHERE key = 'source:refresh'")" "no cookie kept"
assert_sql 100 "SELECT count(*) FROM people WHERE status = 'disabled'"

note "the account's nsSizeLimit cuts a content synchronisation"
printf 'dn: %s\nchangetype: modify\ndelete: nsLookThroughLimit\n-\nreplace: nsSizeLimit\nnsSizeLimit: 2\n' \
	"$DIRSRV_SVC_DN" | dirsrv_admin_modify
sync_once 1
assert_contains "$ERR" "Size limit exceeded (4)"
assert_contains "$ERR" "raise nsSizeLimit on the service account's entry"
assert_eq "" "$(sql "SELECT value FROM state WHERE key = 'source:refresh'")" "no cookie kept"
