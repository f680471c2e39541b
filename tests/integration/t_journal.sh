#!/usr/bin/env bash
# t_journal: logging to the systemd journal with rosterd's fields.
# rosterd runs as under systemd: stderr is a file named by JOURNAL_STREAM,
# and the journal's socket /run/systemd/journal/socket is read by
# tests/tools/notify-listen, in a private mount namespace (unshare -m, a
# fresh tmpfs on /run) so that no real journal is touched.
# Proves: messages go to the journal natively, nothing to stderr; each has
# PRIORITY, SYSLOG_IDENTIFIER=rosterd and, during a run, ROSTERD_RUN; a
# rejected entry carries ROSTERD_DN, a plugin's message ROSTERD_PLUGIN and
# ROSTERD_USER; the end of a run carries the fixed
# MESSAGE_ID of "completed", "held" or "failed" (rosterd(8)); with -d the
# messages go to stderr instead; debug (-v) shows the config without the
# bind password.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service.sh"

JLOG=$TEST_TMP/journal.log
: >"$JLOG"
ERRF=$TEST_TMP/stderr

# in_journal ARGS...: rosterd -c $CONF ARGS... with its journal; RC, ERR; the
# new journal lines in JNEW.
in_journal() {
	local before
	before=$(wc -l <"$JLOG")
	RC=0
	JLOG=$JLOG ERRF=$ERRF CONF=$CONF unshare -m --propagation private bash -c '
		set -e
		mount -t tmpfs tmpfs /run
		mkdir -p /run/systemd/journal
		sock=/run/systemd/journal/socket
		"$0" "$sock" >>"$JLOG" &
		lp=$!
		for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
		: >"$ERRF"
		rc=0
		JOURNAL_STREAM=$(stat -c %d:%i "$ERRF") "$ROSTERD" -c "$CONF" "$@" 2>"$ERRF" >/dev/null || rc=$?
		# Datagrams keep their order: once END=1 is read, all of rosterd'"'"'s are.
		NOTIFY_SOCKET=$sock systemd-notify END=1
		for _ in $(seq 200); do grep -q "END=1" "$JLOG" && break; sleep 0.05; done
		kill "$lp"
		exit "$rc"' "$NOTIFY_TOOL" "$@" || RC=$?
	ERR=$(cat "$ERRF")
	JNEW=$(tail -n +"$((before + 1))" "$JLOG" | grep -Ev 'END=1|BARRIER=1' || true)
	echo "+ rosterd $* (journal) -> exit $RC"
	printf '%s\n' "$JNEW" | sed 's/^/  journal| /'
	_t_check_crash rosterd
	grep -q 'END=1' "$JLOG" || fail "the journal listener did not see the end marker"
}

# jline REGEX...: the journal line (of the last run) matching every REGEX.
jline() {
	local l
	l=$(printf '%s\n' "$JNEW")
	for re in "$@"; do l=$(printf '%s\n' "$l" | grep -E -- "$re" || true); done
	[ -n "$l" ] || fail "no journal line matching all of: $*" "$(_t_show journal "$JNEW")"
	printf '%s\n' "$l" | head -1
}

start_directory "$FIXTURES/people-collide.ldif"
# people-collide.ldif has 3 rejects in 7 entries: sync.max_reject_percent off.
export ROSTERD_CONF_SYNC='max_disable = 0; max_disable_percent = 100.0; initial_status = "invited";
  max_reject_percent = 100.0;'
write_conf

note "a completed run, with a plugin that logs"
ROSTERD_CONF_PLUGINS="{ name = \"course_rules\"; path = \"$(dirname "$ROSTERD")/plugins/course_rules.so\";
  rules = ( { everyone = true; courses = [ \"NOPE\" ]; } ); }" write_conf
in_journal --once -v
write_conf
assert_rc 0
assert_eq "" "$ERR" "nothing on stderr when the journal takes the messages"
jline 'MESSAGE_ID=8999f25434b348139e27e1c1df575d89' 'PRIORITY=6' 'SYSLOG_IDENTIFIER=rosterd' \
	'ROSTERD_RUN=1' 'MESSAGE=run 1 ok: 7 entries read' >/dev/null
jline 'PRIORITY=4' 'ROSTERD_RUN=1' 'ROSTERD_DN=cn=Sam Two,ou=people,dc=example,dc=com' \
	'MESSAGE=entry "cn=Sam Two,ou=people,dc=example,dc=com" rejected' >/dev/null
jline 'PRIORITY=7' 'MESSAGE=config: bind_dn .*password from file .*bind\.pw \(not shown\)' >/dev/null
assert_not_contains "$JNEW" "$SLAPD_SVC_PW" "the bind password is never logged"
# a plugin's message names the plugin and the person it was about
jline 'PRIORITY=4' 'ROSTERD_PLUGIN=course_rules' 'ROSTERD_USER=ann' 'ROSTERD_RUN=1' \
	'MESSAGE=plugin course_rules: assign refused: no course "NOPE"' >/dev/null
startup=$(jline 'MESSAGE=config .*ldap\.uri')
assert_not_contains "$startup" "ROSTERD_RUN" "no run field outside a run"

note "a held run"
ldap_admin_delete "uid=ann,$PEOPLE"
in_journal --once
assert_rc 4
jline 'MESSAGE_ID=e690c92b27fc41f4a276008b1c5b63e9' 'PRIORITY=3' 'ROSTERD_RUN=2' 'MESSAGE=run 2 held' >/dev/null

note "a failed run"
slapd_stop "$SLAPD_HOME"
in_journal --once
assert_rc 3
jline 'MESSAGE_ID=03d2974b3b2c4a1ea16eb652d7800278' 'PRIORITY=3' 'ROSTERD_RUN=3' 'MESSAGE=run 3 failed' >/dev/null

note "-d: stderr even under systemd"
in_journal --once -d
assert_rc 3
assert_eq "" "$JNEW" "nothing to the journal with -d"
assert_contains "$ERR" "rosterd: error: run 4 failed"
