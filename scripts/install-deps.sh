#!/bin/sh
# Install the Debian packages rosterd needs to build, test, demo and benchmark.
# Installs only what is missing, without asking. Safe to run again.
# Usage: scripts/install-deps.sh            (needs root, or sudo without a password)
#        scripts/install-deps.sh --package  only the tools that build and check the
#                                           Debian package (PACKAGE_DEPS), which
#                                           tests/integration/t_debian_package.sh asks for
set -eu

# What debian/ needs beyond the build dependencies below: dpkg-buildpackage,
# debhelper (compat 13) and lintian. No fakeroot: debian/control says
# Rules-Requires-Root: no.
PACKAGE_DEPS="dpkg-dev debhelper lintian"

PACKAGES="build-essential pkg-config
libldap2-dev libsasl2-dev libsasl2-modules-gssapi-mit libsqlite3-dev libpq-dev libconfig-dev
libsystemd-dev libjansson-dev libcmocka-dev
libunistring-dev libxlsxwriter-dev unzip
slapd ldap-utils sqlite3 postgresql-15 openssl ca-certificates mandoc time jq
systemd util-linux bsdutils clang
samba samba-ad-dc samba-ad-provision winbind ldb-tools 389-ds-base python3-lib389 socat"

case ${1:-} in
--package) PACKAGES=$PACKAGE_DEPS ;;
"") ;;
*) echo "usage: scripts/install-deps.sh [--package]" >&2; exit 2 ;;
esac

missing=""
for p in $PACKAGES; do
	# dpkg-query prints "install ok installed" only for a fully installed package.
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo -n"
	else
		echo "install-deps: not root and no sudo; install these packages:$missing" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
# The tests run their own slapd, Samba AD DC (tests/lib/samba.sh), 389-DS
# (tests/lib/dirsrv.sh) and PostgreSQL (tests/lib/pg.sh), each with a private
# config: no system daemon these packages would start (slapd, smbd, nmbd,
# winbindd, samba, postgresql's cluster) is ever used.
# While installing, a policy-rc.d that refuses every start (exit 101, honoured by
# invoke-rc.d and deb-systemd-invoke) keeps them from starting at all, unless the
# machine already has one of its own.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# scripts/install-deps.sh: no daemon starts while it installs\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null
	$SUDO chmod 0755 "$policy"
	own_policy=1
fi
rc=0
$SUDO apt-get update -qq || rc=$?
[ "$rc" -ne 0 ] || $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ "$own_policy" -eq 0 ] || $SUDO rm -f "$policy"
[ "$rc" -eq 0 ] || exit "$rc"
# A system daemon started anyway (by an earlier install) is not ours: stop it so
# it holds no port, and keep it from starting at boot.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	$SUDO systemctl stop slapd >/dev/null 2>&1 || true
	for u in samba-ad-dc smbd nmbd winbind postgresql; do
		$SUDO systemctl disable --now "$u" >/dev/null 2>&1 || true
	done
fi
