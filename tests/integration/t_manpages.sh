#!/usr/bin/env bash
# t_manpages: the manual pages are clean mdoc.
# Proves: every docs/*.[1-8] passes `mandoc -Tlint -W warning` without a
# message (only style notes, such as references to pages not installed, are
# allowed) and renders; rosterd-plugin(3) is among them.
. "$(dirname "$0")/lib.sh"

n=0
for page in "$ROSTERD_TOP"/docs/*.[1-8]; do
	run mandoc -Tlint -W warning "$page"
	assert_rc 0 "mandoc -Tlint -W warning ${page##*/}"
	assert_eq "" "$OUT$ERR" "lint messages for ${page##*/}"
	run mandoc -Tutf8 "$page"
	assert_rc 0 "mandoc -Tutf8 ${page##*/}"
	n=$((n + 1))
done
assert_file_exists "$ROSTERD_TOP/docs/rosterd-plugin.3"
[ "$n" -ge 4 ] || fail "expected at least 4 manual pages, found $n"
