#!/usr/bin/env bash
# t_refresh_ad: sync.mode = "refresh" on Active Directory (a Samba AD DC,
# tests/lib/samba.sh), read by uSNChanged (daemon/source_usn.c).
# Proves: the first run reads everyone and keeps the DC's update sequence
# number; a run with no change maps no entry (the listing names everyone
# unchanged) and writes nothing; a modify, an add with a manager, a rename, a
# disable (userAccountControl), a move out of the people's OU and a delete
# between runs leave the store as a full run of the same directory leaves its
# own (a twin store synced in full after each step, compared column by
# column), the service account seeing no tombstone; a member joining a group
# and a group deleted are followed, and the groups are not read when nothing
# changed them; a renamed manager's reports and a deleted manager's reports
# (whose manager value AD rewrites without a new uSNChanged) are read again; a mass deletion over the threshold is held and the number
# kept does not move, then goes through once approved; a changed filter, a
# number kept for another DC, and `rosterctl resync` each make a full read;
# rosterd -n says the mode and the DC's number.
. "$(dirname "$0")/lib.sh"
# shellcheck source=../lib/samba.sh
. "$ROSTERD_TOP/tests/lib/samba.sh"

AD=$TEST_TMP/samba
ad_stop() { samba_stop "$AD"; }
T_CLEANUP+=(ad_stop)
ap() { printf 'CN=%s,OU=people,%s' "$1" "$SAMBA_SUFFIX"; }
ag() { printf 'CN=%s,OU=groups,%s' "$1" "$SAMBA_SUFFIX"; }
person() {
	local uid=$1 given=$2 family=$3
	shift 3
	printf 'dn: %s\nobjectClass: user\nsAMAccountName: %s\ngivenName: %s\nsn: %s\n' \
		"$(ap "$uid")" "$uid" "$given" "$family"
	printf 'displayName: %s %s\nmail: %s@example.com\nuserAccountControl: 544\n' \
		"$given" "$family" "$uid"
	printf '%s\n' "$@"
	echo
}

samba_setup "$AD"
{
	for u in alice bob carol dave erin frank gina hugo; do person "$u" "${u^}" Tester; done
	printf 'dn: %s\nobjectClass: group\nsAMAccountName: eng\nmember: %s\nmember: %s\n\n' \
		"$(ag eng)" "$(ap alice)" "$(ap bob)"
	printf 'dn: %s\nobjectClass: group\nsAMAccountName: all\nmember: %s\nmember: %s\n\n' \
		"$(ag all)" "$(ap carol)" "$(ag eng)"
} | samba_load "$AD" -
samba_start "$AD"
note "Samba AD DC through $SAMBA_URI"

sync_keys='max_disable = 3; max_disable_percent = 60.0; max_membership_removals_percent = 100.0; initial_status = "active";'
ROSTERD_CONF_SYNC="mode = \"refresh\"; $sync_keys" samba_write_rosterd_conf "$CONF"
FULL_CONF=$TEST_TMP/full/rosterd.conf
FULL_DB=$TEST_TMP/full/learning.db
mkdir -p "$TEST_TMP/full"
ROSTERD_CONF_SYNC="mode = \"full\"; $sync_keys" samba_write_rosterd_conf "$FULL_CONF"
kept() { sql "SELECT value FROM state WHERE key = 'source:refresh'"; }
kept_usn() { kept | sed -n 's/.* usn=\([0-9]*\) .*/\1/p'; }
high_usn() { samba_svc_search -b "" -s base highestCommittedUSN | sed -n 's/^highestCommittedUSN: //p'; }
groups_read() { sql "SELECT coalesce(groups_complete, -1) FROM sync_runs ORDER BY id DESC LIMIT 1"; }

note "first run: everyone read, the DC's number kept"
before_usn=$(high_usn)
twin_run
assert_eq "ok 8 0 0 0 0 0" "$(run_counts)" "first refresh creates everyone"
assert_match "$(kept)" '^usn1 fp=[0-9a-f]{16} full=[0-9]+ dc=[0-9a-f]{16} usn=[0-9]+ grp=[0-9a-f]{16}/2$' "the number is kept"
[ "$(kept_usn)" -ge "$before_usn" ] || fail "the number kept ($(kept_usn)) is below the DC's before the run ($before_usn)"
assert_contains "$(sql "SELECT group_concat(g.name) FROM group_membership gm JOIN groups g ON g.id = gm.group_id JOIN people p ON p.id = gm.person_id WHERE p.username = 'alice'")" "eng"

note "no change: no entry mapped, nothing written, the groups not read"
before=$(sql_dump people person_fields person_managers group_membership audit_log)
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "no-change refresh"
assert_contains "$ERR" "0 people changed since update sequence number"
assert_eq -1 "$(groups_read)" "no group read"
assert_eq "$before" "$(sql_dump people person_fields person_managers group_membership audit_log)" \
	"a no-change refresh changes nothing"

note "changes between runs: modify, add with a manager, rename, disable, move out, delete"
samba_admin_modify <<EOF
dn: $(ap bob)
changetype: modify
replace: givenName
givenName: Robert
EOF
person newbie New Bie "manager: $(ap alice)" | samba_admin_add
samba_admin_modrdn "$(ap frank)" "CN=frank.foster"
samba_admin_modify <<EOF
dn: $(ap gina)
changetype: modify
replace: userAccountControl
userAccountControl: 546
EOF
samba_admin_modrdn "$(ap hugo)" "CN=hugo" "OU=system,$SAMBA_SUFFIX"
samba_admin_delete "$(ap dave)"
twin_run
assert_eq "ok 1 2 1 3 0 0" "$(run_counts)" "refresh after six changes"
assert_contains "$ERR" "4 people changed since update sequence number"
assert_sql "Robert" "SELECT given_name FROM people WHERE username = 'bob'"
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'dave'"
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'hugo'"
assert_sql "disabled|directory" "SELECT status, status_reason FROM people WHERE username = 'gina'"
assert_sql "alice" "SELECT m.username FROM person_managers pm JOIN people p ON p.id = pm.person_id JOIN people m ON m.id = pm.manager_id WHERE p.username = 'newbie'"
assert_contains "$(col frank dn)" "CN=frank.foster"
n=$(samba_svc_search -b "$SAMBA_SUFFIX" -E '!1.2.840.113556.1.4.417' '(isDeleted=TRUE)' objectGUID | grep -c '^objectGUID' || true)
assert_eq 0 "$n" "the service account sees no tombstone: deletions come from the listing"

note "a manager renamed: the people whose manager she is are read again"
samba_admin_modrdn "$(ap alice)" "CN=alice.archer"
twin_run
assert_eq "ok 0 2 1 0 0 0" "$(run_counts)" "alice renamed, newbie's manager value rewritten"
assert_contains "$ERR" "1 people changed since update sequence number"
assert_eq "cn=alice.archer,ou=people,dc=example,dc=com" "$(col newbie manager_dn)"
assert_sql "alice.archer" "SELECT m.username || '.' || 'archer' FROM person_managers pm JOIN people p ON p.id = pm.person_id JOIN people m ON m.id = pm.manager_id WHERE p.username = 'newbie'"
samba_admin_modrdn "CN=alice.archer,OU=people,$SAMBA_SUFFIX" "CN=alice"
twin_run

note "groups: a member joins (read again), a person's mail changes (not read), a group goes"
samba_admin_modify <<EOF
dn: $(ag eng)
changetype: modify
add: member
member: $(ap newbie)
EOF
twin_run
assert_eq 1 "$(groups_read)" "a changed group: the groups read again"
assert_sql "all|eng
eng|eng" "SELECT g.name, v.name FROM group_membership gm JOIN groups g ON g.id = gm.group_id JOIN groups v ON v.id = gm.via_group_id JOIN people p ON p.id = gm.person_id WHERE p.username = 'newbie' ORDER BY 1"
samba_admin_modify <<EOF
dn: $(ap carol)
changetype: modify
replace: mail
mail: carol@new.example.com
EOF
twin_run
assert_eq "ok 0 1 0 0 0 0" "$(run_counts)"
assert_eq -1 "$(groups_read)" "no group read for a changed mail"
samba_admin_delete "$(ag all)"
twin_run
assert_eq 1 "$(groups_read)" "a group gone: the groups read again"
assert_sql 0 "SELECT present FROM groups WHERE name = 'all'"

note "a mass deletion over sync.max_disable (3) is held; the number stays"
usn=$(kept_usn)
for u in alice bob carol erin; do samba_admin_delete "$(ap "$u")"; done
sync_once 4
assert_eq held "$(last_run outcome)"
assert_eq "$usn" "$(kept_usn)" "a held run keeps the old number"
assert_sql "active" "SELECT status FROM people WHERE username = 'alice'"
rctl_ok run approve "$(last_run id)"
sync_once
assert_eq "ok 0 1 0 4 0 0" "$(run_counts)" "approved: the four are disabled, newbie loses a manager"
assert_contains "$ERR" "1 of 1 people whose manager is gone read again"
[ "$(kept_usn)" -gt "$usn" ] || fail "the number did not move on once the run went through"
twin_held
# AD removed newbie's manager value (alice) without giving newbie a new
# uSNChanged: newbie, whose stored manager is gone, was read again.
assert_eq "" "$(col newbie manager_dn)" "newbie's manager DN went with alice"

n_all=$(samba_svc_search -b "OU=people,$SAMBA_SUFFIX" '(&(objectClass=user)(objectCategory=person))' 1.1 | grep -c '^dn:')
note "a number kept for another DC: a full read"
sql "UPDATE state SET value = substr(value, 1, instr(value, 'dc=') + 2) || '0000000000000000' ||
	substr(value, instr(value, 'dc=') + 19) WHERE key = 'source:refresh'"
assert_match "$(kept)" ' dc=0{16} usn=' "the number now belongs to another DC"
sync_once
assert_eq "$n_all" "$(last_run entries_read)" "everyone read"
assert_not_contains "$ERR" "people changed since update sequence number"

note "rosterctl resync: the next run reads everything"
rctl_ok resync
assert_eq "" "$(kept)" "resync forgets the number"
sync_once
assert_eq "$n_all" "$(last_run entries_read)" "after resync, everyone was read"
assert_ne "" "$(kept)" "and a number kept again"

note "a changed filter: a full read"
ROSTERD_CONF_USERS_FILTER='(&(objectClass=user)(objectCategory=person)(!(sAMAccountName=newbie)))' \
	ROSTERD_CONF_SYNC="mode = \"refresh\"; $sync_keys" samba_write_rosterd_conf "$CONF"
sync_once
assert_eq $((n_all - 1)) "$(last_run entries_read)" "everyone the new filter takes was read"
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'newbie'"

run_rosterd -n
assert_rc 0 "rosterd -n"
assert_contains "$OUT" "Active Directory: uSNChanged"
assert_match "$OUT" "highestCommittedUSN [0-9]+"
