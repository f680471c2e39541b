# shellcheck shell=bash
# tests/lib/samba.sh: a private, throwaway Samba Active Directory domain controller
# for the tests. Source it from bash (works under `set -eu -o pipefail`; it changes
# no shell option). Needs root (network namespaces), Debian's samba, samba-ad-dc,
# samba-ad-provision, ldb-tools and socat (scripts/install-deps.sh).
#
# Each DC runs in its own network namespace (unshare --net, loopback up) and its own
# PID namespace, so its fixed ports (LDAP 389 and the rest) never meet the host's or
# another test's, and killing the namespace's first process ends every process of it.
# The tests reach its LDAP port from the host through a relay: socat on the host
# listens on 127.0.0.1:<free port> and passes each connection through the UNIX socket
# DIR/ldap.sock to a socat inside the namespace, which connects to 127.0.0.1:389
# there. The KDC (port 88, Kerberos over TCP) is reached the same way, through
# DIR/run/kdc.sock and a relay on another free port. Running rosterd inside the
# namespace instead would need every command of
# the tests (rosterd, rosterctl, ldapmodify, sqlite3 is fine) wrapped in nsenter;
# with the relay the same test text runs against slapd, 389-DS and Samba.
# Every path the DC writes (private, state, lock, cache, pid, log) is under DIR; the
# config is DIR/etc/smb.conf, written here (provisioning gets -s /dev/null, so the
# system smb.conf is never read).
#
# Directory: realm EXAMPLE.COM (NetBIOS EXAMPLE), DC "DC1", domain root
# DC=example,DC=com; administrator CN=Administrator,CN=Users,DC=example,DC=com /
# "Admin-Pass1"; service account CN=rosterd,CN=Users,DC=example,DC=com /
# "Rosterd-Secret1" (a plain domain user: in AD every authenticated user reads the
# attributes rosterd needs); OU=people, OU=groups and OU=system exist and are empty.
# Samba's own TLS certificate (generated at the first start) names DC1.example.com
# and has no subjectAltName.
#
# Provisioning takes 5-10 s, so a template is provisioned once and copied per test:
# it is $SAMBA_TEMPLATE when set (tests/run.sh sets it to a directory of the run,
# removed at its end), else DIR.template. Building it holds an flock, so tests that
# share it never build it twice.
#
# Contract (DIR is the DC's own directory; functions return non-zero on failure,
# printing why on stderr; every DIR argument but samba_setup's/samba_load's/
# samba_start's defaults to $SAMBA_DIR):
#   samba_setup DIR      stop a DC still running from DIR, then make DIR a fresh copy
#                        of the template (provisioning it first if needed) and write
#                        DIR/etc/smb.conf. Reads, when set: SAMBA_STRONG_AUTH=1 (keep
#                        Samba's default "ldap server require strong auth = yes":
#                        simple binds only over TLS; default: "no", so simple binds
#                        work without TLS), SAMBA_EXTRA_CONF (smb.conf lines added to
#                        [global]).
#   samba_write_conf DIR rewrite DIR/etc/smb.conf (SAMBA_STRONG_AUTH, SAMBA_EXTRA_CONF
#                        as at samba_setup); it applies from the next samba_start.
#   samba_load DIR FILE...  offline load with ldbadd --nosync into DIR's sam.ldb
#                        (the DC must not be running). FILE "-" reads stdin. LDIF
#                        as ldbadd takes it: entries to add, no changetype.
#   samba_start DIR      start the DC and its relays, wait (<= 60 s) until it answers
#                        on the relay. The port is that of DIR's previous start when
#                        it is still free, else a random free one in 20000-60000.
#                        Exports SAMBA_DIR SAMBA_URI SAMBA_PORT SAMBA_PID (the
#                        host's pid of the namespace's first process) SAMBA_LOG,
#                        and SAMBA_KDC_PORT (the KDC's relay, Kerberos over TCP).
#                        With SAMBA_RELAY_TRACE=1 the LDAP relay writes what passes
#                        through it, as text, to DIR/log/relay.log (socat -v): the
#                        attribute names of requests and replies can be read there.
#                        Call it directly, not in $( ): the exports must reach the
#                        caller's shell. Its log is DIR/log/samba.log (level 1) and
#                        DIR/log/samba.out.
#   samba_stop [DIR]     SIGTERM to the DC, wait <= 10 s, then SIGKILL to the
#                        namespace; the relay is stopped too. Idempotent. Leaves
#                        nothing running or listening.
#   samba_running [DIR]  status 0 when the DC of DIR is alive.
#   samba_admin_add / samba_admin_modify    LDIF on stdin to ldapmodify (-a) as the
#                        administrator (stdout discarded).
#   samba_admin_delete DN...                ldapdelete as the administrator.
#   samba_admin_modrdn DN NEWRDN [NEWSUPERIOR]  ldapmodrdn -r as the administrator.
#   samba_svc_search ARGS...  ldapsearch -LLL bound as the service account.
#   samba_keytab FILE [PRINCIPAL]  export the keys of PRINCIPAL (default the
#                        service account, rosterd@EXAMPLE.COM) into the keytab FILE.
#   samba_krb5_conf FILE write a private krb5.conf (for KRB5_CONFIG) naming the
#                        DC's KDC through its relay (Kerberos over TCP: UDP is
#                        tried for no message), no DNS lookups and no host name
#                        canonicalisation. The DC's LDAP service is
#                        ldap/dc1.example.com: a GSSAPI client must connect by
#                        that name (resolved in a private mount namespace).
#   samba_write_rosterd_conf FILE [SYNC_EXTRA]
#                        a rosterd config for $SAMBA_URI and the service account (as
#                        slapd_write_rosterd_conf, whose ROSTERD_CONF_* variables
#                        apply), with AD's map: id objectGUID, username
#                        sAMAccountName, display name displayName, disabled flag
#                        userAccountControl bit 2, users (&(objectClass=user)
#                        (objectCategory=person)) in OU=people, groups
#                        (objectClass=group) in OU=groups.
#
# Facts found with Samba 4.17 (Debian 12): a user added over LDAP without a password
# gets userAccountControl 546 (disabled, no password required); 544 adds it enabled
# and 546 disabled. The RDN of a user is CN (uid= is refused). A search based at the
# domain root returns continuation references to CN=Configuration (and the DNS
# zones' partitions).

# shellcheck source=slapd.sh
. "$(dirname "${BASH_SOURCE[0]}")/slapd.sh"

SAMBA_REALM=EXAMPLE.COM
SAMBA_DOMAIN=EXAMPLE
SAMBA_SUFFIX="DC=example,DC=com"
SAMBA_ADMIN_DN="CN=Administrator,CN=Users,DC=example,DC=com"
SAMBA_ADMIN_PW="Admin-Pass1"
SAMBA_SVC_DN="CN=rosterd,CN=Users,DC=example,DC=com"
SAMBA_SVC_PW="Rosterd-Secret1"

_samba_err() { echo "samba.sh: $*" >&2; }

_samba_dir_arg() {
	local d=${1:-${SAMBA_DIR:-}}
	if [ -z "$d" ]; then
		_samba_err "no DIR given and SAMBA_DIR is not set"
		return 1
	fi
	printf '%s\n' "$d"
}

# _samba_alive PID PATTERN: PID is alive, not a zombie, and its command line
# contains PATTERN (so a recycled pid is never signalled).
_samba_alive() {
	local pid=$1 pat=$2 cmd
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	case $cmd in *"$pat"*) ;; *) return 1 ;; esac
	[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ]
}

# The pid of DIR's namespace holder (unshare), if alive.
_samba_pid_of() {
	local dir=$1 pid
	[ -f "$dir/run/unshare.pid" ] || return 1
	pid=$(cat "$dir/run/unshare.pid" 2>/dev/null) || return 1
	_samba_alive "$pid" "samba-ns $dir " || return 1
	printf '%s\n' "$pid"
}

samba_running() {
	local dir
	dir=$(_samba_dir_arg "${1:-}") || return 1
	[ -d "$dir" ] || return 1
	dir=$(_slapd_absdir "$dir") || return 1
	_samba_pid_of "$dir" >/dev/null
}

# _samba_write_conf DIR: DIR/etc/smb.conf with every path under DIR. Only the LDAP
# server runs (and the KDC, for Kerberos tests); no DNS, no SMB, no NetBIOS.
_samba_write_conf() {
	local dir=$1 strong=no
	[ "${SAMBA_STRONG_AUTH:-0}" != 1 ] || strong=yes
	mkdir -p "$dir/etc" "$dir/lock" "$dir/cache" "$dir/run" "$dir/log" || return 1
	cat >"$dir/etc/smb.conf" <<EOF
# Generated by tests/lib/samba.sh: a throwaway test DC. Do not edit.
[global]
	netbios name = DC1
	realm = $SAMBA_REALM
	workgroup = $SAMBA_DOMAIN
	server role = active directory domain controller
	server services = ldap, kdc
	ldap server require strong auth = $strong
	private dir = $dir/private
	state directory = $dir/state
	lock directory = $dir/lock
	cache directory = $dir/cache
	pid directory = $dir/run
	binddns dir = $dir/bind-dns
	ncalrpc dir = $dir/run/ncalrpc
	winbindd socket directory = $dir/run/winbindd
	ntp signd socket directory = $dir/run/ntp_signd
	log file = $dir/log/samba.log
	max log size = 0
	log level = 1
	interfaces = lo
	bind interfaces only = yes
	dns forwarder =
	idmap_ldb:use rfc2307 = yes
${SAMBA_EXTRA_CONF:-}
EOF
}

# samba_template TDIR: provision TDIR (once; a complete template has TDIR/.done).
samba_template() {
	local t=${1:?samba_template TDIR} out
	mkdir -p "$t" || return 1
	t=$(_slapd_absdir "$t") || return 1
	(
		flock 9 || exit 1
		[ -e "$t/.done" ] && exit 0
		find "$t" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} + || exit 1
		# In a namespace of its own: provisioning must not see the host's network.
		if ! out=$(unshare --net samba-tool domain provision -s /dev/null \
			--targetdir="$t" --realm="$SAMBA_REALM" --domain="$SAMBA_DOMAIN" \
			--server-role=dc --dns-backend=SAMBA_INTERNAL --host-name=dc1 \
			--adminpass="$SAMBA_ADMIN_PW" --use-rfc2307 2>&1); then
			_samba_err "samba_template: provisioning failed:"
			printf '%s\n' "$out" | tail -20 >&2
			exit 1
		fi
		_samba_write_conf "$t" || exit 1
		printf 'dn: OU=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' \
			people "$SAMBA_SUFFIX" people groups "$SAMBA_SUFFIX" groups \
			system "$SAMBA_SUFFIX" system |
			ldbadd -H "$t/private/sam.ldb" --nosync >/dev/null || exit 1
		if ! out=$(samba-tool user create rosterd "$SAMBA_SVC_PW" -s "$t/etc/smb.conf" \
			-H "$t/private/sam.ldb" 2>&1); then
			_samba_err "samba_template: cannot create the service account: $out"
			exit 1
		fi
		# A DC registers its ldap/ service names itself (samba_spnupdate, which
		# needs the DNS service this DC does not run): GSSAPI binds need them.
		printf 'dn: CN=DC1,OU=Domain Controllers,%s\nchangetype: modify\nadd: servicePrincipalName\nservicePrincipalName: ldap/dc1.example.com\nservicePrincipalName: ldap/DC1\n' \
			"$SAMBA_SUFFIX" | ldbmodify -H "$t/private/sam.ldb" --nosync >/dev/null || exit 1
		# Samba does not expire passwords of a test domain we throw away anyway.
		samba-tool domain passwordsettings set --max-pwd-age=0 --complexity=off \
			-s "$t/etc/smb.conf" -H "$t/private/sam.ldb" >/dev/null 2>&1 || exit 1
		touch "$t/.done"
	) 9>>"$t/.lock"
}

samba_setup() {
	local dir=${1:?samba_setup DIR} tmpl
	mkdir -p "$dir" || return 1
	dir=$(_slapd_absdir "$dir") || return 1
	samba_stop "$dir" || return 1
	tmpl=${SAMBA_TEMPLATE:-$dir.template}
	samba_template "$tmpl" || return 1
	tmpl=$(_slapd_absdir "$tmpl") || return 1
	find "$dir" -mindepth 1 -maxdepth 1 ! -name port -exec rm -rf {} + || return 1
	cp -a "$tmpl/private" "$tmpl/state" "$tmpl/bind-dns" "$dir/" || return 1
	_samba_write_conf "$dir"
}

samba_write_conf() {
	local dir=${1:?samba_write_conf DIR}
	dir=$(_slapd_absdir "$dir") || return 1
	_samba_write_conf "$dir"
}

samba_load() {
	local dir=${1:?samba_load DIR FILE...} f out
	shift
	[ $# -gt 0 ] || { _samba_err "samba_load: no LDIF file given"; return 1; }
	dir=$(_slapd_absdir "$dir") || return 1
	[ -f "$dir/private/sam.ldb" ] || { _samba_err "samba_load: no $dir/private/sam.ldb (samba_setup first)"; return 1; }
	if _samba_pid_of "$dir" >/dev/null; then
		_samba_err "samba_load: the DC is running from $dir; stop it first"
		return 1
	fi
	for f in "$@"; do
		[ "$f" != - ] || f=/dev/stdin
		if ! out=$(ldbadd -H "$dir/private/sam.ldb" --nosync "$f" 2>&1); then
			_samba_err "samba_load: ldbadd failed on $f: $out"
			return 1
		fi
	done
}

_samba_ready() {
	ldapsearch -x -LLL -H "$1" -o nettimeout=1 -l 2 -b "" -s base \
		defaultNamingContext 2>/dev/null | grep -q '^defaultNamingContext:'
}

# _samba_relay_start DIR PORT [NAME]: the host's relay 127.0.0.1:PORT ->
# DIR/run/NAME.sock (NAME ldap, the default, or kdc), in a session of its own
# (its per-connection children are stopped with it); its pid in
# DIR/run/NAME-relay.pid.
_samba_relay_start() {
	local dir=$1 port=$2 name=${3:-ldap} pid trace=()
	[ "${SAMBA_RELAY_TRACE:-0}" != 1 ] || [ "$name" != ldap ] || trace=(-v)
	setsid socat "${trace[@]}" "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
		"UNIX-CONNECT:$dir/run/$name.sock" </dev/null >>"$dir/log/relay.log" 2>&1 &
	pid=$!
	disown "$pid" 2>/dev/null || true
	echo "$pid" >"$dir/run/$name-relay.pid"
	# socat exits at once when the port is taken.
	sleep 0.1
	_samba_alive "$pid" "$dir/run/$name.sock"
}

_samba_relay_stop() {
	local dir=$1 name pid
	for name in ldap kdc; do
		pid=$(cat "$dir/run/$name-relay.pid" 2>/dev/null) || continue
		if _samba_alive "$pid" "$dir/run/$name.sock"; then
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
			for _ in $(seq 1 50); do _samba_alive "$pid" "$dir/run/$name.sock" || break; sleep 0.02; done
			kill -KILL -- "-$pid" 2>/dev/null || true
		fi
		rm -f "$dir/run/$name-relay.pid"
	done
}

# _samba_kdc_relay DIR: the relay to the KDC (Kerberos over TCP) on a free port,
# exported as SAMBA_KDC_PORT.
_samba_kdc_relay() {
	local dir=$1 port
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		if _samba_relay_start "$dir" "$port" kdc; then
			export SAMBA_KDC_PORT=$port
			return 0
		fi
	done
	_samba_err "samba_start: no free port for the KDC's relay"
	return 1
}

samba_start() {
	local dir=${1:?samba_start DIR} pid port try state uri
	dir=$(_slapd_absdir "$dir") || return 1
	[ -f "$dir/etc/smb.conf" ] || { _samba_err "samba_start: $dir/etc/smb.conf missing (samba_setup first)"; return 1; }
	if pid=$(_samba_pid_of "$dir"); then
		_samba_err "samba_start: a DC is already running from $dir (pid $pid)"
		return 1
	fi
	# samba.pid names pid 1 of the namespace, which in any new one is alive.
	rm -f "$dir/run/ldap.sock" "$dir/run/kdc.sock" "$dir/run/samba.pid"
	echo "=== samba_start $(date '+%F %T') ===" >>"$dir/log/samba.out"
	# The namespace's first process is samba itself (sh execs it): when it ends, the
	# kernel ends the relay inside too. --kill-child: if unshare dies, so does samba.
	# shellcheck disable=SC2016 # $1 is the inner shell's
	unshare --net --pid --fork --kill-child sh -c '
		ip link set lo up || exit 1
		socat "UNIX-LISTEN:$1/run/ldap.sock,fork,unlink-early" TCP:127.0.0.1:389 &
		socat "UNIX-LISTEN:$1/run/kdc.sock,fork,unlink-early" TCP:127.0.0.1:88 &
		exec samba -s "$1/etc/smb.conf" -i -M single --no-process-group' \
		samba-ns "$dir" </dev/null >>"$dir/log/samba.out" 2>&1 &
	pid=$!
	disown "$pid" 2>/dev/null || true
	echo "$pid" >"$dir/run/unshare.pid"

	state=died
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=""
		if [ "$try" -le 2 ] && [ -s "$dir/port" ]; then port=$(cat "$dir/port"); fi
		[ -n "$port" ] || port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		if _samba_relay_start "$dir" "$port"; then
			state=relay
			break
		fi
	done
	if [ "$state" = relay ]; then
		uri="ldap://127.0.0.1:$port/"
		state=died
		for _ in $(seq 1 600); do
			# (not _samba_alive: the child may not have exec'd unshare yet)
			kill -0 "$pid" 2>/dev/null || break
			[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ] || break
			if _samba_ready "$uri"; then
				state=up
				break
			fi
			sleep 0.1
		done
	else
		_samba_err "samba_start: no free port for the relay"
	fi
	if [ "$state" = up ] && ! _samba_kdc_relay "$dir"; then
		state=died
	fi
	if [ "$state" != up ]; then
		_samba_err "samba_start: the DC in $dir did not come up; last lines of its log:"
		tail -n 20 "$dir/log/samba.out" >&2
		samba_stop "$dir"
		return 1
	fi
	echo "$port" >"$dir/port"
	export SAMBA_DIR="$dir" SAMBA_URI="$uri" SAMBA_PORT="$port" SAMBA_PID="$pid" \
		SAMBA_LOG="$dir/log/samba.log"
}

samba_stop() {
	local dir pid child
	dir=$(_samba_dir_arg "${1:-}") || return 1
	[ -d "$dir" ] || return 0
	dir=$(_slapd_absdir "$dir") || return 1
	_samba_relay_stop "$dir"
	if pid=$(_samba_pid_of "$dir"); then
		# unshare --fork ignores SIGTERM; its child is samba, the namespace's init.
		child=$(awk '{print $1}' "/proc/$pid/task/$pid/children" 2>/dev/null)
		[ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true
		for _ in $(seq 1 200); do
			_samba_alive "$pid" "samba-ns $dir " || break
			sleep 0.05
		done
		if _samba_alive "$pid" "samba-ns $dir "; then
			[ -z "$child" ] || kill -KILL "$child" 2>/dev/null || true
			kill -KILL "$pid" 2>/dev/null || true
			for _ in $(seq 1 100); do
				_samba_alive "$pid" "samba-ns $dir " || break
				sleep 0.05
			done
		fi
		if _samba_alive "$pid" "samba-ns $dir "; then
			_samba_err "samba_stop: the DC of $dir (pid $pid) does not stop"
			return 1
		fi
	fi
	rm -f "$dir/run/unshare.pid" "$dir/run/ldap.sock" "$dir/run/kdc.sock"
	return 0
}

_samba_need_uri() {
	[ -n "${SAMBA_URI:-}" ] || { _samba_err "SAMBA_URI is not set (samba_start first)"; return 1; }
}

samba_admin_modify() {
	_samba_need_uri || return 1
	ldapmodify -x -H "$SAMBA_URI" -D "$SAMBA_ADMIN_DN" -w "$SAMBA_ADMIN_PW" >/dev/null
}

samba_admin_add() {
	_samba_need_uri || return 1
	ldapmodify -a -x -H "$SAMBA_URI" -D "$SAMBA_ADMIN_DN" -w "$SAMBA_ADMIN_PW" >/dev/null
}

samba_admin_delete() {
	_samba_need_uri || return 1
	[ $# -gt 0 ] || { _samba_err "samba_admin_delete DN..."; return 1; }
	ldapdelete -x -H "$SAMBA_URI" -D "$SAMBA_ADMIN_DN" -w "$SAMBA_ADMIN_PW" -- "$@"
}

samba_admin_modrdn() {
	local dn=${1:?samba_admin_modrdn DN NEWRDN [NEWSUPERIOR]} newrdn=${2:?samba_admin_modrdn DN NEWRDN [NEWSUPERIOR]}
	_samba_need_uri || return 1
	if [ -n "${3:-}" ]; then
		ldapmodrdn -x -r -H "$SAMBA_URI" -D "$SAMBA_ADMIN_DN" -w "$SAMBA_ADMIN_PW" -s "$3" "$dn" "$newrdn"
	else
		ldapmodrdn -x -r -H "$SAMBA_URI" -D "$SAMBA_ADMIN_DN" -w "$SAMBA_ADMIN_PW" "$dn" "$newrdn"
	fi
}

samba_svc_search() {
	_samba_need_uri || return 1
	ldapsearch -x -LLL -o ldif-wrap=no -H "$SAMBA_URI" -D "$SAMBA_SVC_DN" -w "$SAMBA_SVC_PW" "$@"
}

samba_keytab() {
	local file=${1:?samba_keytab FILE [PRINCIPAL]} out
	[ -n "${SAMBA_DIR:-}" ] || { _samba_err "SAMBA_DIR is not set (samba_start first)"; return 1; }
	rm -f "$file"
	if ! out=$(samba-tool domain exportkeytab "$file" --principal="${2:-rosterd@$SAMBA_REALM}" \
		-s "$SAMBA_DIR/etc/smb.conf" 2>&1); then
		_samba_err "samba_keytab: $out"
		return 1
	fi
}

samba_krb5_conf() {
	local file=${1:?samba_krb5_conf FILE}
	[ -n "${SAMBA_KDC_PORT:-}" ] || { _samba_err "SAMBA_KDC_PORT is not set (samba_start first)"; return 1; }
	cat >"$file" <<EOF
# Generated by tests/lib/samba.sh: the test DC's KDC, through its relay.
[libdefaults]
	default_realm = $SAMBA_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 0
[realms]
	$SAMBA_REALM = {
		kdc = 127.0.0.1:$SAMBA_KDC_PORT
	}
[domain_realm]
	.example.com = $SAMBA_REALM
	example.com = $SAMBA_REALM
EOF
}

samba_write_rosterd_conf() {
	local file=${1:?samba_write_rosterd_conf FILE [SYNC_EXTRA]}
	_samba_need_uri || return 1
	ROSTERD_CONF_URI=${ROSTERD_CONF_URI:-$SAMBA_URI} \
	ROSTERD_CONF_BIND_DN=${ROSTERD_CONF_BIND_DN:-$SAMBA_SVC_DN} \
	ROSTERD_CONF_BIND_PW=${ROSTERD_CONF_BIND_PW:-$SAMBA_SVC_PW} \
	ROSTERD_CONF_SUFFIX=$SAMBA_SUFFIX \
	ROSTERD_CONF_USERS_FILTER=${ROSTERD_CONF_USERS_FILTER:-"(&(objectClass=user)(objectCategory=person))"} \
	ROSTERD_CONF_GROUPS_FILTER=${ROSTERD_CONF_GROUPS_FILTER:-"(objectClass=group)"} \
	ROSTERD_CONF_USERS_EXTRA=${ROSTERD_CONF_USERS_EXTRA:-'disabled_attribute = "userAccountControl"; disabled_bitmask = 2;'} \
	ROSTERD_CONF_ATTRIBUTES=${ROSTERD_CONF_ATTRIBUTES:-'id = "objectGUID"; username = "sAMAccountName"; email = "mail";
    given_name = "givenName"; family_name = "sn"; display_name = "displayName";
    manager = "manager"; secondary_manager = "secretary";
    department = "department"; location = "l"; title = "title";
    employee_number = "employeeNumber";
    custom = { cost_centre = "department"; };'} \
		slapd_write_rosterd_conf "$file" "${2:-}"
}
