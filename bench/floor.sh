#!/bin/bash
# bench/floor.sh STORE [CACHE_KIB]: how long SQLite takes only to write what a
# first sync leaves in STORE: its rows are copied, table by table in key order,
# into an empty store with the same schema, in one transaction, with rosterd's
# pragmas (WAL, synchronous NORMAL, foreign keys on) and a page cache of
# CACHE_KIB (default 6144, rosterd's). Nothing is read from a directory and
# nothing is planned: no first sync can write the same rows in less. Prints
# "floor SECONDS". Used by bench/run.sh; see bench/README.md.
set -eu -o pipefail

src=${1:?usage: bench/floor.sh STORE [CACHE_KIB]}
cache=${2:-6144}
[ -s "$src" ] || { echo "floor: $src is missing or empty" >&2; exit 1; }
dst=$(mktemp -d "${TMPDIR:-/tmp}/rosterd-floor.XXXXXX")
trap 'rm -rf "$dst"' EXIT

sqlite3 -batch "$src" .schema | sqlite3 -batch "$dst/floor.db" >/dev/null
tables="sync_runs people person_fields person_managers groups group_members group_membership audit_log"
{
	echo "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	echo "PRAGMA foreign_keys = ON; PRAGMA cache_size = -$cache;"
	echo "ATTACH '$src' AS src; BEGIN;"
	for t in $tables; do
		echo "INSERT INTO main.$t SELECT * FROM src.$t;"
	done
	echo "COMMIT;"
} >"$dst/copy.sql"
t0=$(date +%s%N)
sqlite3 -batch -bail "$dst/floor.db" <"$dst/copy.sql" >/dev/null
t1=$(date +%s%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "floor %.3f\n", (b - a) / 1e9 }'
