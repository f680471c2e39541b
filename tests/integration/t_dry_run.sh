#!/usr/bin/env bash
# t_dry_run: --dry-run prints the plan and changes nothing.
# Proves: a dry run fails where the real run could not create the store;
# a dry run before any store exists plans every create (exit 0) and
# creates no store file; with a create, an update, a disable, an enable and a
# reject pending, it prints one line per change in the fixed order (create,
# update, disable, enable, reject) with username, quoted DN and reason, and
# the "plan:" summary; it leaves learning.db and its -wal byte-for-byte
# unchanged (checked with no other connection open, and with a reader holding
# the store open so that the WAL keeps committed frames), records no run and
# no audit; the real run that follows does what was planned; a plan over the
# threshold dry-runs as "would be held" (exit 4), an approved one as going
# through (exit 0) without using up the approval.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";'
write_conf

note "dry run before the first sync"
dry_run 0
assert_eq 10 "$(grep -c '^create ' <<<"$OUT")" "create lines"
assert_match "$OUT" '^create +alice +"uid=alice,ou=people,dc=example,dc=com" +new entry$'
assert_match "$OUT" '^plan: 10 to create, 0 to update \(0 moved\), 0 to disable, 0 to enable, 0 unchanged, 0 rejected; 10 entries read$'
assert_no_store
assert_no_file "$DB-wal"
assert_no_file "$DB-shm"

sync_once
ldif_ou leavers | ldap_admin_add
ldap_admin_modrdn "uid=frank,$PEOPLE" "uid=frank" "ou=leavers,$SUFFIX"
sync_once
assert_sql "disabled" "SELECT status FROM people WHERE username = 'frank'"

note "one change of each kind pending"
ldap_admin_modrdn "uid=frank,ou=leavers,$SUFFIX" "uid=frank" "$PEOPLE"
ldap_admin_delete "uid=carol,$PEOPLE"
set_attr "uid=bob,$PEOPLE" mail bob.baker@example.com
ldif_person newbie New Person | ldap_admin_add
ldap_admin_add <<EOF
dn: cn=No Uid Person,$PEOPLE
objectClass: inetOrgPerson
cn: No Uid Person
sn: Person
EOF
runs_before=$(sql "SELECT count(*) FROM sync_runs")
audit_before=$(sql_dump audit_log)
assert_no_file "$DB-wal"
hash=$(store_hash)
files=$(cd "$TEST_TMP" && echo learning.db*)
dry_run 0
assert_eq "$hash" "$(store_hash)" "store file after a dry run (no other connection)"
assert_eq "$files" "$(cd "$TEST_TMP" && echo learning.db*)" "store files after a dry run"
plan=$(grep -E '^(create|update|disable|enable|reject) ' <<<"$OUT")
assert_eq 5 "$(wc -l <<<"$plan")" "plan lines"
assert_match "$(sed -n 1p <<<"$plan")" '^create +newbie +"uid=newbie,ou=people,dc=example,dc=com" +new entry$'
assert_match "$(sed -n 2p <<<"$plan")" '^update +bob +"uid=bob,ou=people,dc=example,dc=com" +changed: email$'
assert_match "$(sed -n 3p <<<"$plan")" '^disable +carol +"uid=carol,ou=people,dc=example,dc=com" +not found in the directory$'
assert_match "$(sed -n 4p <<<"$plan")" '^enable +frank +"uid=frank,ou=people,dc=example,dc=com" +back in the directory$'
assert_match "$(sed -n 5p <<<"$plan")" '^reject +- +"cn=No Uid Person,ou=people,dc=example,dc=com" +no username'
assert_match "$OUT" '^plan: 1 to create, 1 to update \(0 moved\), 1 to disable, 1 to enable, [0-9]+ unchanged, 1 rejected; 11 entries read$'
assert_not_contains "$OUT" "would be held"
assert_sql "$runs_before" "SELECT count(*) FROM sync_runs" "a dry run records no run"
assert_eq "$audit_before" "$(sql_dump audit_log)" "a dry run writes no audit"

note "the same with a reader holding the store open (WAL with committed frames)"
# (PostgreSQL: a reader in a transaction of its own, for the same dry run)
mkfifo "$TEST_TMP/holder.fifo"
if [ "$STORE" = pg ]; then
	_pg_psql "$PG_DB" <"$TEST_TMP/holder.fifo" >/dev/null 2>&1 &
else
	sqlite3 "$DB" <"$TEST_TMP/holder.fifo" >/dev/null 2>&1 &
fi
track_pid $!
exec {HOLD}>"$TEST_TMP/holder.fifo"
if [ "$STORE" = pg ]; then
	echo "BEGIN; SELECT count(*) FROM rosterd.people;" >&"$HOLD"
else
	echo "BEGIN; SELECT count(*) FROM people;" >&"$HOLD"
fi
set_attr "uid=alice,$PEOPLE" title "Chief Executive Officer"
# A real run commits into the WAL, which the reader's open read transaction
# keeps from being checkpointed and truncated.
sync_once
if [ "$STORE" = sqlite ]; then
	assert_file_exists "$DB-wal"
	[ -s "$DB-wal" ] || fail "the WAL should hold the committed run while a reader has the store open"
fi
set_attr "uid=alice,$PEOPLE" title "Chief Technology Officer"
ldif_person newbie2 Newer Person | ldap_admin_add
hash=$(store_hash)
dry_run 0
assert_contains "$OUT" "newbie2"
assert_eq "$hash" "$(store_hash)" "store file and WAL after a dry run (reader open)"
exec {HOLD}>&-

note "the real run does what was planned"
sync_once
assert_sql "ok|1|1|0|0|0" "SELECT outcome, created, updated, disabled, enabled, rejected - 1 FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_sql "invited|Chief Technology Officer" "SELECT status, title FROM people WHERE username = 'alice'"

note "held and approved plans in a dry run"
export ROSTERD_CONF_SYNC='max_disable = 0; max_disable_percent = 50.0; initial_status = "invited";'
write_conf
ldap_admin_delete "uid=newbie2,$PEOPLE"
dry_run 4
assert_match "$OUT" '^disable +newbie2 '
assert_match "$OUT" '^this run would be held: '
sync_once 4
held=$(last_run id)
rctl_ok run approve "$held"
runs_before=$(sql "SELECT count(*) FROM sync_runs")
dry_run 0
assert_not_contains "$OUT" "would be held"
assert_contains "$ERR" "approved" "a dry run of an approved plan says so on stderr"
assert_sql "" "SELECT approval_used_by FROM sync_runs WHERE id = $held" "a dry run does not use up the approval"
assert_sql "$runs_before" "SELECT count(*) FROM sync_runs"
sync_once 0
assert_sql "$(last_run id)" "SELECT approval_used_by FROM sync_runs WHERE id = $held"
assert_sql "disabled|missing" "SELECT status, status_reason FROM people WHERE username = 'newbie2'"

[ "$STORE" = sqlite ] || exit 0   # (the rest is about a store file)
note "a store whose directory does not exist: the dry run fails as the real run does"
ROSTERD_CONF_STORE_PATH=$TEST_TMP/no-such-dir/learning.db write_conf
dry_run 1
assert_contains "$ERR" "cannot create the store"
assert_contains "$ERR" "(its directory does not exist)"
dry_err=$ERR
sync_once 1
assert_contains "$ERR" "cannot create the store" "the real run fails the same way"
assert_no_file "$TEST_TMP/no-such-dir"
