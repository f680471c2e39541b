#!/bin/bash
# scripts/demo.sh: what `make demo` runs once the binaries are built.
# Starts a private slapd on 127.0.0.1 with a synthetic organisation of 2,000 people
# (bench/gen-org), runs one rosterd sync into demo/learning.db, shows the result with
# rosterctl (a search and an Excel export among it), and stops slapd again. Everything lives in demo/ at the top of the tree,
# which is emptied first.
#
# Environment: ROSTERD (default build/rosterd), ROSTERCTL (default build/rosterctl),
# GEN_ORG (default bench/gen-org), DEMO_PEOPLE (default 2000), DEMO_SEED (default 1),
# STORE (sqlite, or pg: the store is a schema of a private PostgreSQL,
# tests/lib/pg.sh, and the demo ends with two rosterd services on it, one
# active and one standing by, the active one killed and the other taking over;
# PostgreSQL is stopped at the end, its store with it).
set -eu -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# shellcheck source=tests/lib/slapd.sh source-path=SCRIPTDIR/..
. tests/lib/slapd.sh
store_kind=${STORE:-sqlite}
if [ "$store_kind" = pg ]; then
	# shellcheck source=tests/lib/pg.sh source-path=SCRIPTDIR/..
	. tests/lib/pg.sh
fi

ROSTERD=${ROSTERD:-build/rosterd}
ROSTERCTL=${ROSTERCTL:-build/rosterctl}
GEN_ORG=${GEN_ORG:-bench/gen-org}
people=${DEMO_PEOPLE:-2000}
seed=${DEMO_SEED:-1}
demo=demo

step() { printf '\n==> %s\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}

for b in "$ROSTERD" "$ROSTERCTL" "$GEN_ORG"; do
	if [ ! -x "$b" ]; then
		echo "demo: $b is missing: build it first (make demo builds everything)" >&2
		exit 1
	fi
done

# A slapd left running by an earlier, interrupted demo is stopped by slapd_setup;
# this one is stopped however the script ends.
stop_all() {
	[ -z "${svc_pids:-}" ] || kill $svc_pids 2>/dev/null || true
	slapd_stop "$top/$demo/slapd" 2>/dev/null || true
	[ "$store_kind" != pg ] || pg_stop
}
trap stop_all EXIT
if [ -d "$demo/slapd" ]; then
	slapd_stop "$demo/slapd"
fi
rm -rf "$demo"
mkdir -p "$demo"

step "Generating an organisation of $people people with groups (seed $seed)"
"$GEN_ORG" "$people" --seed "$seed" --groups >"$demo/org.ldif"
echo "$demo/org.ldif: $(grep -c '^dn: uid=' "$demo/org.ldif") people, $(grep -c '^dn: cn=' "$demo/org.ldif") groups"

step "Starting a private slapd on 127.0.0.1"
slapd_setup "$demo/slapd"
slapd_load "$demo/slapd" tests/fixtures/base.ldif "$demo/org.ldif"
slapd_start "$demo/slapd"
echo "slapd pid $SLAPD_PID listening on $SLAPD_URI (log: $demo/slapd/slapd.log)"

step "Writing $demo/rosterd.conf (with the three rule plugins)"
plugins=$(cd "$(dirname "$ROSTERD")/plugins" && pwd)
# Everyone takes SEC101 within 30 days; the safety groups take FIRSTAID,
# whose pool has 10 licences; people missing for 2 runs are disabled, and
# archived after 90 days disabled.
export ROSTERD_CONF_PLUGINS="
  { name = \"disable_rules\"; path = \"$plugins/disable_rules.so\"; grace_runs = 2; },
  { name = \"course_rules\"; path = \"$plugins/course_rules.so\";
    courses = ( { code = \"SEC101\"; title = \"Security essentials\"; },
                { code = \"FIRSTAID\"; title = \"First aid\"; licences = 10; } );
    rules = ( { everyone = true; courses = [ \"SEC101\" ]; due_days = 30; },
              { group = \"safety-*\"; courses = [ \"FIRSTAID\" ]; } ); },
  { name = \"archive_rules\"; path = \"$plugins/archive_rules.so\"; after_days = 90; }"
if [ "$store_kind" = pg ]; then
	step "Starting a private PostgreSQL 15 (unix socket only)"
	pg_start
	export ROSTERD_CONF_STORE="url = \"$PG_URL\"; password_file = \"$PG_PWFILE\"; schema = \"rosterd\";"
	echo "PostgreSQL in $PG_DIR; rosterd's tables in the schema rosterd of the database learning"
fi
slapd_write_rosterd_conf "$demo/rosterd.conf"
if [ "$store_kind" = pg ]; then
	echo "store: $PG_URL (schema rosterd), bind as cn=rosterd,ou=system,dc=example,dc=com"
else
	echo "store: $demo/learning.db, bind as cn=rosterd,ou=system,dc=example,dc=com"
fi

step "One sync run"
rc=0
run "$ROSTERD" -c "$demo/rosterd.conf" --once || rc=$?
if [ "$rc" -ne 0 ]; then
	case $rc in
	1) why="failure or incomplete run" ;;
	2) why="configuration error" ;;
	3) why="directory unreachable or bind failed" ;;
	4) why="held by the safety threshold" ;;
	*) why="unexpected status" ;;
	esac
	echo "demo: rosterd exited with status $rc ($why); slapd log: $demo/slapd/slapd.log" >&2
	exit "$rc"
fi

step "What the store holds now"
run "$ROSTERCTL" -c "$demo/rosterd.conf" status
echo
run "$ROSTERCTL" -c "$demo/rosterd.conf" user show u000042
echo
run "$ROSTERCTL" -c "$demo/rosterd.conf" user show u000042 --json
echo
run "$ROSTERCTL" -c "$demo/rosterd.conf" course list

step "Search and export"
# a search by part of a family name, in capitals: case and accents are ignored
name=$("$ROSTERCTL" -c "$demo/rosterd.conf" user show u000042 --json | jq -r '.family_name // "a"')
needle=$(printf '%s' "${name:0:4}" | tr '[:lower:]' '[:upper:]')
run "$ROSTERCTL" -c "$demo/rosterd.conf" user list --search "$needle" \
	--columns username,display_name,email,manager,role
echo
run "$ROSTERCTL" -c "$demo/rosterd.conf" user list --format xlsx --output "$demo/people.xlsx"
echo "$demo/people.xlsx: $(stat -c %s "$demo/people.xlsx") bytes; its sheet's first row:"
unzip -p "$demo/people.xlsx" xl/worksheets/sheet1.xml | grep -o '<row r="1".*' |
	sed 's|</row>.*||' | grep -o '<t>[^<]*</t>' | sed 's/<[^>]*>//g' | tr '\n' ' '
echo

if [ "$store_kind" = pg ]; then
	step "Two rosterd services on the one store: one active, one standing by"
	sed -i 's/^sync = {/sync = {\n  interval = 10;/' "$demo/rosterd.conf"
	"$ROSTERD" -c "$demo/rosterd.conf" 2>"$demo/a.log" &
	a=$!
	svc_pids=$a
	sleep 2
	"$ROSTERD" -c "$demo/rosterd.conf" 2>"$demo/b.log" &
	b=$!
	svc_pids="$a $b"
	sleep 2
	echo "service A (pid $a):"; sed 's/^/  /' "$demo/a.log" | tail -n 3
	echo "service B (pid $b):"; sed 's/^/  /' "$demo/b.log" | tail -n 3
	PGPASSWORD=$(cat "$PG_PWFILE") run psql -X -q "$PG_URL" -c "SELECT application_name, state FROM pg_stat_activity WHERE application_name LIKE 'rosterd/%'" \
		<<<"" 2>/dev/null || true
	step "kill -9 of the active one: the other takes over within seconds"
	printf 'dn: uid=demonew,ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nuid: demonew\ncn: Demo New\nsn: New\n\n' |
		ldap_admin_modify
	kill -KILL "$a"
	t0=$(date +%s)
	for _ in $(seq 100); do grep -q "run [0-9]* ok" "$demo/b.log" && break; sleep 0.1; done
	echo "service B, $(( $(date +%s) - t0 )) s after A was killed:"; sed 's/^/  /' "$demo/b.log" | tail -n 4
	run "$ROSTERCTL" -c "$demo/rosterd.conf" user show demonew
	kill "$b"
	wait "$b" 2>/dev/null || true
	svc_pids=
fi

step "Stopping slapd"
slapd_stop "$demo/slapd"
if [ "$store_kind" = pg ]; then
	step "Stopping PostgreSQL (the demo's store goes with it)"
	pg_stop
fi
trap - EXIT

[ "$store_kind" = pg ] && exit 0
cat <<EOF

The learning store is $top/$demo/learning.db. Try:
  sqlite3 $demo/learning.db 'select status, count(*) from people group by status'
  $ROSTERCTL -c $demo/rosterd.conf user list --format table | head
  $ROSTERCTL -c $demo/rosterd.conf user list --search smith --columns username,manager,groups
  $ROSTERCTL -c $demo/rosterd.conf user list --format xlsx --output people.xlsx
(rosterctl reads only the store; a new sync needs slapd: run make demo again.)
EOF
