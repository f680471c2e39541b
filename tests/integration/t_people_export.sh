#!/usr/bin/env bash
# t_people_export: what learning-platform admins do with the people list
# (issue 16 items 1-3).
# Proves: `user list --search` matches a substring of the username, the
# names and the e-mail, case and accents ignored ("zoe" finds Zoë, "nunez"
# finds José Núñez), and combines with the other filters; `--field
# NAME=VALUE` (repeatable) keeps the people whose custom field has exactly
# that value; `--columns` picks profile fields, custom fields, the managers,
# groups, role, member_since and status_reason, in every format, and an
# unknown column is exit 2 naming it; the default JSON carries the
# managers, role, member_since and the custom fields; `--format xlsx
# --output FILE` writes a workbook (read back from its XML: a header row,
# dates as dates, numbers as numbers, an autofilter, a frozen header row) on
# user list, runs, group list and course list; xlsx without --output is exit
# 2; a failed export (a directory that does not exist, a value longer than a
# cell holds) exits 1 and leaves no file, neither FILE nor its temporary,
# and an older FILE as it was; --output with CSV writes the file too.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";'
write_conf
sync_once

note "--search"
search() { rctl_ok user list --format json --columns username "$@" >&2; jout '[.[].username] | join(",")'; }
assert_eq zoe "$(search --search zoe)" "zoe finds Zoë Ørsted"
assert_eq zoe "$(search --search 'ZOË ør')" "case and accents of a search ignored"
assert_eq jose "$(search --search nunez)" "nunez finds José Núñez"
assert_eq jose "$(search --search 'JOSÉ')" "JOSÉ finds jose"
assert_eq "alice" "$(search --search 'alice@EXAMPLE')" "the e-mail searched"
assert_eq "jsmith" "$(search --search 'smith, j')" "the display name searched"
assert_eq "alice,bob,carol,dave,erin,frank,jose,jsmith,zoe,zwei" "$(search --search '')" "an empty search finds everyone"
assert_eq "" "$(search --search 'no such person')" "a search that matches nobody"
assert_eq "zoe" "$(search --search o --location London --department ENG --status invited --search zo)" "the last --search with the other filters"
assert_eq "alice,bob" "$(search --search ER --location London --department ENG)" "a search combined with filters"

note "--field"
assert_eq "carol,erin,frank" "$(search --field cost_centre=OPS)" "--field"
assert_eq "erin" "$(search --field cost_centre=OPS --location London)" "--field with another filter"
assert_eq "" "$(search --field cost_centre=ops)" "--field: the value exactly"
assert_eq "" "$(search --field cost_centre=OPS --field cost_centre=ENG)" "two --field must both match"
assert_eq "frank" "$(search --field cost_centre=OPS --search fr)" "--field with --search"
run_rctl user list --field cost_centre
assert_rc 2 "--field without ="

note "--columns"
rctl_ok user list --format json --columns username,manager,field:cost_centre,role,member_since,status_reason,secondary_manager,groups --search bob
assert_json '.[0] | keys_unsorted | join(",")' "username,manager,field:cost_centre,role,member_since,status_reason,secondary_manager,groups"
assert_json '.[0] | [.username, .manager, .["field:cost_centre"], .role] | join(",")' "bob,alice,ENG,manager"
assert_json '.[0].groups | type' array
assert_json '.[0].secondary_manager' carol
rctl_ok user list --columns username,field:cost_centre,manager --location Paris
assert_match "$(head -n 1 <<<"$OUT")" '^username +field:cost_centre +manager$'
assert_match "$OUT" '^carol +OPS +alice$'
rctl_ok user list --format csv --columns email,username --field cost_centre=OPS
assert_eq "email,username
carol@example.com,carol
erin@example.com,erin
frank@example.com,frank" "$OUT" "CSV of --columns, in their order"
run_rctl user list --columns username,salary
assert_rc 2 "an unknown column"
assert_contains "$ERR" '"salary"'
run_rctl user list --columns username,field:
assert_rc 2 "field: without a name"
rctl_ok user list
assert_match "$(head -n 1 <<<"$OUT")" '^username +status +display_name +email +department +location +title$' "the table's default columns stay"
rctl_ok user list --format json
assert_json '.[0] | keys_unsorted | join(",")' "username,email,given_name,family_name,display_name,status,status_reason,role,employee_number,department,location,title,member_since,manager,secondary_manager,field:cost_centre"

note "--format xlsx"
# cells FILE: each cell of the first sheet as "REF TYPE VALUE", where TYPE is
# s (text), n (number), d (a number shown with a date format) or b; then
# the autofilter's range and the frozen pane.
cells() {
	python3 - "$1" <<'PY'
import re, sys, zipfile
import xml.etree.ElementTree as ET
ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
z = zipfile.ZipFile(sys.argv[1])
styles = ET.fromstring(z.read("xl/styles.xml"))
fmts = {f.get("numFmtId"): f.get("formatCode") for f in styles.iter("{%s}numFmt" % ns["m"])}
xfs = [x.get("numFmtId") for x in styles.find("m:cellXfs", ns)]
sst = []
if "xl/sharedStrings.xml" in z.namelist():
    sst = ["".join(t.text or "" for t in si.iter("{%s}t" % ns["m"]))
           for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns)]
sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
for c in sheet.iter("{%s}c" % ns["m"]):
    t, v = c.get("t"), c.find("m:v", ns)
    if t == "inlineStr":
        print(c.get("r"), "s", "".join(x.text or "" for x in c.iter("{%s}t" % ns["m"])))
    elif t == "s":
        print(c.get("r"), "s", sst[int(v.text)])
    elif t == "b":
        print(c.get("r"), "b", v.text)
    else:
        code = fmts.get(xfs[int(c.get("s", "0"))], "")
        print(c.get("r"), "d" if re.search("yy", code) else "n", v.text)
af = sheet.find("m:autoFilter", ns)
print("autofilter", af.get("ref") if af is not None else "none")
pane = sheet.find("m:sheetViews/m:sheetView/m:pane", ns)
print("pane", "none" if pane is None else "%s %s %s" % (pane.get("ySplit"), pane.get("topLeftCell"), pane.get("state")))
PY
}
X=$TEST_TMP/out
mkdir -p "$X"
rctl_ok user list --format xlsx --output "$X/people.xlsx"
assert_eq "" "$OUT" "nothing on standard output"
assert_file_exists "$X/people.xlsx"
c=$(cells "$X/people.xlsx")
assert_match "$c" '^A1 s username$' "header: username"
assert_match "$c" '^P1 s field:cost_centre$' "header: the custom field"
assert_match "$c" '^N3 s alice$' "bob's manager"
assert_match "$c" '^M2 d [0-9]{5}\.[0-9]+$' "member_since is a date-time"
assert_match "$c" '^I2 s 1001$' "an employee number stays text"
assert_eq "autofilter A1:P11" "$(grep autofilter <<<"$c")" "autofilter over the header and 10 rows"
assert_eq "pane 1 A2 frozen" "$(grep '^pane' <<<"$c")" "the header row frozen"
assert_eq 600 "$(stat -c %a "$X/people.xlsx")" "an export is its owner's only"
assert_eq "" "$(ls -A "$X" | grep -v '^people\.xlsx$')" "no temporary file left"

rctl_ok runs --format xlsx --output "$X/runs.xlsx"
c=$(cells "$X/runs.xlsx")
assert_match "$c" '^A2 n 1$' "a run id is a number"
assert_match "$c" '^B2 d [0-9]{5}\.[0-9]+$' "started_at is a date-time"
assert_match "$c" '^E2 n 10$' "entries_read is a number"
assert_match "$c" '^D2 n [0-9.]+$' "duration is a number"
rctl_ok course add SEC101 --title "Security" --licences 5
rctl_ok course list --format xlsx --output "$X/courses.xlsx"
c=$(cells "$X/courses.xlsx")
assert_match "$c" '^C2 n 5$' "licence_limit is a number"
rctl_ok group list --format xlsx --output "$X/groups.xlsx"
assert_eq "autofilter A1:E1" "$(cells "$X/groups.xlsx" | grep autofilter)" "an empty list: the header alone"
rctl_ok user list --format csv --columns username --status disabled --output "$X/disabled.csv"
assert_eq "username" "$(cat "$X/disabled.csv")" "CSV to a file"

note "xlsx usage and failures"
run_rctl user list --format xlsx
assert_rc 2 "xlsx without --output"
assert_contains "$ERR" "--output"
for cmd in "runs" "group list" "course list" "outbox" "course show SEC101" "reports alice" "chain bob"; do
	run_rctl $cmd --format xlsx
	assert_rc 2 "$cmd --format xlsx without --output"
done
rctl_ok reports alice --format xlsx --output "$X/reports.xlsx"
assert_match "$(cells "$X/reports.xlsx")" '^A2 s bob$' "reports as xlsx"
run_rctl user list --format xlsx --output "$X/no/such/dir/people.xlsx"
assert_rc 1 "a directory that does not exist"
assert_no_file "$X/no"
run_rctl user list --format xlsx --output "$X"
assert_rc 1 "--output naming a directory"
assert_contains "$ERR" "not a regular file"
cp "$X/people.xlsx" "$X/before.xlsx"
sql "UPDATE people SET title = '$(printf 'x%.0s' $(seq 40000))' WHERE username = 'frank'"
run_rctl user list --format xlsx --output "$X/people.xlsx"
assert_rc 1 "a value longer than a cell holds"
assert_contains "$ERR" "title"
cmp -s "$X/before.xlsx" "$X/people.xlsx" || fail "a failed export changed the older file"
run_rctl user list --format xlsx --output "$X/new.xlsx"
assert_rc 1 "the failed export again, to a new file"
assert_no_file "$X/new.xlsx"
assert_eq "" "$(ls -A "$X" | grep '^\.')" "no temporary file left by a failed export"
