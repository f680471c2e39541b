#!/usr/bin/env bash
# t_ad: what Active Directory (a Samba AD DC, tests/lib/samba.sh) needs of
# rosterd beyond the common scenarios (tests/compat).
# Proves: a users search based at the domain root is complete (rosterd sends
# the domain scope control the DC offers, so no continuation references to
# the Configuration and DNS partitions come back) and finds the built-in
# accounts too; objectGUID is stored in AD's own string form, the one Samba's
# tools show; a store holding the old hex form is migrated
# (schema/005_guid_string.sql) and the next run finds everyone unchanged;
# with Samba's default "ldap server require strong auth" a simple bind
# without TLS is refused (exit 3), StartTLS to 127.0.0.1 is refused with
# libldap's reason (the certificate names DC1.example.com), and StartTLS to
# DC1.example.com, resolved to 127.0.0.1 in a private mount namespace (never
# the machine's /etc/hosts), syncs.
. "$(dirname "$0")/lib.sh"
# shellcheck source=../lib/samba.sh
. "$ROSTERD_TOP/tests/lib/samba.sh"

AD=$TEST_TMP/samba
ad_stop() { samba_stop "$AD"; }
T_CLEANUP+=(ad_stop)
guid_of() { ldbsearch -H "$AD/private/sam.ldb" -b "$1" -s base objectGUID | sed -n 's/^objectGUID: //p'; }

samba_setup "$AD"
samba_load "$AD" - <<EOF2
dn: CN=alice,OU=people,$SAMBA_SUFFIX
objectClass: user
sAMAccountName: alice
givenName: Alice
sn: Archer
mail: alice@example.com
userAccountControl: 544

dn: CN=admins,OU=groups,$SAMBA_SUFFIX
objectClass: group
sAMAccountName: admins
member: CN=alice,OU=people,$SAMBA_SUFFIX
EOF2
samba_start "$AD"
note "Samba AD DC through $SAMBA_URI"

note "users based at the domain root: a complete read"
ROSTERD_CONF_USERS_BASE=$SAMBA_SUFFIX samba_write_rosterd_conf "$CONF"
sync_once
assert_eq "ok 5 0 0 0 0 0" "$(run_counts)" "alice and the built-in accounts, in one complete run"
assert_sql "Administrator alice Guest krbtgt rosterd" "SELECT group_concat(username, ' ') FROM (SELECT username FROM people ORDER BY username COLLATE NOCASE)"
assert_sql "" "SELECT coalesce(error, '') FROM sync_runs ORDER BY id DESC LIMIT 1"

note "objectGUID in AD's string form"
alice_guid=$(guid_of "CN=alice,OU=people,$SAMBA_SUFFIX")
assert_match "$alice_guid" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "Samba's tools show a GUID"
assert_eq "$alice_guid" "$(col alice dir_id)" "the store holds the GUID as Samba shows it"
assert_sql "$(guid_of "CN=admins,OU=groups,$SAMBA_SUFFIX")" "SELECT dir_id FROM groups WHERE name = 'admins'"

note "a store with the hex form of before is migrated"
hex="substr(dir_id, 7, 2) || substr(dir_id, 5, 2) || substr(dir_id, 3, 2) || substr(dir_id, 1, 2) ||
     substr(dir_id, 12, 2) || substr(dir_id, 10, 2) || substr(dir_id, 17, 2) || substr(dir_id, 15, 2) ||
     substr(dir_id, 20, 4) || substr(dir_id, 25, 12)"
# schema 4 had no username keys either (006 adds them), nor role sources (007), nor run kinds (008)
sql "UPDATE people SET dir_id = $hex; UPDATE groups SET dir_id = $hex;
     DROP INDEX people_username_key; ALTER TABLE people DROP COLUMN username_key;
     ALTER TABLE people DROP COLUMN role_source;
     DROP INDEX assignments_expiry; ALTER TABLE assignments DROP COLUMN expires; $UNDO_008"
set_schema_version 4
assert_match "$(col alice dir_id)" '^[0-9a-f]{32}$' "the old form, as rosterd stored it"
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "after the migration everyone is found unchanged"
assert_eq "$alice_guid" "$(col alice dir_id)" "the migrated id"
assert_eq "$(find "$ROSTERD_TOP/schema" -maxdepth 1 -name '[0-9]*.sql' | wc -l)" "$(schema_version)"
assert_eq "0 0" "$(sql "SELECT count(*) FROM people WHERE length(dir_id) <> 36") $(sql "SELECT count(*) FROM groups WHERE length(dir_id) <> 36")" "every id converted"

note "Samba's default: simple binds only over TLS"
samba_stop "$AD"
SAMBA_STRONG_AUTH=1 samba_write_conf "$AD"
samba_start "$AD"
ROSTERD_CONF_USERS_BASE=$SAMBA_SUFFIX samba_write_rosterd_conf "$CONF"
sync_once 3
assert_contains "$ERR" "Strong(er) authentication required"

note "StartTLS to 127.0.0.1: the certificate names DC1.example.com"
ROSTERD_CONF_USERS_BASE=$SAMBA_SUFFIX \
ROSTERD_CONF_LDAP_EXTRA="starttls = true; ca_file = \"$AD/private/tls/ca.pem\";" \
	samba_write_rosterd_conf "$CONF"
sync_once 3
assert_contains "$ERR" "StartTLS failed (no plaintext fallback): Connect error (-11): TLS: hostname (127.0.0.1) does not match common name in certificate (DC1.example.com)"
assert_contains "$(last_run error)" "does not match common name in certificate"

note "StartTLS to DC1.example.com, named in a private mount namespace"
printf '127.0.0.1\tlocalhost\n127.0.0.1\tDC1.example.com\n' >"$TEST_TMP/hosts"
ROSTERD_CONF_URI="ldap://DC1.example.com:$SAMBA_PORT/" ROSTERD_CONF_USERS_BASE=$SAMBA_SUFFIX \
ROSTERD_CONF_LDAP_EXTRA="starttls = true; ca_file = \"$AD/private/tls/ca.pem\";" \
	samba_write_rosterd_conf "$CONF"
run unshare --mount sh -c 'mount --bind "$1" /etc/hosts && exec "$2" -c "$3" --once' \
	sh "$TEST_TMP/hosts" "$ROSTERD" "$CONF"
assert_rc 0 "rosterd over StartTLS to the DC's name"
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "the run over TLS"
assert_sql "ldap://DC1.example.com:$SAMBA_PORT/" "SELECT directory_uri FROM sync_runs ORDER BY id DESC LIMIT 1"
