#!/usr/bin/env bash
# t_username_fold: usernames compare as LDAP compares a uid.
# Proves: uids "ÅSA" and "åsa" (case folded beyond ASCII) are one
# username: the later entry in read order is rejected naming the first;
# "u0000001 " and "u0000001" (insignificant spaces) are one, and the username
# is stored without the space; a uid of only spaces is rejected as blank;
# "asa" (no accent) stays a username of its own; rosterctl finds a person
# by any form LDAP would match ("ÅSA" finds the person of åsa and ÅSA,
# "u0000001 " on --from's stdin disables u0000001) and not by a blank or a
# different name; a store of schema 5 with usernames stored before gets their
# keys when it is migrated.
. "$(dirname "$0")/lib.sh"

b64() { printf '%b' "$1" | base64 -w0; }

start_directory "$FIXTURES/people-small.ldif"
{
	printf 'dn: cn=Upper Alice,%s\nobjectClass: inetOrgPerson\nuid:: %s\ncn: Upper Alice\nsn: A\n\n' \
		"$PEOPLE" "$(b64 '\xc3\x85SA')"
	printf 'dn: cn=Lower Alice,%s\nobjectClass: inetOrgPerson\nuid:: %s\ncn: Lower Alice\nsn: A\n\n' \
		"$PEOPLE" "$(b64 '\xc3\xa5sa')"
	printf 'dn: cn=Plain Alice,%s\nobjectClass: inetOrgPerson\nuid: asa\ncn: Plain Alice\nsn: A\n\n' \
		"$PEOPLE"
	printf 'dn: cn=Space One,%s\nobjectClass: inetOrgPerson\nuid:: %s\ncn: Space One\nsn: S\n\n' \
		"$PEOPLE" "$(b64 'u0000001 ')"
	printf 'dn: cn=Plain One,%s\nobjectClass: inetOrgPerson\nuid: u0000001\ncn: Plain One\nsn: S\n\n' \
		"$PEOPLE"
	printf 'dn: cn=Blank,%s\nobjectClass: inetOrgPerson\nuid:: %s\ncn: Blank\nsn: B\n\n' \
		"$PEOPLE" "$(b64 '  ')"
} | ldap_admin_add
ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 10.0; initial_status = "invited";
  max_reject_percent = 100.0;' write_conf
sync_once

note "one account per username as LDAP matches it"
assert_sql 1 "SELECT count(*) FROM people WHERE dn LIKE 'cn=%Alice,%' AND username <> 'asa'"
assert_sql 1 "SELECT count(*) FROM people WHERE dn LIKE 'cn=Plain Alice,%'" "asa is another username"
assert_sql 1 "SELECT count(*) FROM people WHERE dn IN ('cn=Space One,$PEOPLE', 'cn=Plain One,$PEOPLE')"
assert_sql 'u0000001' "SELECT username FROM people WHERE dn IN ('cn=Space One,$PEOPLE', 'cn=Plain One,$PEOPLE')" "stored without the space"
assert_sql 0 "SELECT count(*) FROM people WHERE dn LIKE 'cn=Blank,%'"
first=$(sql "SELECT dn FROM people WHERE dn LIKE 'cn=%Alice,%' AND username <> 'asa'")
assert_match "$(sql "SELECT group_concat(reason, '|') FROM run_rejects WHERE dn LIKE 'cn=%Alice,%'")" \
	"is also used by \"$first\"" "the second Alice's reject names the first"
assert_match "$(sql "SELECT reason FROM run_rejects WHERE dn LIKE 'cn=Blank,%'")" 'a blank username \(attribute uid\)'
assert_sql 3 "SELECT rejected FROM sync_runs WHERE id = 1"

note "a second run changes nothing"
sync_once
assert_eq "ok 0 0 0 0 0 3" "$(run_counts)"

note "rosterctl resolves names the same way"
rctl_ok user show "$(printf '\xc3\x85SA')" --json
assert_eq "$first" "$(jq -r .dn <<<"$OUT")"
rctl_ok user show "$(printf '\xc3\xa5sa')" --json
assert_eq "$first" "$(jq -r .dn <<<"$OUT")"
rctl_ok user show ASA --json
assert_eq "cn=Plain Alice,$PEOPLE" "$(jq -r .dn <<<"$OUT")" "ASA is asa, not åsa"
run_rctl user show ' '
assert_rc 1 "a blank name finds nobody"
run_rctl user show 'u0000 001'
assert_rc 1 "inner spaces count"
run "$ROSTERCTL" -c "$CONF" user disable --from - <<<"u0000001 "
assert_rc 0 "disable --from - with a trailing space"
assert_contains "$OUT" "u0000001: disabled"
assert_sql "disabled|operator" "SELECT status, status_reason FROM people WHERE username = 'u0000001'"

note "a store of schema 5 gets the keys of its usernames"
# (and had no role sources, which 007 adds, nor the rejects' ids of 008, nor the run
# kinds of 009)
sql "UPDATE people SET username_key = NULL; DROP INDEX people_username_key;
     ALTER TABLE people DROP COLUMN username_key; ALTER TABLE people DROP COLUMN role_source;
     DROP INDEX run_rejects_held_by; ALTER TABLE run_rejects DROP COLUMN held_by;
     ALTER TABLE run_rejects DROP COLUMN dir_id;
     DROP INDEX assignments_expiry; ALTER TABLE assignments DROP COLUMN expires; $UNDO_009"
set_schema_version 5
sync_once
assert_eq "$(ls "$ROSTERD_TOP"/schema/[0-9]*.sql | wc -l)" "$(schema_version)" "every migration applied"
assert_sql 0 "SELECT count(*) FROM people WHERE username_key IS NULL"
assert_eq "ok 0 0 0 0 0 3" "$(run_counts)"
rctl_ok user show "$(printf '\xc3\x85sA')" --json
assert_eq "$first" "$(jq -r .dn <<<"$OUT")"
