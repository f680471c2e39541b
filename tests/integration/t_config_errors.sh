#!/usr/bin/env bash
# t_config_errors: bad configurations are refused with the file, the line and
# the key.
# Proves: starting from a valid hand-written config (exact line numbers known),
# each of: an unknown key, a value of the wrong type, page_size out of range
# (0 and 100001), integers of 2^32 and more refused rather than wrapped
# (page_size = 4294968296, sync.max_disable = 4294967296), a missing
# ldap.users.base, a bad sync.initial_status, a syntax error, an unknown top-level group, a non-LDAP URI, an unknown
# users.scope, max_disable_percent over 100, a plugins entry without a name
# and a bad custom field name makes rosterd -n, --once and --dry-run and rosterctl
# exit 2 with "FILE:LINE: KEY: ..." naming the exact line, creates no store,
# and prints nothing on stdout; two problems of one kind are both reported;
# a missing config file is exit 2 naming it; the valid config passes -n, with
# its relative paths taken from the config's directory.
. "$(dirname "$0")/lib.sh"

GOOD=$TEST_TMP/good.conf
# Line numbers below are asserted by the cases: keep them in step.
cat >"$GOOD" <<'EOF'
# a valid config; each case breaks one line of it
ldap = {
  uri = "ldap://127.0.0.1:1/";
  bind_dn = "cn=rosterd,ou=system,dc=example,dc=com";
  bind_password_file = "bind.pw";
  page_size = 1000;
  timeout = 10;
  users = {
    base = "ou=people,dc=example,dc=com";
    filter = "(objectClass=inetOrgPerson)";
  };
  attributes = {
    custom = { cost_centre = "departmentNumber"; };
  };
};
store = {
  path = "learning.db";
};
sync = {
  initial_status = "invited";
  max_disable_percent = 10.0;
};
plugins = ( );
EOF
printf 'secret\n' >"$TEST_TMP/bind.pw"
chmod 600 "$TEST_TMP/bind.pw"
assert_eq "    base = \"ou=people,dc=example,dc=com\";" "$(sed -n 9p "$GOOD")" "line 9 of the hand-written config"

run "$ROSTERD" -n -c "$GOOD"
assert_rc 0 "rosterd -n of the valid config (relative bind_password_file)"
assert_contains "$OUT" "configuration ok"
assert_no_store

# bad_conf SED-SCRIPT: $CONF as $GOOD edited by sed.
bad_conf() { sed "$1" "$GOOD" >"$CONF"; }

# expect_error LINE KEY TEXT: every way in refuses $CONF with "$CONF:LINE: KEY: TEXT".
expect_error() {
	local line=$1 key=$2 text=$3 want
	want="$CONF:$line: $key: $text"
	[ -n "$key" ] || want="$CONF:$line: $text"
	for args in -n --once --dry-run; do
		run "$ROSTERD" -c "$CONF" $args
		assert_rc 2 "rosterd $args with a bad config ($key)"
		assert_contains "$ERR" "$want" "rosterd $args error message"
		assert_eq "" "$OUT" "rosterd $args stdout with a bad config"
	done
	run "$ROSTERCTL" -c "$CONF" status
	assert_rc 2 "rosterctl status with a bad config ($key)"
	assert_contains "$ERR" "$want" "rosterctl error message"
	assert_no_store
}

note "unknown key"
bad_conf '6s/page_size/page_sise/'
expect_error 6 ldap.page_sise "unknown key"

note "wrong type"
bad_conf '6s/1000/"big"/'
expect_error 6 ldap.page_size "must be a whole number"

note "page_size out of range"
bad_conf '6s/1000/0/'
expect_error 6 ldap.page_size "0 is out of range"
bad_conf '6s/1000/100001/'
expect_error 6 ldap.page_size "100001 is out of range"

note "integers of 2^32 and more are refused, not wrapped to 1000 or 0"
bad_conf '6s/1000/4294968296/'
expect_error 6 ldap.page_size "4294968296 is out of range (1 to 100000)"
bad_conf '20a\  max_disable = 4294967296;'
expect_error 21 sync.max_disable "4294967296 is out of range (0 to 2147483647)"

note "missing ldap.users.base (reported at the users group)"
bad_conf '9d'
expect_error 8 ldap.users.base "missing"

note "bad initial_status"
bad_conf '20s/"invited"/"pending"/'
expect_error 20 sync.initial_status '"pending" is not one of'

note "syntax error"
bad_conf '7s/timeout = 10;/timeout = = 10;/'
expect_error 7 "" "syntax error"

note "unknown top-level group"
cp "$GOOD" "$CONF"
echo 'logging = { level = "debug"; };' >>"$CONF"
expect_error 24 logging "unknown key"

note "not an LDAP URI"
bad_conf '3s|ldap://127.0.0.1:1/|http://127.0.0.1:1/|'
expect_error 3 ldap.uri '"http://127.0.0.1:1/" is not an ldap://'

note "unknown scope"
bad_conf '10a\    scope = "subtree";'
expect_error 11 ldap.users.scope '"subtree" is not one of'

note "max_disable_percent over 100"
bad_conf '21s/10.0/150.0/'
expect_error 21 sync.max_disable_percent "150 is out of range"

note "a plugins entry without a name"
bad_conf '23s/( )/( { path = "x.so"; } )/'
expect_error 23 "plugins[0].name" "missing: which plugin to load"

note "custom field name"
bad_conf '13s/cost_centre/CostCentre/'
expect_error 13 ldap.attributes.custom.CostCentre "field names use a-z, 0-9 and _"

note "two problems of one kind, both reported"
bad_conf '6s/1000/0/; 20s/"invited"/"pending"/'
run "$ROSTERD" -c "$CONF" -n
assert_rc 2
assert_contains "$ERR" "$CONF:6: ldap.page_size: 0 is out of range"
assert_contains "$ERR" "$CONF:20: sync.initial_status: "
bad_conf '6s/page_size/page_sise/; 17s/path/pathh/'
run "$ROSTERD" -c "$CONF" -n
assert_rc 2
assert_contains "$ERR" "$CONF:6: ldap.page_sise: unknown key"
assert_contains "$ERR" "$CONF:17: store.pathh: unknown key"

note "missing config file"
assert_exit 2 "$ROSTERD" -c "$TEST_TMP/nonexistent.conf" --once
assert_contains "$ERR" "$TEST_TMP/nonexistent.conf"
assert_exit 2 "$ROSTERCTL" -c "$TEST_TMP/nonexistent.conf" status
assert_no_store
