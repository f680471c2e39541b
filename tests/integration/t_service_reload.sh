#!/usr/bin/env bash
# t_service_reload: SIGHUP re-reads the configuration.
# Proves: SIGHUP sends RELOADING=1 with MONOTONIC_USEC, then READY=1; a
# broken new config (unknown key) is logged with file:line: key and the
# service keeps running on the old one (the next run, asked for by SIGUSR1,
# still syncs into the old store, and the status says the reload failed);
# a good new config (another store path) is taken, and the next run syncs
# into the new store; a config whose plugin is refused (wrong ABI) is not
# taken either, and one with a new plugin is, the plugin seeing the next
# run; SIGTERM then exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service.sh"

start_directory "$FIXTURES/people-small.ldif"
write_conf 'interval = 3600;'
notify_start
svc_start
wait_notify 0 'STATUS=Idle\. Last run [0-9:]{8}: 10 created'

note "a broken config is refused, the old one kept"
cp "$CONF" "$TEST_TMP/good.conf"
printf 'bogus = 1;\n' >>"$CONF"
mark=$(notify_mark)
kill -HUP "$SVC_PID"
wait_notify "$mark" 'RELOADING=1.*MONOTONIC_USEC=[0-9]+' 5
wait_notify "$mark" 'READY=1' 5
wait_notify "$mark" 'STATUS=Idle\. Last run .*\(reload failed: previous configuration kept\)' 5
svc_log_wait "rosterd.conf:[0-9]+: bogus: unknown key"
svc_log_wait "configuration not reloaded: keeping the one in use"
running "$SVC_PID" || fail "rosterd died on a bad config at SIGHUP"
mark=$(notify_mark)
kill -USR1 "$SVC_PID"
wait_notify "$mark" 'STATUS=Idle\. Last run [0-9:]{8}: no changes' 5
assert_sql "2|ok" "SELECT count(*), min(outcome) FROM sync_runs" "both runs into the old store"

note "a good config is taken"
NEW_DB=$TEST_TMP/new/learning.db
mkdir -p "$TEST_TMP/new"
cp "$TEST_TMP/good.conf" "$CONF"
before=$(cat "$CONF")
point_conf_at "$NEW_DB"
[ "$before" != "$(cat "$CONF")" ] || fail "could not point the config at the new store"
mark=$(notify_mark)
kill -HUP "$SVC_PID"
wait_notify "$mark" 'READY=1' 5
svc_log_wait "configuration reloaded"
mark=$(notify_mark)
kill -USR1 "$SVC_PID"
wait_notify "$mark" 'STATUS=Idle\. Last run [0-9:]{8}: 10 created' 5
DB=$NEW_DB assert_sql "1|ok" "SELECT count(*), min(outcome) FROM sync_runs"
assert_sql 2 "SELECT count(*) FROM sync_runs" "the old store got no third run"

note "plugins are loaded again with the config; a refused plugin keeps the old ones"
TDIR=$(dirname "$ROSTERD")/tests/plugins
EVENTS=$TEST_TMP/events
cp "$CONF" "$TEST_TMP/new.conf"
sed -i "s|^plugins = ( *);|plugins = ( { name = \"old\"; path = \"$TDIR/wrong_major.so\"; } );|" "$CONF"
grep -q wrong_major "$CONF" || fail "could not put a plugin in the config"
mark=$(notify_mark)
kill -HUP "$SVC_PID"
wait_notify "$mark" 'STATUS=.*\(reload failed: previous configuration kept\)' 5
svc_log_wait "was built for plugin ABI 99.3; this rosterd has ABI 1.$(sed -n \
	's/^#define ROSTERD_PLUGIN_ABI_MINOR \([0-9]*\)$/\1/p' "$ROSTERD_TOP/include/rosterd/plugin.h")"
cp "$TEST_TMP/new.conf" "$CONF"
sed -i "s|^plugins = ( *);|plugins = ( { name = \"recorder\"; path = \"$TDIR/recorder.so\"; file = \"$EVENTS\"; } );|" "$CONF"
mark=$(notify_mark)
kill -HUP "$SVC_PID"
wait_notify "$mark" 'READY=1' 5
mark=$(notify_mark)
kill -USR1 "$SVC_PID"
wait_notify "$mark" 'STATUS=Idle\. Last run [0-9:]{8}: no changes' 5
assert_eq "run-end complete=1 dry_run=0" "$(cat "$EVENTS")" "the reloaded plugin saw the run"

svc_stop TERM
assert_rc 0 "rosterd stopped by SIGTERM"
