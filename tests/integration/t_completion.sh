#!/usr/bin/env bash
# t_completion: the bash completion of rosterctl (completions/rosterctl),
# sourced into bash and driven as bash drives it (COMP_WORDS, COMP_CWORD)
# against a real store.
# Proves: commands, subcommands and options complete (access, assignment
# archive, user role and report activity too); --format, --status, --expires
# and --columns (the last of a comma-separated list) complete their values,
# report activity's --from (a date) nothing;
# usernames (user show, --manager, assign), group names (--group, group
# show) and course codes (course show, assign) come from the store named by
# the command line's -c; `rosterctl complete` prints names by prefix, ASCII
# case ignored, and a wrong kind is exit 2; `make install` installs the
# script into share/bash-completion/completions/rosterctl.
. "$(dirname "$0")/lib.sh"

{
	for u in alice albert bob carol; do ldif_person "$u" "${u^}" Example; done
	ldif_group engineering "$(p bob)" "$(p carol)"
	ldif_group eng-london "$(p alice)"
	ldif_group sales "$(p albert)"
} > "$TEST_TMP/org.ldif"
start_directory "$TEST_TMP/org.ldif"
write_conf
sync_once
rctl_ok course add SEC101
rctl_ok course add SAFE1

# completion's rosterctl is the one under test
mkdir -p "$TEST_TMP/bin"
ln -s "$ROSTERCTL" "$TEST_TMP/bin/rosterctl"
PATH=$TEST_TMP/bin:$PATH
# shellcheck source=completions/rosterctl
. "$ROSTERD_TOP/completions/rosterctl"

# comp WORD...: what completing the last word gives, sorted, space-separated.
comp() {
	COMP_WORDS=(rosterctl "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_rosterctl
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}

note "commands and options"
assert_eq "user" "$(comp us)" "a command"
assert_eq "chain course" "$(comp c)" "commands"
assert_eq "relink remove restore" "$(comp user re)" "user's subcommands"
assert_eq "--search" "$(comp -c "$CONF" user list --se)" "an option of user list"
assert_eq "--format" "$(comp -c "$CONF" chain alice --f)" "chain's options"
assert_eq "--help" "$(comp -c "$CONF" chain alice --h)" "--help"
assert_eq "csv json table xlsx" "$(comp -c "$CONF" runs --format '')" "--format"
assert_eq "json table" "$(comp -c "$CONF" user show alice --format '')" "--format of user show"
assert_eq "disabled" "$(comp -c "$CONF" user list --status d)" "--status"
assert_eq "username,manager" "$(comp -c "$CONF" user list --columns username,ma)" "--columns: the last of a list"
assert_eq "family_name field:" "$(comp -c "$CONF" user list --columns f)" "--columns"
assert_eq "access assign assignment" "$(comp a)" "commands with a"
assert_eq "role" "$(comp user ro)" "user role"
assert_eq "archive" "$(comp assignment '')" "assignment's subcommand"
assert_eq "activity" "$(comp report '')" "report's subcommand"
assert_eq "--month" "$(comp -c "$CONF" report activity --m)" "report activity's options"
assert_eq "" "$(comp -c "$CONF" report activity --from '')" "report activity --from is a date"
assert_eq "--reassign" "$(comp -c "$CONF" assignment archive alice SEC101 --rea)" "assignment archive's options"
assert_eq "--expires" "$(comp -c "$CONF" assign alice SEC101 --ex)" "assign --expires"
assert_eq "never" "$(comp -c "$CONF" access alice SEC101 --expires n)" "access --expires never"

note "names from the store"
assert_eq "albert alice" "$(comp -c "$CONF" user show al)" "usernames"
assert_eq "albert alice" "$(comp -c "$CONF" user show AL)" "usernames, case ignored"
assert_eq "bob" "$(comp --config "$CONF" reports b)" "usernames after --config"
assert_eq "albert alice" "$(comp -c "$CONF" user list --manager a)" "--manager"
assert_eq "eng-london engineering" "$(comp -c "$CONF" user list --group eng)" "--group"
assert_eq "sales" "$(comp -c "$CONF" group show s)" "group show"
assert_eq "SAFE1 SEC101" "$(comp -c "$CONF" course show s)" "course show"
assert_eq "SAFE1 SEC101" "$(comp -c "$CONF" assign alice S)" "assign: courses"
assert_eq "bob" "$(comp -c "$CONF" assign b)" "assign: people"
assert_eq "SAFE1 SEC101" "$(comp -c "$CONF" access alice S)" "access: courses"
assert_eq "SAFE1 SEC101" "$(comp -c "$CONF" assignment archive bob S)" "assignment archive: courses"
assert_eq "admin albert alice auto" "$(comp -c "$CONF" user role a)" "user role: people and roles"
assert_eq "" "$(comp -c "$TEST_TMP/nothing.conf" user show al)" "no store: nothing, quietly"

note "rosterctl complete"
rctl_ok complete users A
assert_eq "albert
alice" "$OUT" "complete users"
rctl_ok complete groups
assert_eq "eng-london
engineering
sales" "$OUT" "complete groups"
run_rctl complete people a
assert_rc 2 "complete of an unknown kind"

note "make install"
ROOT=$TEST_TMP/root
run make -s -C "$ROSTERD_TOP" install DESTDIR="$ROOT" B="$(cd "$(dirname "$ROSTERCTL")" && pwd)"
assert_rc 0 "make install"
assert_file_exists "$ROOT/usr/local/share/bash-completion/completions/rosterctl"
cmp -s "$ROSTERD_TOP/completions/rosterctl" "$ROOT/usr/local/share/bash-completion/completions/rosterctl" ||
	fail "the installed completion is not completions/rosterctl"
