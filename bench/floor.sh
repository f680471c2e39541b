#!/bin/bash
# bench/floor.sh STORE [CACHE_KIB]: how long SQLite takes only to write what a
# first sync leaves in STORE, the way a first load writes (docs/design.md (r)):
# its rows are copied, table by table in key order, into an empty store with
# the same schema, in one transaction, with foreign keys off, every index
# built after the rows are in, a rollback journal, synchronous FULL and a page
# cache of CACHE_KIB (default 6144, rosterd's). Nothing is read from a
# directory, nothing is planned, no reference is checked: no first sync can
# write the same rows in less. Prints "floor SECONDS". With FLOOR_ROW_BY_ROW=1
# the copy is done the way a staged run writes (foreign keys checked a row at
# a time, indexes kept up, WAL), as the floor was measured before first loads.
# Used by bench/run.sh; see bench/README.md.
set -eu -o pipefail

src=${1:?usage: bench/floor.sh STORE [CACHE_KIB]}
cache=${2:-6144}
[ -s "$src" ] || { echo "floor: $src is missing or empty" >&2; exit 1; }
dst=$(mktemp -d "${TMPDIR:-/tmp}/rosterd-floor.XXXXXX")
trap 'rm -rf "$dst"' EXIT

sqlite3 -batch "$src" .schema | sqlite3 -batch "$dst/floor.db" >/dev/null
tables="sync_runs people person_fields person_managers groups group_members group_membership audit_log"
indexes="SELECT sql || ';' FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL"
{
	if [ "${FLOOR_ROW_BY_ROW:-0}" = 1 ]; then
		echo "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		echo "PRAGMA foreign_keys = ON; PRAGMA cache_size = -$cache;"
	else
		echo "PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;"
		echo "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -$cache;"
		sqlite3 -batch "$dst/floor.db" "SELECT 'DROP INDEX \"' || name || '\";' FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL"
	fi
	echo "ATTACH '$src' AS src; BEGIN;"
	for t in $tables; do
		echo "INSERT INTO main.$t SELECT * FROM src.$t;"
	done
	[ "${FLOOR_ROW_BY_ROW:-0}" = 1 ] || sqlite3 -batch "$dst/floor.db" "$indexes"
	echo "COMMIT;"
} >"$dst/copy.sql"
# (the DROP INDEX statements run before the copy is timed, in their own file)
if [ "${FLOOR_ROW_BY_ROW:-0}" != 1 ]; then
	grep '^DROP INDEX' "$dst/copy.sql" | sqlite3 -batch "$dst/floor.db"
	sed -i '/^DROP INDEX/d' "$dst/copy.sql"
fi
sync
t0=$(date +%s%N)
sqlite3 -batch -bail "$dst/floor.db" <"$dst/copy.sql" >/dev/null
t1=$(date +%s%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "floor %.3f\n", (b - a) / 1e9 }'
