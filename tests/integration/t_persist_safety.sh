#!/usr/bin/env bash
# t_persist_safety: the safety thresholds in sync.mode = "persist", where a
# mass deletion comes as many small batches, each under the thresholds.
# Proves: deletions are missing people disabled through the thresholds; the
# disables of the runs within sync.threshold_window add up, and the batch
# that takes them over sync.max_disable (5) is held: rolled back (the person
# keeps access), recorded as held, its cookie not kept; the hold is told in
# the log, STATUS= and rosterctl status; deletions made while held are not
# applied; once the run is approved, the changes are applied from the kept
# cookie (the window starts again at the approval), and the next batches
# count in the new window: the sixth disable since the approval is held
# again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service.sh"

start_directory <(gen_people 20)
ROSTERD_CONF_SYNC='mode = "persist"; interval = 10; retry_delay = 1; max_disable = 5;
  max_disable_percent = 100.0; threshold_window = 3600; initial_status = "active";' write_conf
kept() { sql "SELECT value FROM state WHERE key = 'source:refresh'"; }
status_of() { col "$(printf 'user%05d' "$1")" status; }
_t_status_is() { [ "$(status_of "$1")" = "$2" ]; }
# delete N: delete userN; disabled: wait (at most 5 s) until it is disabled.
delete() { ldap_admin_delete "$(p "$(printf 'user%05d' "$1")")"; }
disabled() {
	wait_for 5 _t_status_is "$1" disabled ||
		fail "user$1 not disabled within 5 s" "$(_t_show "rosterd stderr" "$(tail -n 20 "$SVC_ERR")")"
}

notify_start
svc_start
wait_notify 0 'STATUS=Persist: up to date since'
assert_eq "ok 20 0 0 0 0 0" "$(run_counts)"

note "five deletions, one batch each: within sync.max_disable"
for n in 20 19 18 17 16; do
	delete "$n"
	disabled "$n"
done
assert_sql 5 "SELECT count(*) FROM sync_runs WHERE kind = 'incremental' AND outcome = 'ok' AND disabled = 1"
cookie=$(kept)

note "the sixth within the window is held"
mark=$(notify_mark)
delete 15
wait_notify "$mark" 'STATUS=Held\. Run [0-9]+ is over the safety thresholds; no change is applied until rosterctl run approve [0-9]+'
held=$(last_run id)
assert_eq "held incremental" "$(last_run "outcome || ' ' || kind" | tr '|' ' ')"
assert_match "$(last_run error)" '^6 disables \(1 in this run, 5 before it in the last 3600 s: sync.threshold_window\) exceed sync.max_disable \(5\)$'
assert_eq active "$(status_of 15)" "the held batch was rolled back"
assert_eq "$cookie" "$(kept)" "the held batch's cookie is not kept"
svc_log_wait "run $held held: 6 disables"
rctl_ok status
assert_contains "$OUT" "held run $held awaits approval"

note "deletions while held are not applied"
delete 14
delete 13
sleep 2
assert_eq "active active" "$(status_of 14) $(status_of 13)" "nothing applied while held"
assert_eq "$held" "$(last_run id)" "no run while held"

note "approved: the changes are applied from the kept cookie"
mark=$(notify_mark)
rctl_ok run approve "$held"
for n in 15 14 13; do disabled "$n"; done
wait_notify "$mark" 'STATUS=Persist: up to date since'
assert_eq "ok refresh 3" "$(last_run "outcome || ' ' || kind || ' ' || disabled" | tr '|' ' ')" \
	"one refresh run from the kept cookie with the three deletions"
assert_ne "$cookie" "$(kept)" "the cookie moved on"
svc_log_wait "held run $held was approved"

note "the window starts again at the approval: the sixth disable since is held"
for n in 12 11; do
	delete "$n"
	disabled "$n"
done
mark=$(notify_mark)
delete 10
wait_notify "$mark" 'STATUS=Held\. Run [0-9]+'
assert_eq held "$(last_run outcome)"
assert_match "$(last_run error)" '^6 disables \(1 in this run, 5 before it'
assert_eq active "$(status_of 10)"
assert_sql 10 "SELECT count(*) FROM people WHERE status = 'active'" "five disabled before the hold, five after its approval"

svc_stop TERM
assert_rc 0
