# shellcheck shell=bash
# tests/compat/server_389ds.sh: the compat fixture for 389-DS (tests/lib/dirsrv.sh):
# people inetOrgPerson uid=UID,ou=people, groups groupOfNames in ou=groups, id
# nsUniqueId, disabled flag nsAccountLock = "true" (an operational attribute any
# entry may carry). See tests/compat/lib.sh for the functions.

# shellcheck source=../lib/dirsrv.sh
. "$ROSTERD_TOP/tests/lib/dirsrv.sh"

FX_SERVER=389ds
FX_ID_RE='^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$'
FX_DISABLED_LINE="nsAccountLock: true"
FX_CONTENTSYNC=1

fx_start() {
	fx_timed "389-DS setup (template, copy)" dirsrv_setup "$FX_HOME"
	# shellcheck disable=SC2086 # a list of words
	[ -z "${FX_FEATURES:-}" ] || dirsrv_enable "$FX_HOME" $FX_FEATURES
	fx_timed "389-DS load and start" _fx_load_start "$@"
	note "ns-slapd at $DIRSRV_URI"
	fx_conf
}
_fx_load_start() {
	dirsrv_load "$FX_HOME" "$@"
	dirsrv_start "$FX_HOME"
}
fx_stop() { dirsrv_stop "$FX_HOME"; }
fx_conf() { dirsrv_write_rosterd_conf "$CONF" "${1:-}"; }

fx_conf_preset() {
	ROSTERD_CONF_PRESET=389ds ROSTERD_CONF_URI=$DIRSRV_URI ROSTERD_CONF_BIND_DN=$DIRSRV_SVC_DN \
	ROSTERD_CONF_BIND_PW=$DIRSRV_SVC_PW ROSTERD_CONF_SUFFIX=$DIRSRV_SUFFIX \
		slapd_write_rosterd_conf "$1"
}
fx_p() { printf 'uid=%s,ou=people,%s' "$1" "$DIRSRV_SUFFIX"; }
fx_g() { printf 'cn=%s,ou=groups,%s' "$1" "$DIRSRV_SUFFIX"; }
fx_ou_dn() { printf 'ou=%s,%s' "$1" "$DIRSRV_SUFFIX"; }
fx_person() {
	local uid=$1 given=$2 family=$3
	shift 3
	printf 'dn: %s\nobjectClass: top\nobjectClass: inetOrgPerson\n' "$(fx_p "$uid")"
	printf 'uid: %s\ncn: %s %s\ngivenName: %s\nsn: %s\nmail: %s@example.com\n' \
		"$uid" "$given" "$family" "$given" "$family" "$uid"
	fx_lines "$@"
	echo
}
fx_group() {
	local cn=$1
	shift
	printf 'dn: %s\nobjectClass: top\nobjectClass: groupOfNames\ncn: %s\n' "$(fx_g "$cn")" "$cn"
	printf 'member: %s\n' "$@"
	echo
}
fx_ou() { printf 'dn: %s\nobjectClass: top\nobjectClass: organizationalUnit\nou: %s\n\n' "$(fx_ou_dn "$1")" "$1"; }

fx_add() { dirsrv_admin_add; }
fx_modify() { dirsrv_admin_modify; }
fx_set() {
	local dn=$1 attr=$2 v
	shift 2
	{
		printf 'dn: %s\nchangetype: modify\nreplace: %s\n' "$dn" "$attr"
		for v in "$@"; do printf '%s: %s\n' "$attr" "$v"; done
	} | dirsrv_admin_modify
}
fx_delete() { dirsrv_admin_delete "$@"; }
fx_rename() { dirsrv_admin_modrdn "$(fx_p "$1")" "uid=$2"; }
fx_move() { dirsrv_admin_modrdn "$(fx_p "$1")" "uid=$1" "$(fx_ou_dn "$2")"; }
fx_disable() { fx_set "$(fx_p "$1")" nsAccountLock true; }
fx_enable() { printf 'dn: %s\nchangetype: modify\ndelete: nsAccountLock\n' "$(fx_p "$1")" | dirsrv_admin_modify; }
fx_modrdn() { dirsrv_admin_modrdn "$@"; }
fx_svc_search() { dirsrv_svc_search "$@"; }
