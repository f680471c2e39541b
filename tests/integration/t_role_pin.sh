#!/usr/bin/env bash
# t_role_pin: roles pinned by an operator against real sync runs.
# Proves: user role UID admin|manager|learner pins the role (role_source
# operator), audited as operator:NAME; user show (table and JSON) and user
# list --columns say where the role comes from; a sync run that works the
# roles out again (a changed manager, a group joined) leaves pinned roles as
# they are while it changes an unpinned person's; user role UID auto gives
# the role back to the directory, and the next run, with nothing changed in
# the directory, applies the directory's rules; the same pin twice is no
# change; several people at once, and from standard input; a bad role is
# exit 2, an unknown person exit 1, and neither changes anything.
. "$(dirname "$0")/lib.sh"

{
	ldif_person ann Ann Admin
	ldif_person ben Ben Boss
	ldif_person cat Cat Clerk "manager: $(p ben)"
	ldif_person dan Dan Dev
	ldif_person eve Eve Eng
	ldif_person fay Fay Field
	ldif_group lms-admins "$(p ann)"
} > "$TEST_TMP/org.ldif"
start_directory "$TEST_TMP/org.ldif"
export ROSTERD_CONF_ROLES='{ group = "lms-admins"; role = "admin"; }'
export SUDO_USER=nobody SUDO_UID=65534
write_conf
sync_once
roles() { sql "SELECT group_concat(username || ':' || role || ':' || role_source, ' ') FROM (SELECT * FROM people ORDER BY username)"; }
assert_eq "ann:admin:directory ben:manager:directory cat:learner:directory dan:learner:directory eve:learner:directory fay:learner:directory" "$(roles)"

note "pin"
rctl_ok user role ann learner
assert_eq "ann: role admin -> learner, pinned by the operator" "$OUT"
rctl_ok user role dan admin
assert_eq "ann:learner:operator ben:manager:directory cat:learner:directory dan:admin:operator eve:learner:directory fay:learner:directory" "$(roles)"
assert_sql "operator:nobody|role|ann|admin -> learner, pinned by the operator
operator:nobody|role|dan|learner -> admin, pinned by the operator" \
	"SELECT actor, action, subject, detail FROM audit_log WHERE actor LIKE 'operator:%' ORDER BY id"
rctl_ok user role dan admin
assert_eq "dan: role admin, from the operator already" "$OUT"
rctl_ok user show dan --json
assert_json '[.role, .role_source] | join(" ")' "admin operator"
rctl_ok user show dan
assert_match "$OUT" '^role source +operator$'
assert_match "$OUT" '^last change +[0-9T:-]+Z by operator:nobody: role \(learner -> admin, pinned by the operator\)$'
rctl_ok user list --columns username,role,role_source --format csv
assert_eq "username,role,role_source
ann,learner,operator
ben,manager,directory
cat,learner,directory
dan,admin,operator
eve,learner,directory
fay,learner,directory" "$OUT"

note "a sync run that works the roles out again keeps the pins"
# eve now reports to dan (the rules would make dan a manager), fay joins
# lms-admins (unpinned: she becomes an admin), ann is still in lms-admins
set_attr "$(p eve)" manager "$(p dan)"
ldap_admin_modify <<EOF
dn: $(g lms-admins)
changetype: modify
add: member
member: $(p fay)
EOF
sync_once
assert_eq "ann:learner:operator ben:manager:directory cat:learner:directory dan:admin:operator eve:learner:directory fay:admin:directory" "$(roles)"
assert_sql 1 "SELECT role_changes FROM sync_runs ORDER BY id DESC LIMIT 1"
assert_sql "sync|fay|learner -> admin" "SELECT actor, subject, detail FROM audit_log WHERE action = 'role' ORDER BY id DESC LIMIT 1"

note "auto: back to the directory's rules from the next run"
rctl_ok user role ann dan auto
assert_eq "ann: role learner: back to the directory's rules from the next sync run
dan: role admin: back to the directory's rules from the next sync run" "$OUT"
assert_eq "ann:learner:directory ben:manager:directory cat:learner:directory dan:admin:directory eve:learner:directory fay:admin:directory" "$(roles)"
rctl_ok user role ann auto
assert_eq "ann: role learner, from the directory already" "$OUT"
# nothing changed in the directory since the last run
sync_once
assert_eq "ann:admin:directory ben:manager:directory cat:learner:directory dan:manager:directory eve:learner:directory fay:admin:directory" "$(roles)"
assert_sql "ann|learner -> admin
dan|admin -> manager" "SELECT subject, detail FROM (SELECT * FROM audit_log WHERE action = 'role' AND actor = 'sync' ORDER BY id DESC LIMIT 2) ORDER BY id"

note "several from standard input; refusals"
run "$ROSTERCTL" -c "$CONF" user role --from - manager <<<$'cat\neve'
assert_rc 0 "user role --from -"
assert_eq "cat: role learner -> manager, pinned by the operator
eve: role learner -> manager, pinned by the operator" "$OUT"
before=$(roles)
run_rctl user role ben boss
assert_rc 2 "a role that is none"
run_rctl user role ben nobody-here admin
assert_rc 1 "an unknown person among the people named"
assert_contains "$ERR" "nothing was changed"
run_rctl user role ben
assert_rc 2 "no role"
assert_eq "$before" "$(roles)" "refused commands changed nothing"
