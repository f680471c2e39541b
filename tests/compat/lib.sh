# shellcheck shell=bash
# tests/compat/lib.sh: sourced by every tests/compat/t_*.sh, the scenarios run
# against each directory server from the same text.
#
# tests/run.sh runs each scenario once per server with COMPAT_SERVER set to
# openldap, samba (a Samba AD DC, tests/lib/samba.sh) or 389ds (tests/lib/dirsrv.sh),
# plus what tests/integration/lib.sh needs (ROSTERD, ROSTERCTL, ROSTERD_TOP,
# TEST_TMP). Everything of tests/integration/lib.sh is here (assertions, run,
# sql, ...); the directory is reached only through the fixture of the server,
# tests/compat/server_$COMPAT_SERVER.sh, which defines:
#   FX_SERVER            the server's name, as in COMPAT_SERVER
#   FX_ID_RE             an extended regex the store's dir_id of a person matches
#   FX_CONTENTSYNC       1 when the server can offer RFC 4533 content
#                        synchronisation (with FX_FEATURES contentsync), else 0
#   FX_FEATURES          set by the scenario before fx_start: what it needs beyond
#                        what every scenario gets, so the others start as fast:
#                          contentsync  RFC 4533 (OpenLDAP: syncprov, always there;
#                                       389-DS: its Retro Changelog and Content
#                                       Synchronization plugin; Samba: none)
#                          memberof     memberOf on the people, set as groups are
#                                       added or changed over LDAP (OpenLDAP: the
#                                       memberof overlay, direct groups only;
#                                       389-DS: the MemberOf plugin, nested groups
#                                       too; Samba: always, direct groups only)
#   fx_start [LDIF...]   a fresh server loaded with the base entries and LDIF...
#                        (made with the fx_* writers below), then the rosterd config
#                        $CONF for it (fx_conf)
#   fx_stop              stop it (also done on exit)
#   fx_conf [SYNC_EXTRA] write $CONF: the server's attribute map, filters and
#                        disabled flag (the ROSTERD_CONF_* of tests/lib/slapd.sh apply)
#   fx_conf_preset FILE  write FILE: a config of the server's ldap.preset alone
#                        (its URI, bind and bases; no filter, map or flag, but
#                        for OpenLDAP the test schema's disabled flag), its store
#                        beside it
#   fx_person UID GIVEN FAMILY [LINE...]   LDIF of a person whose username is UID,
#                        display name "GIVEN FAMILY", mail UID@example.com; a LINE
#                        is "attr: value", or "@disabled" for the server's flag
#   fx_group CN MEMBER-DN...   LDIF of a group in the groups OU
#   fx_ou NAME           LDIF of an OU under the suffix
#   fx_p UID / fx_g CN / fx_ou_dn NAME   the DN of a person, a group, an OU
#   fx_add               LDIF entries on stdin added as the administrator
#   fx_modify            LDIF changes on stdin, as the administrator
#   fx_set DN ATTR VALUE...  replace an attribute's values
#   fx_delete DN...      delete entries
#   fx_rename UID NEWUID change a person's username (and RDN): same entry
#   fx_move UID OU       move a person's entry to the OU NAME (same RDN)
#   fx_modrdn DN NEWRDN [NEWSUPERIOR]   ldapmodrdn -r as the administrator
#   fx_disable UID / fx_enable UID   set or clear the server's disabled flag
#   fx_svc_search ARGS...   ldapsearch -LLL as the service account

# shellcheck source=../integration/lib.sh
. "$ROSTERD_TOP/tests/integration/lib.sh"

COMPAT_SERVER=${COMPAT_SERVER:-openldap}
case $COMPAT_SERVER in
openldap | samba | 389ds) ;;
*) fail "COMPAT_SERVER must be openldap, samba or 389ds, not \"$COMPAT_SERVER\"" ;;
esac
T_NAME="$(basename "${BASH_SOURCE[1]:-$0}" .sh)@$COMPAT_SERVER"

# The scenarios check disables themselves: the safety thresholds are not in the way.
export ROSTERD_CONF_SYNC=${ROSTERD_CONF_SYNC:-'max_disable = 500; max_disable_percent = 100.0; initial_status = "invited";'}

# The server's own directory, for the fixture.
FX_HOME=$TEST_TMP/$COMPAT_SERVER

# shellcheck source=server_openldap.sh
. "$ROSTERD_TOP/tests/compat/server_$COMPAT_SERVER.sh"

# Stop the server too when the test ends (integration/lib.sh stops slapd).
_c_on_exit() {
	local rc=$?
	trap - ERR
	fx_stop >/dev/null 2>&1 || true
	(exit "$rc")
	_t_on_exit
}
trap _c_on_exit EXIT

# fx_timed WHAT CMD...: run CMD and note how long it took (into TEST_TMP/figures,
# which tests/run.sh prints with the result).
fx_timed() {
	local what=$1 s e
	shift
	s=$(date +%s%N)
	"$@"
	e=$(date +%s%N)
	printf '%s on %s: %d ms\n' "$what" "$FX_SERVER" $(((e - s) / 1000000)) | tee -a "$TEST_TMP/figures"
}

# fx_lines LINE...: the extra lines of an entry, "@disabled" replaced by the
# server's flag ($FX_DISABLED_LINE).
fx_lines() {
	local l
	for l in "$@"; do
		if [ "$l" = @disabled ]; then printf '%s\n' "$FX_DISABLED_LINE"; else printf '%s\n' "$l"; fi
	done
}

# fx_dump: the store's tables a no-change run must leave alone.
fx_dump() { sql_dump people person_fields person_managers groups group_members group_membership audit_log; }
