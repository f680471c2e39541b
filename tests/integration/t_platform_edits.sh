#!/usr/bin/env bash
# t_platform_edits: the rule for the directory's columns edited by the
# platform, as rosterd(8) "What a run changes" documents it.
# Proves: a run puts back a directory-sourced field only when the directory
# changed the entry: a platform's edit of people.email (and of a directory
# custom field) stays through a run that reads the entry unchanged (0
# updated, nothing audited); the platform setting people.src_hash = 0 with
# its edit makes the next full run compare that person and put the
# directory's values back (1 updated, audited "changed: email fields"); a
# platform's own custom field (person_fields.source set) survives every run.
. "$(dirname "$0")/lib.sh"

export ROSTERD_CONF_ATTRIBUTES='id = "entryUUID"; username = "uid"; email = "mail";
      custom = { cost_centre = "departmentNumber"; };'
start_directory "$FIXTURES/people-small.ldif"
write_conf
sync_once
mail=$(col bob email)
cc=$(sql "SELECT value FROM person_fields f JOIN people p ON p.id = f.person_id WHERE p.username = 'bob' AND f.name = 'cost_centre'")
assert_ne "" "$mail"
assert_ne "" "$cc"

note "the platform edits bob's e-mail and a directory custom field, and sets one of its own"
sql "UPDATE people SET email = 'edited@platform' WHERE username = 'bob';
     UPDATE person_fields SET value = 'EDITED' WHERE name = 'cost_centre'
       AND person_id = (SELECT id FROM people WHERE username = 'bob');
     INSERT INTO person_fields (person_id, name, value, source)
       SELECT id, 'badge', 'gold', 'platform' FROM people WHERE username = 'bob';"
audit=$(sql "SELECT count(*) FROM audit_log")
sync_once
assert_eq "ok 0 0 0 0 0 0" "$(run_counts)" "a run that reads bob's entry unchanged"
assert_eq "edited@platform" "$(col bob email)" "the edit stays: the directory did not change the entry"
assert_sql EDITED "SELECT value FROM person_fields f JOIN people p ON p.id = f.person_id WHERE p.username = 'bob' AND f.name = 'cost_centre'"
assert_sql "$audit" "SELECT count(*) FROM audit_log" "nothing audited"

note "the platform asks for the directory's values back: src_hash = 0"
sql "UPDATE people SET src_hash = 0 WHERE username = 'bob'"
sync_once
assert_eq "ok 0 1 0 0 0 0" "$(run_counts)" "bob compared and updated"
assert_eq "$mail" "$(col bob email)" "the directory's e-mail put back"
assert_sql "$cc" "SELECT value FROM person_fields f JOIN people p ON p.id = f.person_id WHERE p.username = 'bob' AND f.name = 'cost_centre'"
assert_sql "bob|changed: email fields" "SELECT subject, detail FROM audit_log WHERE action = 'update' AND run_id = $(last_run id)"
assert_sql "gold|platform" "SELECT value, source FROM person_fields f JOIN people p ON p.id = f.person_id WHERE p.username = 'bob' AND f.name = 'badge'" "the platform's own field kept"

note "a change in the directory puts the whole profile back too"
sql "UPDATE people SET email = 'again@platform' WHERE username = 'bob'"
set_attr "uid=bob,$PEOPLE" title "Chief"
sync_once
assert_eq "$mail" "$(col bob email)" "an entry the directory changed is compared in full"
