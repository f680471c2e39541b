# shellcheck shell=bash
# tests/compat/server_openldap.sh: the compat fixture for OpenLDAP (tests/lib/slapd.sh):
# people inetOrgPerson uid=UID,ou=people (with the test class rosterdTestAccount,
# which allows nsAccountLock), groups groupOfNames in ou=groups, id entryUUID,
# disabled flag nsAccountLock = "true". See tests/compat/lib.sh for the functions.

FX_SERVER=openldap
FX_ID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
FX_DISABLED_LINE="nsAccountLock: true"
FX_CONTENTSYNC=1
SLAPD_HOME=$FX_HOME

fx_start() {
	case " ${FX_FEATURES:-} " in
	*" memberof "*) export SLAPD_EXTRA_GLOBAL_CONF='moduleload memberof' SLAPD_OVERLAYS_LAST='overlay memberof' ;;
	esac
	slapd_setup "$FX_HOME"
	slapd_load "$FX_HOME" "$FIXTURES/base.ldif" "$@"
	slapd_start "$FX_HOME"
	note "slapd at $SLAPD_URI"
	fx_conf
}
fx_stop() { slapd_stop "$FX_HOME"; }
fx_conf() {
	ROSTERD_CONF_USERS_EXTRA=${ROSTERD_CONF_USERS_EXTRA:-'disabled_attribute = "nsAccountLock"; disabled_values = [ "true" ];'} \
		slapd_write_rosterd_conf "$CONF" "${1:-}"
}

fx_conf_preset() {
	ROSTERD_CONF_PRESET=openldap \
	ROSTERD_CONF_USERS_EXTRA='disabled_attribute = "nsAccountLock"; disabled_values = [ "true" ];' \
		slapd_write_rosterd_conf "$1"
}
fx_p() { printf 'uid=%s,ou=people,%s' "$1" "$SLAPD_SUFFIX"; }
fx_g() { printf 'cn=%s,ou=groups,%s' "$1" "$SLAPD_SUFFIX"; }
fx_ou_dn() { printf 'ou=%s,%s' "$1" "$SLAPD_SUFFIX"; }
fx_person() {
	local uid=$1 given=$2 family=$3
	shift 3
	printf 'dn: %s\nobjectClass: inetOrgPerson\nobjectClass: rosterdTestAccount\n' "$(fx_p "$uid")"
	printf 'uid: %s\ncn: %s %s\ngivenName: %s\nsn: %s\nmail: %s@example.com\n' \
		"$uid" "$given" "$family" "$given" "$family" "$uid"
	fx_lines "$@"
	echo
}
fx_group() {
	local cn=$1
	shift
	printf 'dn: %s\nobjectClass: groupOfNames\ncn: %s\n' "$(fx_g "$cn")" "$cn"
	printf 'member: %s\n' "$@"
	echo
}
fx_ou() { printf 'dn: %s\nobjectClass: organizationalUnit\nou: %s\n\n' "$(fx_ou_dn "$1")" "$1"; }

fx_add() { ldap_admin_add; }
fx_modify() { ldap_admin_modify; }
fx_set() { set_attr "$@"; }
fx_delete() { ldap_admin_delete "$@"; }
fx_rename() { ldap_admin_modrdn "$(fx_p "$1")" "uid=$2"; }
fx_move() { ldap_admin_modrdn "$(fx_p "$1")" "uid=$1" "$(fx_ou_dn "$2")"; }
fx_disable() { set_attr "$(fx_p "$1")" nsAccountLock true; }
fx_enable() { unlock_person "$(fx_p "$1")"; }
fx_modrdn() { ldap_admin_modrdn "$@"; }
fx_svc_search() { ldap_svc_search "$@"; }
