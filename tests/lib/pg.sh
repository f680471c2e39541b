# shellcheck shell=bash
# tests/lib/pg.sh: a private, throwaway PostgreSQL 15 for the tests, the demo and
# the benchmark (STORE=pg). Source it from bash (works under `set -eu -o
# pipefail`; it changes no shell option).
#
# PostgreSQL refuses to run as root, so the server runs as Debian's `postgres`
# user (runuser), in a directory of its own under /tmp that it owns. It listens
# on a unix socket in that directory only (listen_addresses = ''), with fsync
# off: a server for tests, not for data. initdb and start take about 1.2 s.
#
# Database "learning"; roles (pg_hba: the superuser by trust on the socket,
# everyone else by password, scram-sha-256):
#   postgres   the superuser, for the harness (pg_sql)
#   rosterd    owns the schema "rosterd", where rosterd keeps its tables; may
#              connect and make temporary tables: the grants of the README's
#              "Running on PostgreSQL"
#   platform   the learning platform: reads rosterd's tables, writes course
#              progress (the grants of the README, given by pg_grant_platform
#              once rosterd has made its tables)
#
# Contract (functions return non-zero on failure, printing why on stderr):
#   pg_start          initdb and start a server in a new directory; exports PG_DIR
#                     (the directory, also the socket's), PG_URL (the libpq URL
#                     rosterd connects with as the role rosterd, no password),
#                     PG_PWFILE (the role's password, mode 0600, for
#                     store.password_file), PG_PLATFORM_URL + PG_PLATFORM_PW
#   pg_stop           stop it (fast) and remove its directory. Idempotent.
#   pg_kill_backends COND  terminate the server processes of the connections
#                     pg_stat_activity's COND names (rosterd's connections are
#                     application_name 'rosterd/PID', rosterctl's 'rosterctl/PID')
#   pg_sql SQL...     run SQL (psql, as the superuser, search_path $PG_SCHEMA or rosterd) on
#                     "learning": one row a line, columns joined by "|", NULL as
#                     ""; stops at the first error (status 1)
#   pg_grant_platform give the role platform its grants on rosterd's tables
#   pg_dump_data [SCHEMA]  every row of rosterd's tables (in the schema rosterd),
#                     in a canonical order: to compare
#                     a store before and after (not the sequences: PostgreSQL never
#                     gives a number back, so a transaction rolled back moves them)
#   pg_write_store_conf   print the store = { } section of a rosterd config for it

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DB=learning
PG_ROLE=rosterd
PG_ROLE_PW=rosterd-pg-secret
PG_PLATFORM_PW=platform-pg-secret

_pg_err() { echo "pg.sh: $*" >&2; }

# _pg_as_postgres CMD...: run CMD as the postgres user, in a directory it may enter.
_pg_as_postgres() { (cd / && runuser -u postgres -- "$@"); }

pg_start() {
	local d
	[ -x "$PG_BIN/initdb" ] || { _pg_err "$PG_BIN/initdb missing: scripts/install-deps.sh installs postgresql-15"; return 1; }
	id postgres >/dev/null 2>&1 || { _pg_err "no postgres user (package postgresql-15)"; return 1; }
	d=$(mktemp -d /tmp/rosterd-pg.XXXXXX) || return 1
	chown postgres: "$d" && chmod 0700 "$d" || return 1
	PG_DIR=$d
	export PG_DIR
	if ! _pg_as_postgres "$PG_BIN/initdb" -D "$d/data" -U postgres -E UTF8 --no-locale \
		--auth-local=trust --auth-host=reject --no-sync >"$d/initdb.log" 2>&1; then
		_pg_err "initdb failed:"; cat "$d/initdb.log" >&2; return 1
	fi
	cat >>"$d/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$d'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 40
log_min_messages = warning
EOF
	# The superuser by trust on the socket (the directory is private), every
	# other role by password.
	printf '%s\n' 'local all postgres trust' 'local all all scram-sha-256' >"$d/data/pg_hba.conf"
	if ! _pg_as_postgres "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 30 -s start; then
		_pg_err "the server did not start:"; cat "$d/server.log" >&2; return 1
	fi
	_pg_psql postgres -c "CREATE ROLE $PG_ROLE LOGIN PASSWORD '$PG_ROLE_PW'" \
		-c "CREATE ROLE platform LOGIN PASSWORD '$PG_PLATFORM_PW'" \
		-c "CREATE DATABASE $PG_DB" >/dev/null || return 1
	_pg_psql "$PG_DB" -c "REVOKE ALL ON DATABASE $PG_DB FROM PUBLIC" \
		-c "GRANT CONNECT, TEMPORARY ON DATABASE $PG_DB TO $PG_ROLE, platform" \
		-c "REVOKE CREATE ON SCHEMA public FROM PUBLIC" \
		-c "CREATE SCHEMA rosterd AUTHORIZATION $PG_ROLE" >/dev/null || return 1
	PG_PWFILE=$d/rosterd.pw
	(umask 077 && printf '%s\n' "$PG_ROLE_PW" >"$PG_PWFILE") || return 1
	PG_URL="postgresql:///$PG_DB?host=$d&user=$PG_ROLE"
	PG_PLATFORM_URL="postgresql:///$PG_DB?host=$d&user=platform"
	export PG_PWFILE PG_URL PG_PLATFORM_URL PG_PLATFORM_PW
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
	if [ -f "$PG_DIR/data/postmaster.pid" ]; then
		_pg_as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 20 -s stop >/dev/null 2>&1 ||
			_pg_as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -s stop >/dev/null 2>&1
	fi
	rm -rf "$PG_DIR"
	PG_DIR=
}

# _pg_psql DB ARGS...: psql as the superuser on the test server's socket.
_pg_psql() {
	local db=$1
	shift
	psql -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -U postgres -d "$db" "$@"
}

# (booleans shown as 1 and 0, as SQLite shows a comparison)
pg_sql() {
	local q
	for q in "$@"; do
		printf 'SET search_path = %s;\n%s\n;\n' "${PG_SCHEMA:-rosterd}" "$q"
	done | PGOPTIONS='-c client_min_messages=warning' _pg_psql "$PG_DB" -A -t -F '|' -f - |
		sed -E -e ':a' -e 's/(^|\|)t(\||$)/\11\2/' -e 's/(^|\|)f(\||$)/\10\2/' -e 'ta'
}

pg_dump_data() {
	_pg_as_postgres pg_dump -h "$PG_DIR" -U postgres -d "$PG_DB" --schema="${1:-rosterd}" --data-only \
		--no-comments 2>/dev/null | grep -v -e '^--' -e 'pg_catalog.setval' -e '^\\restrict' \
		-e '^\\unrestrict' | LC_ALL=C sort
}

pg_kill_backends() {
	_pg_psql "$PG_DB" -A -t -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE $1" >/dev/null
}

pg_grant_platform() {
	_pg_psql "$PG_DB" -c "GRANT USAGE ON SCHEMA rosterd TO platform" \
		-c "GRANT SELECT ON ALL TABLES IN SCHEMA rosterd TO platform" \
		-c "GRANT UPDATE (status, progress, started_at, completed_at) ON rosterd.assignments TO platform" \
		-c "GRANT UPDATE (sent_at) ON rosterd.outbox TO platform" >/dev/null
}

pg_write_store_conf() {
	printf 'store = {\n  url = "%s";\n  password_file = "%s";\n  schema = "rosterd";\n};\n' \
		"$PG_URL" "$PG_PWFILE"
}
