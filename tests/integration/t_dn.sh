#!/usr/bin/env bash
# t_dn: DN normalisation (RFC 4514) of entry DNs and DN-valued attributes.
# Proves: manager "UID=Alice , OU=People,DC=example,DC=com" and an OID
# attribute type are stored as "uid=alice,ou=people,dc=example,dc=com"; an
# escaped comma spelled \2C (slapd's spelling of entry DNs) or, in manager
# and secretary values, \, or \2C normalises to "\,"; a multi-valued RDN is
# sorted; runs of inner spaces collapse; + and a leading # stay escaped;
# non-ASCII (also hex-escaped UTF-8) is case-folded; people.dn keeps the
# directory's spelling; a resync changes nothing; a manager respelled to the
# same normal form is no update; a modrdn that only changes case updates the
# username but is not a move; a modrdn to a new escaped-comma RDN is a move.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-dn.ldif"
write_conf
sync_once
assert_eq "ok 11 0 0 0 0 0" "$(run_counts)"

assert_sql "alice|uid=alice,ou=people,dc=example,dc=com
bob|uid=bob,ou=people,dc=example,dc=com
carol|uid=carol,ou=people,dc=example,dc=com
hash|cn=\\#hash,ou=people,dc=example,dc=com
jdoe|cn=doe\\, jane,ou=people,dc=example,dc=com
jsmith|cn=smith\\, john,ou=people,dc=example,dc=com
multi|cn=multi person+uid=multi,ou=people,dc=example,dc=com
patlee|cn=pat lee,ou=people,dc=example,dc=com
plus|cn=plus\\+sign,ou=people,dc=example,dc=com
yann|uid=yann,ou=people,dc=example,dc=com
zoe|cn=zoë ørsted,ou=people,dc=example,dc=com" "SELECT username, dn_norm FROM people ORDER BY username"

assert_sql "bob|uid=alice,ou=people,dc=example,dc=com|uid=alice,ou=people,dc=example,dc=com
carol|cn=smith\\, john,ou=people,dc=example,dc=com|cn=doe\\, jane,ou=people,dc=example,dc=com
yann|cn=zoë ørsted,ou=people,dc=example,dc=com|" \
	"SELECT username, manager_dn, secondary_manager_dn FROM people WHERE manager_dn IS NOT NULL ORDER BY username"

note "people.dn is the directory's own spelling"
# dn_of UID: the DN slapd returns for the entry with that uid (base64 decoded).
dn_of() {
	local line
	line=$(ldap_svc_search -b "$PEOPLE" "(uid=$1)" 1.1 | grep '^dn')
	case $line in
	"dn:: "*) printf '%s' "${line#dn:: }" | base64 -d ;;
	*) printf '%s' "${line#dn: }" ;;
	esac
}
for u in alice bob jsmith jdoe multi patlee plus hash zoe; do
	assert_eq "$(dn_of "$u")" "$(col "$u" dn)" "people.dn of $u"
done
assert_eq 'cn=Zoë Ørsted,ou=people,dc=example,dc=com' "$(col zoe dn)"
assert_eq 'cn=Pat   Lee,ou=people,dc=example,dc=com' "$(col patlee dn)"

note "resync: the odd spellings are stable"
before=$(sql_dump people person_fields)
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)"
assert_eq "$before" "$(sql_dump people person_fields)" "store unchanged"

note "manager respelled, same normal form: no update"
set_attr "uid=bob,$PEOPLE" manager "uid=ALICE,ou=People,dc=Example,dc=Com"
set_attr "uid=carol,$PEOPLE" manager "CN=SMITH\\, JOHN,OU=PEOPLE,DC=EXAMPLE,DC=COM"
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "respelled managers"
assert_eq "uid=alice,ou=people,dc=example,dc=com" "$(col bob manager_dn)"

note "modrdn that changes only case: new username, not a move"
bob_id=$(col bob id)
ldap_admin_modrdn "uid=bob,$PEOPLE" "uid=Bob"
sync_once
assert_eq "ok 0 1 0 0 0 0" "$(run_counts)" "case-only rename"
assert_sql "$bob_id|Bob|uid=Bob,ou=people,dc=example,dc=com|uid=bob,ou=people,dc=example,dc=com" \
	"SELECT id, username, dn, dn_norm FROM people WHERE id = $bob_id"
assert_sql 0 "SELECT count(*) FROM people WHERE username = 'bob' COLLATE BINARY"

note "modrdn to a new escaped-comma RDN: a move"
jdoe_id=$(col jdoe id)
ldap_admin_modrdn "$(dn_of jdoe)" "cn=Doe\\, Janet"
sync_once
assert_eq "ok 0 1 1 0 0 0" "$(run_counts)" "escaped-comma rename"
assert_sql "$jdoe_id|cn=doe\\, janet,ou=people,dc=example,dc=com|Doe, Janet" \
	"SELECT id, dn_norm, display_name FROM people WHERE username = 'jdoe'"
assert_eq "$(dn_of jdoe)" "$(col jdoe dn)" "people.dn after the rename"
