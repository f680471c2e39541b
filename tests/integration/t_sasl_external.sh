#!/usr/bin/env bash
# t_sasl_external: a SASL EXTERNAL bind with a client certificate, against a
# slapd that asks for one (TLSVerifyClient try) and a test CA
# (slapd_make_certs: client.pem names the service account's DN).
# Proves: over ldaps:// and over StartTLS rosterd binds as the certificate's
# subject with no password (slapd logs mech=EXTERNAL and the service
# account's DN) and syncs; a certificate the server's CA did not sign is
# refused in the handshake (exit 3, nothing synced); the config refuses
# EXTERNAL without TLS, without a certificate, with a bind_dn, and a key
# file others may read (rosterd -n, exit 2, naming file, line and key).
. "$(dirname "$0")/lib.sh"

PKI=$TEST_TMP/pki
slapd_make_certs "$PKI"
export SLAPD_LDAPS=1 SLAPD_TLS_CA=$PKI/ca.pem SLAPD_TLS_CERT=$PKI/good.pem \
	SLAPD_TLS_KEY=$PKI/good.key SLAPD_TLS_VERIFY_CLIENT=try
start_directory "$FIXTURES/people-small.ldif"

# ext_conf URI STARTTLS CERT: a config binding with EXTERNAL and CERT's pair.
ext_conf() {
	ROSTERD_CONF_URI=$1 ROSTERD_CONF_LDAP_EXTRA="starttls = $2; ca_file = \"$PKI/ca.pem\";" \
	ROSTERD_CONF_BIND="sasl_mech = \"EXTERNAL\"; cert_file = \"$PKI/$3.pem\"; key_file = \"$PKI/$3.key\";" \
		write_conf
}

for how in ldaps starttls; do
	note "EXTERNAL over $how"
	rm -f "$DB"*
	if [ $how = ldaps ]; then ext_conf "$SLAPD_LDAPS_URI" false client; else ext_conf "$SLAPD_URI" true client; fi
	mark=$(slapd_log_mark)
	sync_once
	assert_eq "ok 10 0 0 0 0 0" "$(run_counts)" "a run bound by the certificate ($how)"
	seen=$(slapd_log_since "$mark")
	assert_match "$seen" 'BIND dn="cn=rosterd,ou=system,dc=example,dc=com" mech=EXTERNAL' \
		"slapd took the certificate's subject as the identity"
	assert_no_match "$seen" 'method=128' "no simple bind was sent"
done

note "a client certificate the server's CA did not sign"
rm -f "$DB"*
ext_conf "$SLAPD_LDAPS_URI" false selfsigned
run_rosterd --once
assert_rc 3 "a certificate of another CA"
assert_contains "$ERR" "SASL EXTERNAL bind: Unknown authentication method (-6)"
assert_contains "$ERR" "the server took no client certificate"
assert_sql 0 "SELECT count(*) FROM people"
assert_contains "$(last_run outcome)" failed

note "what the config refuses"
ROSTERD_CONF_BIND="sasl_mech = \"EXTERNAL\";" write_conf
run_rosterd -n
assert_rc 2 "EXTERNAL over ldap:// without TLS"
assert_match "$ERR" "^$CONF:[0-9]+: ldap.sasl_mech: EXTERNAL needs TLS"
ROSTERD_CONF_URI=$SLAPD_LDAPS_URI ROSTERD_CONF_LDAP_EXTRA="ca_file = \"$PKI/ca.pem\";" \
	ROSTERD_CONF_BIND="sasl_mech = \"EXTERNAL\";" write_conf
run_rosterd -n
assert_rc 2 "EXTERNAL without a certificate"
assert_contains "$ERR" "ldap.sasl_mech: EXTERNAL over TLS needs cert_file and key_file"
ext_conf "$SLAPD_LDAPS_URI" false client
sed -i "s|sasl_mech = \"EXTERNAL\";|sasl_mech = \"EXTERNAL\"; bind_dn = \"$SLAPD_SVC_DN\";|" "$CONF"
run_rosterd -n
assert_rc 2 "EXTERNAL with a bind_dn"
assert_match "$ERR" "^$CONF:[0-9]+: ldap.bind_dn: not used by a SASL bind"
ext_conf "$SLAPD_LDAPS_URI" false client
chmod 0644 "$PKI/client.key"
run_rosterd -n
assert_rc 2 "a key file others may read"
assert_match "$ERR" "^$CONF:[0-9]+: ldap.key_file: .*client.key: mode 0644 lets others read it"
