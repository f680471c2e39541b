# shellcheck shell=bash
# tests/lib/dirsrv.sh: a private, throwaway 389 Directory Server for the tests.
# Source it from bash (works under `set -eu -o pipefail`; it changes no shell
# option). Needs Debian's 389-ds-base and python3-lib389 (scripts/install-deps.sh)
# and root (dscreate insists on it). No systemd is involved: ns-slapd runs in the
# foreground as a child of the test, listening only on ldap://127.0.0.1:<port>/.
#
# Directory: suffix dc=example,dc=com (bdb backend userRoot); root DN
# "cn=Directory Manager" / "Directory-Manager1"; service account
# cn=rosterd,ou=system,dc=example,dc=com / "rosterd-secret", which an ACI on the
# suffix lets read, search and compare every attribute, nsAccountLock and
# nsUniqueId included (389-DS leaves operational attributes out of "*").
# Loaded by dirsrv_setup: the suffix entry, ou=people, ou=groups, ou=system, the
# service account.
#
# An instance is made by dscreate once per template and copied per test (dscreate
# takes 7-10 s, a copy with its offline import about 1.5 s). The template is
# $DIRSRV_TEMPLATE when set (tests/run.sh sets it to a directory of the run), else
# DIR.template; building it holds an flock. lib389 finds an instance only under
# $PREFIX/etc/dirsrv/slapd-NAME: the template has its own
# share/dirsrv/inf/defaults.inf (with_systemd = 0, user and group root, every
# path under the template) and share/dirsrv/data/template-dse.ldif (with
# nsslapd-listenhost: 127.0.0.1), and dscreate runs with PREFIX set to it. A copy
# rewrites the paths and the instance name in its dse.ldif; the name (slapd-rtN,
# N from DIR) is unique per DIR, because ns-slapd keeps a semaphore
# /dev/shm/sem.slapd-NAME.stats, removed by dirsrv_stop.
#
# Contract (DIR is the server's own directory; functions return non-zero on failure,
# printing why on stderr; every DIR argument but dirsrv_setup's/dirsrv_load's/
# dirsrv_start's defaults to $DIRSRV_DIR):
#   dirsrv_setup DIR     stop a server still running from DIR, then make DIR a fresh
#                        copy of the template (made first if needed); its database
#                        gets the base entries at dirsrv_load, or at dirsrv_start
#                        when nothing was loaded. Small caches (the
#                        template's autosizing would take a quarter of the memory);
#                        access log unbuffered.
#   dirsrv_load DIR FILE...  offline import (ns-slapd ldif2db) of the base entries
#                        and FILE... together, replacing the database (the server
#                        must not be running). FILE "-" reads stdin. userPassword
#                        values are stored as given: hash them (pwdhash) for binds.
#   dirsrv_enable DIR FEATURE...  turn on, in DIR's configuration (after
#                        dirsrv_setup, while the server is stopped), what only some
#                        tests need, so that the others start as fast:
#                          contentsync  the Retro Changelog (of the suffix only,
#                                       with nsUniqueId as targetUniqueId) and the
#                                       Content Synchronization plugin (RFC 4533),
#                                       which the service account may use
#                          memberof     the MemberOf plugin (memberOf on the members
#                                       of groupOfNames and groupOfUniqueNames,
#                                       nested groups included, as 389-DS does);
#                                       entries imported by dirsrv_load get theirs
#                                       by a fixup task at the next dirsrv_start
#   dirsrv_start DIR     start ns-slapd in the background (-d 0: it stays in the
#                        foreground), wait (<= 30 s) until it answers. Reuses the
#                        port of DIR's previous start when it can, else a random free
#                        one in 20000-60000. Exports DIRSRV_DIR DIRSRV_URI DIRSRV_PORT
#                        DIRSRV_PID DIRSRV_LOG (the access log). Call it directly,
#                        not in $( ).
#   dirsrv_stop [DIR]    SIGTERM, wait <= 20 s, then SIGKILL; removes the semaphore
#                        file. Idempotent.
#   dirsrv_running [DIR] status 0 when the server of DIR is alive.
#   dirsrv_admin_add / dirsrv_admin_modify  LDIF on stdin to ldapmodify (-a) as the
#                        root DN (stdout discarded).
#   dirsrv_admin_delete DN...                ldapdelete as the root DN.
#   dirsrv_admin_modrdn DN NEWRDN [NEWSUPERIOR]  ldapmodrdn -r as the root DN.
#   dirsrv_svc_search ARGS...  ldapsearch -LLL bound as the service account.
#   dirsrv_write_rosterd_conf FILE [SYNC_EXTRA]
#                        a rosterd config for $DIRSRV_URI and the service account
#                        (as slapd_write_rosterd_conf, whose ROSTERD_CONF_* variables
#                        apply), with 389-DS's map: id nsUniqueId, disabled flag
#                        nsAccountLock = "true".

# shellcheck source=slapd.sh
. "$(dirname "${BASH_SOURCE[0]}")/slapd.sh"

DIRSRV_SUFFIX="dc=example,dc=com"
DIRSRV_ADMIN_DN="cn=Directory Manager"
DIRSRV_ADMIN_PW="Directory-Manager1"
DIRSRV_SVC_DN="cn=rosterd,ou=system,dc=example,dc=com"
DIRSRV_SVC_PW="rosterd-secret"
_DIRSRV_TNAME=tmpl

_dirsrv_err() { echo "dirsrv.sh: $*" >&2; }

# _dirsrv_live PID: the process exists and is not a zombie.
_dirsrv_live() {
	kill -0 "$1" 2>/dev/null &&
		[ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" != Z ]
}

_dirsrv_dir_arg() {
	local d=${1:-${DIRSRV_DIR:-}}
	if [ -z "$d" ]; then
		_dirsrv_err "no DIR given and DIRSRV_DIR is not set"
		return 1
	fi
	printf '%s\n' "$d"
}

# The instance name of DIR: slapd-rt<checksum of DIR>.
_dirsrv_name() { printf 'rt%s' "$(printf '%s' "$1" | cksum | cut -d' ' -f1)"; }

# The config directory of DIR's instance.
_dirsrv_confdir() { printf '%s/etc/dirsrv/slapd-%s' "$1" "$(_dirsrv_name "$1")"; }

_dirsrv_pid_of() {
	local dir=$1 pid cmd
	[ -f "$dir/ns-slapd.bgpid" ] || return 1
	pid=$(cat "$dir/ns-slapd.bgpid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	case $cmd in *"-D $(_dirsrv_confdir "$dir") "*) ;; *) return 1 ;; esac
	[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ] || return 1
	printf '%s\n' "$pid"
}

dirsrv_running() {
	local dir
	dir=$(_dirsrv_dir_arg "${1:-}") || return 1
	[ -d "$dir" ] || return 1
	dir=$(_slapd_absdir "$dir") || return 1
	_dirsrv_pid_of "$dir" >/dev/null
}

# dirsrv_template TDIR: make the template instance in TDIR (once; TDIR/.done).
dirsrv_template() {
	local t=${1:?dirsrv_template TDIR} out
	mkdir -p "$t" || return 1
	t=$(_slapd_absdir "$t") || return 1
	(
		flock 9 || exit 1
		[ -e "$t/.done" ] && exit 0
		find "$t" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} + || exit 1
		mkdir -p "$t/share/dirsrv/inf" "$t/share/dirsrv/data" "$t/etc/dirsrv" || exit 1
		cp -a /usr/share/dirsrv/data/. "$t/share/dirsrv/data/" || exit 1
		cp -a /etc/dirsrv/schema /etc/dirsrv/config "$t/etc/dirsrv/" || exit 1
		sed -i 's/^\(nsslapd-port: .*\)$/\1\nnsslapd-listenhost: 127.0.0.1/' \
			"$t/share/dirsrv/data/template-dse.ldif" || exit 1
		sed -e 's|^with_systemd = .*|with_systemd = 0|' \
			-e 's|^user = .*|user = root|' -e 's|^group = .*|group = root|' \
			-e "s|^data_dir = .*|data_dir = $t/share|" \
			-e "s|^tmp_dir = .*|tmp_dir = $t/tmp|" \
			-e "s|^tmpfiles_d = .*|tmpfiles_d = $t/etc/tmpfiles.d|" \
			-e "s|^db_home_dir = .*|db_home_dir = $t/var/lib/dirsrv/slapd-{instance_name}/db|" \
			-e "s|= /etc/|= $t/etc/|" -e "s|= /etc$|= $t/etc|" \
			-e "s|= /var|= $t/var|" -e "s|= /run|= $t/run|" \
			/usr/share/dirsrv/inf/defaults.inf >"$t/share/dirsrv/inf/defaults.inf" || exit 1
		if grep -E '^[a-z_]+ = /(etc|var|run)' "$t/share/dirsrv/inf/defaults.inf" >&2; then
			_dirsrv_err "dirsrv_template: a path of defaults.inf is outside $t"
			exit 1
		fi
		cat >"$t/setup.inf" <<EOF
[general]
config_version = 2
full_machine_name = localhost
selinux = False
strict_host_checking = False
start = True
[slapd]
instance_name = $_DIRSRV_TNAME
port = $((20000 + (RANDOM * 32768 + RANDOM) % 40001))
self_sign_cert = False
root_dn = $DIRSRV_ADMIN_DN
root_password = $DIRSRV_ADMIN_PW
[backend-userroot]
suffix = $DIRSRV_SUFFIX
sample_entries = no
create_suffix_entry = False
EOF
		if ! out=$(PREFIX=$t dscreate from-file "$t/setup.inf" 2>&1); then
			_dirsrv_err "dirsrv_template: dscreate failed:"
			printf '%s\n' "$out" | tail -20 >&2
			exit 1
		fi
		# dscreate leaves the instance running.
		_dirsrv_stop_pidfile "$t/run/dirsrv/slapd-$_DIRSRV_TNAME.pid" || exit 1
		rm -f "/dev/shm/sem.slapd-$_DIRSRV_TNAME.stats"
		rm -rf "$t/var/lib/dirsrv/slapd-$_DIRSRV_TNAME/db" "$t/var/log/dirsrv/slapd-$_DIRSRV_TNAME" || exit 1
		touch "$t/.done"
	) 9>>"$t/.lock"
}

# _dirsrv_stop_pidfile FILE: SIGTERM the ns-slapd whose pid FILE holds, wait.
_dirsrv_stop_pidfile() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	grep -q ns-slapd "/proc/$pid/cmdline" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 400); do
		kill -0 "$pid" 2>/dev/null || return 0
		[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ] || return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# _dirsrv_base DIR: the base entries, the service account's password hashed.
_dirsrv_base() {
	local pw
	pw=$(pwdhash -D "$(_dirsrv_confdir "$1")" "$DIRSRV_SVC_PW") || return 1
	cat <<EOF
dn: $DIRSRV_SUFFIX
objectClass: top
objectClass: domain
dc: example
aci: (targetattr="*||nsAccountLock||nsUniqueId||nsRole||nsRoleDN||memberOf")(version 3.0; acl "rosterd reads everything"; allow (read, search, compare) userdn="ldap:///$DIRSRV_SVC_DN";)

dn: ou=people,$DIRSRV_SUFFIX
objectClass: top
objectClass: organizationalUnit
ou: people

dn: ou=groups,$DIRSRV_SUFFIX
objectClass: top
objectClass: organizationalUnit
ou: groups

dn: ou=system,$DIRSRV_SUFFIX
objectClass: top
objectClass: organizationalUnit
ou: system

dn: $DIRSRV_SVC_DN
objectClass: top
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: rosterd
description: rosterd directory reader (test service account)
userPassword: $pw

EOF
}

dirsrv_setup() {
	local dir=${1:?dirsrv_setup DIR} tmpl name conf
	mkdir -p "$dir" || return 1
	dir=$(_slapd_absdir "$dir") || return 1
	dirsrv_stop "$dir" || return 1
	tmpl=${DIRSRV_TEMPLATE:-$dir.template}
	dirsrv_template "$tmpl" || return 1
	tmpl=$(_slapd_absdir "$tmpl") || return 1
	name=$(_dirsrv_name "$dir")
	find "$dir" -mindepth 1 -maxdepth 1 ! -name port -exec rm -rf {} + || return 1
	conf=$dir/etc/dirsrv/slapd-$name
	mkdir -p "$dir/etc/dirsrv" "$dir/run/dirsrv" "$dir/run/lock/dirsrv/slapd-$name" \
		"$dir/var/log/dirsrv/slapd-$name" "$dir/tmp" \
		"$dir/var/lib/dirsrv/slapd-$name/db" "$dir/var/lib/dirsrv/slapd-$name/bak" \
		"$dir/var/lib/dirsrv/slapd-$name/ldif" || return 1
	cp -a "$tmpl/etc/dirsrv/slapd-$_DIRSRV_TNAME" "$conf" || return 1
	rm -f "$conf/dse.ldif.bak" "$conf/dse.ldif.startOK" "$conf"/dse.ldif.*.bak
	# Unfold dse.ldif (ns-slapd folds lines at 80 columns, paths included), so that
	# every path is rewritten whole; ns-slapd reads long lines as well.
	awk 'NR > 1 && /^ / { line = line substr($0, 2); next }
	     NR > 1 { print line } { line = $0 } END { print line }' "$conf/dse.ldif" >"$conf/dse.ldif.new" &&
		mv "$conf/dse.ldif.new" "$conf/dse.ldif" || return 1
	sed -i -e "s|$tmpl/|$dir/|g" -e "s|slapd-$_DIRSRV_TNAME|slapd-$name|g" \
		-e 's|^nsslapd-cache-autosize: .*|nsslapd-cache-autosize: 0|' \
		-e 's|^nsslapd-import-cache-autosize: .*|nsslapd-import-cache-autosize: 0|' \
		-e 's|^nsslapd-dbcachesize: .*|nsslapd-dbcachesize: 16777216|' \
		-e 's|^nsslapd-cachememsize: .*|nsslapd-cachememsize: 33554432|' \
		-e 's|^nsslapd-dncachememsize: .*|nsslapd-dncachememsize: 16777216|' \
		-e 's|^nsslapd-ldapilisten: .*|nsslapd-ldapilisten: off|' \
		-e 's|^\(nsslapd-accesslog: .*\)$|\1\nnsslapd-accesslog-logbuffering: off|' \
		"$conf/dse.ldif" "$conf/pkcs11.txt" || return 1
	if grep -q "$tmpl/\|slapd-$_DIRSRV_TNAME" "$conf/dse.ldif"; then
		_dirsrv_err "dirsrv_setup: $conf/dse.ldif still names the template"
		return 1
	fi
	# The base entries are imported by dirsrv_load, or by dirsrv_start if nothing
	# was loaded (one import instead of two).
	touch "$dir/.unloaded"
}

dirsrv_load() {
	local dir=${1:?dirsrv_load DIR [FILE...]} f all out
	shift
	dir=$(_slapd_absdir "$dir") || return 1
	[ -d "$(_dirsrv_confdir "$dir")" ] || { _dirsrv_err "dirsrv_load: no instance in $dir (dirsrv_setup first)"; return 1; }
	if _dirsrv_pid_of "$dir" >/dev/null; then
		_dirsrv_err "dirsrv_load: ns-slapd is running from $dir; stop it first"
		return 1
	fi
	all=$dir/tmp/load.ldif
	_dirsrv_base "$dir" >"$all" || return 1
	for f in "$@"; do
		[ "$f" != - ] || f=/dev/stdin
		{ cat "$f" && echo; } >>"$all" || { _dirsrv_err "dirsrv_load: cannot read $f"; return 1; }
	done
	# ldif2db reports rejected entries on stderr and still exits 0: count them.
	out=$(ns-slapd ldif2db -D "$(_dirsrv_confdir "$dir")" -n userRoot -i "$all" 2>&1) || {
		_dirsrv_err "dirsrv_load: ldif2db failed:"
		printf '%s\n' "$out" | tail -20 >&2
		return 1
	}
	if grep -Eq ' - (ERR|WARN)[A-Z]* - ' <<<"$out"; then
		_dirsrv_err "dirsrv_load: ldif2db reported problems:"
		grep -E ' - (ERR|WARN)[A-Z]* - ' <<<"$out" | head -20 >&2
		return 1
	fi
	rm -f "$dir/.unloaded"
	[ ! -e "$dir/.memberof" ] || touch "$dir/.fixup"
}

# _dirsrv_plugin CONFDIR NAME [LINE...]: turn on the plugin entry
# "cn=NAME,cn=plugins,cn=config" of CONFDIR/dse.ldif (unfolded by dirsrv_setup),
# its attributes named by the LINEs ("attr: value") set to those values.
_dirsrv_plugin() {
	local conf=$1 name=$2 lines
	shift 2
	lines=$(printf '%s\n' "$@")
	awk -v dn="dn: cn=$name,cn=plugins,cn=config" -v lines="$lines" '
	BEGIN { n = split(lines, add, "\n"); for (i = 1; i <= n; i++) if (add[i] != "") {
		a = tolower(add[i]); sub(/:.*/, "", a); set[a] = 1 } }
	tolower($0) == tolower(dn) { inside = found = 1; print; next }
	inside && $0 == "" { for (i = 1; i <= n; i++) if (add[i] != "") print add[i]; inside = 0 }
	inside { a = tolower($0); sub(/:.*/, "", a)
		if (a == "nsslapd-pluginenabled") { print "nsslapd-pluginEnabled: on"; next }
		if (a in set) next }
	{ print }
	END { if (!found) exit 1 }' "$conf/dse.ldif" >"$conf/dse.ldif.new" || {
		_dirsrv_err "dirsrv_enable: no plugin \"$name\" in $conf/dse.ldif"
		rm -f "$conf/dse.ldif.new"
		return 1
	}
	mv "$conf/dse.ldif.new" "$conf/dse.ldif"
}

dirsrv_enable() {
	local dir=${1:?dirsrv_enable DIR FEATURE...} conf f
	shift
	dir=$(_slapd_absdir "$dir") || return 1
	conf=$(_dirsrv_confdir "$dir")
	[ -f "$conf/dse.ldif" ] || { _dirsrv_err "dirsrv_enable: no instance in $dir (dirsrv_setup first)"; return 1; }
	if _dirsrv_pid_of "$dir" >/dev/null; then
		_dirsrv_err "dirsrv_enable: ns-slapd is running from $dir; stop it first"
		return 1
	fi
	for f in "$@"; do
		case $f in
		contentsync)
			_dirsrv_plugin "$conf" "Retro Changelog Plugin" \
				"nsslapd-attribute: nsuniqueid:targetUniqueId" \
				"nsslapd-include-suffix: $DIRSRV_SUFFIX" || return 1
			_dirsrv_plugin "$conf" "Content Synchronization" || return 1
			;;
		memberof)
			_dirsrv_plugin "$conf" "MemberOf Plugin" "memberOfGroupAttr: member" \
				"memberOfGroupAttr: uniqueMember" || return 1
			touch "$dir/.memberof"
			;;
		*)
			_dirsrv_err "dirsrv_enable: unknown feature \"$f\" (contentsync, memberof)"
			return 1
			;;
		esac
	done
}

# _dirsrv_memberof_fixup: run the MemberOf plugin's fixup task over the suffix
# (the memberOf of entries imported offline) and wait for it (<= 30 s).
_dirsrv_memberof_fixup() {
	local task="cn=rosterd-fixup-$$,cn=memberof task,cn=tasks,cn=config" code
	printf 'dn: %s\nobjectClass: top\nobjectClass: extensibleObject\ncn: %s\nbasedn: %s\nfilter: (objectClass=*)\n' \
		"$task" "rosterd-fixup-$$" "$DIRSRV_SUFFIX" | dirsrv_admin_add || return 1
	for _ in $(seq 1 300); do
		code=$(ldapsearch -x -LLL -H "$DIRSRV_URI" -D "$DIRSRV_ADMIN_DN" -w "$DIRSRV_ADMIN_PW" \
			-b "$task" -s base nsTaskExitCode 2>/dev/null | sed -n 's/^nsTaskExitCode: //p')
		if [ -n "$code" ]; then
			[ "$code" = 0 ] && return 0
			_dirsrv_err "the memberOf fixup task ended with $code"
			return 1
		fi
		sleep 0.1
	done
	_dirsrv_err "the memberOf fixup task did not end within 30 s"
	return 1
}

_dirsrv_ready() {
	ldapsearch -x -LLL -H "$1" -D "$DIRSRV_ADMIN_DN" -w "$DIRSRV_ADMIN_PW" \
		-o nettimeout=1 -l 2 -b "" -s base namingContexts >/dev/null 2>&1
}

dirsrv_start() {
	local dir=${1:?dirsrv_start DIR} conf pid port try state uri log
	dir=$(_slapd_absdir "$dir") || return 1
	conf=$(_dirsrv_confdir "$dir")
	[ -f "$conf/dse.ldif" ] || { _dirsrv_err "dirsrv_start: no instance in $dir (dirsrv_setup first)"; return 1; }
	if pid=$(_dirsrv_pid_of "$dir"); then
		_dirsrv_err "dirsrv_start: ns-slapd already running from $dir (pid $pid)"
		return 1
	fi
	[ ! -e "$dir/.unloaded" ] || dirsrv_load "$dir" || return 1
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=""
		if [ "$try" -le 3 ] && [ -s "$dir/port" ]; then port=$(cat "$dir/port"); fi
		[ -n "$port" ] || port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		sed -i "s|^nsslapd-port: .*|nsslapd-port: $port|" "$conf/dse.ldif" || return 1
		uri="ldap://127.0.0.1:$port/"
		echo "=== dirsrv_start $(date '+%F %T') port=$port ===" >>"$dir/ns-slapd.out"
		ns-slapd -D "$conf" -i "$dir/run/dirsrv/ns-slapd.pid" -d 0 \
			</dev/null >>"$dir/ns-slapd.out" 2>&1 &
		pid=$!
		disown "$pid" 2>/dev/null || true
		echo "$pid" >"$dir/ns-slapd.bgpid"
		state=died
		for _ in $(seq 1 300); do
			# (not _dirsrv_pid_of: the child may not have exec'd ns-slapd yet)
			_dirsrv_live "$pid" || break
			if _dirsrv_ready "$uri"; then
				state=up
				break
			fi
			sleep 0.1
		done
		[ "$state" = up ] && break
		dirsrv_stop "$dir" >/dev/null 2>&1
		# A port taken by another process: try another one.
		grep -q 'Address already in use\|Can.t bind' "$dir/ns-slapd.out" "$dir/var/log/dirsrv/slapd-"*/errors 2>/dev/null || break
	done
	if [ "$state" != up ]; then
		_dirsrv_err "dirsrv_start: ns-slapd in $dir did not come up; its errors log:"
		tail -n 20 "$dir/var/log/dirsrv/slapd-"*/errors >&2 2>/dev/null
		return 1
	fi
	echo "$port" >"$dir/port"
	log=$dir/var/log/dirsrv/slapd-$(_dirsrv_name "$dir")/access
	export DIRSRV_DIR="$dir" DIRSRV_URI="$uri" DIRSRV_PORT="$port" DIRSRV_PID="$pid" \
		DIRSRV_LOG="$log"
	if [ -e "$dir/.fixup" ]; then
		_dirsrv_memberof_fixup || return 1
		rm -f "$dir/.fixup"
	fi
}

dirsrv_stop() {
	local dir pid
	dir=$(_dirsrv_dir_arg "${1:-}") || return 1
	[ -d "$dir" ] || return 0
	dir=$(_slapd_absdir "$dir") || return 1
	if pid=$(_dirsrv_pid_of "$dir"); then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 400); do
			_dirsrv_pid_of "$dir" >/dev/null || break
			sleep 0.05
		done
		if _dirsrv_pid_of "$dir" >/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			for _ in $(seq 1 100); do
				_dirsrv_pid_of "$dir" >/dev/null || break
				sleep 0.05
			done
		fi
		if _dirsrv_pid_of "$dir" >/dev/null; then
			_dirsrv_err "dirsrv_stop: ns-slapd of $dir (pid $pid) does not stop"
			return 1
		fi
	fi
	rm -f "$dir/ns-slapd.bgpid" "/dev/shm/sem.slapd-$(_dirsrv_name "$dir").stats"
	return 0
}

_dirsrv_need_uri() {
	[ -n "${DIRSRV_URI:-}" ] || { _dirsrv_err "DIRSRV_URI is not set (dirsrv_start first)"; return 1; }
}

dirsrv_admin_modify() {
	_dirsrv_need_uri || return 1
	ldapmodify -x -H "$DIRSRV_URI" -D "$DIRSRV_ADMIN_DN" -w "$DIRSRV_ADMIN_PW" >/dev/null
}

dirsrv_admin_add() {
	_dirsrv_need_uri || return 1
	ldapmodify -a -x -H "$DIRSRV_URI" -D "$DIRSRV_ADMIN_DN" -w "$DIRSRV_ADMIN_PW" >/dev/null
}

dirsrv_admin_delete() {
	_dirsrv_need_uri || return 1
	[ $# -gt 0 ] || { _dirsrv_err "dirsrv_admin_delete DN..."; return 1; }
	ldapdelete -x -H "$DIRSRV_URI" -D "$DIRSRV_ADMIN_DN" -w "$DIRSRV_ADMIN_PW" -- "$@"
}

dirsrv_admin_modrdn() {
	local dn=${1:?dirsrv_admin_modrdn DN NEWRDN [NEWSUPERIOR]} newrdn=${2:?dirsrv_admin_modrdn DN NEWRDN [NEWSUPERIOR]}
	_dirsrv_need_uri || return 1
	if [ -n "${3:-}" ]; then
		ldapmodrdn -x -r -H "$DIRSRV_URI" -D "$DIRSRV_ADMIN_DN" -w "$DIRSRV_ADMIN_PW" -s "$3" "$dn" "$newrdn"
	else
		ldapmodrdn -x -r -H "$DIRSRV_URI" -D "$DIRSRV_ADMIN_DN" -w "$DIRSRV_ADMIN_PW" "$dn" "$newrdn"
	fi
}

dirsrv_svc_search() {
	_dirsrv_need_uri || return 1
	ldapsearch -x -LLL -o ldif-wrap=no -H "$DIRSRV_URI" -D "$DIRSRV_SVC_DN" -w "$DIRSRV_SVC_PW" "$@"
}

dirsrv_write_rosterd_conf() {
	local file=${1:?dirsrv_write_rosterd_conf FILE [SYNC_EXTRA]}
	_dirsrv_need_uri || return 1
	ROSTERD_CONF_URI=${ROSTERD_CONF_URI:-$DIRSRV_URI} \
	ROSTERD_CONF_BIND_DN=${ROSTERD_CONF_BIND_DN:-$DIRSRV_SVC_DN} \
	ROSTERD_CONF_BIND_PW=${ROSTERD_CONF_BIND_PW:-$DIRSRV_SVC_PW} \
	ROSTERD_CONF_SUFFIX=$DIRSRV_SUFFIX \
	ROSTERD_CONF_USERS_EXTRA=${ROSTERD_CONF_USERS_EXTRA:-'disabled_attribute = "nsAccountLock"; disabled_values = [ "true" ];'} \
	ROSTERD_CONF_ATTRIBUTES=${ROSTERD_CONF_ATTRIBUTES:-'id = "nsUniqueId"; username = "uid"; email = "mail";
    given_name = "givenName"; family_name = "sn"; display_name = "cn";
    manager = "manager"; secondary_manager = "secretary";
    department = "departmentNumber"; location = "l"; title = "title";
    employee_number = "employeeNumber";
    custom = { cost_centre = "departmentNumber"; };'} \
		slapd_write_rosterd_conf "$file" "${2:-}"
}
