#!/usr/bin/env bash
# t_persist: sync.mode = "persist" (RFC 4533 refreshAndPersist against slapd's
# syncprov) under the service, driven as systemd would.
# Proves: the first run reads everyone (a run of kind full) and the service
# then follows the directory: an add, a modify, a modrdn, a delete and a
# group change each reach the store within a few seconds, each in a run of
# kind incremental (audit rows name it); STATUS= says when the last change
# was applied, and the watchdog is fed while idle; slapd restarted: the
# service starts again from the cookie (a refresh run, not a full one),
# disables no one for the gap, and a change made meanwhile arrives; slapd
# SIGSTOPped longer than sync.interval + ldap.timeout: the silent server is
# found out (the session is started again when it answers), the watchdog
# goes on, nothing is disabled, and the change made meanwhile arrives;
# rosterd restarted with no change: the session resumes from the kept
# cookie (a refresh run reading nothing, the cookie kept); after
# sync.interval without a change, a periodic run (a refresh); SIGUSR1: a
# refresh from nothing (kind full), then changes are followed again;
# SIGHUP with a changed filter: reloaded, the cookie (kept for another
# search) not used, a refresh from nothing, followed again; rosterctl runs
# --kind incremental, and
# successive incremental runs that changed nothing are one row.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service.sh"

start_directory "$FIXTURES/people-small.ldif"
ldif_group eng "$(p alice)" "$(p bob)" | ldap_admin_add
sync_keys='mode = "persist"; interval = 10; retry_delay = 1; max_disable = 50;
  max_disable_percent = 100.0; initial_status = "active";'
ROSTERD_CONF_TIMEOUT=2 ROSTERD_CONF_SYNC="$sync_keys" write_conf
kept() { sql "SELECT value FROM state WHERE key = 'source:refresh'"; }
# in_store SQL EXPECTED: wait (at most 5 s: a generous bound) until SQL gives EXPECTED.
_t_sql_is() { [ "$(sql "$1")" = "$2" ]; }
in_store() {
	wait_for 5 _t_sql_is "$1" "$2" ||
		fail "the store did not show the change within 5 s: $1" \
			"$(_t_show expected "$2")" "$(_t_show got "$(sql "$1")")" \
			"$(_t_show "rosterd stderr" "$(tail -n 20 "$SVC_ERR")")"
}
kinds_since() { sql "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM sync_runs WHERE id > $1 ORDER BY id)"; }
enabled() { sql "SELECT count(*) FROM people WHERE status = 'active'"; }

notify_start
SVC_WATCHDOG_USEC=1000000 svc_start
wait_notify 0 'READY=1'
wait_notify 0 'STATUS=Persist: up to date since [0-9:]{8}\. Last change applied [0-9:]{8} \(run 1: 10 created\)'
assert_eq "full" "$(kinds_since 0)" "the first run reads everyone"
assert_eq "ok 10 0 0 0 0 0" "$(run_counts)"
assert_match "$(kept)" '^v1 fp=[0-9a-f]{16} full=[0-9]+ people=[0-9a-f]+ groups=[0-9a-f]+$' "the cookies are kept"

note "each change reaches the store within a few seconds, a run of its own"
mark=$(notify_mark)
set_attr "uid=bob,$PEOPLE" title "Chief Engineer"
in_store "SELECT title FROM people WHERE username = 'bob'" "Chief Engineer"
wait_notify "$mark" 'STATUS=Persist: up to date since [0-9:]{8}\. Last change applied [0-9:]{8} \(run 2: 1 updated\)'
ldif_person newbie New Bie "manager: uid=alice,$PEOPLE" | ldap_admin_add
in_store "SELECT status FROM people WHERE username = 'newbie'" active
in_store "SELECT m.username FROM person_managers pm JOIN people p ON p.id = pm.person_id
	JOIN people m ON m.id = pm.manager_id WHERE p.username = 'newbie'" alice
ldap_admin_modrdn "uid=frank,$PEOPLE" "uid=frank.foster"
in_store "SELECT username FROM people WHERE dn = 'uid=frank.foster,$PEOPLE'" frank.foster
ldap_admin_delete "uid=dave,$PEOPLE"
in_store "SELECT status || ' ' || status_reason FROM people WHERE username = 'dave'" "disabled missing"
set_attr "$(g eng)" member "$(p alice)" "$(p bob)" "$(p newbie)"
in_store "SELECT count(*) FROM group_membership gm JOIN groups g ON g.id = gm.group_id
	JOIN people p ON p.id = gm.person_id WHERE g.name = 'eng' AND p.username = 'newbie'" 1
assert_sql 5 "SELECT count(*) FROM sync_runs WHERE id > 1 AND kind = 'incremental'" \
	"each change a batch of its own, recorded as an incremental run"
assert_no_match "$(kinds_since 1)" full "no full run"
assert_sql "$(sql "SELECT id FROM sync_runs WHERE disabled = 1")" \
	"SELECT run_id FROM audit_log WHERE action = 'disable' AND subject LIKE '%dave%'" \
	"the audit row names the incremental run that disabled dave"
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome <> 'ok'"

note "the watchdog is fed while idle"
mark=$(notify_mark)
sleep 2
pings=$(notify_since "$mark" | grep -c 'WATCHDOG=1' || true)
[ "$pings" -ge 3 ] || fail "expected at least 3 WATCHDOG=1 in 2 s with WATCHDOG_USEC=1 s, got $pings"

note "slapd restarted: the session starts again from the cookie"
runs=$(last_run id)
before=$(enabled)
mark=$(notify_mark)
slapd_stop "$SLAPD_HOME"
wait_notify "$mark" 'STATUS=Directory unreachable, retry in [0-9]+ s' 10
slapd_start "$SLAPD_HOME"
grep -q "$SLAPD_URI" "$CONF" || fail "slapd came back on another port; the test cannot go on"
set_attr "uid=carol,$PEOPLE" title "Made While Away"
in_store "SELECT title FROM people WHERE username = 'carol'" "Made While Away"
wait_notify "$mark" 'STATUS=Persist: up to date since' 10
assert_no_match "$(kinds_since "$runs")" 'full' "no refresh from nothing after a restart of slapd"
assert_match "$(kinds_since "$runs")" 'refresh' "the session started again with a refresh run"
assert_eq "$before" "$(enabled)" "no one disabled for the gap"
svc_log_wait "directory reachable again"

note "slapd stopped (SIGSTOP) longer than sync.interval: found out, then followed again"
runs=$(last_run id)
slapd_pause "$SLAPD_HOME"
(set_attr "uid=alice,$PEOPLE" title "Made While Stopped") >"$TEST_TMP/paused-modify.log" 2>&1 &
modify_pid=$!
track_pid "$modify_pid"
mark=$(notify_mark)
svc_log_wait "no answer on the persistent search's connection" 20
slapd_resume "$SLAPD_HOME"
pings=$(notify_since "$mark" | grep -c 'WATCHDOG=1' || true)
[ "$pings" -ge 5 ] || fail "the watchdog went quiet while slapd was stopped ($pings pings)"
wait "$modify_pid" || fail "the modify made while slapd was stopped failed" "$(cat "$TEST_TMP/paused-modify.log")"
in_store "SELECT title FROM people WHERE username = 'alice'" "Made While Stopped"
assert_eq "$before" "$(enabled)" "no one disabled for the pause"
assert_no_match "$(kinds_since "$runs")" 'full' "no refresh from nothing after the pause"
assert_sql 1 "SELECT count(*) > 0 FROM sync_runs WHERE id > $runs AND kind = 'refresh'
	AND entries_read = 0 AND outcome = 'ok'" "the periodic run, sync.interval after the last change"

note "rosterd restarted with no change: resumes from the kept cookie"
svc_stop TERM
assert_rc 0 "rosterd stopped"
cookie=$(kept)
runs=$(last_run id)
mark=$(notify_mark)
SVC_WATCHDOG_USEC=1000000 svc_start
wait_notify "$mark" 'STATUS=Persist: up to date since'
assert_sql "refresh ok 0" "SELECT kind || ' ' || outcome || ' ' || entries_read FROM sync_runs
	WHERE id > $runs ORDER BY id LIMIT 1" "a refresh run that read nothing, not a full one"
assert_eq "$cookie" "$(kept)" "the cookie is kept as it was"
set_attr "uid=bob,$PEOPLE" title "After Restart"
in_store "SELECT title FROM people WHERE username = 'bob'" "After Restart"

note "changes that change nothing in the store: one row in rosterctl runs"
runs=$(last_run id)
for i in 1 2 3; do
	set_attr "uid=bob,$PEOPLE" description "noise $i"
	in_store "SELECT count(*) FROM sync_runs WHERE id > $runs AND kind = 'incremental'" "$i"
done
rctl_ok runs --limit 1 --format json
assert_json '.[0] | [.kind, .runs, .updated] | map(tostring) | join(" ")' "incremental 3 0"
rctl_ok runs --kind incremental --each --limit 3 --format csv
assert_eq 4 "$(wc -l <<<"$OUT")" "--each lists every run"
rctl_ok runs --kind full --format csv
assert_eq 2 "$(wc -l <<<"$OUT")" "one full run so far"

note "SIGUSR1: a refresh from nothing, then changes are followed again"
runs=$(last_run id)
kill -USR1 "$SVC_PID"
in_store "SELECT count(*) FROM sync_runs WHERE id > $runs AND kind = 'full' AND outcome = 'ok'" 1
set_attr "uid=carol,$PEOPLE" title "After Full"
in_store "SELECT title FROM people WHERE username = 'carol'" "After Full"

note "SIGHUP with another filter: reloaded, the searches start from nothing, followed again"
runs=$(last_run id)
mark=$(notify_mark)
ROSTERD_CONF_USERS_FILTER='(&(objectClass=inetOrgPerson)(uid=*))' ROSTERD_CONF_TIMEOUT=2 \
	ROSTERD_CONF_SYNC="$sync_keys" write_conf
kill -HUP "$SVC_PID"
wait_notify "$mark" 'READY=1'
svc_log_wait "configuration reloaded"
in_store "SELECT group_concat(kind) FROM sync_runs WHERE id > $runs" full
set_attr "uid=carol,$PEOPLE" title "After Reload"
in_store "SELECT title FROM people WHERE username = 'carol'" "After Reload"

svc_stop TERM
assert_rc 0 "rosterd stopped"
grep -q 'STOPPING=1' "$NOTIFY_LOG" || fail "no STOPPING=1 at SIGTERM"
assert_contains "$ERR" "started: following"
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome NOT IN ('ok', 'failed')"
