#!/usr/bin/env bash
# t_rosterctl_bulk: bulk commands, what they say, and who they say did it.
# Proves: `user invite a a A` (and the same through --from) queues one
# invitation, `user disable` acts once on a person named twice; a --from
# file's unknown lines are named by file and line number, never by their
# content (a line of a secret file stays out of the messages), and nothing
# is changed; the operator in the audit log is the real uid's account, and
# SUDO_USER is taken only from root with a SUDO_UID that matches it (not
# with another SUDO_UID); usage
# errors say what is wrong: `user frobnicate` (unknown subcommand),
# `run approve 99999999999999999999` (exit 2, not "no such run"),
# `user show --format json` works and `--format csv` is refused.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";'
write_conf
sync_once
unset SUDO_USER SUDO_UID

note "each person once per command"
rctl_ok user invite alice alice ALICE
assert_eq "1" "$(grep -c . <<<"$OUT")" "one line of output"
assert_sql 1 "SELECT count(*) FROM outbox WHERE kind = 'invite' AND username = 'alice'"
run "$ROSTERCTL" -c "$CONF" user invite --from - <<<$'bob\nbob\nBob\n'
assert_rc 0 "user invite --from - with a name three times"
assert_sql 1 "SELECT count(*) FROM outbox WHERE kind = 'invite' AND username = 'bob'"
rctl_ok user disable zoe zoe
assert_sql 1 "SELECT count(*) FROM audit_log WHERE subject = 'zoe' AND action = 'disable'"

note "--from names lines, not their content"
printf 'root:$6$Zm9vYmFy$secrethash:19000:0:99999:7:::\nerin\n# comment\n\ndaemon:*:19000:0:99999:7:::\n' \
	>"$TEST_TMP/shadow"
before=$(sql_dump people audit_log outbox)
run_rctl user disable --from "$TEST_TMP/shadow"
assert_rc 1 "user disable --from a file of unknown lines"
assert_contains "$ERR" "$TEST_TMP/shadow:1: no such user in the store"
assert_contains "$ERR" "$TEST_TMP/shadow:5: no such user in the store"
assert_not_contains "$ERR" 'secrethash'
assert_not_contains "$ERR" 'root:'
assert_not_contains "$ERR" 'daemon:'
assert_contains "$ERR" "2 of 3 failed: nothing was changed"
assert_eq "$before" "$(sql_dump people audit_log outbox)" "nothing changed"
run "$ROSTERCTL" -c "$CONF" assign --from - NOPE <<<$'x:secret\n'
assert_rc 1
assert_contains "$ERR" "standard input:1: no such user in the store"
assert_not_contains "$ERR" 'secret'

note "the operator"
me=$(id -un)
rctl_ok user invite carol
assert_sql "operator:$me" "SELECT actor FROM audit_log WHERE subject = 'carol' AND action = 'invite'"
if [ "$(id -u)" -eq 0 ]; then
	# root with a SUDO_UID that is not SUDO_USER's: not sudo's doing
	SUDO_USER=daemon SUDO_UID=12345 rctl_ok user invite dave
	assert_sql "operator:root" "SELECT actor FROM audit_log WHERE subject = 'dave' AND action = 'invite'"
	SUDO_USER=nobody SUDO_UID=65534 rctl_ok user invite erin
	assert_sql "operator:nobody" "SELECT actor FROM audit_log WHERE subject = 'erin' AND action = 'invite'"
fi

note "usage errors say what is wrong"
run_rctl user frobnicate
assert_rc 2
assert_contains "$ERR" 'user: unknown subcommand "frobnicate"'
run_rctl user
assert_rc 2
assert_contains "$ERR" 'user needs a subcommand'
run_rctl group frob
assert_rc 2
assert_contains "$ERR" 'group: unknown subcommand "frob"'
run_rctl run approve 99999999999999999999
assert_rc 2 "run approve of an id beyond 64 bits"
assert_contains "$ERR" 'run approve: "99999999999999999999" is not a run id'
run_rctl run approve ""
assert_rc 2 "run approve of an empty id"
rctl_ok user show alice --format json
assert_json '.username' alice
rctl_ok user show alice --format table
assert_match "$OUT" '^username +alice$'
run_rctl user show alice --format csv
assert_rc 2
assert_contains "$ERR" 'user show: --format must be table or json, not "csv"'
