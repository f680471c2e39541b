#!/usr/bin/env bash
# t_references: continuation references in the users search, which rosterd
# never follows.
# Proves: a reference to another naming context of the same server (listed
# in its root DSE, as Active Directory's Configuration and DNS partitions
# are) cannot hold anything of the configured base and leaves the run
# complete; a reference to a naming context the server does not hold makes
# the run incomplete (exit 1), the first such reference named in the error,
# and nobody is disabled. (Against Active Directory the domain scope control
# keeps the references away: t_ad.)
. "$(dirname "$0")/lib.sh"

# A second database, o=other, is a naming context of the same server.
mkdir -p "$SLAPD_HOME/db2"
export SLAPD_EXTRA_GLOBAL_CONF="database mdb
suffix \"o=other\"
directory \"$SLAPD_HOME/db2\"
maxsize 10485760"
start_directory "$FIXTURES/people-small.ldif"
write_conf
assert_match "$(ldapsearch -x -LLL -H "$SLAPD_URI" -b '' -s base namingContexts)" '^namingContexts: o=other$' "the second naming context is in the root DSE"
sync_once
people=$(last_run created)

note "a reference to another naming context of this server: complete"
ldap_admin_add <<EOF2
dn: ou=config,$PEOPLE
objectClass: referral
objectClass: extensibleObject
ou: config
ref: ldap://dc1.example.com/o=other
EOF2
sync_once 0
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "the reference is ruled out"
assert_match "$(ldapsearch -x -LLL -H "$SLAPD_URI" -D "$SLAPD_SVC_DN" -w "$SLAPD_SVC_PW" -b "$PEOPLE" '(ou=config)' 2>&1)" '^# refldap://dc1.example.com/o=other' "slapd does send the reference"

note "a reference elsewhere: incomplete"
ldap_admin_delete "uid=carol,$PEOPLE"
ldap_admin_add <<EOF2
dn: ou=remote,$PEOPLE
objectClass: referral
objectClass: extensibleObject
ou: remote
ref: ldap://ldap.other.example/ou=remote,$PEOPLE
EOF2
sync_once 1
assert_eq "incomplete 0 0 0 0 0 0" "$(run_counts)" "a run that met a reference it cannot rule out"
assert_contains "$(last_run error)" "the first to ldap://ldap.other.example/ou=remote,$PEOPLE"
assert_sql "$people" "SELECT count(*) FROM people WHERE status = 'invited'" "nobody disabled"
