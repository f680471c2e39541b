#!/usr/bin/env bash
# t_tls: the connection to the directory over TLS (ldaps:// and StartTLS),
# against a slapd given certificates made by a test CA (slapd_make_certs).
# Proves: with the right CA (ldap.ca_file) and a certificate for 127.0.0.1,
# a run over ldaps:// and one over StartTLS go through (slapd logs the TLS
# session or the StartTLS, then the bind); with a self-signed certificate,
# one for another host, an expired one, or no ca_file (the system store
# does not know the test CA), and with a server that refuses StartTLS, the
# run fails before any bind is sent: exit 3, the run recorded "failed" with
# the TLS error, nothing synced, and slapd's log shows the connection
# (ACCEPT) but no BIND after it. The message says why the certificate was
# refused (issuer unknown, host not named, expired), as libldap logs it.
. "$(dirname "$0")/lib.sh"

PKI=$TEST_TMP/pki
slapd_make_certs "$PKI"
export SLAPD_LDAPS=1 SLAPD_TLS_CA=$PKI/ca.pem

# serve NAME: restart slapd with the server certificate NAME.
serve() {
	SLAPD_TLS_CERT=$PKI/$1.pem SLAPD_TLS_KEY=$PKI/$1.key restart_directory
}

# tls_run URI STARTTLS CA EXPECT: one run, and what slapd saw of it.
tls_run() {
	local uri=$1 starttls=$2 ca=$3 expect=$4 mark extra="starttls = $2;"
	[ -n "$ca" ] && extra="$extra ca_file = \"$ca\";"
	ROSTERD_CONF_URI=$uri ROSTERD_CONF_LDAP_EXTRA=$extra write_conf
	mark=$(slapd_log_mark)
	run_rosterd --once
	assert_rc "$expect" "rosterd over $uri (starttls $starttls, ca_file ${ca:-none})"
	SEEN=$(slapd_log_since "$mark")
	assert_match "$SEEN" ' ACCEPT from IP=127\.0\.0\.1:' "slapd saw the connection"
	if [ "$starttls" = true ]; then
		assert_match "$SEEN" ' EXT oid=1\.3\.6\.1\.4\.1\.1466\.20037' "slapd saw the StartTLS request"
	fi
}

# refused: the last run failed before binding.
refused() {
	assert_no_match "$SEEN" ' BIND ' "a BIND reached slapd (${1})"
	assert_contains "$(last_run outcome)" failed
	assert_ne "" "$(last_run error)" "the run's error"
	assert_sql 0 "SELECT count(*) FROM people"
}

start_directory "$FIXTURES/people-small.ldif"
serve good
note "the right CA: ldaps and StartTLS"
tls_run "$SLAPD_LDAPS_URI" false "$PKI/ca.pem" 0
assert_match "$SEEN" 'conn=[0-9]+ fd=[0-9]+ TLS established' "a TLS session"
assert_match "$SEEN" ' BIND dn="cn=rosterd,ou=system,dc=example,dc=com"' "the bind over ldaps"
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)"
rm -f "$DB"*
tls_run "$SLAPD_URI" true "$PKI/ca.pem" 0
assert_match "$SEEN" ' BIND dn="cn=rosterd,ou=system,dc=example,dc=com"' "the bind after StartTLS"
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)"
rm -f "$DB"*

note "no ca_file: the system store does not know the test CA"
tls_run "$SLAPD_LDAPS_URI" false "" 3
refused "ldaps, no ca_file"
tls_run "$SLAPD_URI" true "" 3
refused "StartTLS, no ca_file"
assert_contains "$ERR" "TLS: peer cert untrusted or revoked (0x42: issuer unknown)"
rm -f "$DB"*

cases=2
# libldap's reason for each refusal is in the message (it keeps it out of the
# session's diagnostic: dir.c takes it from libldap's log).
declare -A why=([selfsigned]="issuer unknown" [wronghost]="TLS: hostname (127.0.0.1) does not match common name in certificate (wronghost)" [expired]="expired")
for cert in selfsigned wronghost expired; do
	note "server certificate: $cert"
	serve "$cert"
	tls_run "$SLAPD_LDAPS_URI" false "$PKI/ca.pem" 3
	refused "ldaps, $cert"
	assert_contains "$ERR" "$SLAPD_LDAPS_URI"
	assert_contains "$ERR" "${why[$cert]}"
	tls_run "$SLAPD_URI" true "$PKI/ca.pem" 3
	refused "StartTLS, $cert"
	assert_contains "$ERR" "StartTLS failed (no plaintext fallback)"
	assert_contains "$ERR" "${why[$cert]}"
	rm -f "$DB"*
	cases=$((cases + 2))
done

note "a server that refuses StartTLS"
unset SLAPD_LDAPS
restart_directory
tls_run "$SLAPD_URI" true "$PKI/ca.pem" 3
refused "StartTLS refused"
assert_contains "$ERR" "StartTLS failed (no plaintext fallback)"
figure "t_tls: 2 runs accepted (ldaps, StartTLS with the test CA), $((cases + 1)) refused before the bind (no CA, self-signed, wrong host, expired, each over ldaps and StartTLS; StartTLS refused): exit 3, no BIND in slapd's log"
