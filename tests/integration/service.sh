# shellcheck shell=bash
# tests/integration/service.sh: sourced (after lib.sh) by the tests that drive
# rosterd as a service, the way systemd does: NOTIFY_SOCKET names a datagram
# socket that tests/tools/notify-listen reads, WATCHDOG_USEC/WATCHDOG_PID ask
# for watchdog pings. Every message rosterd sends the "service manager" is a
# line of $NOTIFY_LOG: "SECONDS FIELD=value<TAB>FIELD=value...".
#
#   notify_start             start the listener (killed at exit)
#   svc_start [ARGS...]      rosterd -c $CONF ARGS... in the background, pid SVC_PID,
#                            stderr in $TEST_TMP/svc.err; SVC_WATCHDOG_USEC applies
#   notify_mark              the number of lines of $NOTIFY_LOG so far
#   wait_notify MARK REGEX [SECONDS]   wait (default 15 s) for a line after MARK
#                            matching the extended REGEX; the line in NOTIFY_LINE
#   notify_since MARK        the lines after MARK
#   svc_log_wait REGEX [SECONDS]       wait for a line of rosterd's stderr
#   svc_stop [SIGNAL]        send SIGNAL (TERM), wait at most 15 s for the exit;
#                            exit status in RC, stderr in ERR (crashes fail)

NOTIFY_TOOL=$(dirname "$ROSTERD")/tools/notify-listen
NOTIFY_SOCK=$TEST_TMP/notify.sock
NOTIFY_LOG=$TEST_TMP/notify.log
SVC_ERR=$TEST_TMP/svc.err
[ -x "$NOTIFY_TOOL" ] || fail "no $NOTIFY_TOOL: build it with make unit-bin"

notify_start() {
	"$NOTIFY_TOOL" "$NOTIFY_SOCK" >"$NOTIFY_LOG" 2>"$TEST_TMP/notify.err" &
	track_pid $!
	wait_for 10 test -S "$NOTIFY_SOCK" || fail "notify-listen did not bind $NOTIFY_SOCK"
}

svc_start() {
	# exec keeps the pid, so WATCHDOG_PID=$$ names rosterd itself.
	NOTIFY_SOCKET=$NOTIFY_SOCK WATCHDOG_USEC=${SVC_WATCHDOG_USEC:-} \
		sh -c 'WATCHDOG_PID=$$; export WATCHDOG_PID; [ -n "$WATCHDOG_USEC" ] || unset WATCHDOG_USEC WATCHDOG_PID; exec "$0" "$@"' \
		"$ROSTERD" -c "$CONF" "$@" >"$TEST_TMP/svc.out" 2>"$SVC_ERR" &
	SVC_PID=$!
	track_pid "$SVC_PID"
	echo "+ rosterd service $* & (pid $SVC_PID)"
}

notify_mark() { wc -l <"$NOTIFY_LOG" | tr -d ' '; }
notify_since() { tail -n +"$(($1 + 1))" "$NOTIFY_LOG"; }

_t_notify_has() { NOTIFY_LINE=$(grep -E -m 1 -- "$2" < <(notify_since "$1")) ; }
wait_notify() {
	wait_for "${3:-15}" _t_notify_has "$1" "$2" ||
		fail "no notification matching /$2/ within ${3:-15} s" \
			"$(_t_show "notifications since line $1" "$(notify_since "$1")")" \
			"$(_t_show "rosterd stderr" "$(tail -n 20 "$SVC_ERR")")"
}

_t_svc_err_has() { grep -Eq -- "$1" "$SVC_ERR"; }
svc_log_wait() {
	wait_for "${2:-15}" _t_svc_err_has "$1" ||
		fail "rosterd logged nothing matching /$1/ within ${2:-15} s" \
			"$(_t_show "rosterd stderr" "$(tail -n 30 "$SVC_ERR")")"
}

svc_stop() {
	kill -"${1:-TERM}" "$SVC_PID"
	wait_for 15 _t_stopped "$SVC_PID" || fail "rosterd did not stop within 15 s of SIG${1:-TERM}"
	RC=0
	wait "$SVC_PID" || RC=$?
	ERR=$(cat "$SVC_ERR")
	echo "+ rosterd service (pid $SVC_PID) -> exit $RC"
	_t_check_crash rosterd
}

# wait_notify_count MARK REGEX N [SECONDS]: wait for N lines after MARK matching REGEX.
_t_notify_count() { [ "$(notify_since "$1" | grep -E -c -- "$2")" -ge "$3" ]; }
wait_notify_count() {
	wait_for "${4:-15}" _t_notify_count "$1" "$2" "$3" ||
		fail "fewer than $3 notifications matching /$2/ within ${4:-15} s" \
			"$(_t_show "notifications since line $1" "$(notify_since "$1")")"
}

# The status lines sent since MARK, one a line, without the "STATUS=".
statuses_since() { notify_since "$1" | cut -d' ' -f2- | tr '\t' '\n' | sed -n 's/^STATUS=//p'; }
