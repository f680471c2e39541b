#!/usr/bin/env bash
# tests/run.sh BUILD_DIR: run rosterd's tests against the binaries in BUILD_DIR
# (build, or build/asan for the sanitizer build) and print one closing line
# "N passed, N failed". Exit 0 only when nothing failed and something ran.
#
#   TESTS=unit|integration|compat|faults|all (default all)  which tests to run
#   ONLY=pattern                               run only test files matching it
#                                              (several patterns, space-separated:
#                                              those matching any)
#   STORE=sqlite|pg (default sqlite)           the store the integration tests
#                                              use (tests/integration/lib.sh)
#                                              (compat: also "t_x@samba")
#   LONG=1                                     fault tests at their full counts
#   COMPAT=smoke|full (default smoke)          the compat scenarios
#                                              (tests/compat/t_*.sh) run on
#                                              OpenLDAP all, on Samba AD and
#                                              389-DS only t_smoke; full: all
#                                              of them on all three servers
#   COMPAT_SERVERS="openldap samba 389ds"      the servers they run on
#
# Unit tests are the cmocka binaries BUILD_DIR/tests/test_*; each test case
# counts. Integration tests are the scripts tests/integration/t_*.sh, fault
# tests the scripts tests/faults/t_*.sh (docs/reliability.md); each script
# counts as one test, run with ROSTERD, ROSTERCTL, ROSTERD_BUILD and TEST_TMP
# set, and its output kept in TEST_TMP/log (shown when it fails).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: tests/run.sh BUILD_DIR}
case $build in /*) ;; *) build=$top/$build ;; esac
which=${TESTS:-all}
only=${ONLY:-}
# skip NAME: whether ONLY leaves NAME out.
skip() {
	local p
	[ -n "$only" ] || return 1
	for p in $only; do
		[[ $1 == *$p* ]] && return 1
	done
	return 0
}
passed=0
failed=0
failures=()

export ROSTERD=$build/rosterd ROSTERCTL=$build/rosterctl ROSTERD_TOP=$top ROSTERD_BUILD=$build
export LONG=${LONG:-0}
compat=${COMPAT:-smoke}
compat_servers=${COMPAT_SERVERS:-openldap samba 389ds}
# What the tests of this run share: the Samba and 389-DS templates
# (tests/lib/samba.sh, tests/lib/dirsrv.sh), each made once, then copied per test.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/rosterd-run.XXXXXX") || exit 1
trap 'rm -rf "$run_tmp"' EXIT
export SAMBA_TEMPLATE=${SAMBA_TEMPLATE:-$run_tmp/samba-template}
export DIRSRV_TEMPLATE=${DIRSRV_TEMPLATE:-$run_tmp/dirsrv-template}
# Sanitizer builds: stop at the first report, and name the suppressions for
# leaks inside libraries we do not own (tests/lsan.supp says which and why).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}

if [ "$which" = all ] || [ "$which" = unit ]; then
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		skip "$name" && continue
		out=$("$t" 2>&1)
		rc=$?
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		p=${p:-0}
		f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1   # crashed, or a sanitizer report after the cases ran
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$f" -ne 0 ]; then
			failures+=("$name")
			printf '%s\n' "$out" | tail -40
			echo "FAIL unit $name"
		else
			echo "ok   unit $name ($p cases)"
		fi
	done
fi

# run_scripts CLASS DIR TIMEOUT [SERVER [PATTERN]]: each DIR/t_*.sh (matching the
# glob PATTERN) as one test; with SERVER, run with COMPAT_SERVER=SERVER and
# named t_x@SERVER.
run_scripts() {
	local class=$1 dir=$2 limit=$3 server=${4:-} pattern=${5:-t_*.sh} t name rc start secs
	for t in "$dir"/$pattern; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		[ -z "$server" ] || name=$name@$server
		skip "$name" && continue
		TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rosterd-$name.XXXXXX")
		export TEST_TMP
		start=$(date +%s.%N)
		COMPAT_SERVER=$server timeout "$limit" bash "$t" >"$TEST_TMP/log" 2>&1
		rc=$?
		secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
		if [ "$rc" -eq 0 ]; then
			passed=$((passed + 1))
			echo "ok   $class $name (${secs} s)"
			# a test may leave figures for docs/reliability.md in TEST_TMP/figures
			[ -s "$TEST_TMP/figures" ] && sed 's/^/     /' "$TEST_TMP/figures"
			rm -rf "$TEST_TMP"
		else
			failed=$((failed + 1))
			failures+=("$name")
			tail -60 "$TEST_TMP/log"
			echo "FAIL $class $name (exit $rc, ${secs} s; log in $TEST_TMP/log)"
		fi
	done
}

if [ "$which" = all ] || [ "$which" = integration ]; then
	run_scripts integration "$top/tests/integration" 300
fi
if [ "$which" = all ] || [ "$which" = compat ]; then
	for server in $compat_servers; do
		if [ "$compat" = full ] || [ "$server" = openldap ]; then
			run_scripts compat "$top/tests/compat" 300 "$server"
		else
			run_scripts compat "$top/tests/compat" 300 "$server" t_smoke.sh
		fi
	done
fi
if [ "$which" = all ] || [ "$which" = faults ]; then
	# the fuzz targets over their seed corpora (fuzz/replay.c; make fuzz runs libFuzzer)
	for t in "$build"/tests/fuzz_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		skip "$name" && continue
		if out=$("$t" "$top/fuzz/corpus/${name#fuzz_}" 2>&1); then
			passed=$((passed + 1))
			echo "ok   faults $name corpus ($out)"
		else
			failed=$((failed + 1))
			failures+=("$name")
			printf '%s\n' "$out" | tail -40
			echo "FAIL faults $name corpus"
		fi
	done
	if [ "$LONG" = 1 ]; then
		run_scripts faults "$top/tests/faults" 3600
	else
		run_scripts faults "$top/tests/faults" 300
	fi
fi

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
