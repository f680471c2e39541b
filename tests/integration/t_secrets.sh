#!/usr/bin/env bash
# t_secrets: the bind password: where it may come from, and where it must
# never show.
# Proves: a password file its group or others can read (0644, 0640, 0604) or
# write (0620, 0602) is refused by -n, --once and --dry-run with exit 2 naming
# the file and its mode,
# before any store is created; 0600 and 0400 are accepted; a missing or empty
# file is exit 2; bind_password_credential = "name" reads
# $CREDENTIALS_DIRECTORY/name (whatever its mode: systemd owns it) and syncs;
# without CREDENTIALS_DIRECTORY, or with the credential missing, the run
# exits 2 naming the problem; a credential name with a slash, or both
# sources, is a config error (2); the password never appears in stdout/stderr
# (also with -v, --dry-run and a failed bind), in rosterd's argv or
# environment, or in the store (its dump, and the bytes of the store file
# and its WAL). A FIFO as the password file is refused at once (exit 2, "a
# FIFO, not a regular file"), a symbolic link with that reason; a bind with
# a password over ldap:// to a host that is not the loopback is refused by
# -n and --once (exit 2, at ldap.uri's line) unless allow_plaintext_bind,
# which -n then warns about; rosterctl does not mind.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
PW='S3cr3t-Kiwi-Pass-4711'
ldap_admin_modify <<EOF
dn: $SLAPD_SVC_DN
changetype: modify
replace: userPassword
userPassword: $PW
EOF
ROSTERD_CONF_BIND_PW=$PW write_conf   # not exported: rosterd's environment must not hold it
PWFILE=$TEST_TMP/bind.pw
assert_eq 600 "$(stat -c %a "$PWFILE")" "mode of the password file slapd.sh writes"
no_password() {
	assert_not_contains "$OUT" "$PW" "the password in stdout of: $1"
	assert_not_contains "$ERR" "$PW" "the password in stderr of: $1"
}

note "group/world-readable password files are refused"
for mode in 0644 0640 0604 0620 0602; do
	chmod "$mode" "$PWFILE"
	for args in -n --once --dry-run; do
		run_rosterd $args
		assert_rc 2 "rosterd $args with a $mode password file"
		assert_contains "$ERR" "$PWFILE"
		assert_contains "$ERR" "$mode"
		assert_match "$ERR" "^$CONF:[0-9]+: ldap.bind_password_file: " "the error names config file, line and key"
		no_password "rosterd $args ($mode)"
	done
done
assert_no_store

for mode in 0400 0600; do
	chmod "$mode" "$PWFILE"
	run_rosterd -n
	assert_rc 0 "rosterd -n with a $mode password file"
done

note "missing and empty password files"
mv "$PWFILE" "$PWFILE.away"
run_rosterd -n
assert_rc 2 "a missing password file"
assert_contains "$ERR" "$PWFILE"
: > "$PWFILE"
chmod 600 "$PWFILE"
run_rosterd -n
assert_rc 2 "an empty password file"
assert_contains "$ERR" "empty"
mv "$PWFILE.away" "$PWFILE"

note "a run with -v, a dry run: the password shows nowhere"
run_rosterd -v --dry-run
assert_rc 0 "rosterd -v --dry-run"
no_password "rosterd -v --dry-run"
run_rosterd -v --once
assert_rc 0 "rosterd -v --once"
no_password "rosterd -v --once"
assert_sql 10 "SELECT count(*) FROM people"

note "argv and environment of a running rosterd"
slapd_pause
bg_rosterd -v --once
wait_for 10 grep -q . "/proc/$BG_PID/cmdline" || true
cmdline=$(tr '\0' ' ' <"/proc/$BG_PID/cmdline")
environ=$(tr '\0' '\n' <"/proc/$BG_PID/environ")
assert_contains "$cmdline" "--once"
assert_not_contains "$cmdline" "$PW" "the password in rosterd's argv"
assert_not_contains "$environ" "$PW" "the password in rosterd's environment"
slapd_resume
bg_wait 30
assert_rc 0 "the background run"
no_password "the background run"

note "a failed bind does not echo the password"
echo "Not-$PW" >"$PWFILE"
run_rosterd --once
assert_rc 3 "wrong password"
no_password "a failed bind"
echo "$PW" >"$PWFILE"
if [ "$STORE" = pg ]; then
	assert_eq 0 "$(pg_dump_data | grep -c -- "$PW" || true)" "the password in the store"
else
	assert_eq 0 "$(sqlite3 "$DB" .dump | grep -c -- "$PW" || true)" "the password in the store"
fi
for f in "$DB" "$DB-wal"; do
	[ ! -e "$f" ] || assert_eq 0 "$(grep -c -a -- "$PW" "$f" || true)" "the password in the bytes of $f"
done

note "systemd credential"
mkdir -p "$TEST_TMP/creds"
printf '%s\n' "$PW" >"$TEST_TMP/creds/ldap-bind"
chmod 0644 "$TEST_TMP/creds/ldap-bind"
sed -i "s|bind_password_file = \"$PWFILE\";|bind_password_credential = \"ldap-bind\";|" "$CONF"
assert_contains "$(cat "$CONF")" 'bind_password_credential = "ldap-bind";'
if [ "$STORE" = pg ]; then
	# and the store's password as a credential too
	cp "$PG_PWFILE" "$TEST_TMP/creds/store-password"
	sed -i "s|password_file = \"$PG_PWFILE\";|password_credential = \"store-password\";|" "$CONF"
	assert_contains "$(cat "$CONF")" 'password_credential = "store-password";'
fi
reset_store
run env CREDENTIALS_DIRECTORY="$TEST_TMP/creds" "$ROSTERD" -c "$CONF" --once
assert_rc 0 "a run with the password from \$CREDENTIALS_DIRECTORY/ldap-bind"
no_password "the credential run"
assert_sql 10 "SELECT count(*) FROM people"

run env -u CREDENTIALS_DIRECTORY "$ROSTERD" -c "$CONF" -n
assert_rc 0 "-n does not need the credential"
run env -u CREDENTIALS_DIRECTORY "$ROSTERD" -c "$CONF" --once
assert_rc 2 "a credential without CREDENTIALS_DIRECTORY (a setup error)"
assert_contains "$ERR" "CREDENTIALS_DIRECTORY"
run env CREDENTIALS_DIRECTORY="$TEST_TMP/nowhere" "$ROSTERD" -c "$CONF" --once
assert_rc 2 "a credential that is not in CREDENTIALS_DIRECTORY"
# (PostgreSQL: the store's credential is read first, as the store opens first)
if [ "$STORE" = pg ]; then
	assert_contains "$ERR" "$TEST_TMP/nowhere/store-password"
else
	assert_contains "$ERR" "$TEST_TMP/nowhere/ldap-bind"
fi

note "credential config errors"
sed -i 's|bind_password_credential = "ldap-bind";|bind_password_credential = "../ldap-bind";|' "$CONF"
run env CREDENTIALS_DIRECTORY="$TEST_TMP/creds" "$ROSTERD" -c "$CONF" -n
assert_rc 2 "a credential name with a slash"
assert_contains "$ERR" "ldap.bind_password_credential"
sed -i "s|bind_password_credential = \"../ldap-bind\";|bind_password_credential = \"ldap-bind\"; bind_password_file = \"$PWFILE\";|" "$CONF"
run env CREDENTIALS_DIRECTORY="$TEST_TMP/creds" "$ROSTERD" -c "$CONF" -n
assert_rc 2 "both a password file and a credential"
assert_contains "$ERR" "not both"

note "a FIFO or a symbolic link as the password file: refused with the reason, at once"
write_conf
PWFILE=$TEST_TMP/bind.pw
mv "$PWFILE" "$TEST_TMP/real.pw"
mkfifo -m 0600 "$PWFILE"
t0=$(date +%s%N)
run timeout 10 "$ROSTERD" -c "$CONF" -n
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_rc 2 "rosterd -n with a FIFO as bind_password_file"
assert_contains "$ERR" "$PWFILE: a FIFO, not a regular file"
[ "$ms" -lt 5000 ] || fail "rosterd -n waited $ms ms on the FIFO"
run timeout 10 "$ROSTERD" -c "$CONF" --once
assert_rc 2 "rosterd --once with a FIFO as bind_password_file"
rm -f "$PWFILE"
ln -s "$TEST_TMP/real.pw" "$PWFILE"
run_rosterd -n
assert_rc 2 "rosterd -n with a symbolic link as bind_password_file"
assert_contains "$ERR" "$PWFILE: a symbolic link, not followed"
assert_not_contains "$ERR" "Too many levels"

note "a password in clear over the network: refused unless allowed, said by -n"
write_conf
sed -i 's|^  uri = ".*";|  uri = "ldap://ldap.invalid:389";|' "$CONF"
run_rosterd -n
assert_rc 2 "rosterd -n, a bind over ldap:// to a host that is not the loopback"
assert_match "$ERR" 'rosterd\.conf:[0-9]+: ldap\.uri: "ldap://ldap\.invalid:389" would send the bind password in clear'
run_rosterd --once
assert_rc 2 "rosterd --once, a bind over ldap:// to a host that is not the loopback"
rctl_ok status
sed -i 's|^  uri = \(.*\)|  uri = \1 allow_plaintext_bind = true;|' "$CONF"
run_rosterd -n
assert_rc 0 "rosterd -n with allow_plaintext_bind"
assert_contains "$OUT" "warning: ldap.allow_plaintext_bind: the bind password goes in clear to ldap://ldap.invalid:389"
write_conf
run_rosterd -n
assert_rc 0 "rosterd -n with the loopback"
assert_not_contains "$OUT" "warning"
