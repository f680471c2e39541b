#!/usr/bin/env bash
# t_persist_nosync: sync.mode = "persist" against a directory without content
# synchronisation (slapd without the syncprov overlay on its database).
# Proves: the service reads the whole directory instead (runs of kind full),
# says so once in the log and in STATUS=, reads it again sync.interval seconds
# later (a person added meanwhile is created), and keeps no cookie.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service.sh"

SLAPD_NO_SYNCPROV=1 start_directory "$FIXTURES/people-small.ldif"
write_conf 'mode = "persist"; interval = 10; retry_delay = 1;'
notify_start
svc_start
wait_notify 0 'STATUS=Idle\. Last run [0-9:]{8}: 10 created \(the directory offers no content synchronisation: a full run every 10 s\)'
svc_log_wait 'reading everything in each run instead'
assert_eq "full ok" "$(last_run "kind || ' ' || outcome" | tr '|' ' ')"

note "the next full run, sync.interval later"
ldif_person latecomer Late Comer | ldap_admin_add
mark=$(notify_mark)
wait_notify "$mark" 'STATUS=Idle\. Last run [0-9:]{8}: 1 created' 20
assert_eq invited "$(col latecomer status)" "the person added meanwhile is created"
assert_sql "full full" "SELECT group_concat(kind, ' ') FROM sync_runs WHERE outcome = 'ok'"
assert_sql 0 "SELECT count(*) FROM state WHERE key = 'source:refresh'" "no cookie kept"
svc_stop TERM
assert_rc 0
assert_eq 1 "$(grep -c 'reading everything in each run instead' <<<"$ERR")" "said once"
