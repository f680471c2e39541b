# shellcheck shell=bash
# tests/integration/lib.sh: sourced by every tests/integration/t_*.sh.
#
# tests/run.sh runs each script with ROSTERD, ROSTERCTL (the binaries under
# test), ROSTERD_TOP (the repository) and TEST_TMP (a fresh directory that is
# removed when the test passes). A script passes by exiting 0.
#
# What this gives a test:
#   - `set -eu -o pipefail` and an ERR trap that names the failing command and line;
#   - an EXIT trap that stops the test's slapd and any background process the
#     test registered with track_pid, runs the commands of T_CLEANUP, and
#     prints PASS or FAIL;
#   - its own slapd in $TEST_TMP/slapd (start_directory), a rosterd config in
#     $CONF (write_conf), the store at $DB;
#   - run / run_rosterd / run_rctl: run a command without tripping set -e,
#     keeping its exit status in RC, its stdout in OUT and its stderr in ERR;
#     a sanitizer report in ERR fails the test whatever the exit status;
#   - assertions that print what was expected and what came;
#   - sql / sql_dump: sqlite3 on the store, or psql with STORE=pg;
#   - LDIF helpers to build fixtures on the fly.
#
# STORE=pg runs the same test against PostgreSQL (tests/lib/pg.sh): a server
# of the test's own is started here and stopped on exit, write_conf points
# store = { } at it, and sql, sql_dump and store_hash read it. A test that
# only makes sense on one store says so with `needs_store sqlite`.
set -eu -o pipefail
set -E

: "${ROSTERD:?ROSTERD must name the rosterd binary under test}"
: "${ROSTERCTL:?ROSTERCTL must name the rosterctl binary under test}"
: "${ROSTERD_TOP:?ROSTERD_TOP must name the repository top}"
: "${TEST_TMP:?TEST_TMP must name a fresh temporary directory}"

# shellcheck source=../lib/slapd.sh
. "$ROSTERD_TOP/tests/lib/slapd.sh"
# shellcheck source=../lib/pg.sh
. "$ROSTERD_TOP/tests/lib/pg.sh"
STORE=${STORE:-sqlite}

T_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
FIXTURES=$ROSTERD_TOP/tests/fixtures
SLAPD_HOME=$TEST_TMP/slapd
CONF=$TEST_TMP/rosterd.conf
DB=$TEST_TMP/learning.db
SUFFIX="dc=example,dc=com"
PEOPLE="ou=people,$SUFFIX"
T_PIDS=()
# Commands (names of functions without arguments) run when the test ends,
# e.g. to stop another server: T_CLEANUP+=(my_stop).
T_CLEANUP=()
T_DIRS=()
RC=0
OUT=""
ERR=""

# ---- traps ---------------------------------------------------------------------

_t_on_err() {
	local rc=$? line=$1 cmd=$2 i
	echo "ERROR: command failed with status $rc at ${BASH_SOURCE[1]##*/}:$line: $cmd" >&2
	for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
		echo "  in ${FUNCNAME[$i]}, called at ${BASH_SOURCE[$i + 1]##*/}:${BASH_LINENO[$i]}" >&2
	done
}

_t_on_exit() {
	local rc=$? pid cmd d
	trap - ERR
	set +e
	for pid in "${T_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	if [ -d "$SLAPD_HOME" ]; then
		slapd_stop "$SLAPD_HOME" >/dev/null 2>&1
	fi
	pg_stop
	for cmd in "${T_CLEANUP[@]}"; do
		"$cmd" >/dev/null 2>&1
	done
	for d in "${T_DIRS[@]}"; do
		rm -rf "$d"
	done
	if [ "$rc" -eq 0 ]; then
		echo "PASS: $T_NAME"
	else
		echo "FAIL: $T_NAME (exit $rc)"
	fi
	exit "$rc"
}

trap '_t_on_err "$LINENO" "$BASH_COMMAND"' ERR
trap _t_on_exit EXIT

# Remember a background process of the test, killed on exit if still running.
track_pid() { T_PIDS+=("$1"); }

# trusted_dir: make a new directory that rosterd trusts plugins in, named
# by TRUSTED, removed on exit: under the build tree (TEST_TMP is under /tmp, which anyone may
# write to, so no plugin there is loaded), it and every directory above it
# owned by root or the test's user and writable by no one else.
trusted_dir() {
	local d
	mkdir -p "$ROSTERD_BUILD/tests/trusted"
	d=$(mktemp -d "$ROSTERD_BUILD/tests/trusted/$T_NAME.XXXXXX")
	chmod 0755 "$d"
	T_DIRS+=("$d")
	TRUSTED=$d
}

# ---- messages and assertions ---------------------------------------------------

# Where the assertion was called from: "t_x.sh:42".
_t_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [ "${BASH_SOURCE[$i]##*/}" != lib.sh ]; then
			echo "${BASH_SOURCE[$i]##*/}:${BASH_LINENO[$((i - 1))]}"
			return
		fi
	done
	echo "?"
}

note() { echo "--- $*"; }

# fail MESSAGE...: print the message (and where), exit 1.
fail() {
	{
		echo "FAILED at $(_t_where):"
		printf '  %s\n' "$@"
	} >&2
	exit 1
}

# Show a (possibly long) text indented, for failure messages.
_t_show() {
	local label=$1 text=$2
	if [ -z "$text" ]; then
		echo "$label: (empty)"
	else
		echo "$label:"
		head -n 40 <<<"$text" | sed 's/^/    | /'
	fi
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
	[ "$1" = "$2" ] && return 0
	fail "${3:-values differ}" "$(_t_show expected "$1")" "$(_t_show got "$2")"
}

# assert_ne UNEXPECTED ACTUAL [WHAT]
assert_ne() {
	[ "$1" != "$2" ] && return 0
	fail "${3:-value should differ}" "$(_t_show "did not expect" "$1")"
}

# assert_contains HAYSTACK NEEDLE [WHAT]: fixed-string containment.
assert_contains() {
	case $1 in *"$2"*) return 0 ;; esac
	fail "${3:-text does not contain the expected part}" "$(_t_show expected-part "$2")" \
		"$(_t_show got "$1")"
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
	case $1 in *"$2"*) fail "${3:-text contains what it must not}" \
		"$(_t_show must-not-contain "$2")" "$(_t_show got "$1")" ;; esac
	return 0
}

# assert_match TEXT EXTENDED-REGEX [WHAT]: some line of TEXT matches.
# (TEXT goes to grep as a here-string, not through a pipe: grep -q stops at
# the first match, and under pipefail the writer's SIGPIPE would fail the
# pipeline; bash's printf writes line by line.)
assert_match() {
	grep -Eq -- "$2" <<<"$1" && return 0
	fail "${3:-no line matches}" "$(_t_show regex "$2")" "$(_t_show got "$1")"
}

# assert_no_match TEXT EXTENDED-REGEX [WHAT]
assert_no_match() {
	if grep -Eq -- "$2" <<<"$1"; then
		fail "${3:-a line matches what it must not}" "$(_t_show regex "$2")" "$(_t_show got "$1")"
	fi
	return 0
}

# assert_file_exists / assert_no_file PATH
assert_file_exists() { [ -e "$1" ] || fail "expected the file $1 to exist"; }
assert_no_file() { [ ! -e "$1" ] || fail "expected no file $1, but it exists" "$(ls -la "$1")"; }

# ---- running commands ------------------------------------------------------------

# Fail when stderr carries a sanitizer or crash report, whatever the exit status.
_t_check_crash() {
	local what=$1
	if [ "$RC" -eq 99 ] || [ "$RC" -eq 98 ] || [ "$RC" -ge 128 ] ||
		grep -Eq 'Sanitizer|runtime error:|^==[0-9]+==|Segmentation fault|Aborted' <<<"$ERR"; then
		fail "$what crashed or a sanitizer reported (exit $RC)" "$(_t_show stderr "$ERR")"
	fi
}

# run CMD ARGS...: run it; RC, OUT, ERR hold its exit status, stdout, stderr
# (also in $TEST_TMP/last.out and last.err). Never trips set -e.
run() {
	RC=0
	"$@" >"$TEST_TMP/last.out" 2>"$TEST_TMP/last.err" || RC=$?
	OUT=$(cat "$TEST_TMP/last.out")
	ERR=$(cat "$TEST_TMP/last.err")
	echo "+ ${*##*/} -> exit $RC" | sed "s|$TEST_TMP|\$TEST_TMP|g"
	if [ -n "$ERR" ]; then head -n 20 <<<"$ERR" | sed 's/^/  stderr| /'; fi
	_t_check_crash "${1##*/}"
}

# run_rosterd ARGS...: rosterd -c $CONF ARGS...
run_rosterd() { run "$ROSTERD" -c "$CONF" "$@"; }

# run_rctl ARGS...: rosterctl -c $CONF ARGS...
run_rctl() { run "$ROSTERCTL" -c "$CONF" "$@"; }

# assert_rc CODE [WHAT]: the last run's exit status was CODE.
assert_rc() {
	[ "$RC" -eq "$1" ] && return 0
	fail "${2:-exit status}: expected exit $1, got $RC" "$(_t_show stdout "$OUT")" \
		"$(_t_show stderr "$ERR")"
}

# assert_exit CODE CMD ARGS...: run the command and check its exit status.
assert_exit() {
	local code=$1
	shift
	run "$@"
	assert_rc "$code" "$(printf '%q ' "${@##*/}")"
}

# sync_once [CODE]: rosterd --once, expecting CODE (default 0).
sync_once() {
	run_rosterd --once
	assert_rc "${1:-0}" "rosterd --once"
}

# dry_run [CODE]: rosterd --dry-run, expecting CODE (default 0).
dry_run() {
	run_rosterd --dry-run
	assert_rc "${1:-0}" "rosterd --dry-run"
}

# rctl_ok ARGS...: rosterctl, expecting exit 0.
rctl_ok() {
	run_rctl "$@"
	assert_rc 0 "rosterctl $*"
}

# ---- the store -------------------------------------------------------------------

# needs_store NAME: the test is about that store alone; on another it passes
# having checked nothing (it says so).
needs_store() {
	if [ "$STORE" != "$1" ]; then
		note "SKIP: $T_NAME is about the $1 store, not $STORE"
		exit 0
	fi
}

# sql QUERY...: run SQL on the store, one row a line, columns joined by "|".
# STORE=pg: the SQL (SQLite's) goes through rosterd's own driver, as the
# daemon's does (tests/tools/store_sql.c), on the schema of the store $DB.
if [ "$STORE" = pg ]; then
	sql() { "$ROSTERD_BUILD/tools/store_sql" --pg "$PG_URL" "$PG_PWFILE" "$(pg_schema_for "$DB")" "$@"; }
else
	sql() { sqlite3 -batch -noheader -bail -cmd ".timeout 5000" "$DB" "$@"; }
fi

# What differs between the stores, for the tests that look at the store
# itself rather than its rows:
#   assert_no_store / assert_store_exists  no store yet (no file; no table in
#                      the schema) / one made
#   reset_store        remove the store (the file and its -wal, -shm; every
#                      table of the schema)
#   assert_store_sound SQLite: integrity_check ok and no foreign key broken;
#                      PostgreSQL (which checks its own pages): no connection
#                      left inside a transaction
#   schema_version     the migrations applied
#   set_schema_version N   record the store as at version N (to make an old one)
if [ "$STORE" = pg ]; then
	set_schema_version() {
		sql "DELETE FROM schema_migrations WHERE version > $1;
		     INSERT INTO schema_migrations (version, name) SELECT $1, 'set by a test'
		     WHERE $1 > (SELECT coalesce(max(version), 0) FROM schema_migrations)"
	}
	_t_tables() { pg_sql "SELECT count(*) FROM pg_tables WHERE schemaname = '$(pg_schema_for "$DB")'"; }
	assert_no_store() { assert_eq 0 "$(_t_tables)" "tables in the schema rosterd (no store yet)"; }
	assert_store_exists() { assert_ne 0 "$(_t_tables)" "tables in the schema rosterd"; }
	reset_store() {
		local schema
		schema=$(pg_schema_for "$DB")
		pg_sql "DROP SCHEMA $schema CASCADE; CREATE SCHEMA $schema AUTHORIZATION $PG_ROLE" >/dev/null
	}
	assert_store_sound() {
		assert_eq 0 "$(pg_sql "SELECT count(*) FROM pg_stat_activity
			WHERE state LIKE 'idle in transaction%'")" "connections left in a transaction"
	}
	schema_version() { sql "SELECT max(version) FROM schema_migrations"; }
else
	assert_no_store() { assert_no_file "$DB"; }
	assert_store_exists() { assert_file_exists "$DB"; }
	reset_store() { rm -f "$DB" "$DB-wal" "$DB-shm"; }
	assert_store_sound() {
		assert_eq ok "$(sql "PRAGMA integrity_check")" "PRAGMA integrity_check"
		assert_eq "" "$(sql "PRAGMA foreign_key_check")" "PRAGMA foreign_key_check"
	}
	schema_version() { sql "PRAGMA user_version"; }
	set_schema_version() { sql "PRAGMA user_version = $1"; }
fi

# point_conf_at DB [FILE]: the config FILE (default $CONF) names the store of
# the file DB from now on (STORE=pg: its schema, made for it).
point_conf_at() {
	local f=${2:-$CONF} text
	if [ "$STORE" = pg ]; then
		text=$(rosterd_store_conf "$1")
		sed -i "s|^  url = .*|  ${text//&/\\&}|" "$f"
	else
		sed -i "s|path = \".*\";|path = \"$1\";|" "$f"
	fi
}

# sql_at DB QUERY: QUERY (SQL both stores take) on the store of the file DB
# (STORE=pg: its schema).
if [ "$STORE" = pg ]; then
	sql_at() { PG_SCHEMA=$(pg_schema_for "$1") pg_sql "$2"; }
else
	sql_at() { sqlite3 -batch "$1" "$2"; }
fi
# What undoes migration 009 (run kinds), for the tests that take a store back
# to an older schema to see it migrated.
UNDO_009="DROP INDEX sync_runs_finished; DROP INDEX sync_runs_approved;
     ALTER TABLE sync_runs DROP COLUMN kind;"

# sql_quote TEXT: TEXT as an SQL string literal.
sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# assert_sql EXPECTED QUERY [WHAT]
assert_sql() { assert_eq "$1" "$(sql "$2")" "${3:-$2}"; }

# col USERNAME COLUMN: one column of a person.
col() { sql "SELECT $2 FROM people WHERE username = $(sql_quote "$1")"; }

# last_run COLUMN: a column of the newest sync run.
last_run() { sql "SELECT $1 FROM sync_runs ORDER BY id DESC LIMIT 1"; }

# run_counts [ID]: "outcome created updated renamed disabled enabled rejected"
# of run ID (default the newest). (unchanged is checked on its own where it
# is unambiguous: see t_disable_flag.)
run_counts() {
	local where="ORDER BY id DESC LIMIT 1"
	[ -n "${1:-}" ] && where="WHERE id = $1"
	sql "SELECT outcome, created, updated, renamed, disabled, enabled, rejected
	     FROM sync_runs $where" | tr '|' ' '
}

# sql_dump TABLE...: the .dump of those tables (to compare before/after).
sql_dump() {
	if [ "$STORE" = pg ]; then
		local t
		for t in "$@"; do pg_sql "SELECT * FROM $t ORDER BY 1"; done
	else
		sqlite3 -batch "$DB" ".dump $*"
	fi
}

# twin_state DB: what a refresh must leave as a full run does (people, their
# fields, managers, memberships with the way in, groups), by directory id.
twin_state() {
	sql_at "$1" "SELECT dir_id, username, dn, dn_norm, email, given_name, family_name,
			display_name, title, department, location, manager_dn, secondary_manager_dn,
			dir_disabled, status, status_reason, prev_status, missing_since IS NULL, src_hash
			FROM people ORDER BY dir_id;
		SELECT p.dir_id, f.name, f.value FROM person_fields f JOIN people p ON p.id = f.person_id ORDER BY 1, 2;
		SELECT p.dir_id, pm.kind, m.dir_id FROM person_managers pm JOIN people p ON p.id = pm.person_id
			JOIN people m ON m.id = pm.manager_id ORDER BY 1, 2;
		SELECT g.dir_id, p.dir_id, coalesce(v.dir_id, '') FROM group_membership gm
			JOIN groups g ON g.id = gm.group_id JOIN people p ON p.id = gm.person_id
			LEFT JOIN groups v ON v.id = gm.via_group_id ORDER BY 1, 2;
		SELECT dir_id, name, present FROM groups ORDER BY 1"
}

# twin_run [CODE]: a sync run of $CONF (exit CODE, default 0), then a full run
# of the twin $FULL_CONF (store $FULL_DB, the same directory); the two stores
# must hold the same (twin_state). ERR stays the first run's.
twin_run() {
	sync_once "${1:-0}"
	local first_err=$ERR
	run "$ROSTERD" -c "$FULL_CONF" --once
	assert_rc "${1:-0}" "the twin's full run"
	assert_eq "$(twin_state "$FULL_DB")" "$(twin_state "$DB")" "the refreshed store equals the fully synced one"
	ERR=$first_err
}

# twin_held: the twin's full run is held as the first store's was (exit 4);
# approve it and run it again, which must go through.
twin_held() {
	run "$ROSTERD" -c "$FULL_CONF" --once
	assert_rc 4 "the twin's full run is held too"
	run "$ROSTERCTL" -c "$FULL_CONF" run approve "$(sql_at "$FULL_DB" "SELECT max(id) FROM sync_runs")"
	assert_rc 0 "approving the twin's run"
	run "$ROSTERD" -c "$FULL_CONF" --once
	assert_rc 0 "the twin's approved full run"
}

# store_hash: sha256 of the store file and of its -wal when there is one
# (the -shm index is not content); a dry run must leave this unchanged.
# PostgreSQL: of every row of rosterd's tables, and of its sequences.
store_hash() {
	local f
	if [ "$STORE" = pg ]; then
		pg_dump_data "$(pg_schema_for "$DB")" | sha256sum
		return 0
	fi
	for f in "$DB" "$DB-wal"; do
		[ -e "$f" ] && sha256sum "$f" | sed "s|$TEST_TMP/||"
	done
	return 0
}

# ---- the directory -------------------------------------------------------------

# start_directory [LDIF...]: a fresh slapd in $SLAPD_HOME loaded with
# base.ldif and the given files (SLAPD_EXTRA_* apply).
start_directory() {
	slapd_setup "$SLAPD_HOME"
	slapd_load "$SLAPD_HOME" "$FIXTURES/base.ldif" "$@"
	slapd_start "$SLAPD_HOME"
	note "slapd at $SLAPD_URI"
}

# restart_directory: stop slapd and start it again from the same database,
# with slapd.conf rewritten (so that SLAPD_EXTRA_* changes apply).
restart_directory() {
	slapd_stop "$SLAPD_HOME"
	SLAPD_KEEP_DB=1 slapd_setup "$SLAPD_HOME"
	slapd_start "$SLAPD_HOME"
}

# write_conf [SYNC_EXTRA]: the rosterd config $CONF for this slapd
# (the ROSTERD_CONF_* variables of tests/lib/slapd.sh apply).
write_conf() { slapd_write_rosterd_conf "$CONF" "${1:-}"; }

# STORE=pg: the test's own PostgreSQL, and the config's store in it. A
# test's stores are schemas of one database: the store a config would keep
# in the file $TEST_TMP/learning.db is the schema rosterd, another file (a
# second store of the test) a schema named after the file, made for it.
if [ "$STORE" = pg ]; then
	pg_start || fail "cannot start PostgreSQL"
	pg_schema_for() {
		if [ "$1" = "$TEST_TMP/learning.db" ]; then
			echo rosterd
		else
			echo "rosterd_$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
		fi
	}
	# (called by tests/lib/slapd.sh's slapd_write_rosterd_conf with the
	# store file a config would name)
	rosterd_store_conf() {
		local db=$1 schema
		[ "${db#/}" != "$db" ] || db=$(pwd)/$db
		schema=$(pg_schema_for "$db")
		pg_sql "CREATE SCHEMA IF NOT EXISTS $schema AUTHORIZATION $PG_ROLE" >/dev/null || return 1
		printf 'url = "%s"; password_file = "%s"; schema = "%s";' "$PG_URL" "$PG_PWFILE" "$schema"
	}
fi

# ldif_person UID GIVEN FAMILY [EXTRA-LINE...]: an inetOrgPerson entry
# uid=UID,ou=people with cn "GIVEN FAMILY" and mail UID@example.com.
ldif_person() {
	local uid=$1 given=$2 family=$3
	shift 3
	printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: rosterdTestAccount\n' "$uid" "$PEOPLE"
	printf 'uid: %s\ncn: %s %s\ngivenName: %s\nsn: %s\nmail: %s@example.com\n' \
		"$uid" "$given" "$family" "$given" "$family" "$uid"
	[ $# -gt 0 ] && printf '%s\n' "$@"
	echo
}

# gen_people N [PREFIX] [FIRST]: LDIF of N generated people uid=PREFIX00001...
# under ou=people (departments D0..D9, locations L0..L4, a manager each).
gen_people() {
	awk -v n="$1" -v p="${2:-user}" -v first="${3:-1}" -v base="$PEOPLE" 'BEGIN {
		for (i = first; i < first + n; i++) {
			u = sprintf("%s%05d", p, i)
			printf "dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: rosterdTestAccount\n", u, base
			printf "uid: %s\ncn: Person %s\ngivenName: Person\nsn: %s\n", u, u, u
			printf "mail: %s@example.com\nemployeeNumber: %d\ndepartmentNumber: D%d\n", u, i, i % 10
			printf "l: L%d\ntitle: Title %d\n", i % 5, i % 7
			if (i > first)
				printf "manager: uid=%s%05d,%s\n", p, first + int((i - first - 1) / 10), base
			printf "\n"
		}
	}'
}

# The groups of the tests live in ou=groups (the base write_conf sets).
GROUPS_OU="ou=groups,$SUFFIX"
# p UID / g CN: the DN of a person in ou=people, of a group in ou=groups.
p() { printf 'uid=%s,%s' "$1" "$PEOPLE"; }
g() { printf 'cn=%s,%s' "$1" "$GROUPS_OU"; }
# ldif_group CN MEMBER-DN...: a groupOfNames entry in ou=groups.
ldif_group() {
	local cn=$1
	shift
	printf 'dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n' "$cn" "$GROUPS_OU" "$cn"
	printf 'member: %s\n' "$@"
	echo
}

# ldif_ou NAME [PARENT]: an organizationalUnit entry.
ldif_ou() { printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$1" "${2:-$SUFFIX}" "$1"; }

# lock_person DN VALUE / unlock_person DN: set or remove nsAccountLock
# (the entry must have objectClass rosterdTestAccount).
lock_person() {
	ldap_admin_modify <<EOF
dn: $1
changetype: modify
replace: nsAccountLock
nsAccountLock: $2
EOF
}
unlock_person() {
	ldap_admin_modify <<EOF
dn: $1
changetype: modify
delete: nsAccountLock
EOF
}

# set_attr DN ATTR VALUE...: replace an attribute's values.
set_attr() {
	local dn=$1 attr=$2 v
	shift 2
	{
		printf 'dn: %s\nchangetype: modify\nreplace: %s\n' "$dn" "$attr"
		for v in "$@"; do printf '%s: %s\n' "$attr" "$v"; done
	} | ldap_admin_modify
}

# ---- JSON ----------------------------------------------------------------------

# jout FILTER: jq -r FILTER on the last run's stdout (fails if not JSON).
jout() {
	local r
	r=$(jq -r "$1" <<<"$OUT") || fail "stdout is not JSON, or jq filter $1 failed" "$(_t_show stdout "$OUT")"
	printf '%s\n' "$r"
}

# assert_json FILTER EXPECTED: jq -r FILTER on the last stdout equals EXPECTED.
assert_json() { assert_eq "$2" "$(jout "$1")" "JSON $1"; }

# ---- background runs -----------------------------------------------------------

# bg_rosterd ARGS...: start rosterd -c $CONF ARGS... in the background; its pid
# in BG_PID (killed on exit if still running).
bg_rosterd() {
	"$ROSTERD" -c "$CONF" "$@" >"$TEST_TMP/bg.out" 2>"$TEST_TMP/bg.err" &
	BG_PID=$!
	track_pid "$BG_PID"
	echo "+ rosterd $* & (pid $BG_PID)"
}

# running PID: the process exists and is not a zombie.
running() {
	[ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# bg_wait [SECONDS]: wait (default at most 60 s) for the background rosterd;
# RC, OUT, ERR as run sets them. Fails if it is still running.
bg_wait() {
	local t=${1:-60}
	if ! wait_for "$t" _t_stopped "$BG_PID"; then
		fail "rosterd (pid $BG_PID) still running after $t s" "$(_t_show stderr "$(cat "$TEST_TMP/bg.err")")"
	fi
	RC=0
	wait "$BG_PID" || RC=$?
	OUT=$(cat "$TEST_TMP/bg.out")
	ERR=$(cat "$TEST_TMP/bg.err")
	echo "+ background rosterd (pid $BG_PID) -> exit $RC"
	if [ -n "$ERR" ]; then head -n 20 <<<"$ERR" | sed 's/^/  stderr| /'; fi
	_t_check_crash rosterd
}
_t_stopped() { ! running "$1"; }

# search_results_since MARK: how many search results (pages) slapd logged since MARK.
search_results_since() { slapd_log_since "$1" "$SLAPD_HOME" | grep -c 'SEARCH RESULT' || true; }

# watch_search_results: start following slapd's log from its current end;
# then watch_search_results_wait N SECONDS blocks until slapd has logged N
# search results (pages) since the start, status 1 after SECONDS. It follows
# the log (tail -f), so it returns within milliseconds of the Nth page; start
# it before the client, so that no time is lost starting it.
watch_search_results() {
	_T_WATCH_MARK=$(slapd_log_mark "$SLAPD_HOME")
	exec {_T_WATCH_FD}< <(exec timeout 120 tail -n +"$((_T_WATCH_MARK + 1))" -f "$SLAPD_HOME/slapd.log")
	_T_WATCH_PID=$!
}
watch_search_results_wait() {
	local r=0
	# (not >/dev/null: GNU grep then reads to the end of its input despite -m)
	timeout "$2" grep -m "$1" 'SEARCH RESULT' <&"$_T_WATCH_FD" >"$TEST_TMP/pages.seen" || r=1
	[ "$(wc -l <"$TEST_TMP/pages.seen")" -ge "$1" ] || r=1
	exec {_T_WATCH_FD}<&-
	kill "$_T_WATCH_PID" 2>/dev/null || true
	return "$r"
}

# wait_for SECONDS CMD...: poll CMD every 0.05 s until it succeeds; 1 on timeout.
wait_for() {
	local end
	end=$(($(date +%s%N) + ${1%.*} * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
}
