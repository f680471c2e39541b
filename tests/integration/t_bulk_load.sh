#!/usr/bin/env bash
# t_bulk_load: a first sync into a store with no people loads them in bulk
# (store.bulk_load, docs/design.md (r)), and the store it leaves is the one a
# run that stages leaves.
# Proves, each time comparing a run with store.bulk_load = false (staged) and
# one with the default (loaded) into stores of their own, every table dumped
# with people and groups named by their directory ids (their row ids, and
# the audit log's, may differ) and timestamps only as set or not: the same
# store and the same exit code, and the same plugin events in the same order
# (the recorder test plugin), for a directory with managers (a chain, a
# cycle, one naming the person themself, one outside the people, one naming
# nobody, secondary managers), people disabled in the directory, custom
# fields, nested groups with a cycle, a contact among the members, a mapped
# role and the three rule plugins; for usernames that clash (in case, and as
# LDAP compares them beyond ASCII), where the load gives way to staging
# mid-read; for memberUid groups and for memberships read from memberOf
# values; for a read cut short by a size limit (incomplete, exit 1); for
# the benchmark's generated organisation; and for the runs
# after each (a change, then none). Only the loaded run logs that it loads,
# and only into a store with no people. A run that fails mid-load (a plugin's
# error) leaves the store as it was, and the next run loads.
# SQLite only: the dumps read SQLite's catalogue, and the bulk operations
# are SQLite's (on PostgreSQL a load is one plain transaction, which every
# first sync of STORE=pg's tests goes through).
. "$(dirname "$0")/lib.sh"
needs_store sqlite

PDIR=$(dirname "$ROSTERD")/plugins
TDIR=$(dirname "$ROSTERD")/tests/plugins
GEN_ORG=$ROSTERD_TOP/bench/gen-org
mkdir -p "$TEST_TMP/a"
CONF_A=$TEST_TMP/a/rosterd.conf
DB_A=$TEST_TMP/a/learning.db

# nat_dump DB: every table, a line a row (the table's name first), rows
# sorted; a column that refers to people or groups shows the row's
# directory id, the row ids of people, groups and the audit log are left
# out, and a timestamp or duration only shows whether it is set.
nat_dump() {
	local q
	q=$(sqlite3 -batch -noheader "$1" <<'EOF'
SELECT 'SELECT ''' || m.name || ': '' || ' || (SELECT group_concat(e, ' || ''|'' || ') FROM (
	SELECT CASE
	  WHEN c.pk = 1 AND m.name IN ('people', 'groups', 'audit_log') THEN NULL
	  WHEN f."table" IN ('people', 'groups') THEN 'coalesce((SELECT quote(dir_id) FROM "'
	       || f."table" || '" WHERE id = "' || c.name || '"), quote("' || c.name || '"))'
	  WHEN c.name IN ('at', 'since', 'duration') OR c.name LIKE '%\_at' ESCAPE '\'
	       OR c.name LIKE '%\_since' ESCAPE '\' THEN '("' || c.name || '" IS NOT NULL)'
	  ELSE 'quote("' || c.name || '")' END AS e
	FROM pragma_table_info(m.name) c LEFT JOIN pragma_foreign_key_list(m.name) f
	ON f."from" = c.name ORDER BY c.cid) WHERE e IS NOT NULL)
	|| ' AS row FROM "' || m.name || '" ORDER BY row;'
FROM sqlite_schema m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name;
EOF
)
	# A time in a text (a reason, "missing ... since" one) is the run's own
	# too: the two runs may be a second apart.
	sqlite3 -batch -noheader "$1" "$q" | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/<time>/g'
}

# confs: the config of each run (the ROSTERD_CONF_* variables apply), the
# staged one with store.bulk_load = false; PLUGINS_EXTRA, when set, goes
# after the rule plugins, with @EVENTS@ the run's own events file.
confs() {
	local pl=${PLUGINS:-}
	ROSTERD_CONF_PLUGINS=${pl//@EVENTS@/$TEST_TMP/events.b} write_conf
	ROSTERD_CONF_PLUGINS=${pl//@EVENTS@/$TEST_TMP/events.a} ROSTERD_CONF_STORE_PATH=$DB_A \
		ROSTERD_CONF_STORE_EXTRA='bulk_load = false;' slapd_write_rosterd_conf "$CONF_A"
}

# both WHAT [RC]: run each config once (after the first, each store has
# people: both stage), expect the exit code RC (0) of both, and the same
# store and events.
both() {
	local what=$1 rc=${2:-0} loaded
	loaded=yes
	if [ -e "$DB" ] && [ -n "$(sql 'SELECT 1 FROM people LIMIT 1')" ]; then
		loaded=no
	fi
	run "$ROSTERD" -c "$CONF_A" --once -v
	assert_rc "$rc" "$what: the staged run"
	assert_not_contains "$ERR" "loading them as they are read"
	run_rosterd --once -v
	assert_rc "$rc" "$what: the loaded run"
	if [ "$loaded" = yes ]; then
		assert_contains "$ERR" "loading them as they are read" "$what: the store had no people"
	else
		assert_not_contains "$ERR" "loading them as they are read"
	fi
	assert_eq "$(nat_dump "$DB_A")" "$(nat_dump "$DB")" "$what: the two stores"
	if [ -e "$TEST_TMP/events.a" ]; then
		assert_eq "$(cat "$TEST_TMP/events.a")" "$(cat "$TEST_TMP/events.b")" "$what: the events"
	fi
}

fresh() { rm -f "$DB"* "$DB_A"* "$TEST_TMP"/events.*; }
b64() { printf '%b' "$1" | base64 -w0; }

note "managers, disabled people, custom fields, nested groups, roles, the rule plugins"
{
	ldif_person boss Big Boss "manager: $(p boss)" "departmentNumber: D1"
	ldif_person alice Alice Example "manager: $(p boss)" "secretary: $(p carol)" "departmentNumber: D1"
	ldif_person bob Bob Example "manager: $(p alice)" "departmentNumber: D2" "carLicense: 2099-01-01"
	ldif_person carol Carol Example "manager: UID=Dave , ou=People,dc=example,dc=com" "departmentNumber: D2"
	ldif_person dave Dave Example "manager: $(p carol)" "nsAccountLock: TRUE"
	ldif_person erin Erin Example "manager: uid=nobody,ou=people,$SUFFIX"
	ldif_person frank Frank Example "manager: cn=contact,ou=system,$SUFFIX"
	ldif_person gina Gina Example "nsAccountLock: TRUE" "departmentNumber: D1"
	ldif_person osa Osa Oberg "manager: $(p alice)" "title:: $(b64 'Fr\xc3\xa5ga')"
	ldif_group lms-admins "$(p alice)"
	ldif_group engineering "$(p bob)" "UID=Carol , OU=People,DC=Example,DC=Com" \
		"cn=contact,ou=system,$SUFFIX" "$(g eng-london)" "$(p bob)"
	ldif_group eng-london "$(p dave)" "$(p erin)" "$(g engineering)"
	ldif_group all-staff "$(g engineering)" "$(p frank)" "$(p osa)" "$(p gina)"
	ldif_group empty "cn=contact,ou=system,$SUFFIX"
} >"$TEST_TMP/org.ldif"
start_directory "$TEST_TMP/org.ldif"
export ROSTERD_CONF_ROLES='{ group = "lms-admins"; role = "admin"; }'
export ROSTERD_CONF_SYNC='max_disable = 500; max_disable_percent = 100.0;
  max_membership_removals_percent = 100.0; initial_status = "invited";'
export ROSTERD_CONF_USERS_EXTRA='disabled_attribute = "nsAccountLock"; disabled_values = [ "TRUE" ];'
export ROSTERD_CONF_ATTRIBUTES='id = "entryUUID"; username = "uid"; email = "mail";
    given_name = "givenName"; family_name = "sn"; display_name = "cn";
    manager = "manager"; secondary_manager = "secretary"; department = "departmentNumber";
    custom = { end_date = "carLicense"; cost_centre = "departmentNumber"; };'
PLUGINS="
  { name = \"disable_rules\"; path = \"$PDIR/disable_rules.so\"; grace_runs = 1;
    end_date_field = \"end_date\"; },
  { name = \"course_rules\"; path = \"$PDIR/course_rules.so\";
    courses = ( { code = \"SEC101\"; }, { code = \"LIC1\"; licences = 1; } );
    rules = ( { group = \"all-staff\"; courses = [ \"SEC101\" ]; due_days = 30; },
              { department = \"D1\"; courses = [ \"LIC1\" ]; } ); },
  { name = \"archive_rules\"; path = \"$PDIR/archive_rules.so\"; after_days = 1; },
  { name = \"recorder\"; path = \"$TDIR/recorder.so\"; file = \"@EVENTS@\"; }"
confs
both "first sync"
assert_sql "admin" "SELECT role FROM people WHERE username = 'alice'"
assert_sql "1" "SELECT manager_cycles FROM sync_runs ORDER BY id DESC LIMIT 1" "carol <-> dave"
assert_sql "disabled|directory" "SELECT status, status_reason FROM people WHERE username = 'gina'"
assert_contains "$(cat "$TEST_TMP/events.b")" "group-joined osa all-staff"
assert_sql 0 "SELECT count(*) FROM pragma_foreign_key_check"
assert_sql ok "PRAGMA integrity_check"
assert_sql wal "PRAGMA journal_mode" "the store is in WAL mode again"
ldap_admin_modify <<EOF
dn: $(p erin)
changetype: modify
replace: manager
manager: $(p alice)
-
replace: title
title: Lead
EOF
ldap_admin_delete "$(p frank)"
both "a change after the first sync"
both "no change"

note "usernames that clash: the load gives way to staging"
fresh
slapd_stop
{
	ldif_person zed Zed Example
	ldif_person olga Olga Example "manager: $(p zed)"
	printf 'dn: cn=Other Olga,%s\nobjectClass: inetOrgPerson\nuid: OLGA\ncn: Other Olga\nsn: Other\n\n' "$PEOPLE"
	printf 'dn: cn=Aero One,%s\nobjectClass: inetOrgPerson\nuid:: %s\ncn: Aero One\nsn: One\n\n' \
		"$PEOPLE" "$(b64 '\xc3\xa6r\xc3\xb8')"
	printf 'dn: cn=Aero Two,%s\nobjectClass: inetOrgPerson\nuid:: %s\ncn: Aero Two\nsn: Two\n\n' \
		"$PEOPLE" "$(b64 '\xc3\x86R\xc3\x98')"
	ldif_person yann Yann Example "manager: $(p olga)"
	ldif_group team "$(p olga)" "$(p yann)" "cn=Aero One,$PEOPLE"
} >"$TEST_TMP/clash.ldif"
unset PLUGINS
start_directory "$TEST_TMP/clash.ldif"
ROSTERD_CONF_SYNC='max_reject_percent = 100.0; initial_status = "invited";' confs
both "clashing usernames" 0
assert_contains "$ERR" "the people loaded were staged instead"
assert_sql 2 "SELECT rejected FROM sync_runs ORDER BY id DESC LIMIT 1" "OLGA and ÆRØ rejected"
assert_sql 2 "SELECT count(*) FROM run_rejects"

note "memberUid groups"
fresh
slapd_stop
{
	for u in ann ben cat; do ldif_person "$u" "${u^}" Example "manager: $(p ann)"; done
	printf 'dn: cn=staff,%s\nobjectClass: posixGroup\ncn: staff\ngidNumber: 5000\n' "$GROUPS_OU"
	printf 'memberUid: %s\n' ann CAT nobody ann
	echo
} >"$TEST_TMP/posix.ldif"
start_directory "$TEST_TMP/posix.ldif"
ROSTERD_CONF_GROUPS_FILTER='(objectClass=posixGroup)' ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE=memberUid \
	ROSTERD_CONF_GROUPS_NESTED=false confs
both "memberUid"
assert_sql "1" "SELECT members_ignored FROM sync_runs ORDER BY id DESC LIMIT 1"

note "memberships from memberOf values"
fresh
slapd_stop
export SLAPD_EXTRA_GLOBAL_CONF='moduleload memberof'
export SLAPD_EXTRA_DB_CONF='overlay memberof'
{ for u in dan eva fay; do ldif_person "$u" "${u^}" Example "manager: $(p dan)"; done; } \
	>"$TEST_TMP/mo.ldif"
start_directory "$TEST_TMP/mo.ldif"
printf 'dn: cn=club%s,%s\nobjectClass: groupOfNames\ncn: club%s\nmember: %s\n\n' \
	1 "$GROUPS_OU" 1 "$(p dan)" 2 "$GROUPS_OU" 2 "$(p eva)" 3 "$GROUPS_OU" 3 "$(p dan)" |
	ldap_admin_add
ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE="" ROSTERD_CONF_ATTRIBUTES='id = "entryUUID"; username = "uid";
    email = "mail"; member_of = "memberOf";' confs
both "memberOf"
slapd_stop
unset SLAPD_EXTRA_GLOBAL_CONF SLAPD_EXTRA_DB_CONF

note "a read cut short by a size limit: incomplete, the same creates"
fresh
{ gen_people 20; ldif_group all "$(p user00001)" "$(p user00003)" "$(p user00019)"; } >"$TEST_TMP/limit.ldif"
export SLAPD_EXTRA_DB_CONF='limits dn.exact="cn=rosterd,ou=system,dc=example,dc=com" size=5'
start_directory "$TEST_TMP/limit.ldif"
ROSTERD_CONF_PAGE_SIZE=2 confs
both "a size limit" 1
assert_sql 5 "SELECT count(*) FROM people"
slapd_stop
unset SLAPD_EXTRA_DB_CONF

note "the benchmark's organisation, with the rule plugins"
fresh
"$GEN_ORG" 3000 --seed 5 --groups >"$TEST_TMP/gen.ldif"
start_directory "$TEST_TMP/gen.ldif"
unset ROSTERD_CONF_USERS_EXTRA ROSTERD_CONF_ATTRIBUTES
export ROSTERD_CONF_ROLES='{ group = "cn=g0001,ou=groups,dc=example,dc=com"; role = "admin"; }'
export ROSTERD_CONF_SYNC='max_disable = 100000; max_disable_percent = 100.0; initial_status = "active";'
PLUGINS="
  { name = \"course_rules\"; path = \"$PDIR/course_rules.so\";
    courses = ( { code = \"SEC101\"; }, { code = \"LIC\"; licences = 50; } );
    rules = ( { everyone = true; courses = [ \"SEC101\" ]; due_days = 30; },
              { department = \"D001\"; courses = [ \"LIC\" ]; } ); },
  { name = \"recorder\"; path = \"$TDIR/recorder.so\"; file = \"@EVENTS@\"; }"
confs
both "3,000 generated people"
assert_sql 3000 "SELECT count(*) FROM people"
assert_sql 1 "SELECT count(*) > 9000 FROM group_membership"

note "a plugin's error mid-load: the store as it was, the next run loads"
fresh
unset ROSTERD_CONF_ROLES
PLUGINS="{ name = \"failing\"; path = \"$TDIR/failing.so\"; fail_on = \"created\"; }" confs
run_rosterd --once -v
assert_rc 1 "the failing plugin"
assert_contains "$ERR" "loading them as they are read"
assert_sql 0 "SELECT count(*) FROM people"
assert_sql 0 "SELECT count(*) FROM audit_log"
assert_sql "failed" "SELECT outcome FROM sync_runs ORDER BY id DESC LIMIT 1"
unset PLUGINS
confs
run_rosterd --once -v
assert_rc 0 "the next run"
assert_contains "$ERR" "loading them as they are read"
assert_sql 3000 "SELECT count(*) FROM people"
