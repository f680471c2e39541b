#!/usr/bin/env bash
# t_plugin_sdk: a third-party plugin built out of tree against the installed SDK.
# Proves: `make install-sdk DESTDIR=...` installs <rosterd/plugin.h>,
# rosterd-plugin.pc and rosterd-plugin(3); `pkg-config --cflags
# rosterd-plugin` points at the installed header (and --variable=plugindir at
# PLUGINDIR); the sample plugin tests/plugins/welcome.c, copied out of the
# source tree, builds with those flags alone (-Wpedantic -Werror), against the
# installed header and nothing else, exporting only its descriptor; rosterd -n
# loads it ("1 plugin loaded") and, in a real run against slapd, it queues a
# welcome in the outbox and sets a field for each new person, audited as
# plugin:welcome, once; its own setting checks report
# "FILE:LINE: plugins[0].key: ..." and stop rosterd with exit 2.
. "$(dirname "$0")/lib.sh"

ROOT=$TEST_TMP/root
note "make install-sdk into $ROOT"
run make -s -C "$ROSTERD_TOP" install-sdk DESTDIR="$ROOT" PREFIX=/usr B="$TEST_TMP/build"
assert_rc 0 "make install-sdk"
assert_file_exists "$ROOT/usr/include/rosterd/plugin.h"
assert_file_exists "$ROOT/usr/share/pkgconfig/rosterd-plugin.pc"
assert_file_exists "$ROOT/usr/share/man/man3/rosterd-plugin.3"
cmp "$ROSTERD_TOP/include/rosterd/plugin.h" "$ROOT/usr/include/rosterd/plugin.h" ||
	fail "the installed header differs from include/rosterd/plugin.h"

export PKG_CONFIG_SYSROOT_DIR=$ROOT PKG_CONFIG_LIBDIR=$ROOT/usr/share/pkgconfig PKG_CONFIG_PATH=
run pkg-config --cflags rosterd-plugin
assert_rc 0 "pkg-config --cflags rosterd-plugin"
CFLAGS_SDK=$(printf "%s" "$OUT" | sed "s/ *$//")
assert_eq "-I$ROOT/usr/include" "$CFLAGS_SDK" "pkg-config --cflags"
# (pkg-config puts the sysroot in front of the installed tree's paths)
assert_eq "$ROOT/usr/lib/rosterd/plugins" "$(pkg-config --variable=plugindir rosterd-plugin)" "plugindir"
assert_contains "$(cat "$ROOT/usr/share/pkgconfig/rosterd-plugin.pc")" "plugindir=/usr/lib/rosterd/plugins"
assert_match "$(pkg-config --modversion rosterd-plugin)" '^[0-9]+\.[0-9]+\.[0-9]+$'

note "build the sample out of tree"
SRC=$TEST_TMP/src
mkdir -p "$SRC"
cp "$ROSTERD_TOP/tests/plugins/welcome.c" "$SRC/"
cd "$SRC"
CC=${CC:-cc}
run "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -fPIC -shared -fvisibility=hidden \
	$CFLAGS_SDK -o welcome.so welcome.c
assert_rc 0 "building welcome.so out of tree"
# The header came from the installed tree, not from the source tree.
deps=$("$CC" -std=c11 $CFLAGS_SDK -M welcome.c)
assert_contains "$deps" "$ROOT/usr/include/rosterd/plugin.h"
assert_not_contains "$deps" "$ROSTERD_TOP"
assert_eq "rosterd_plugin_descriptor" "$(nm -D --defined-only welcome.so | awk '{ print $3 }')" \
	"the only exported symbol"

note "the out-of-tree plugin at work in a real run"
start_directory "$FIXTURES/people-small.ldif"
# a plugin is loaded only from directories no one else may write to
trusted_dir
install -m 0644 welcome.so "$TRUSTED/welcome.so"
ROSTERD_CONF_PLUGINS="{ name = \"welcome\"; path = \"$TRUSTED/welcome.so\"; message = \"Hi there\"; }" write_conf
sync_once
n=$(sql "SELECT count(*) FROM people")
assert_ne 0 "$n"
assert_sql "$n|welcome|Hi there" "SELECT count(*), kind, message FROM outbox GROUP BY kind, message" "one welcome notification per person"
assert_sql "$n|plugin:welcome" "SELECT count(*), source FROM person_fields WHERE name = 'welcomed' GROUP BY source"
assert_sql "plugin:welcome|$(last_run id)" "SELECT DISTINCT actor || '|' || run_id FROM audit_log WHERE actor LIKE 'plugin:%'"
rctl_ok outbox --format csv
assert_eq "$n" "$(tail -n +2 <<<"$OUT" | grep -c ',welcome,')" "rosterctl outbox lists them"
sync_once
assert_sql "$n" "SELECT count(*) FROM outbox" "a resync welcomes no one again"

note "rosterd loads it"
export ROSTERD_CONF_URI=ldap://127.0.0.1:9/ SLAPD_SVC_DN=cn=nobody SLAPD_SVC_PW=unused
ROSTERD_CONF_PLUGINS="{ name = \"welcome\"; path = \"$TRUSTED/welcome.so\"; message = \"Hi\"; course = \"ONBOARD\"; }" write_conf
run_rosterd -n
assert_rc 0 "rosterd -n with the out-of-tree plugin"
assert_contains "$OUT" "configuration ok (1 plugin loaded)"

note "its own setting checks"
ROSTERD_CONF_PLUGINS="{ name = \"welcome\"; path = \"$TRUSTED/welcome.so\"; due_days = 1000; mesage = \"Hi\"; }" write_conf
line=$(grep -n '^plugins = (' "$CONF" | cut -d: -f1)
run_rosterd -n
assert_rc 2 "rosterd -n with a setting the plugin refuses"
assert_contains "$ERR" "$CONF:$line: plugins[0].mesage: unknown key"
assert_contains "$ERR" "$CONF:$line: plugins[0].due_days: must be a whole number of days from 0 to 365"
assert_eq "" "$OUT"

