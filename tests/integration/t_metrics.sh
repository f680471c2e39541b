#!/usr/bin/env bash
# t_metrics: the Prometheus textfile (metrics.textfile) and rosterctl status.
# Proves: after a run the file holds people by status, the last run's
# outcome, duration, start/end timestamps (those of the run record) and
# counts, and counters over all runs; every sample line is well formed and
# every metric has HELP and TYPE; the figures are those of rosterctl status
# --json, and after a held run and a run with the directory down they follow
# (held and failed counted, directory errors counted, held changes not
# added); no temporary file is left beside it; a file that cannot be written
# is a warning, not a failed run; the service writes it at start too.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
PROM=$TEST_TMP/prom/rosterd.prom
mkdir -p "$TEST_TMP/prom"
# conf_metrics TEXTFILE [SYNC_EXTRA]: the config with a metrics group.
conf_metrics() {
	write_conf "${2:-}"
	printf 'metrics = { textfile = "%s"; };\n' "$1" >>"$CONF"
}
export ROSTERD_CONF_SYNC='max_disable_percent = 100.0; initial_status = "invited";'
conf_metrics prom/rosterd.prom 'max_disable = 1;'
sync_once
assert_file_exists "$PROM"
m=$(cat "$PROM")

# metric NAME [LABELS]: the value of one sample.
metric() {
	local v k=$1
	[ -z "${2:-}" ] || k="$1{$2}"
	v=$(awk -v k="$k" '$1 == k { print $2 }' "$PROM")
	[ -n "$v" ] || fail "no sample $k in the metrics file" "$(_t_show metrics "$(cat "$PROM")")"
	printf '%s\n' "$v"
}

note "format"
bad=$(grep -Ev '^# (HELP|TYPE) rosterd_[a-z_]+ .+$|^rosterd_[a-z_]+(\{[a-z]+="[a-z]+"\})? -?[0-9]+(\.[0-9]+)?$' "$PROM" || true)
assert_eq "" "$bad" "lines that are neither HELP/TYPE nor a sample"
for name in $(sed -n 's/^\(rosterd_[a-z_]*\).*/\1/p' "$PROM" | sort -u); do
	assert_match "$m" "^# HELP $name " "HELP for $name"
	assert_match "$m" "^# TYPE $name (gauge|counter)$" "TYPE for $name"
done
assert_eq "" "$(find "$TEST_TMP/prom" -type f ! -name rosterd.prom)" "no temporary file left"
assert_eq 644 "$(stat -c %a "$PROM")" "the metrics file is readable by the scraper"

note "figures after one run"
assert_eq 10 "$(metric rosterd_people 'status="invited"')"
assert_eq 0 "$(metric rosterd_people 'status="disabled"')"
assert_eq 1 "$(metric rosterd_last_run_outcome 'outcome="ok"')"
assert_eq 0 "$(metric rosterd_last_run_outcome 'outcome="failed"')"
assert_eq 10 "$(metric rosterd_last_run_entries_read)"
assert_eq 10 "$(metric rosterd_last_run_changes 'change="created"')"
assert_eq 1 "$(metric rosterd_runs_total 'outcome="ok"')"
assert_eq 10 "$(metric rosterd_changes_total 'change="created"')"
assert_eq 0 "$(metric rosterd_directory_errors_total)"
assert_eq "$(date -d "$(sql "SELECT started_at FROM sync_runs")" +%s)" "$(metric rosterd_last_run_start_timestamp_seconds)"
assert_eq "$(date -d "$(sql "SELECT finished_at FROM sync_runs")" +%s)" "$(metric rosterd_last_run_end_timestamp_seconds)"
assert_eq "$(printf '%.3f' "$(sql "SELECT duration FROM sync_runs")")" "$(metric rosterd_last_run_duration_seconds)"

note "a held run, then the directory down"
ldap_admin_delete "uid=alice,$PEOPLE" "uid=bob,$PEOPLE"
sync_once 4
assert_eq 1 "$(metric rosterd_last_run_outcome 'outcome="held"')"
assert_eq 2 "$(metric rosterd_last_run_changes 'change="disabled"')"
assert_eq 0 "$(metric rosterd_changes_total 'change="disabled"')" "a held run's disables are not counted as done"
assert_eq 1 "$(metric rosterd_runs_total 'outcome="held"')"
slapd_stop "$SLAPD_HOME"
sync_once 3
assert_eq 1 "$(metric rosterd_last_run_outcome 'outcome="failed"')"
assert_eq 1 "$(metric rosterd_runs_total 'outcome="failed"')"
assert_eq 1 "$(metric rosterd_directory_errors_total)"

note "rosterctl status shows the same figures"
rctl_ok status --json
assert_json '.people.invited' "$(metric rosterd_people 'status="invited"')"
assert_json '.totals.runs_ok' "$(metric rosterd_runs_total 'outcome="ok"')"
assert_json '.totals.runs_held' "$(metric rosterd_runs_total 'outcome="held"')"
assert_json '.totals.runs_failed' "$(metric rosterd_runs_total 'outcome="failed"')"
assert_json '.totals.created' "$(metric rosterd_changes_total 'change="created"')"
assert_json '.totals.directory_errors' "$(metric rosterd_directory_errors_total)"
assert_json '.last_run.id' "$(metric rosterd_last_run_id)"
rctl_ok status
assert_contains "$OUT" "all runs: 1 ok, 0 incomplete, 1 held, 1 failed; 10 created, 0 updated, 0 disabled, 0 enabled; 1 directory errors"

note "a file that cannot be written: a warning, the run goes on"
slapd_start "$SLAPD_HOME"
conf_metrics no/such/dir/rosterd.prom 'max_disable = 10;'
sync_once 0
assert_contains "$ERR" "warning: metrics: $TEST_TMP/no/such/dir/rosterd.prom."
assert_eq ok "$(last_run outcome)"

note "the service writes it at start"
rm -f "$PROM"
conf_metrics prom/rosterd.prom 'max_disable = 10; interval = 3600;'
bg_rosterd
wait_for 10 test -e "$PROM" || fail "no metrics file from the service"
kill -TERM "$BG_PID"
bg_wait 15
assert_rc 0
