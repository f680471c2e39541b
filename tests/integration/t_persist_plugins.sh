#!/usr/bin/env bash
# t_persist_plugins: the rule plugins under sync.mode = "persist".
# Proves: each batch hands the plugins its events (a change arrives as an
# "updated" event, a deletion as "missing"), but no run_end (the plugins'
# pass over the rules that depend on time): the run that starts the
# searches makes one, and then a run every sync.interval seconds, recorded
# as a refresh run (with no change waiting it reads nothing); grace runs
# count the batch that found a person missing and such runs, not the other
# batches (a later batch hands the missing person again, runs=1): with
# grace_runs = 2 disable_rules disables the deleted person at the next
# periodic run, audited as plugin:disable_rules.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service.sh"

PDIR=$(dirname "$ROSTERD")/plugins
TDIR=$(dirname "$ROSTERD")/tests/plugins
EVENTS=$TEST_TMP/events
start_directory "$FIXTURES/people-small.ldif"
ROSTERD_CONF_PLUGINS="
  { name = \"disable_rules\"; path = \"$PDIR/disable_rules.so\"; grace_runs = 2; },
  { name = \"recorder\"; path = \"$TDIR/recorder.so\"; file = \"$EVENTS\"; }" \
	write_conf 'mode = "persist"; interval = 10; retry_delay = 1;'
_t_sql_is() { [ "$(sql "$1")" = "$2" ]; }
in_store() {
	wait_for "${3:-5}" _t_sql_is "$1" "$2" ||
		fail "the store did not show the change in time: $1" "$(_t_show got "$(sql "$1")")" \
			"$(_t_show events "$(cat "$EVENTS")")"
}
notify_start
svc_start
wait_notify 0 'STATUS=Persist: up to date since'
assert_eq 1 "$(grep -c '^run-end' "$EVENTS")" "the run that starts the searches makes run_end"
: >"$EVENTS"
runs=$(last_run id)

note "batches: events, no run_end; a deleted person is missing, within grace_runs"
set_attr "uid=bob,$PEOPLE" title "Chief Engineer"
in_store "SELECT title FROM people WHERE username = 'bob'" "Chief Engineer"
ldap_admin_delete "uid=dave,$PEOPLE"
in_store "SELECT missing_since IS NOT NULL FROM people WHERE username = 'dave'" 1
set_attr "uid=carol,$PEOPLE" title "Architect"
in_store "SELECT title FROM people WHERE username = 'carol'" "Architect"
# As in every run, a person still missing is handed again as missing: the
# batch does not count as one more of their runs.
assert_eq "updated bob title
missing dave runs=1
updated carol title
missing dave runs=1" "$(cat "$EVENTS")" "the batches' events, no run_end"
assert_eq invited "$(col dave status)" "not disabled by the batches: grace_runs = 2"
assert_eq "incremental incremental incremental" \
	"$(sql "SELECT group_concat(kind, ' ') FROM sync_runs WHERE id > $runs")"

note "the periodic run: run_end, the second of dave's grace runs"
: >"$EVENTS"
runs=$(last_run id)
in_store "SELECT status || ' ' || status_reason FROM people WHERE username = 'dave'" \
	"disabled disable_rules" 15
assert_eq "missing dave runs=2
run-end complete=1 dry_run=0" "$(cat "$EVENTS")" "the periodic run: dave's second run, and run_end"
assert_eq "refresh 0 ok 1" "$(sql "SELECT kind, entries_read, outcome, plugin_disabled FROM sync_runs WHERE id > $runs" | tr '|' ' ')"
assert_sql "plugin:disable_rules" "SELECT actor FROM audit_log WHERE action = 'disable' AND subject LIKE '%dave%'"
svc_stop TERM
assert_rc 0
