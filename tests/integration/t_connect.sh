#!/usr/bin/env bash
# t_connect: reaching and binding to the directory.
# Proves: a wrong password or an unknown bind DN -> exit 3, "Invalid
# credentials" on stderr, run recorded "failed" with the error, nothing
# synced; a closed port -> exit 3 quickly, naming the URI (also for
# --dry-run); a URI list "closed-port good-uri" fails over (exit 0,
# sync_runs.directory_uri is the good one); a list of only closed ports
# names each; a stopped slapd -> exit 3.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"

# A TCP port on 127.0.0.1 that nothing listens on.
closed_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}
CLOSED1=$(closed_port)
CLOSED2=$(closed_port)

note "wrong password"
WRONG_PW='Wr0ng-zebra-Pa55'
ROSTERD_CONF_BIND_PW=$WRONG_PW write_conf
sync_once 3
assert_contains "$ERR" "Invalid credentials"
assert_not_contains "$ERR" "$WRONG_PW" "stderr shows the password"
assert_sql "failed" "SELECT outcome FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_contains "$(last_run error)" "Invalid credentials"
assert_sql 0 "SELECT count(*) FROM people"
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE error LIKE '%$WRONG_PW%'"

note "unknown bind DN"
ROSTERD_CONF_BIND_DN="cn=nobody,ou=system,$SUFFIX" write_conf
sync_once 3
assert_contains "$ERR" "Invalid credentials"
assert_sql 0 "SELECT count(*) FROM people"

note "closed port"
ROSTERD_CONF_URI="ldap://127.0.0.1:$CLOSED1/" write_conf
t0=$(date +%s%N)
sync_once 3
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 5000 ] || fail "a closed port should fail at once, took $ms ms"
assert_contains "$ERR" "127.0.0.1:$CLOSED1"
assert_contains "$ERR" "Can't contact LDAP server"
assert_sql "failed" "SELECT outcome FROM sync_runs ORDER BY id DESC LIMIT 1"
dry_run 3

note "two closed ports: both named"
ROSTERD_CONF_URI="ldap://127.0.0.1:$CLOSED1/ ldap://127.0.0.1:$CLOSED2/" write_conf
sync_once 3
assert_contains "$ERR" "127.0.0.1:$CLOSED1"
assert_contains "$ERR" "127.0.0.1:$CLOSED2"

note "failover: closed port, then the real server"
ROSTERD_CONF_URI="ldap://127.0.0.1:$CLOSED1/ $SLAPD_URI" write_conf
sync_once 0
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)"
assert_eq "$SLAPD_URI" "$(last_run directory_uri)" "directory_uri of the failover run"
rctl_ok runs --format json
assert_json '.[0].directory_uri' "$SLAPD_URI"

note "slapd stopped"
write_conf
slapd_stop
sync_once 3
assert_contains "$ERR" "$SLAPD_URI"
assert_sql 10 "SELECT count(*) FROM people WHERE status = 'invited'" "nobody disabled when the directory is down"
