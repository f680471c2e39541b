# shellcheck shell=bash
# tests/faults/lib.sh: sourced by every tests/faults/t_*.sh, on top of
# tests/integration/lib.sh (assertions, run/RC/OUT/ERR, slapd, sql).
#
# tests/run.sh runs the fault tests like the integration tests, with
# ROSTERD_BUILD (the build directory, whose tests/faults holds the tools) and
# LONG (1: the full counts of docs/reliability.md, else the short form).
#
# What this adds:
#   by_length SHORT FULL      SHORT, or FULL when LONG=1
#   figure TEXT...            a line for the run's summary (tests/run.sh prints it)
#   asan_build                status 0 when the binaries are the sanitizer build
#   start_org N [SEED [OPT...]]  a slapd loaded with bench/gen-org N --seed SEED OPT...
#                             (its LDIF in TEST_TMP/org.ldif)
#   canon_dump DB [noruns]    the store's content in a canonical form (below)
#   store_checks DB           PRAGMA integrity_check ok, foreign_key_check empty
#   start_proxy ARGS...       tests/faults/ldap-proxy in front of the slapd
#   with_iofail CMD...        CMD with the iofail shim preloaded (IOFAIL_* apply)
# shellcheck source=../integration/lib.sh
. "$ROSTERD_TOP/tests/integration/lib.sh"
T_NAME=$(basename "$0" .sh)

: "${ROSTERD_BUILD:?ROSTERD_BUILD must name the build directory}"
FAULTS_BIN=$ROSTERD_BUILD/tests/faults
GEN_ORG=$ROSTERD_TOP/bench/gen-org
LONG=${LONG:-0}
for _f in "$FAULTS_BIN/iofail.so" "$FAULTS_BIN/ldap-proxy" "$FAULTS_BIN/platform" "$GEN_ORG"; do
	[ -x "$_f" ] || [ -f "$_f" ] || fail "$_f is missing: make faults-bin"
done

by_length() { if [ "$LONG" = 1 ]; then echo "$2"; else echo "$1"; fi; }

figure() { printf '%s\n' "$*" >>"$TEST_TMP/figures"; note "figure: $*"; }

# (grep -c reads all of ldd's output: with -q, ldd could die of SIGPIPE)
_F_ASAN=$(ldd "$ROSTERD" | grep -c libasan || true)
asan_build() { [ "$_F_ASAN" -gt 0 ]; }

# Thresholds that let any number of disables through: in the fault tests
# only the completeness rule (or nothing) may stop a disable.
export ROSTERD_CONF_SYNC='max_disable = 1000000; max_disable_percent = 100.0; initial_status = "invited";'

start_org() {
	"$GEN_ORG" "$1" --seed "${2:-1}" "${@:3}" >"$TEST_TMP/org.ldif"
	start_directory "$TEST_TMP/org.ldif"
}

# canon_dump DB [noruns [MAXID]]: every table of the store, one line per row, rows
# sorted, columns in order; a timestamp or duration column (name "at",
# "since", "duration" or ending in _at or _since) shows only whether it is
# set, since two runs of the same plan differ in their clocks. With noruns,
# the records of runs that never finished are left out: "running" (a run
# killed before it finished), or marked "failed" by a later run's start
# (no finished_at); with MAXID too, the records of runs after MAXID (the
# failed run's own record). New tables and columns are covered without changing this.
canon_dump() {
	local db=$1 skip=0 maxid=${3:-} q
	maxid=${maxid:-9223372036854775807}
	[ "${2:-}" = noruns ] && skip=1
	q=$(sqlite3 -batch -noheader "$db" <<EOF
SELECT 'SELECT ' || (SELECT group_concat(e, ' || ''|'' || ') FROM (
		SELECT CASE WHEN c.name IN ('at', 'since', 'duration')
		         OR c.name LIKE '%\_at' ESCAPE '\' OR c.name LIKE '%\_since' ESCAPE '\'
		       THEN '("' || c.name || '" IS NOT NULL)'
		       ELSE 'quote("' || c.name || '")' END AS e
		FROM pragma_table_info(m.name) c ORDER BY c.cid))
	|| ' AS row FROM "' || m.name || '"'
	|| CASE WHEN m.name = 'sync_runs' AND $skip THEN ' WHERE finished_at IS NOT NULL AND id <= $maxid' ELSE '' END
	|| ' ORDER BY row;'
FROM sqlite_schema m
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name;
EOF
)
	[ -n "$q" ] || fail "canon_dump: no tables in $db"
	sqlite3 -batch -noheader -bail "$db" "$q"
}

# assert_store_as DUMPFILE DB [noruns [MAXID]] [WHAT]: canon_dump of DB equals DUMPFILE.
assert_store_as() {
	local want=$1 db=$2 mode=${3:-} maxid=${4:-} what=${5:-the store}
	canon_dump "$db" "$mode" "$maxid" >"$TEST_TMP/canon.now"
	cmp -s "$want" "$TEST_TMP/canon.now" && return 0
	fail "$what differs from what it should be (< expected, > got)" \
		"$(diff "$want" "$TEST_TMP/canon.now" | head -20 || true)"
}

# store_checks DB: the SQLite file is sound and its foreign keys hold.
store_checks() {
	assert_eq ok "$(sqlite3 -batch "$1" 'PRAGMA integrity_check')" "PRAGMA integrity_check of $1"
	assert_eq "" "$(sqlite3 -batch "$1" 'PRAGMA foreign_key_check')" "PRAGMA foreign_key_check of $1"
}

# start_proxy ARGS...: ldap-proxy -u <slapd's port> ARGS in the background;
# PROXY_PID, PROXY_URI, PROXY_OUT (its event lines) are set.
start_proxy() {
	PROXY_OUT=$TEST_TMP/proxy.$RANDOM.out
	"$FAULTS_BIN/ldap-proxy" -u "$SLAPD_PORT" "$@" >"$PROXY_OUT" 2>&1 &
	PROXY_PID=$!
	track_pid "$PROXY_PID"
	wait_for 10 grep -q '^port ' "$PROXY_OUT" || fail "ldap-proxy did not start" "$(cat "$PROXY_OUT")"
	PROXY_URI="ldap://127.0.0.1:$(sed -n 's/^port //p' "$PROXY_OUT")/"
}

stop_proxy() {
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}

# with_iofail CMD...: run CMD with the shim preloaded. Under the sanitizer
# build the ASan runtime is then not first in the library list, which ASan
# refuses unless told (the shim only forwards calls, it allocates nothing).
with_iofail() {
	local asan=${ASAN_OPTIONS:-}
	asan_build && asan="$asan:verify_asan_link_order=0"
	ASAN_OPTIONS=$asan LD_PRELOAD=$FAULTS_BIN/iofail.so "$@"
}
