# shellcheck shell=bash
# tests/lib/slapd.sh: a private, throwaway OpenLDAP slapd for the integration tests,
# the demo and the benchmark. Source it from bash (works under `set -eu -o pipefail`;
# it changes no shell option). It runs Debian's /usr/sbin/slapd as the current user
# with an old-style slapd.conf, listening only on ldap://127.0.0.1:<port>/.
#
# Directory: suffix dc=example,dc=com; rootdn cn=admin,dc=example,dc=com / "admin";
# service account cn=rosterd,ou=system,dc=example,dc=com / "rosterd-secret" (from
# tests/fixtures/base.ldif). The rootdn is exempt from limits: bind as the service
# account ($SLAPD_SVC_DN / $SLAPD_SVC_PW) whenever limits matter.
#
# Contract (DIR is the server's own directory; functions return non-zero on failure,
# printing why on stderr; every DIR argument but slapd_setup's/slapd_load's/
# slapd_start's defaults to $SLAPD_DIR):
#   slapd_setup DIR      stop a slapd still running from DIR, then create DIR with an
#                        empty database DIR/db and write DIR/slapd.conf and
#                        DIR/extra.schema (nsAccountLock and the AUXILIARY class
#                        rosterdTestAccount MAY ( nsAccountLock $ employeeType )).
#                        An existing DIR/db and DIR/slapd.log are emptied unless
#                        SLAPD_KEEP_DB=1. Checks the result with slaptest.
#                        Reads, when set: SLAPD_EXTRA_GLOBAL_CONF (slapd.conf text put
#                        before the database section, e.g. "sizelimit 5"),
#                        SLAPD_EXTRA_DB_CONF (text put inside the database section,
#                        after suffix/rootdn/indexes and BEFORE the access rules and the
#                        syncprov overlay, so extra `access` rules take precedence),
#                        SLAPD_OVERLAYS_LAST (text put at the end of the database
#                        section, after the syncprov overlay: an overlay there is
#                        above syncprov, so the changes it makes to other entries,
#                        such as memberof's, go through syncprov to refreshes),
#                        SLAPD_MAXSIZE (mdb maxsize in bytes, default 4 GiB),
#                        SLAPD_NO_SYNCPROV=1 (no syncprov overlay: no RFC 4533),
#                        SLAPD_SESSIONLOG (syncprov-sessionlog, default 1000),
#                        SLAPD_TLS_CERT + SLAPD_TLS_KEY (PEM files: the server's TLS
#                        certificate and key, so it offers StartTLS and, with
#                        SLAPD_LDAPS=1 at slapd_start, ldaps://), SLAPD_TLS_CA (PEM),
#                        SLAPD_TLS_VERIFY_CLIENT (TLSVerifyClient: try or demand,
#                        for client certificates and SASL EXTERNAL).
#   slapd_load DIR FILE...  offline load into the database of $SLAPD_SUFFIX (also when
#                        SLAPD_EXTRA_GLOBAL_CONF declares another database before
#                        it) with slapadd -q -w (slapd must not be running
#                        from DIR). FILE "-" reads stdin. Nothing is loaded implicitly:
#                        pass "$ROSTERD_TOP/tests/fixtures/base.ldif" first.
#   slapd_start DIR      start slapd in the background with `-d stats`, its output
#                        appended to DIR/slapd.log (a line "=== slapd_start ..." marks
#                        each start; per-operation lines such as "SEARCH RESULT" follow).
#                        Reuses the port of DIR's previous start when it can, else picks
#                        a random free one in 20000-60000. Waits (<= ~10 s) until the
#                        server answers. Exports SLAPD_DIR SLAPD_URI SLAPD_PORT SLAPD_PID
#                        SLAPD_LOG. With SLAPD_LDAPS=1 (and SLAPD_TLS_* at slapd_setup)
#                        it also listens on ldaps://127.0.0.1:<port + 1>/, exported as
#                        SLAPD_LDAPS_URI. Call it directly, not in $( ): the exports must reach
#                        the caller's shell.
#   slapd_stop [DIR]     SIGTERM, wait <= 10 s, then SIGKILL. Idempotent.
#   slapd_kill [DIR]     SIGKILL at once. Idempotent.
#   slapd_pause [DIR] / slapd_resume [DIR]   SIGSTOP / SIGCONT.
#   slapd_running [DIR]  status 0 when the slapd of DIR is alive.
#   slapd_log_mark [DIR] print the current line count of DIR/slapd.log;
#   slapd_log_since MARK [DIR]  print the log lines after MARK, e.g.
#                        m=$(slapd_log_mark); ...; slapd_log_since "$m" | grep -c 'SEARCH RESULT'
#   ldap_admin_modify    LDIF on stdin to ldapmodify as the rootdn (stdout discarded).
#   ldap_admin_add       LDIF on stdin to ldapadd as the rootdn (stdout discarded).
#   ldap_admin_delete DN...                   ldapdelete as the rootdn.
#   ldap_admin_modrdn DN NEWRDN [NEWSUPERIOR] ldapmodrdn -r (old RDN value removed).
#   ldap_svc_search ARGS...  ldapsearch -LLL bound as the service account on $SLAPD_URI.
#   slapd_make_certs DIR make a test PKI in DIR with openssl (EC P-256 keys): ca.pem
#                        (the CA), and for the server NAME.pem + NAME.key for NAME in
#                        good (CA-signed, SAN DNS:localhost IP:127.0.0.1, valid now),
#                        selfsigned (same names, signed by itself), wronghost
#                        (CA-signed for wrong.example.org / 192.0.2.1 only), expired
#                        (CA-signed for the right names, valid in January 2020 only);
#                        and client.pem + client.key, a client certificate whose
#                        subject is the service account's DN (SASL EXTERNAL).
#   slapd_write_rosterd_conf FILE [SYNC_EXTRA]
#                        write a rosterd config FILE for $SLAPD_URI and the service
#                        account; writes FILE's dir/bind.pw (mode 0600); the store is
#                        FILE's dir/learning.db. SYNC_EXTRA is appended inside
#                        sync = { } (must not repeat a key of ROSTERD_CONF_SYNC).
#                        Env overrides (text is libconfig, without the braces):
#                          ROSTERD_CONF_URI (default $SLAPD_URI)
#                          ROSTERD_CONF_BIND_DN, ROSTERD_CONF_BIND_PW (service account)
#                          ROSTERD_CONF_PRESET (ldap.preset; the users and groups
#                            filters, member_attribute, nested and the attributes are
#                            then written only when their variables are set)
#                          ROSTERD_CONF_BIND (set: the bind keys instead of bind_dn and
#                            bind_password_file, e.g. sasl_mech = "EXTERNAL"; "": anonymous)
#                          ROSTERD_CONF_PAGE_SIZE (1000), ROSTERD_CONF_TIMEOUT (10)
#                          ROSTERD_CONF_SUFFIX (dc=example,dc=com: the users base is
#                            ou=people under it, the groups base ou=groups)
#                          ROSTERD_CONF_USERS_BASE, ROSTERD_CONF_GROUPS_BASE (whole DNs)
#                          ROSTERD_CONF_USERS_FILTER ((objectClass=inetOrgPerson))
#                          ROSTERD_CONF_LDAP_EXTRA   added inside ldap = { }
#                          ROSTERD_CONF_USERS_EXTRA  added inside users = { }
#                          ROSTERD_CONF_GROUPS_FILTER ((objectClass=groupOfNames)),
#                          ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE (member; set and empty: none),
#                          ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTES libconfig text in its
#                            place, e.g. '[ "member", "uniqueMember" ]'
#                          ROSTERD_CONF_GROUPS_NESTED (true)
#                          ROSTERD_CONF_GROUPS_EXTRA added inside groups = { }
#                          ROSTERD_CONF_ATTRIBUTES   whole text inside attributes = { }
#                          ROSTERD_CONF_ATTRIBUTES_EXTRA  added inside attributes = { },
#                            after that text (every server's map): e.g. member_of
#                          ROSTERD_CONF_STORE_PATH   (FILE's dir/learning.db)
#                          ROSTERD_CONF_STORE        whole text inside store = { }
#                            (default: what the function rosterd_store_conf prints
#                            for the store file, when one is defined, as the tests'
#                            lib.sh does for STORE=pg; else path = that file)
#                          ROSTERD_CONF_STORE_EXTRA  added inside store = { }, after
#                            that text: e.g. bulk_load = false;
#                          ROSTERD_CONF_SYNC         whole text inside sync = { }, default
#                            max_disable = 500; max_disable_percent = 10.0;
#                            initial_status = "invited";
#                          ROSTERD_CONF_PLUGINS      text inside plugins = ( ) (empty)
#                          ROSTERD_CONF_ROLES        text inside roles = ( ) (empty)
#
# Size limits (verified against slapd 2.5.13): slapd applies the HARD size limit to
# the total of a paged search (RFC 2696), all pages together, not to one page
# ("size.prtotal" defaults to "hard"). So with
#     SLAPD_EXTRA_DB_CONF='limits dn.exact="cn=rosterd,ou=system,dc=example,dc=com" size=5'
# (size=5 sets soft=5 and hard=soft) a search by the service account, paged
# (ldapsearch -E pr=1000/noprompt) or not, returns 5 entries and then
# sizeLimitExceeded (4). `size.prtotal=5` alone gives the same for paged searches only.
# The global `sizelimit 5` (SLAPD_EXTRA_GLOBAL_CONF) does the same for everyone but
# the rootdn. slapd's default is `sizelimit 500`, which would cut every paged
# search at 500 entries: slapd.conf here sets `sizelimit unlimited` before
# SLAPD_EXTRA_GLOBAL_CONF (a later sizelimit line wins).

ROSTERD_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export ROSTERD_TOP
SLAPD_BIN=${SLAPD_BIN:-/usr/sbin/slapd}
SLAPADD_BIN=${SLAPADD_BIN:-/usr/sbin/slapadd}
SLAPD_SUFFIX="dc=example,dc=com"
SLAPD_ADMIN_DN="cn=admin,dc=example,dc=com"
SLAPD_ADMIN_PW="admin"
SLAPD_SVC_DN="cn=rosterd,ou=system,dc=example,dc=com"
SLAPD_SVC_PW="rosterd-secret"

_slapd_err() { echo "slapd.sh: $*" >&2; }

_slapd_absdir() {
	# Absolute path of an existing directory.
	(cd "$1" && pwd)
}

_slapd_dir_arg() {
	# The DIR argument, or $SLAPD_DIR when none was given.
	local d=${1:-${SLAPD_DIR:-}}
	if [ -z "$d" ]; then
		_slapd_err "no DIR given and SLAPD_DIR is not set"
		return 1
	fi
	printf '%s\n' "$d"
}

_slapd_pid_of() {
	# Print the pid of the live slapd started from DIR; status 1 if there is none.
	local dir=$1 pid cmd
	[ -f "$dir/slapd.bgpid" ] || return 1
	pid=$(cat "$dir/slapd.bgpid" 2>/dev/null) || return 1
	[ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Make sure the pid was not recycled by an unrelated process.
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	case $cmd in *"$dir/slapd.conf"*) ;; *) return 1 ;; esac
	# A zombie is not alive.
	[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != "Z" ] || return 1
	printf '%s\n' "$pid"
}

slapd_running() {
	local dir
	dir=$(_slapd_dir_arg "${1:-}") || return 1
	[ -d "$dir" ] || return 1
	dir=$(_slapd_absdir "$dir") || return 1
	_slapd_pid_of "$dir" >/dev/null
}

_slapd_syncprov_conf() {
	# The syncprov overlay (RFC 4533 provider), unless SLAPD_NO_SYNCPROV=1;
	# SLAPD_SESSIONLOG entries of deletions kept for refreshes (default 1000;
	# past them a refresh falls back to the present phase).
	[ "${SLAPD_NO_SYNCPROV:-0}" = 1 ] && return 0
	echo "overlay syncprov"
	echo "syncprov-checkpoint 100 10"
	echo "syncprov-sessionlog ${SLAPD_SESSIONLOG:-1000}"
}

_slapd_tls_conf() {
	# The TLS lines of slapd.conf, when SLAPD_TLS_CERT and SLAPD_TLS_KEY are set.
	[ -n "${SLAPD_TLS_CERT:-}" ] && [ -n "${SLAPD_TLS_KEY:-}" ] || return 0
	[ -z "${SLAPD_TLS_CA:-}" ] || echo "TLSCACertificateFile \"$SLAPD_TLS_CA\""
	echo "TLSCertificateFile \"$SLAPD_TLS_CERT\""
	echo "TLSCertificateKeyFile \"$SLAPD_TLS_KEY\""
	[ -z "${SLAPD_TLS_VERIFY_CLIENT:-}" ] || echo "TLSVerifyClient $SLAPD_TLS_VERIFY_CLIENT"
}

slapd_setup() {
	local dir=${1:?slapd_setup DIR}
	mkdir -p "$dir" || return 1
	dir=$(_slapd_absdir "$dir") || return 1
	case $dir in
	*'"'* | *\\*)
		_slapd_err "DIR must not contain a double quote or a backslash: $dir"
		return 1
		;;
	esac
	slapd_stop "$dir" || return 1
	if [ "${SLAPD_KEEP_DB:-0}" != 1 ]; then
		rm -rf "$dir/db" || return 1
		: >"$dir/slapd.log" || return 1
	fi
	mkdir -p "$dir/db" || return 1

	cat >"$dir/extra.schema" <<'EOF'
# Test-only schema for rosterd: nsAccountLock is not in OpenLDAP's schemas.
# OID of nsAccountLock as in the Netscape/389-ds schema.
attributetype ( 2.16.840.1.113730.3.1.610
	NAME 'nsAccountLock'
	DESC 'Operational attribute for account inactivation'
	EQUALITY caseIgnoreMatch
	SUBSTR caseIgnoreSubstringsMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.15
	SINGLE-VALUE )

# Private arc for the rosterd tests (never used outside a throwaway test server).
objectclass ( 1.3.6.1.4.1.99999.1.1
	NAME 'rosterdTestAccount'
	DESC 'rosterd tests: lets any person carry nsAccountLock and employeeType'
	SUP top AUXILIARY
	MAY ( nsAccountLock $ employeeType ) )
EOF

	cat >"$dir/slapd.conf" <<EOF
# Generated by tests/lib/slapd.sh: a throwaway test server. Do not edit.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include "$dir/extra.schema"

pidfile "$dir/slapd.pid"
argsfile "$dir/slapd.args"

modulepath /usr/lib/ldap
moduleload back_mdb
moduleload syncprov

# slapd's default (500) would also cap the total of every paged search.
sizelimit unlimited
tool-threads 2
$(_slapd_tls_conf)
${SLAPD_EXTRA_GLOBAL_CONF:-}

database mdb
suffix "$SLAPD_SUFFIX"
rootdn "$SLAPD_ADMIN_DN"
rootpw $SLAPD_ADMIN_PW
directory "$dir/db"
maxsize ${SLAPD_MAXSIZE:-4294967296}
index objectClass,entryUUID,uid eq
index entryCSN eq
${SLAPD_EXTRA_DB_CONF:-}

# The rootdn bypasses these. The service account reads everything, anonymous
# clients may only bind, and a person may change their own password.
access to attrs=userPassword
	by self write
	by anonymous auth
	by * none
access to *
	by dn.exact="$SLAPD_SVC_DN" read
	by anonymous auth
	by * none

$(_slapd_syncprov_conf)
${SLAPD_OVERLAYS_LAST:-}
EOF
	# Catch a bad SLAPD_EXTRA_*_CONF here rather than at slapd_start.
	local out
	if ! out=$(/usr/sbin/slaptest -u -f "$dir/slapd.conf" 2>&1); then
		_slapd_err "slapd_setup: $dir/slapd.conf is not valid:"
		printf '%s\n' "$out" | grep -v '@(#)\|Debian OpenLDAP Maintainers' >&2 || true
		return 1
	fi
}

slapd_load() {
	local dir=${1:?slapd_load DIR FILE...} f rc
	shift
	[ $# -gt 0 ] || { _slapd_err "slapd_load: no LDIF file given"; return 1; }
	[ -f "$dir/slapd.conf" ] || { _slapd_err "slapd_load: $dir/slapd.conf missing (slapd_setup first)"; return 1; }
	dir=$(_slapd_absdir "$dir") || return 1
	if _slapd_pid_of "$dir" >/dev/null; then
		_slapd_err "slapd_load: slapd is running from $dir; stop it first"
		return 1
	fi
	for f in "$@"; do
		if [ "$f" = - ]; then
			f=/dev/stdin
		elif [ ! -r "$f" ]; then
			_slapd_err "slapd_load: cannot read $f"
			return 1
		fi
		rc=0
		"$SLAPADD_BIN" -q -w -f "$dir/slapd.conf" -b "$SLAPD_SUFFIX" -l "$f" || rc=$?
		if [ "$rc" -ne 0 ]; then
			_slapd_err "slapd_load: slapadd failed (status $rc) on $f"
			return 1
		fi
	done
}

_slapd_ready() {
	# The server answers a rootdn search of the root DSE.
	ldapsearch -x -LLL -H "$1" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" \
		-o nettimeout=1 -l 2 -b "" -s base namingContexts >/dev/null 2>&1
}

slapd_start() {
	local dir=${1:?slapd_start DIR} log pid port off try state uri urls
	dir=$(_slapd_absdir "$dir") || return 1
	[ -f "$dir/slapd.conf" ] || { _slapd_err "slapd_start: $dir/slapd.conf missing (slapd_setup first)"; return 1; }
	if pid=$(_slapd_pid_of "$dir"); then
		_slapd_err "slapd_start: slapd already running from $dir (pid $pid)"
		return 1
	fi
	log=$dir/slapd.log
	: >>"$log" || return 1

	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=""
		# Prefer the port of the previous start, so configs written for it stay right.
		if [ "$try" -le 3 ] && [ -s "$dir/port" ]; then
			port=$(cat "$dir/port")
		fi
		if [ -z "$port" ]; then
			port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		fi
		uri="ldap://127.0.0.1:$port/"
		urls=$uri
		[ "${SLAPD_LDAPS:-0}" != 1 ] || urls="$uri ldaps://127.0.0.1:$((port + 1))/"
		off=$(stat -c %s "$log")
		echo "=== slapd_start $(date '+%F %T') port=$port ===" >>"$log"
		"$SLAPD_BIN" -f "$dir/slapd.conf" -h "$urls" -d stats -s 0 \
			</dev/null >>"$log" 2>&1 &
		pid=$!
		# Not a job of this shell: no "Killed" notice when we stop it.
		disown "$pid" 2>/dev/null || true
		echo "$pid" >"$dir/slapd.bgpid"

		state=pending
		for _ in $(seq 1 100); do
			if ! kill -0 "$pid" 2>/dev/null ||
				[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" = Z ]; then
				state=died
				break
			fi
			# "slapd starting" is printed once the listener is bound.
			if tail -c +"$((off + 1))" "$log" | grep -c 'slapd starting' >/dev/null && _slapd_ready "$uri"; then
				state=up
				break
			fi
			sleep 0.1
		done

		case $state in
		up)
			echo "$port" >"$dir/port"
			echo "$uri" >"$dir/uri"
			export SLAPD_DIR="$dir" SLAPD_URI="$uri" SLAPD_PORT="$port" SLAPD_PID="$pid" SLAPD_LOG="$log"
			if [ "${SLAPD_LDAPS:-0}" = 1 ]; then
				export SLAPD_LDAPS_URI="ldaps://127.0.0.1:$((port + 1))/"
			fi
			return 0
			;;
		died)
			if tail -c +"$((off + 1))" "$log" | grep -c 'Address already in use' >/dev/null; then
				if [ "$try" -eq 3 ] && [ -s "$dir/port" ]; then
					_slapd_err "slapd_start: previous port $(cat "$dir/port") is taken; picking another"
					rm -f "$dir/port"
				fi
				[ "$try" -le 3 ] && sleep 0.3
				continue
			fi
			_slapd_err "slapd_start: slapd exited at startup; end of $log:"
			tail -n 30 "$log" >&2
			return 1
			;;
		*)
			_slapd_err "slapd_start: slapd did not answer on $uri within 10 s; end of $log:"
			tail -n 30 "$log" >&2
			kill -KILL "$pid" 2>/dev/null || true
			return 1
			;;
		esac
	done
	_slapd_err "slapd_start: no free port found; end of $log:"
	tail -n 30 "$log" >&2
	return 1
}

_slapd_signal_wait() {
	# _slapd_signal_wait DIR FIRSTSIGNAL: send the signal, wait <= 10 s, then SIGKILL.
	local dir pid
	dir=$(_slapd_dir_arg "${1:-}") || return 1
	[ -d "$dir" ] || return 0
	dir=$(_slapd_absdir "$dir") || return 1
	if pid=$(_slapd_pid_of "$dir"); then
		kill -"$2" "$pid" 2>/dev/null || true
		kill -CONT "$pid" 2>/dev/null || true # a paused slapd cannot act on SIGTERM
		for _ in $(seq 1 100); do
			_slapd_pid_of "$dir" >/dev/null || break
			sleep 0.1
		done
		if _slapd_pid_of "$dir" >/dev/null; then
			_slapd_err "slapd (pid $pid) ignored SIG$2 for 10 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			for _ in $(seq 1 50); do
				_slapd_pid_of "$dir" >/dev/null || break
				sleep 0.1
			done
		fi
	fi
	rm -f "$dir/slapd.bgpid" "$dir/slapd.pid" "$dir/slapd.args"
	return 0
}

slapd_stop() { _slapd_signal_wait "${1:-}" TERM; }

slapd_kill() { _slapd_signal_wait "${1:-}" KILL; }

slapd_pause() {
	local dir pid
	dir=$(_slapd_dir_arg "${1:-}") || return 1
	dir=$(_slapd_absdir "$dir") || return 1
	pid=$(_slapd_pid_of "$dir") || { _slapd_err "slapd_pause: no slapd running from $dir"; return 1; }
	kill -STOP "$pid"
}

slapd_resume() {
	local dir pid
	dir=$(_slapd_dir_arg "${1:-}") || return 1
	dir=$(_slapd_absdir "$dir") || return 1
	pid=$(_slapd_pid_of "$dir") || { _slapd_err "slapd_resume: no slapd running from $dir"; return 1; }
	kill -CONT "$pid"
}

slapd_log_mark() {
	local dir
	dir=$(_slapd_dir_arg "${1:-}") || return 1
	if [ -f "$dir/slapd.log" ]; then
		wc -l <"$dir/slapd.log" | tr -d ' '
	else
		echo 0
	fi
}

slapd_log_since() {
	local mark=${1:?slapd_log_since MARK [DIR]} dir
	dir=$(_slapd_dir_arg "${2:-}") || return 1
	[ -f "$dir/slapd.log" ] || return 0
	tail -n +"$((mark + 1))" "$dir/slapd.log"
}

_slapd_need_uri() {
	[ -n "${SLAPD_URI:-}" ] || { _slapd_err "SLAPD_URI is not set (slapd_start first)"; return 1; }
}

ldap_admin_modify() {
	_slapd_need_uri || return 1
	ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" >/dev/null
}

ldap_admin_add() {
	_slapd_need_uri || return 1
	ldapmodify -a -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" >/dev/null
}

ldap_admin_delete() {
	_slapd_need_uri || return 1
	[ $# -gt 0 ] || { _slapd_err "ldap_admin_delete DN..."; return 1; }
	ldapdelete -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" -- "$@"
}

ldap_admin_modrdn() {
	local dn=${1:?ldap_admin_modrdn DN NEWRDN [NEWSUPERIOR]} newrdn=${2:?ldap_admin_modrdn DN NEWRDN [NEWSUPERIOR]}
	_slapd_need_uri || return 1
	if [ -n "${3:-}" ]; then
		ldapmodrdn -x -r -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" -s "$3" "$dn" "$newrdn"
	else
		ldapmodrdn -x -r -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -w "$SLAPD_ADMIN_PW" "$dn" "$newrdn"
	fi
}

ldap_svc_search() {
	_slapd_need_uri || return 1
	ldapsearch -x -LLL -o ldif-wrap=no -H "$SLAPD_URI" -D "$SLAPD_SVC_DN" -w "$SLAPD_SVC_PW" "$@"
}

_slapd_cert() {
	# _slapd_cert DIR NAME SAN [openssl ca options...]: a CA-signed server certificate.
	local dir=$1 name=$2 san=$3
	shift 3
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/$name.key" -subj "/CN=$name" -out "$dir/$name.csr" 2>/dev/null &&
		SAN=$san openssl ca -batch -notext -config "$dir/ca.cnf" -extensions server \
			-in "$dir/$name.csr" -out "$dir/$name.pem" "$@" 2>"$dir/$name.err" || {
		_slapd_err "slapd_make_certs: openssl failed for $name:"
		cat "$dir/$name.err" >&2
		return 1
	}
}

slapd_make_certs() {
	local dir=${1:?slapd_make_certs DIR}
	mkdir -p "$dir/newcerts" || return 1
	dir=$(_slapd_absdir "$dir") || return 1
	: >"$dir/index.txt"
	echo 1000 >"$dir/serial"
	cat >"$dir/ca.cnf" <<EOF
# Generated by tests/lib/slapd.sh: a throwaway test CA.
[ ca ]
default_ca = testca
[ testca ]
dir = $dir
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_days = 30
policy = any
unique_subject = no
[ any ]
domainComponent = optional
organizationalUnitName = optional
commonName = supplied
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[ server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \$ENV::SAN
EOF
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 30 -subj "/CN=rosterd test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || {
		_slapd_err "slapd_make_certs: cannot make the CA"
		return 1
	}
	_slapd_cert "$dir" good "DNS:localhost,IP:127.0.0.1" || return 1
	_slapd_cert "$dir" wronghost "DNS:wrong.example.org,IP:192.0.2.1" || return 1
	_slapd_cert "$dir" expired "DNS:localhost,IP:127.0.0.1" \
		-startdate 20200101000000Z -enddate 20200131000000Z || return 1
	# the service account's client certificate (SASL EXTERNAL)
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/client.key" -subj "/DC=com/DC=example/OU=system/CN=rosterd" \
		-out "$dir/client.csr" 2>/dev/null &&
		SAN=DNS:unused openssl ca -batch -notext -config "$dir/ca.cnf" -extensions client \
			-in "$dir/client.csr" -out "$dir/client.pem" 2>"$dir/client.err" || {
		_slapd_err "slapd_make_certs: openssl failed for the client certificate:"
		cat "$dir/client.err" >&2
		return 1
	}
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/selfsigned.key" -out "$dir/selfsigned.pem" -days 30 \
		-subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null || {
		_slapd_err "slapd_make_certs: cannot make the self-signed certificate"
		return 1
	}
	chmod 0600 "$dir"/*.key
}

slapd_write_rosterd_conf() {
	local file=${1:?slapd_write_rosterd_conf FILE [SYNC_EXTRA]} sync_extra=${2:-} confdir pwfile uri attrs sync members store
	uri=${ROSTERD_CONF_URI:-${SLAPD_URI:-}}
	[ -n "$uri" ] || { _slapd_err "slapd_write_rosterd_conf: SLAPD_URI is not set (slapd_start first) and no ROSTERD_CONF_URI"; return 1; }
	confdir=$(dirname "$file")
	mkdir -p "$confdir" || return 1
	confdir=$(_slapd_absdir "$confdir") || return 1
	pwfile=$confdir/bind.pw
	rm -f "$pwfile"
	(umask 077 && printf '%s\n' "${ROSTERD_CONF_BIND_PW:-$SLAPD_SVC_PW}" >"$pwfile") || return 1
	chmod 0600 "$pwfile" || return 1

	attrs=${ROSTERD_CONF_ATTRIBUTES:-'id = "entryUUID"; username = "uid"; email = "mail";
    given_name = "givenName"; family_name = "sn"; display_name = "cn";
    manager = "manager"; secondary_manager = "secretary";
    department = "departmentNumber"; location = "l"; title = "title";
    employee_number = "employeeNumber";
    custom = { cost_centre = "departmentNumber"; };'}

	sync=${ROSTERD_CONF_SYNC:-'max_disable = 500; max_disable_percent = 10.0; initial_status = "invited";'}
	store=${ROSTERD_CONF_STORE:-}
	if [ -z "$store" ] && declare -F rosterd_store_conf >/dev/null; then
		store=$(rosterd_store_conf "${ROSTERD_CONF_STORE_PATH:-$confdir/learning.db}") || return 1
	fi
	store=${store:-"path = \"${ROSTERD_CONF_STORE_PATH:-$confdir/learning.db}\";"}
	members=${ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTES:-"\"${ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE-member}\""}

	# With a preset, only what the test sets itself is written of the map.
	local preset="" ufilter gfilter gmember gnested amap
	ufilter="filter = \"${ROSTERD_CONF_USERS_FILTER:-(objectClass=inetOrgPerson)}\";"
	gfilter="filter = \"${ROSTERD_CONF_GROUPS_FILTER:-(objectClass=groupOfNames)}\";"
	gmember="member_attribute = $members;"
	gnested="nested = ${ROSTERD_CONF_GROUPS_NESTED:-true};"
	amap="attributes = {
    $attrs
    ${ROSTERD_CONF_ATTRIBUTES_EXTRA:-}
  };"
	if [ -n "${ROSTERD_CONF_PRESET:-}" ]; then
		preset="preset = \"$ROSTERD_CONF_PRESET\";"
		[ -n "${ROSTERD_CONF_USERS_FILTER:-}" ] || ufilter=""
		[ -n "${ROSTERD_CONF_GROUPS_FILTER:-}" ] || gfilter=""
		[ -n "${ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTE+set}${ROSTERD_CONF_GROUPS_MEMBER_ATTRIBUTES:-}" ] ||
			gmember=""
		[ -n "${ROSTERD_CONF_GROUPS_NESTED:-}" ] || gnested=""
		[ -n "${ROSTERD_CONF_ATTRIBUTES:-}${ROSTERD_CONF_ATTRIBUTES_EXTRA:-}" ] || amap=""
	fi

	cat >"$file" <<EOF
# Generated by tests/lib/slapd.sh for the test slapd at $uri
ldap = {
  uri = "$uri";${preset:+ $preset}
  ${ROSTERD_CONF_BIND-bind_dn = \"${ROSTERD_CONF_BIND_DN:-$SLAPD_SVC_DN}\"; bind_password_file = \"$pwfile\";}
  page_size = ${ROSTERD_CONF_PAGE_SIZE:-1000};
  timeout = ${ROSTERD_CONF_TIMEOUT:-10};
  ${ROSTERD_CONF_LDAP_EXTRA:-}
  users = {
    base = "${ROSTERD_CONF_USERS_BASE:-ou=people,${ROSTERD_CONF_SUFFIX:-$SLAPD_SUFFIX}}";
    $ufilter
    ${ROSTERD_CONF_USERS_EXTRA:-}
  };
  groups = {
    base = "${ROSTERD_CONF_GROUPS_BASE:-ou=groups,${ROSTERD_CONF_SUFFIX:-$SLAPD_SUFFIX}}";
    $gfilter
    $gmember
    $gnested
    ${ROSTERD_CONF_GROUPS_EXTRA:-}
  };
  $amap
};

store = {
  $store
  ${ROSTERD_CONF_STORE_EXTRA:-}
};

sync = {
  $sync
  $sync_extra
};

roles = ( ${ROSTERD_CONF_ROLES:-} );

plugins = ( ${ROSTERD_CONF_PLUGINS:-} );
EOF
}
