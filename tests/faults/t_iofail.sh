#!/usr/bin/env bash
# t_iofail: the Nth write or sync of the store's files fails (EIO or ENOSPC),
# once or from then on, for N across a whole run (tests/faults/iofail.c, an
# LD_PRELOAD shim counting write/pwrite/pwritev/fsync/fdatasync on the
# store's .db, -wal and -journal files).
# Proves, for two runs (the first sync of 2,000 people in 20 groups into an
# empty store, and a later run with 300 changes): a failure before the run
# has committed makes rosterd exit 1 with an error naming the store file, and
# the store is exactly as before the run (its own failed or unfinished run
# record aside),
# with one exception that is all or nothing all the same: when the commit's
# fdatasync fails for good after its WAL frames were written, the frames are
# in the file and SQLite's recovery, at the next open, may take the commit as
# made; the store then equals the clean run's result (exit 1 still, since
# rosterd cannot know whether the data will last);
# a failure after the commit (the checkpoint when the store is closed) loses
# nothing: exit 0 and the store equals the clean run's result. The store
# always passes integrity_check and foreign_key_check, and a later run with
# no fault goes through.
# Short: N in {1, the commit's last two calls, the last, 2 at random}, each
# with EIO and ENOSPC, once and persistent; LONG=1: every N, with EIO for odd
# N and ENOSPC for even N, once and persistent.
# Under the sanitizer build the shim is preloaded in front of the ASan
# runtime (ASAN_OPTIONS=verify_asan_link_order=0): the shim allocates
# nothing and only forwards calls, and the error paths it opens are exactly
# where leaks would hide, so both passes run it.
. "$(dirname "$0")/lib.sh"

P=2000
RANDOM=777
"$GEN_ORG" "$P" --seed 3 --groups >"$TEST_TMP/org.ldif"
start_directory
# the first run reads an empty subtree, so the store exists, migrated and empty
ROSTERD_CONF_USERS_EXTRA='' write_conf
sed -i "s|base = \"$PEOPLE\";|base = \"ou=groups,$SUFFIX\";|" "$CONF"
sync_once
write_conf
ldap_admin_add <"$TEST_TMP/org.ldif"
mkdir -p "$TEST_TMP/clean"
CLEAN_CONF=$TEST_TMP/clean/rosterd.conf
ROSTERD_CONF_STORE_PATH=$TEST_TMP/clean/learning.db slapd_write_rosterd_conf "$CLEAN_CONF"

total_runs=0
total_fail=0
total_after=0
# sweep NAME: fail each chosen N of the run the directory now calls for.
sweep() {
	local name=$1 calls commit_last n mode err errs list op done_n=0 fails=0 afters=0 synced=0
	assert_eq "0|0|0" "$(sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)')"
	cp "$DB" "$TEST_TMP/pre.db"
	canon_dump "$TEST_TMP/pre.db" noruns >"$TEST_TMP/pre.dump"
	ok_before=$(sqlite3 "$DB" "SELECT count(*) FROM sync_runs WHERE outcome = 'ok'")
	maxid=$(sqlite3 "$DB" "SELECT max(id) FROM sync_runs")

	# the clean run on a copy: its result, and its calls (log lines mark the commit)
	rm -f "$TEST_TMP/clean/learning.db"* "$TEST_TMP/calls"
	cp "$TEST_TMP/pre.db" "$TEST_TMP/clean/learning.db"
	IOFAIL_CLASSES=store,err IOFAIL_LOG="$TEST_TMP/calls" run with_iofail "$ROSTERD" -c "$CLEAN_CONF" --once -v
	assert_rc 0 "the $name run without a fault"
	canon_dump "$TEST_TMP/clean/learning.db" >"$TEST_TMP/clean.dump"
	calls=$(grep -c ' store ' "$TEST_TMP/calls")
	# store calls made before the "committed" log line
	commit_last=$(awk '$3 == "store" { n++ } /debug: committed/ { print n; exit }' "$TEST_TMP/calls")
	[ -n "$commit_last" ] && [ "$commit_last" -gt 3 ] || fail "no commit seen in the call log" "$(head "$TEST_TMP/calls")"
	if [ "$LONG" = 1 ]; then
		list=$(seq 1 "$calls")
	else
		list="1 $((commit_last - 1)) $commit_last $calls"
		for _ in 1 2; do list="$list $((RANDOM % calls + 1))"; done
	fi
	note "$name: $calls store calls, $commit_last up to the commit; N = $(echo $list | tr '\n' ' ' | cut -c1-80)"

	for n in $list; do
		errs="eio enospc"
		[ "$LONG" = 1 ] && errs=$([ $((n % 2)) = 1 ] && echo eio || echo enospc)
		for err in $errs; do
			for mode in once persist; do
				rm -f "$DB"*
				cp "$TEST_TMP/pre.db" "$DB"
				RC=0
				IOFAIL_AT=$n IOFAIL_ACTION=$err IOFAIL_PERSIST=$([ $mode = persist ] && echo 1 || echo 0) \
					with_iofail "$ROSTERD" -c "$CONF" --once >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
				ERR=$(cat "$TEST_TMP/err")
				_t_check_crash "rosterd (N=$n $err $mode)"
				store_checks "$DB"
				done_n=$((done_n + 1))
				if [ "$n" -le "$commit_last" ]; then
					assert_eq 1 "$RC" "exit of a run whose store call $n/$calls failed ($err, $mode)"
					assert_contains "$ERR" "$DB" "the error names the store (N=$n $err $mode)"
					# (SQLite reports ENOSPC as "full" where it writes, as an I/O error elsewhere)
					assert_match "$ERR" "$DB: (disk I/O error|database or disk is full)"
					canon_dump "$DB" noruns "$maxid" >"$TEST_TMP/after.dump"
					op=$(awk -v n="$n" '$3 == "store" && ++k == n { print $2; exit }' "$TEST_TMP/calls")
					if [ "$mode" = persist ] && [ "$n" = "$commit_last" ] && [ "$op" = fdatasync ] &&
						cmp -s <(canon_dump "$DB") "$TEST_TMP/clean.dump"; then
						synced=$((synced + 1))
						continue
					fi
					cmp -s "$TEST_TMP/pre.dump" "$TEST_TMP/after.dump" ||
						fail "N=$n $err $mode: the store changed though the run failed" \
							"$(diff "$TEST_TMP/pre.dump" "$TEST_TMP/after.dump" | head -20 || true)"
					assert_eq "$ok_before" "$(sql "SELECT count(*) FROM sync_runs WHERE outcome = 'ok'")" \
						"no run recorded ok (N=$n $err $mode)"
					fails=$((fails + 1))
				else
					assert_eq 0 "$RC" "exit of a run whose store call $n/$calls (after the commit) failed"
					canon_dump "$DB" >"$TEST_TMP/after.dump"
					cmp -s "$TEST_TMP/clean.dump" "$TEST_TMP/after.dump" ||
						fail "N=$n $err $mode: a committed run's result was lost" \
							"$(diff "$TEST_TMP/clean.dump" "$TEST_TMP/after.dump" | head -20 || true)"
					afters=$((afters + 1))
				fi
			done
		done
	done
	note "$name: after a failure before the commit, a run without a fault"
	rm -f "$DB"*
	cp "$TEST_TMP/pre.db" "$DB"
	IOFAIL_AT=1 IOFAIL_PERSIST=1 run with_iofail "$ROSTERD" -c "$CONF" --once
	assert_rc 1 "a run that can write nothing"
	sync_once
	assert_eq "$(sqlite3 "$TEST_TMP/clean/learning.db" "SELECT created, updated, disabled FROM sync_runs ORDER BY id DESC LIMIT 1")" \
		"$(sql "SELECT created, updated, disabled FROM sync_runs ORDER BY id DESC LIMIT 1")" "the recovered run's counts"
	store_checks "$DB"
	figure "t_iofail $name run: $calls store calls (writes and syncs), $done_n failing runs (N x errno x once/persistent): $fails failed cleanly with the store as before, $synced failed at the commit's fdatasync with the commit kept whole, $afters failed after the commit with the result kept"
	total_runs=$((total_runs + done_n))
}

t0=$(date +%s)
sweep "first sync ($P people)"
note "300 changes"
: >"$TEST_TMP/changes.ldif"
for ((k = 1; k <= 300; k++)); do
	if [ $((k % 15)) = 0 ]; then
		printf 'dn: uid=u%06d,%s\nchangetype: delete\n\n' "$k" "$PEOPLE"
	else
		printf 'dn: uid=u%06d,%s\nchangetype: modify\nreplace: title\ntitle: Changed %d\n\n' "$k" "$PEOPLE" "$k"
	fi
done >>"$TEST_TMP/changes.ldif"
ldap_admin_modify <"$TEST_TMP/changes.ldif"
sweep "300-change"
figure "t_iofail: $total_runs failing runs in $(($(date +%s) - t0)) s"
