#!/usr/bin/env bash
# t_plugins_load: rosterd loads the configured plugins at start-up and refuses
# any it cannot trust.
# Proves: the three shipped plugins load (rosterd -n says "3 plugins loaded",
# --once runs); a plugin built for another ABI major makes rosterd -n, --once
# and --dry-run exit 2 before touching the directory or the store, with
# "FILE:LINE: plugins[N]: ... built for plugin ABI 99.3; this rosterd has ABI
# 1.N" (N the header's minor); so do a world-writable and a group-writable plugin file, one owned
# by nobody, one in a directory owned by nobody, or group-writable, or in
# sticky /tmp (a plugin directly in it; one in root's own directory below it
# loads, as does one in the build tree, and through a link), a directory
# given as a plugin, a missing file, a descriptor too small, a library that is
# no plugin, and a setting the plugin refuses ("FILE:LINE: plugins[0].key:
# ..."); several problems are all reported; rosterctl, which loads no plugin,
# still reads the store.
. "$(dirname "$0")/lib.sh"

PDIR=$(dirname "$ROSTERD")/plugins
TDIR=$(dirname "$ROSTERD")/tests/plugins
for f in course_rules disable_rules archive_rules; do assert_file_exists "$PDIR/$f.so"; done
for f in wrong_major too_small no_descriptor welcome; do assert_file_exists "$TDIR/$f.so"; done

start_directory "$FIXTURES/people-small.ldif"

note "the shipped plugins load"
export ROSTERD_CONF_PLUGINS="
  { name = \"disable_rules\"; path = \"$PDIR/disable_rules.so\"; grace_runs = 2; },
  { name = \"course_rules\"; path = \"$PDIR/course_rules.so\";
    rules = ( { group = \"eng*\"; courses = [ \"SEC101\" ]; due_days = 30; } ); },
  { name = \"archive_rules\"; path = \"$PDIR/archive_rules.so\"; after_days = 30; }"
write_conf
run_rosterd -n
assert_rc 0 "rosterd -n with the shipped plugins"
assert_contains "$OUT" "configuration ok (3 plugins loaded)"
sync_once
assert_sql 10 "SELECT count(*) FROM people"
rctl_ok status

# plugins_line: the line of $CONF where the plugins list starts.
plugins_line() { grep -n '^plugins = (' "$CONF" | cut -d: -f1; }

# refused TEXT: -n, --once and --dry-run all exit 2 saying TEXT, print
# nothing on stdout, and change nothing in the store.
refused() {
	local want=$1 args before
	before=$(store_hash)
	for args in -n --once --dry-run; do
		run_rosterd $args
		assert_rc 2 "rosterd $args with a refused plugin"
		assert_contains "$ERR" "$want" "rosterd $args says why"
		assert_eq "" "$OUT" "rosterd $args prints nothing on stdout"
	done
	assert_eq "$before" "$(store_hash)" "the store is untouched"
	assert_sql 1 "SELECT count(*) FROM sync_runs"
}

note "a plugin built for another ABI"
ROSTERD_CONF_PLUGINS="{ name = \"old\"; path = \"$TDIR/wrong_major.so\"; }" write_conf
ABI=1.$(sed -n 's/^#define ROSTERD_PLUGIN_ABI_MINOR \([0-9]*\)$/\1/p' "$ROSTERD_TOP/include/rosterd/plugin.h")
refused "$CONF:$(plugins_line): plugins[0]: \"$TDIR/wrong_major.so\" was built for plugin ABI 99.3; this rosterd has ABI $ABI"
# rosterctl loads no plugin: the store stays readable
rctl_ok user show alice --json
assert_json '.username' alice

note "files that cannot be trusted"
cp "$TDIR/welcome.so" "$TEST_TMP/open.so"
chmod 0666 "$TEST_TMP/open.so"
cp "$TDIR/welcome.so" "$TEST_TMP/group.so"
chmod 0664 "$TEST_TMP/group.so"
ROSTERD_CONF_PLUGINS="{ name = \"open\"; path = \"open.so\"; }" write_conf
refused "$CONF:$(plugins_line): plugins[0]: \"$TEST_TMP/open.so\" is writable by others (mode 0666): refused"
ROSTERD_CONF_PLUGINS="{ name = \"group\"; path = \"$TEST_TMP/group.so\"; }" write_conf
refused "\"$TEST_TMP/group.so\" is writable by its group (mode 0664): refused"
ROSTERD_CONF_PLUGINS="{ name = \"dir\"; path = \"$TDIR\"; }" write_conf
refused "\"$TDIR\" is not a regular file: refused"
chmod 0644 "$TEST_TMP/open.so"
ROSTERD_CONF_PLUGINS="{ name = \"open\"; path = \"open.so\"; }" write_conf
run_rosterd -n
assert_rc 0 "the same file once only root writes it, in root's own directory below sticky /tmp"

note "ownership, as sshd and sudo check it: the file and every directory above it"
trusted_dir
cp "$TDIR/welcome.so" "$TRUSTED/ok.so"
chmod 0644 "$TRUSTED/ok.so"
ROSTERD_CONF_PLUGINS="{ name = \"ok\"; path = \"$TRUSTED/ok.so\"; }" write_conf
run_rosterd -n
assert_rc 0 "a plugin owned by root, in directories only root writes to"
ln -s "$TRUSTED/ok.so" "$TEST_TMP/link.so"
ROSTERD_CONF_PLUGINS="{ name = \"link\"; path = \"link.so\"; }" write_conf
run_rosterd -n
assert_rc 0 "a link to it from a directory anyone writes to (the file is what is loaded)"
cp "$TDIR/welcome.so" "$TRUSTED/nobody.so"
chmod 0755 "$TRUSTED/nobody.so"
chown nobody "$TRUSTED/nobody.so"
nobody=$(id -u nobody)
ROSTERD_CONF_PLUGINS="{ name = \"nobody\"; path = \"$TRUSTED/nobody.so\"; }" write_conf
refused "\"$TRUSTED/nobody.so\" is owned by uid $nobody, not by root or by rosterd's user (uid 0): refused"
mkdir "$TRUSTED/theirs"
cp "$TDIR/welcome.so" "$TRUSTED/theirs/p.so"
chmod 0644 "$TRUSTED/theirs/p.so"
chown nobody "$TRUSTED/theirs"
ROSTERD_CONF_PLUGINS="{ name = \"theirs\"; path = \"$TRUSTED/theirs/p.so\"; }" write_conf
refused "\"$TRUSTED/theirs/p.so\": its directory \"$TRUSTED/theirs\" is owned by uid $nobody, not by root or by rosterd's user (uid 0): refused"
chown root "$TRUSTED/theirs"
chmod 0775 "$TRUSTED"
refused "\"$TRUSTED/theirs/p.so\": its directory \"$TRUSTED\" is writable by its group (mode 0775): refused"
chmod 0755 "$TRUSTED"
run_rosterd -n
assert_rc 0 "the same plugin once its directories are root's again"
# A plugin directly in sticky /tmp is refused; one in a directory of root's
# below it loads (no one else can rename root's directory out of /tmp).
INTMP=$(mktemp /tmp/rosterd-plugin.XXXXXX.so)
T_DIRS+=("$INTMP")
cp "$TDIR/welcome.so" "$INTMP"
chmod 0644 "$INTMP"
ROSTERD_CONF_PLUGINS="{ name = \"tmp\"; path = \"$INTMP\"; }" write_conf
refused "\"$INTMP\": its directory \"/tmp\" is writable by others (mode 1777): refused"
ALT=$(mktemp -d /tmp/rosterd-plugin.XXXXXX)
T_DIRS+=("$ALT")
chmod 0755 "$ALT"
cp "$TDIR/welcome.so" "$ALT/p.so"
chmod 0644 "$ALT/p.so"
ROSTERD_CONF_PLUGINS="{ name = \"tmp\"; path = \"$ALT/p.so\"; }" write_conf
run_rosterd -n
assert_rc 0 "a plugin in root's own directory below sticky /tmp"
chown nobody "$ALT"
refused "\"$ALT/p.so\": its directory \"$ALT\" is owned by uid $nobody"

note "several problems at once, each on its own line"
ROSTERD_CONF_PLUGINS="
  { name = \"small\"; path = \"$TDIR/too_small.so\"; },
  { name = \"none\"; path = \"$TDIR/no_descriptor.so\"; },
  { name = \"gone\"; path = \"$TEST_TMP/gone.so\"; }" write_conf
refused "too_small.so\": its descriptor is 16 bytes"
line=$(plugins_line)
assert_contains "$ERR" "$CONF:$((line + 1)): plugins[0]: \"$TDIR/too_small.so\": its descriptor is 16 bytes"
assert_contains "$ERR" "$CONF:$((line + 2)): plugins[1]: \"$TDIR/no_descriptor.so\" exports no rosterd_plugin_descriptor"
assert_contains "$ERR" "$CONF:$((line + 3)): plugins[2]: cannot load \"$TEST_TMP/gone.so\": No such file or directory"
assert_eq 3 "$(grep -c 'plugins\[' <<<"$ERR")" "one line per problem"

note "a setting the plugin refuses"
ROSTERD_CONF_PLUGINS="{ name = \"course_rules\"; path = \"$PDIR/course_rules.so\";
    rules = ( { group = \"eng\"; courses = [ \"SEC101\" ]; due_days = 9999; } ); }" write_conf
refused "$CONF:$(($(plugins_line) + 1)): plugins[0].rules[0].due_days: 9999 is out of range (0 to 3650)"
ROSTERD_CONF_PLUGINS="{ name = \"disable_rules\"; path = \"$PDIR/disable_rules.so\"; grace = 2; }" write_conf
refused "$CONF:$(plugins_line): plugins[0].grace: unknown key"
