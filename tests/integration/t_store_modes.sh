#!/usr/bin/env bash
# t_store_modes: the store's files and the learning platform's account.
# Proves: under umask 022 rosterd creates the store, its -wal and its -shm
# with store.mode (default 0660), not 0644; store.mode = "0640" gives 0640;
# with the store's directory setgid to a group of the platform's, a second
# account (nobody, with that group only as a supplementary group: setpriv)
# reads and writes the store while rosterd runs as a service (ten writes over
# ten seconds, across a scheduled run; the -wal and -shm stay 0660 in the
# group whoever creates them), every run of the service ends ok; an account
# outside the group cannot read the store.
. "$(dirname "$0")/lib.sh"
needs_store sqlite   # store files

command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to run as a second account"; exit 0; }

GID=64123   # the platform's group: a number no account has
STATE=$TEST_TMP/state
mkdir "$STATE"
chgrp "$GID" "$STATE"
chmod 2770 "$STATE"          # the group's files, the group may create -wal/-shm
chmod 0711 "$TEST_TMP"
export ROSTERD_CONF_STORE_PATH=$STATE/learning.db
DB=$STATE/learning.db

gen_people 200 >"$TEST_TMP/people.ldif"
start_directory "$TEST_TMP/people.ldif"
write_conf 'interval = 10;'

# platform SQL...: sqlite3 as nobody with the platform's group only.
platform() {
	setpriv --reuid=65534 --regid=65534 --groups="$GID" --inh-caps=-all \
		sqlite3 -batch -bail -cmd ".timeout 5000" "$DB" "$@"
}
modes() {
	local f
	for f in "$DB" "$DB-wal" "$DB-shm"; do
		[ -e "$f" ] && stat -c '%a %g' "$f" | sed "s|^|${f##*/} |"
	done
	return 0
}

note "created under umask 022 with store.mode"
(umask 022 && "$ROSTERD" -c "$CONF" --once) || fail "rosterd --once"
assert_eq "learning.db 660 $GID" "$(modes)" "the store after a run (WAL checkpointed and gone)"
run setpriv --reuid=65534 --regid=65534 --clear-groups cat "$DB"
assert_rc 1 "an account outside the group reads the store"

note "the platform reads and writes while rosterd runs"
(umask 022 && exec "$ROSTERD" -c "$CONF" -d >"$TEST_TMP/svc.out" 2>"$TEST_TMP/svc.err") &
SVC=$!
track_pid "$SVC"
two_runs() { [ "$(sql 'SELECT count(*) FROM sync_runs')" -ge 2 ]; }
wait_for 30 two_runs || fail "rosterd's service did not run" "$(cat "$TEST_TMP/svc.err")"
assert_eq 200 "$(platform 'SELECT count(*) FROM people')" "the platform reads"
for i in 1 2 3 4 5 6 7 8 9 10; do
	platform "UPDATE people SET title = 'platform $i' WHERE username = 'user00001'" ||
		fail "the platform could not write (round $i)"
	assert_eq "platform $i" "$(platform "SELECT title FROM people WHERE username = 'user00001'")"
	while IFS= read -r m; do
		case $m in *" 660 $GID") ;; *) fail "a store file is not 0660 in group $GID: $m" ;; esac
	done < <(modes)
	sleep 1
done
kill -TERM "$SVC"
wait "$SVC" || fail "rosterd's service did not stop cleanly" "$(cat "$TEST_TMP/svc.err")"
assert_not_contains "$(cat "$TEST_TMP/svc.err")" "readonly"
assert_sql 0 "SELECT count(*) FROM sync_runs WHERE outcome NOT IN ('ok')"

note "store.mode = \"0640\""
rm -f "$DB" "$DB-wal" "$DB-shm"
write_conf 'interval = 10;'
sed -i 's|^store = {|store = {\n  mode = "0640";|' "$CONF"
(umask 077 && "$ROSTERD" -c "$CONF" --once) || fail "rosterd --once with store.mode 0640"
assert_eq "learning.db 640 $GID" "$(modes)"
assert_eq 200 "$(platform 'SELECT count(*) FROM people')" "the group reads a 0640 store"
