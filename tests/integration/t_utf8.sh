#!/usr/bin/env bash
# t_utf8: non-ASCII text from the directory to the store and out again.
# Proves: base64 LDIF values (José Núñez, München, 张伟, Zoë Ørsted, a 4-byte
# emoji in a title) land in the store byte for byte (hex compared), come out
# of `user show --json` and `user list --format json` (escaped as \u, decoded
# by jq) and CSV unchanged, and work as a --location filter; a non-ASCII
# custom field round-trips; a value that is not UTF-8 (raw bytes in a binary
# attribute mapped to a text field) rejects the entry as "not valid UTF-8"
# without disabling the person; the table view aligns columns by display
# width (CJK characters take two columns).
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
write_conf
sync_once

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }
assert_sql "$(hex 'José Núñez')|$(hex 'José')|$(hex 'Núñez')|$(hex 'München')" \
	"SELECT hex(display_name), hex(given_name), hex(family_name), hex(location) FROM people WHERE username = 'jose'" "jose's names, byte for byte"
assert_sql "$(hex '张伟')|$(hex '伟')|$(hex '张')" \
	"SELECT hex(display_name), hex(given_name), hex(family_name) FROM people WHERE username = 'zwei'" "zwei's names, byte for byte"
assert_sql "$(hex 'Zoë Ørsted')|$(hex 'Ingénieure 🚀 R&D')" \
	"SELECT hex(display_name), hex(title) FROM people WHERE username = 'zoe'" "zoe's name and title, byte for byte"

note "out through rosterctl"
rctl_ok user show jose --json
assert_json '[.display_name, .given_name, .family_name, .location] | join("|")' "José Núñez|José|Núñez|München"
rctl_ok user show zoe --json
assert_json '.title' "Ingénieure 🚀 R&D"
rctl_ok user list --format json
assert_json '.[] | select(.username == "zwei") | .display_name' "张伟"
assert_json '.[] | select(.username == "zoe") | .title' "Ingénieure 🚀 R&D"
rctl_ok user list --format csv --columns username,status,display_name,email,department,location,title
assert_match "$OUT" '^zwei,invited,张伟,zwei@example\.com,SALES,Beijing,Sales Lead$'
assert_match "$OUT" '^zoe,invited,Zoë Ørsted,zoe@example\.com,ENG,London,Ingénieure 🚀 R&D$'
rctl_ok user list --location München --format json
assert_json '[.[].username] | join(",")' jose

note "a non-ASCII custom field"
set_attr "uid=jose,$PEOPLE" departmentNumber "Ventas España"
sync_once
assert_eq "ok 0 1 0 0 0 0" "$(run_counts)"
rctl_ok user show jose --json
assert_json '.fields.cost_centre' "Ventas España"
assert_json '.department' "Ventas España"

note "a value that is not UTF-8"
# Map title to jpegPhoto (binary syntax, so slapd stores any bytes) and give
# frank two bytes that are not UTF-8.
CONF=$TEST_TMP/binary/rosterd.conf
ROSTERD_CONF_STORE_PATH=$DB ROSTERD_CONF_ATTRIBUTES='title = "jpegPhoto";
    custom = { cost_centre = "departmentNumber"; };' write_conf
printf 'dn: uid=frank,%s\nchangetype: modify\nreplace: jpegPhoto\njpegPhoto:: %s\n' \
	"$PEOPLE" "$(printf '\377\376' | base64)" | ldap_admin_modify
# Someone taken has the attribute: one that no entry has while everyone has a
# title would hold the run (a misspelt attribute, issue 15 item 1).
set_attr "uid=alice,$PEOPLE" jpegPhoto "Boss"
run_rosterd --once
assert_rc 0 "a run with a non-UTF-8 value"
assert_match "$ERR" 'uid=frank,ou=people,dc=example,dc=com.*rejected.*(UTF-8|utf-8)'
assert_match "$(sql "SELECT reason FROM run_rejects WHERE run_id = (SELECT max(id) FROM sync_runs)")" 'not valid UTF-8'
assert_sql "invited" "SELECT status FROM people WHERE username = 'frank'" "frank is seen, so not disabled"
assert_sql 1 "SELECT rejected FROM sync_runs ORDER BY id DESC LIMIT 1"

note "the table aligns by display width"
CONF=$TEST_TMP/rosterd.conf
rctl_ok user list
# Display width of each row up to its email address (rows that have one):
# the same on every row.
widths=$(printf '%s\n' "$OUT" | grep '@example\.com' | sed 's/[a-z.]*@example\.com.*//' |
	while IFS= read -r line; do printf '%s' "$line" | LC_ALL=C.UTF-8 wc -L; done | sort -u)
assert_eq 1 "$(wc -l <<<"$widths")" "display columns where the email column starts, over all rows (zwei's 张伟 is 4 columns wide)
$(printf '%s\n' "$OUT")"
