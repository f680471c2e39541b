# shellcheck shell=bash
# tests/compat/server_samba.sh: the compat fixture for Active Directory, on a Samba
# AD DC (tests/lib/samba.sh): people are users CN=UID,OU=people (the RDN of a user
# is CN) with sAMAccountName UID and displayName, groups are group objects in
# OU=groups, id objectGUID, disabled flag userAccountControl bit 2 (544 enabled
# without a password, 546 disabled). AD keeps member and manager links whole: an
# entry they name must exist when they are written, and deleting it removes the
# links. See tests/compat/lib.sh for the functions.

# shellcheck source=../lib/samba.sh
. "$ROSTERD_TOP/tests/lib/samba.sh"

FX_SERVER=samba
FX_ID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
FX_DISABLED_LINE="userAccountControl: 546"
FX_CONTENTSYNC=0

fx_start() {
	fx_timed "Samba setup (template, copy)" samba_setup "$FX_HOME"
	fx_timed "Samba load and start" _fx_load_start "$@"
	note "Samba AD DC through $SAMBA_URI"
	fx_conf
}
_fx_load_start() {
	[ $# -eq 0 ] || samba_load "$FX_HOME" "$@"
	samba_start "$FX_HOME"
}
fx_stop() { samba_stop "$FX_HOME"; }
fx_conf() { samba_write_rosterd_conf "$CONF" "${1:-}"; }

fx_conf_preset() {
	ROSTERD_CONF_PRESET=ad ROSTERD_CONF_URI=$SAMBA_URI ROSTERD_CONF_BIND_DN=$SAMBA_SVC_DN \
	ROSTERD_CONF_BIND_PW=$SAMBA_SVC_PW ROSTERD_CONF_SUFFIX=$SAMBA_SUFFIX \
		slapd_write_rosterd_conf "$1"
}
fx_p() { printf 'CN=%s,OU=people,%s' "$1" "$SAMBA_SUFFIX"; }
fx_g() { printf 'CN=%s,OU=groups,%s' "$1" "$SAMBA_SUFFIX"; }
fx_ou_dn() { printf 'OU=%s,%s' "$1" "$SAMBA_SUFFIX"; }
fx_person() {
	local uid=$1 given=$2 family=$3 l uac=544
	shift 3
	for l in "$@"; do [ "$l" != @disabled ] || uac=546; done
	printf 'dn: %s\nobjectClass: user\ncn: %s\nsAMAccountName: %s\n' "$(fx_p "$uid")" "$uid" "$uid"
	printf 'displayName: %s %s\ngivenName: %s\nsn: %s\nmail: %s@example.com\n' \
		"$given" "$family" "$given" "$family" "$uid"
	printf 'userAccountControl: %s\n' "$uac"
	for l in "$@"; do [ "$l" = @disabled ] || printf '%s\n' "$l"; done
	echo
}
fx_group() {
	local cn=$1
	shift
	printf 'dn: %s\nobjectClass: group\ncn: %s\nsAMAccountName: %s\n' "$(fx_g "$cn")" "$cn" "$cn"
	printf 'member: %s\n' "$@"
	echo
}
fx_ou() { printf 'dn: %s\nobjectClass: organizationalUnit\nou: %s\n\n' "$(fx_ou_dn "$1")" "$1"; }

fx_add() { samba_admin_add; }
fx_modify() { samba_admin_modify; }
fx_set() {
	local dn=$1 attr=$2 v
	shift 2
	{
		printf 'dn: %s\nchangetype: modify\nreplace: %s\n' "$dn" "$attr"
		for v in "$@"; do printf '%s: %s\n' "$attr" "$v"; done
	} | samba_admin_modify
}
fx_delete() { samba_admin_delete "$@"; }
fx_rename() {
	samba_admin_modrdn "$(fx_p "$1")" "CN=$2"
	fx_set "$(fx_p "$2")" sAMAccountName "$2"
}
fx_move() { samba_admin_modrdn "$(fx_p "$1")" "CN=$1" "$(fx_ou_dn "$2")"; }
fx_disable() { fx_set "$(fx_p "$1")" userAccountControl 546; }
fx_enable() { fx_set "$(fx_p "$1")" userAccountControl 544; }
fx_modrdn() { samba_admin_modrdn "$@"; }
fx_svc_search() { samba_svc_search "$@"; }
