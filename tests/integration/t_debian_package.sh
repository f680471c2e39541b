#!/usr/bin/env bash
# t_debian_package: debian/ builds the two packages, lintian finds nothing
# wrong with them, and what they install works.
# Proves: `dpkg-buildpackage -us -uc -b`, run in a copy of the tree (it writes
# into ../), builds rosterd and rosterd-plugin-dev at the version of
# daemon/defs.h; `dpkg-deb -c` lists in rosterd the daemon, rosterctl, the
# three plugins, the units (ExecStart= naming /usr/sbin/rosterd), the
# sysusers file, rosterd(8), rosterctl(8), rosterd.conf(5) and
# /etc/rosterd/rosterd.conf (0640, a conffile), and none of the SDK; in
# rosterd-plugin-dev the header, rosterd-plugin.pc (plugindir
# /usr/lib/rosterd/plugins) and rosterd-plugin(3), and nothing else but
# its docs; everything `make install` installed went into one of the two;
# lintian reports no error or warning; the maintainer scripts create the
# rosterd user (systemd-sysusers), give rosterd.conf to root:rosterd 0640,
# and enable no unit; unpacked into a scratch root, the packaged rosterd
# says its version, loads the packaged plugins, syncs a slapd, and the
# packaged rosterctl reads the store; systemd-sysusers --root makes the
# rosterd user and group there from the packaged sysusers file.
. "$(dirname "$0")/lib.sh"
needs_store sqlite   # store files

# The tools that build and check the package, installed only for this test.
"$ROSTERD_TOP/scripts/install-deps.sh" --package ||
	fail "scripts/install-deps.sh --package could not install dpkg-dev, debhelper, lintian"

VERSION=$(sed -n 's/^#define ROSTERD_VERSION "\(.*\)"/\1/p' "$ROSTERD_TOP/daemon/defs.h")
assert_match "$VERSION" '^[0-9]+\.[0-9]+\.[0-9]+$'
ARCH=$(dpkg --print-architecture)

note "copy the tree and build the packages"
SRC=$TEST_TMP/pkg/rosterd
mkdir -p "$SRC"
if git -C "$ROSTERD_TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# the files git knows and the new ones it does not ignore, as they are now
	(cd "$ROSTERD_TOP" && git ls-files -z -co --exclude-standard |
		tar --null --ignore-failed-read -cf - -T - 2>/dev/null) | tar -C "$SRC" -xf -
else
	tar -C "$ROSTERD_TOP" --exclude=./.git --exclude=./build --exclude=./demo -cf - . |
		tar -C "$SRC" -xf -
fi
assert_file_exists "$SRC/debian/rules"
assert_no_file "$SRC/build"
assert_eq "$VERSION" "$(cd "$SRC" && dpkg-parsechangelog -SVersion)" \
	"debian/changelog's version is daemon/defs.h's (a new version needs a changelog entry: dch -v $VERSION)"
start=$(date +%s)
(cd "$SRC" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
	>"$TEST_TMP/build.log" 2>&1 || fail "dpkg-buildpackage failed" "$(tail -40 "$TEST_TMP/build.log")"
echo "package build: $(($(date +%s) - start)) s" | tee -a "$TEST_TMP/figures"
DEB=$TEST_TMP/pkg/rosterd_${VERSION}_$ARCH.deb
DEV=$TEST_TMP/pkg/rosterd-plugin-dev_${VERSION}_all.deb
CHANGES=$TEST_TMP/pkg/rosterd_${VERSION}_$ARCH.changes
assert_file_exists "$DEB"
assert_file_exists "$DEV"
assert_file_exists "$CHANGES"
# nothing was built into the source tree
assert_no_file "$ROSTERD_TOP/debian/tmp"
assert_no_file "$ROSTERD_TOP/debian/rosterd"

note "dpkg-deb -c: the contents"
# contents DEB: "MODE OWNER PATH" per entry, directories and the ./ dropped
contents() {
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ { p = $6; sub(/^\./, "", p); print $1, $2, p }' | sort -k3
}
has() { # has LIST MODE PATH
	grep -qx -- "$2 root/root $3" <<<"$1" || fail "expected $3 ($2) in the package" "$1"
}
C=$(contents "$DEB")
has "$C" -rwxr-xr-x /usr/sbin/rosterd
has "$C" -rwxr-xr-x /usr/bin/rosterctl
for p in course_rules disable_rules archive_rules; do
	has "$C" -rw-r--r-- "/usr/lib/rosterd/plugins/$p.so"
done
for u in rosterd.service rosterd-sync.service rosterd-sync.timer; do
	has "$C" -rw-r--r-- "/lib/systemd/system/$u"
done
has "$C" -rw-r--r-- /usr/lib/sysusers.d/rosterd.conf
has "$C" -rw-r--r-- /usr/share/man/man8/rosterd.8.gz
has "$C" -rw-r--r-- /usr/share/man/man8/rosterctl.8.gz
has "$C" -rw-r--r-- /usr/share/man/man5/rosterd.conf.5.gz
has "$C" -rw-r----- /etc/rosterd/rosterd.conf
has "$C" -rw-r--r-- /usr/share/doc/rosterd/README.Debian
has "$C" -rw-r--r-- /usr/share/doc/rosterd/copyright
has "$C" -rw-r--r-- /usr/share/doc/rosterd/examples/rosterd.conf
assert_not_contains "$C" "/usr/include"
assert_not_contains "$C" "pkgconfig"
assert_not_contains "$C" "man3"
assert_not_contains "$C" "rosterd.conf.example"
D=$(contents "$DEV")
has "$D" -rw-r--r-- /usr/include/rosterd/plugin.h
has "$D" -rw-r--r-- /usr/share/pkgconfig/rosterd-plugin.pc
has "$D" -rw-r--r-- /usr/share/man/man3/rosterd-plugin.3.gz
assert_eq "" "$(awk '{ print $3 }' <<<"$D" | grep -vE '^/usr/(include/rosterd/plugin\.h|share/pkgconfig/rosterd-plugin\.pc|share/man/man3/rosterd-plugin\.3\.gz|share/doc/rosterd-plugin-dev/.*)$' || true)" \
	"files in rosterd-plugin-dev beyond the SDK and its docs"

# Whatever `make install` put in debian/tmp is in one of the packages (a later
# file, e.g. bash completion, too): man pages compressed, the example in docs.
while IFS= read -r f; do
	case $f in
	/etc/rosterd/rosterd.conf.example) continue ;;   # debian/not-installed
	/usr/share/man/*) f=$f.gz ;;
	esac
	grep -q " $f\$" <<<"$C"$'\n'"$D" || fail "make install put $f in debian/tmp, but no package has it"
done < <(cd "$SRC/debian/tmp" && find . -type f | sed 's/^\.//')

note "control data: version, dependencies, conffile, maintainer scripts"
assert_eq "$VERSION" "$(dpkg-deb -f "$DEB" Version)" "the package's version is daemon/defs.h's"
assert_eq "$VERSION" "$(dpkg-deb -f "$DEV" Version)"
deps=$(dpkg-deb -f "$DEB" Depends)
for lib in libldap libsqlite3 libconfig libjansson libsystemd0; do assert_contains "$deps" "$lib"; done
assert_contains "$deps" "systemd | systemd-standalone-sysusers"
dpkg-deb -e "$DEB" "$TEST_TMP/ctl"
assert_eq "/etc/rosterd/rosterd.conf" "$(cat "$TEST_TMP/ctl/conffiles")" "conffiles"
post=$(cat "$TEST_TMP/ctl/postinst")
assert_contains "$post" "systemd-sysusers"
assert_contains "$post" "dpkg-statoverride --update --add root rosterd 0640 \"\$conf\""
# dh_installsystemd --no-enable: each unit is enabled again only inside
# "if deb-systemd-helper debian-installed UNIT" (an upgrade of an enabled
# unit); the snippet that enables on first install has no such guard.
for u in rosterd.service rosterd-sync.timer; do
	assert_contains "$post" "if deb-systemd-helper debian-installed '$u'; then"
done
assert_eq "" "$(sed '/^\tif deb-systemd-helper debian-installed/,/^\tfi$/d' <<<"$post" | grep 'deb-systemd-helper enable' || true)" \
	"a unit the postinst enables on first install"
assert_contains "$(cat "$TEST_TMP/ctl/prerm")" "deb-systemd-invoke stop"

note "lintian"
run lintian --fail-on error,warning "$CHANGES"
assert_rc 0 "lintian --fail-on error,warning (errors or warnings: $OUT $ERR)"
assert_no_match "$OUT" '^[EW]: '

note "unpack into a scratch root"
# Not under /tmp: rosterd refuses plugins below a directory others can write.
trusted_dir
ROOT=$TRUSTED/root
dpkg-deb -x "$DEB" "$ROOT"
dpkg-deb -x "$DEV" "$ROOT"
run "$ROOT/usr/sbin/rosterd" --version
assert_rc 0 "rosterd --version"
assert_contains "$OUT$ERR" "$VERSION"
run "$ROOT/usr/bin/rosterctl" --version
assert_rc 0 "rosterctl --version"
assert_contains "$OUT$ERR" "$VERSION"
for u in rosterd.service rosterd-sync.service; do
	grep -qx "ExecStart=/usr/sbin/rosterd .*-c /etc/rosterd/rosterd.conf" "$ROOT/lib/systemd/system/$u" ||
		fail "$u: ExecStart= does not name /usr/sbin/rosterd and /etc/rosterd/rosterd.conf" \
			"$(grep ExecStart "$ROOT/lib/systemd/system/$u")"
done
assert_eq "/usr/lib/rosterd/plugins" \
	"$(PKG_CONFIG_SYSROOT_DIR='' PKG_CONFIG_LIBDIR=$ROOT/usr/share/pkgconfig pkg-config --variable=plugindir rosterd-plugin)" \
	"plugindir in the packaged rosterd-plugin.pc"
assert_eq "$VERSION" "$(PKG_CONFIG_LIBDIR=$ROOT/usr/share/pkgconfig pkg-config --modversion rosterd-plugin)"
# The default plugin path compiled into the packaged rosterd
grep -qa /usr/lib/rosterd/plugins "$ROOT/usr/sbin/rosterd" || fail "rosterd does not know PLUGINDIR /usr/lib/rosterd/plugins"
cmp "$ROSTERD_TOP/conf/rosterd.conf" "$ROOT/etc/rosterd/rosterd.conf" ||
	fail "the conffile differs from conf/rosterd.conf"

note "the packaged sysusers file makes the rosterd user in the scratch root"
mkdir -p "$ROOT/etc"
: >"$ROOT/etc/passwd"
: >"$ROOT/etc/group"
# as the postinst runs it (systemd-sysusers rosterd.conf), in the scratch root
run systemd-sysusers --root="$ROOT" rosterd.conf
assert_rc 0 "systemd-sysusers --root"
assert_match "$(cat "$ROOT/etc/passwd")" '^rosterd:x:[0-9]+:[0-9]+:rosterd LDAP sync:/var/lib/rosterd:'
assert_match "$(cat "$ROOT/etc/group")" '^rosterd:x:[0-9]+:'

note "the packaged rosterd syncs with the packaged plugins; the packaged rosterctl reads the store"
start_directory "$FIXTURES/people-small.ldif"
PDIR=$ROOT/usr/lib/rosterd/plugins
export ROSTERD_CONF_PLUGINS="
  { name = \"disable_rules\"; path = \"$PDIR/disable_rules.so\"; grace_runs = 2; },
  { name = \"course_rules\"; path = \"$PDIR/course_rules.so\";
    rules = ( { group = \"eng*\"; courses = [ \"SEC101\" ]; due_days = 30; } ); },
  { name = \"archive_rules\"; path = \"$PDIR/archive_rules.so\"; after_days = 30; }"
write_conf
# run_rosterd, sync_once and rctl_ok (lib.sh) run these
ROSTERD=$ROOT/usr/sbin/rosterd
ROSTERCTL=$ROOT/usr/bin/rosterctl
run_rosterd -n
assert_rc 0 "packaged rosterd -n"
assert_contains "$OUT" "configuration ok (3 plugins loaded)"
sync_once
assert_sql 10 "SELECT count(*) FROM people"
rctl_ok user list --format csv --columns username,status
assert_eq 11 "$(wc -l <<<"$OUT")" "packaged rosterctl: a header and 10 people"
