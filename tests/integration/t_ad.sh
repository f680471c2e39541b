#!/usr/bin/env bash
# t_ad: what Active Directory (a Samba AD DC, tests/lib/samba.sh) needs of
# rosterd beyond the common scenarios (tests/compat).
# Proves: a users search based at the domain root is complete (rosterd sends
# the domain scope control the DC offers, so no continuation references to
# the Configuration and DNS partitions come back) and finds the built-in
# accounts too; objectGUID is stored in AD's own string form, the one Samba's
# tools show; a store holding the old hex form is migrated
# (schema/005_guid_string.sql) and the next run finds everyone unchanged;
# with groups read from memberOf alone and nested = true, a group's own
# memberOf gives the nesting, so the members of a group nested in the admin
# group are admins (and with nested = false they are not); a person's
# primary group (primaryGroupID, which AD leaves out of the group's member)
# makes them a member with ldap.groups.primary_group, through the group's
# primaryGroupToken (and sync.mode refresh then reads everyone, so the
# unchanged keep it); with Samba's default "ldap server require strong auth" a simple bind
# without TLS is refused (exit 3), StartTLS to 127.0.0.1 is refused with
# libldap's reason (the certificate names DC1.example.com), and StartTLS to
# DC1.example.com, resolved to 127.0.0.1 in a private mount namespace (never
# the machine's /etc/hosts), syncs. A SASL GSSAPI bind with the service
# account's keytab (ldap.keytab, or KRB5_CLIENT_KTNAME), Kerberos over TCP to
# the DC's own KDC (a private krb5.conf through KRB5_CONFIG), syncs over plain
# ldap:// where the simple bind was refused; a keytab without keys is refused
# (exit 3) with GSSAPI's reason.
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
# schema 4 had no username keys either (006 adds them), nor role sources (007), nor
# the rejects' ids (008), nor run kinds (009)
sql "UPDATE people SET dir_id = $hex; UPDATE groups SET dir_id = $hex;
     DROP INDEX people_username_key; ALTER TABLE people DROP COLUMN username_key;
     ALTER TABLE people DROP COLUMN role_source;
     DROP INDEX run_rejects_held_by; ALTER TABLE run_rejects DROP COLUMN held_by;
     ALTER TABLE run_rejects DROP COLUMN dir_id;
     DROP INDEX assignments_expiry; ALTER TABLE assignments DROP COLUMN expires; $UNDO_009"
set_schema_version 4
assert_match "$(col alice dir_id)" '^[0-9a-f]{32}$' "the old form, as rosterd stored it"
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "after the migration everyone is found unchanged"
assert_eq "$alice_guid" "$(col alice dir_id)" "the migrated id"
assert_eq "$(find "$ROSTERD_TOP/schema" -maxdepth 1 -name '[0-9]*.sql' | wc -l)" "$(schema_version)"
assert_eq "0 0" "$(sql "SELECT count(*) FROM people WHERE length(dir_id) <> 36") $(sql "SELECT count(*) FROM groups WHERE length(dir_id) <> 36")" "every id converted"

note "groups read from memberOf alone, nested through the groups' own memberOf"
{
	printf 'dn: CN=bob,OU=people,%s\nobjectClass: user\nsAMAccountName: bob\nuserAccountControl: 544\n\n' "$SAMBA_SUFFIX"
	printf 'dn: CN=lms-admins,OU=groups,%s\nobjectClass: group\nsAMAccountName: lms-admins\n' "$SAMBA_SUFFIX"
	printf 'member: CN=admins,OU=groups,%s\nmember: CN=bob,OU=people,%s\n\n' "$SAMBA_SUFFIX" "$SAMBA_SUFFIX"
} | samba_admin_add
memberof_conf() {   # NESTED: groups from memberOf alone
	ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE="" ROSTERD_CONF_GROUPS_NESTED=$1 \
	ROSTERD_CONF_ROLES='{ group = "lms-admins"; role = "admin"; }' \
	ROSTERD_CONF_ATTRIBUTES='id = "objectGUID"; username = "sAMAccountName"; member_of = "memberOf";' \
		samba_write_rosterd_conf "$CONF" "max_membership_removals_percent = 100.0;"
}
# a store of its own: the sections after this one go on with the first
main_db=$DB
DB=$TEST_TMP/memberof/learning.db
export ROSTERD_CONF_STORE_PATH=$DB
eff() {
	sql "SELECT g.name || ':' || p.username || '(' || v.name || ')' FROM group_membership m
	     JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id
	     JOIN groups v ON v.id = m.via_group_id ORDER BY g.name, p.username" | tr '\n' ' '
}
mkdir -p "$(dirname "$DB")"
memberof_conf true
sync_once
assert_eq "admins:alice(admins) lms-admins:alice(admins) lms-admins:bob(lms-admins) " "$(eff)" \
	"alice is in lms-admins through admins, known from admins' own memberOf"
assert_sql "alice|admin
bob|admin" "SELECT username, role FROM people ORDER BY username" "the nested admin group's member is an admin"
assert_sql 1 "SELECT count(*) FROM group_members WHERE member_group_id IS NOT NULL" "the nesting edge"
before=$(sql_dump group_members group_membership people)
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "a resync"
assert_eq "$before" "$(sql_dump group_members group_membership people)" "a resync changes no membership"
memberof_conf false
sync_once
assert_eq "admins:alice(admins) lms-admins:bob(lms-admins) " "$(eff)" "nested = false: no nesting"
assert_sql "alice|learner" "SELECT username, role FROM people WHERE username = 'alice'"
samba_admin_delete "CN=lms-admins,OU=groups,$SAMBA_SUFFIX" "CN=bob,OU=people,$SAMBA_SUFFIX"

note "the primary group (primaryGroupID), which member leaves out"
primary_conf() {   # PRIMARY [SYNC]: ldap.groups.primary_group
	ROSTERD_CONF_GROUPS_EXTRA="primary_group = $1;" \
	ROSTERD_CONF_ROLES='{ group = "staff"; role = "manager"; }' \
	ROSTERD_CONF_ATTRIBUTES='id = "objectGUID"; username = "sAMAccountName";' \
		samba_write_rosterd_conf "$CONF" "max_membership_removals_percent = 100.0; ${2:-}"
}
primary_id() {   # DN RID: make RID the primary group of DN
	printf 'dn: %s\nchangetype: modify\nreplace: primaryGroupID\nprimaryGroupID: %s\n' "$1" "$2" |
		samba_admin_modify
}
alice_dn="CN=alice,OU=people,$SAMBA_SUFFIX" staff_dn="CN=staff,OU=groups,$SAMBA_SUFFIX"
printf 'dn: %s\nobjectClass: group\nsAMAccountName: staff\nmember: %s\n\n' "$staff_dn" "$alice_dn" |
	samba_admin_add
token=$(samba_svc_search -b "$staff_dn" -s base primaryGroupToken | sed -n 's/^primaryGroupToken: //p')
primary_id "$alice_dn" "$token"
assert_eq "" "$(samba_svc_search -b "$staff_dn" -s base member | sed -n 's/^member: //p')" \
	"AD takes alice out of staff's member once it is her primary group"
rm -f "$DB"*
primary_conf true
sync_once
assert_eq "admins:alice(admins) staff:alice(staff) " "$(eff)" "alice is in staff, her primary group"
assert_sql "alice|manager" "SELECT username, role FROM people WHERE username = 'alice'"
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "a resync"
assert_sql "0|0" "SELECT memberships_joined, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1"
primary_conf true 'mode = "refresh";'
sync_once
assert_contains "$ERR" "does not yet read the people's primary groups"
assert_sql "0|0" "SELECT memberships_joined, memberships_left FROM sync_runs ORDER BY id DESC LIMIT 1" \
	"sync.mode refresh reads everyone, so the primary membership stays"
primary_conf false
sync_once
assert_eq "admins:alice(admins) " "$(eff)" "primary_group = false: member alone"
assert_sql "alice|learner" "SELECT username, role FROM people WHERE username = 'alice'"
primary_id "$alice_dn" 513
samba_admin_delete "$staff_dn"
DB=$main_db
unset ROSTERD_CONF_STORE_PATH

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

note "GSSAPI with the service account's keytab, where a simple bind needs TLS"
samba_keytab "$TEST_TMP/rosterd.keytab"
samba_krb5_conf "$TEST_TMP/krb5.conf"
export KRB5_CONFIG=$TEST_TMP/krb5.conf
# gssapi_run [ENV...]: rosterd --once in the mount namespace that names the DC.
gssapi_run() {
	run env "$@" unshare --mount sh -c 'mount --bind "$1" /etc/hosts && exec "$2" -c "$3" --once' \
		sh "$TEST_TMP/hosts" "$ROSTERD" "$CONF"
}
rm -f "$DB"*
ROSTERD_CONF_URI="ldap://DC1.example.com:$SAMBA_PORT/" \
ROSTERD_CONF_BIND="sasl_mech = \"GSSAPI\"; keytab = \"$TEST_TMP/rosterd.keytab\";" \
	samba_write_rosterd_conf "$CONF"
gssapi_run
assert_rc 0 "rosterd bound with GSSAPI (ldap.keytab)"
assert_eq "ok 1 0 0 0 0 0" "$(run_counts)" "alice, read as the service account"
rm -f "$DB"*
ROSTERD_CONF_URI="ldap://DC1.example.com:$SAMBA_PORT/" ROSTERD_CONF_BIND='sasl_mech = "GSSAPI";' \
	samba_write_rosterd_conf "$CONF"
gssapi_run KRB5_CLIENT_KTNAME="$TEST_TMP/rosterd.keytab" KRB5CCNAME="MEMORY:t_ad"
assert_rc 0 "rosterd bound with GSSAPI (KRB5_CLIENT_KTNAME)"
assert_eq "ok 1 0 0 0 0 0" "$(run_counts)" "the same run, keytab from the environment"

note "GSSAPI with a keytab that holds no keys"
rm -f "$DB"*
ROSTERD_CONF_URI="ldap://DC1.example.com:$SAMBA_PORT/" \
ROSTERD_CONF_BIND="sasl_mech = \"GSSAPI\"; keytab = \"$TEST_TMP/empty.keytab\";" \
	samba_write_rosterd_conf "$CONF"
printf '' >"$TEST_TMP/empty.keytab"
chmod 0600 "$TEST_TMP/empty.keytab"
gssapi_run
assert_rc 3 "a keytab with no keys"
assert_contains "$ERR" "SASL GSSAPI bind with the keytab $TEST_TMP/empty.keytab"
assert_contains "$(last_run outcome)" failed
