#!/usr/bin/env bash
# t_rosterctl: the operator's read views and their formats.
# Proves: `user show UID --json` has the contract's keys and values (manager
# and secondary_manager null, groups and courses [], fields with cost_centre,
# a multi-valued field joined by a line feed, a missing email as null, a
# disabled person's status); a missing user is exit 1; `user list` filters by
# --status, --location, --department (combined too) and prints table, CSV
# (header, quoting of a comma and of double quotes, empty cells) and JSON
# (parses, right count, sorted by username); `status` and `status --json`
# count people by status and show the last run; `runs` lists newest first
# with --limit, as JSON and CSV; bad usage exits 2; a store that does not
# exist is exit 1 and is not created; the read commands leave the store
# file unchanged.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 50.0; initial_status = "invited";'
write_conf
sync_once
ldap_admin_delete "uid=carol,$PEOPLE"
sync_once
hash=$(store_hash)

note "user show --json"
rctl_ok user show alice --json
for key in username email given_name family_name display_name status manager secondary_manager groups courses fields; do
	assert_eq true "$(jout "has(\"$key\")")" "user show --json has key $key"
done
assert_json '[.username, .email, .given_name, .family_name, .display_name, .status] | join("|")' \
	"alice|alice@example.com|Alice|Archer|Alice Archer|invited"
assert_json '.manager' null
assert_json '.secondary_manager' null
assert_json '.groups | type + ":" + (length | tostring)' "array:0"
assert_json '.courses | type + ":" + (length | tostring)' "array:0"
assert_json '.fields | tojson' '{"cost_centre":"ENG"}'
rctl_ok user show dave --json
assert_json '.email' null
assert_json '.fields.cost_centre' "ENG
OPS"
rctl_ok user show carol --json
assert_json '.status' disabled
assert_json '.status_reason' missing
rctl_ok user show carol
assert_match "$OUT" '^status +disabled$'
assert_match "$OUT" '^title +Head of "Ops", EMEA$'
assert_match "$OUT" '^cost_centre +OPS$'

run_rctl user show nobody --json
assert_rc 1 "user show of a missing user"
assert_eq "" "$OUT" "stdout of user show of a missing user"
assert_contains "$ERR" "nobody"

note "user list --format json and filters"
rctl_ok user list --format json
assert_json 'length' 10
assert_json '[.[].username] | join(",")' "alice,bob,carol,dave,erin,frank,jose,jsmith,zoe,zwei"
assert_json '[.[] | select(.status == "invited")] | length' 9
assert_json '.[] | select(.username == "dave") | .email' null
rctl_ok user list --status disabled --format json
assert_json '[.[].username] | join(",")' carol
rctl_ok user list --status active --format json
assert_json 'length' 0
rctl_ok user list --location Paris --format json
assert_json '[.[].username] | join(",")' "carol,dave,frank"
rctl_ok user list --department SALES --format json
assert_json '[.[].username] | join(",")' "jose,zwei"
rctl_ok user list --department OPS --location London --status invited --format json
assert_json '[.[].username] | join(",")' erin
rctl_ok user list --location Nowhere --format json
assert_json 'length' 0

note "user list --format csv"
rctl_ok user list --format csv
assert_eq "username,email,given_name,family_name,display_name,status,status_reason,role,employee_number,department,location,title,member_since,manager,secondary_manager,field:cost_centre" \
	"$(head -n 1 <<<"$OUT")" "CSV header: every profile field, the managers, the custom fields"
assert_eq 12 "$(wc -l <<<"$OUT")" "CSV lines (header and 10 people, dave's two-valued field quoted over two lines)"
assert_match "$OUT" '^bob,bob@example\.com,Bob,Baker,Bob Baker,invited,,manager,1002,ENG,London,Engineer,[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z,alice,,ENG$' "CSV row with manager and custom field"
rctl_ok user list --format csv --columns username,status,display_name,email,department,location,title
assert_eq "username,status,display_name,email,department,location,title" "$(head -n 1 <<<"$OUT")" "CSV header of --columns"
assert_match "$OUT" '^carol,disabled,Carol Clark,carol@example\.com,OPS,Paris,"Head of ""Ops"", EMEA"$' "CSV quoting of a comma and double quotes"
assert_match "$OUT" '^jsmith,invited,"Smith, John",jsmith@example\.com,ENG,London,Engineer$' "CSV quoting of a comma"
assert_match "$OUT" '^dave,invited,Dave Dunn,,ENG,Paris,Site Reliability Engineer$' "CSV empty cell for a missing email"
rctl_ok user list --format csv --status disabled
assert_eq 2 "$(wc -l <<<"$OUT")" "CSV lines for --status disabled"

note "user list (table)"
rctl_ok user list
assert_match "$(head -n 1 <<<"$OUT")" '^username +status +display_name +email +department +location +title$'
assert_match "$OUT" '^alice +invited +Alice Archer +alice@example\.com +ENG +London +Chief Technology Officer$'
assert_eq 11 "$(wc -l <<<"$OUT")" "table lines"

note "status"
rctl_ok status
assert_contains "$OUT" "people: 10 (invited 9, active 0, disabled 1, archived 0)"
assert_match "$OUT" '^last run: 2 ok'
rctl_ok status --json
assert_json '[.people.total, .people.invited, .people.active, .people.disabled, .people.archived] | map(tostring) | join(" ")' "10 9 0 1 0"
assert_json '.last_run.id' 2
assert_json '.last_run.outcome' ok
assert_json '.last_run.disabled' 1
assert_json '.held_runs | length' 0

note "runs"
rctl_ok runs --format json
assert_json '[.[].id] | map(tostring) | join(",")' "2,1"
assert_json '[.[0].outcome, .[0].entries_read, .[0].disabled, .[1].created] | map(tostring) | join(" ")' "ok 9 1 10"
rctl_ok runs --limit 1 --format json
assert_json 'length' 1
rctl_ok runs --format csv
assert_eq "id,started_at,outcome,duration,entries_read,created,updated,renamed,disabled,enabled,rejected,kind,runs,error" "$(head -n 1 <<<"$OUT")"
assert_eq 3 "$(wc -l <<<"$OUT")" "runs CSV lines"
rctl_ok runs
assert_match "$(head -n 1 <<<"$OUT")" '^id +started_at +outcome'

assert_eq "$hash" "$(store_hash)" "the read commands left the store file unchanged"

note "bad usage: exit 2"
for args in "bogus" "user" "user show" "user show alice extra" "user frob alice" \
	"user list --format xml" "user list --status gone" "user list extra" \
	"runs --limit 0" "runs --format yaml" "status --bogus" "run approve" "run frob 1"; do
	run_rctl $args
	assert_rc 2 "rosterctl $args"
	assert_eq "" "$OUT" "stdout of rosterctl $args"
done
run "$ROSTERCTL" -c "$CONF"
assert_rc 2 "rosterctl without a command"
run "$ROSTERCTL" --help
assert_rc 0 "rosterctl --help"
assert_contains "$OUT" "usage: rosterctl"

note "a store that does not exist"
CONF=$TEST_TMP/nostore/rosterd.conf
ROSTERD_CONF_STORE_PATH=$TEST_TMP/nostore/learning.db write_conf
for args in "status" "user show alice --json" "user list" "runs" "run approve 1"; do
	run_rctl $args
	assert_rc 1 "rosterctl $args without a store"
done
if [ "$STORE" = pg ]; then
	assert_contains "$ERR" "schema version 0, this program knows"
	DB=$TEST_TMP/nostore/learning.db assert_no_store
else
	assert_contains "$ERR" "$TEST_TMP/nostore/learning.db"
	assert_no_file "$TEST_TMP/nostore/learning.db"
fi
