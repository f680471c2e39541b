#!/usr/bin/env bash
# t_check_schema: rosterd -n checks the attribute names the config maps
# against the server's schema (issue 15 item 1).
# Proves: a good config passes (exit 0, "mapped attribute names found in the
# schema"); a misspelt ldap.attributes.email, a custom field, a group
# attribute and disabled_attribute are each named with their key, in one
# check, exit 2, no "configuration ok"; names are matched case-insensitively
# and by alias (commonName for cn); an unreachable directory is said and does
# not fail the check.
. "$(dirname "$0")/lib.sh"

start_directory "$FIXTURES/people-small.ldif"
write_conf
run_rosterd -n
assert_rc 0 "a config whose attributes the schema has"
assert_contains "$OUT" "mapped attribute names found in the schema of $SLAPD_URI"
assert_contains "$OUT" "configuration ok"

note "misspelt names, each named with its key"
export ROSTERD_CONF_ATTRIBUTES='id = "entryUUID"; username = "uid"; email = "mial";
      display_name = "COMMONNAME"; custom = { cost_centre = "departmentNumbr"; };'
export ROSTERD_CONF_GROUPS_EXTRA='name_attribute = "cnn";'
export ROSTERD_CONF_USERS_EXTRA='disabled_attribute = "nsAccountLok"; disabled_values = [ "TRUE" ];'
write_conf
before=$(store_hash)
run_rosterd -n
assert_rc 2 "misspelt attribute names"
assert_contains "$ERR" "$CONF: ldap.attributes.email: \"mial\" is not an attribute of the schema of $SLAPD_URI"
assert_contains "$ERR" "$CONF: ldap.attributes.custom.cost_centre: \"departmentNumbr\" is not an attribute"
assert_contains "$ERR" "$CONF: ldap.groups.name_attribute: \"cnn\" is not an attribute"
assert_contains "$ERR" "$CONF: ldap.users.disabled_attribute: \"nsAccountLok\" is not an attribute"
assert_not_contains "$ERR" "display_name"
assert_not_contains "$OUT" "configuration ok"
assert_eq "$before" "$(store_hash)" "the store is untouched"

note "the directory cannot be reached: said, not fatal"
unset ROSTERD_CONF_GROUPS_EXTRA ROSTERD_CONF_USERS_EXTRA
ROSTERD_CONF_URI="ldap://127.0.0.1:1" write_conf
run_rosterd -n
assert_rc 0 "rosterd -n with no directory to ask"
assert_contains "$OUT" "cannot check the mapped attribute names against the directory's schema"
