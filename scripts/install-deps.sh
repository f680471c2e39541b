#!/bin/sh
# Install the Debian packages rosterd needs to build, test, demo and benchmark.
# Installs only what is missing, without asking. Safe to run again.
# Usage: scripts/install-deps.sh          (needs root, or sudo without a password)
set -eu

PACKAGES="build-essential pkg-config
libldap2-dev libsqlite3-dev libconfig-dev libsystemd-dev libjansson-dev libcmocka-dev
slapd ldap-utils sqlite3 openssl ca-certificates mandoc time jq
systemd util-linux bsdutils clang"

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
# slapd's postinst would otherwise configure a system database and start a daemon
# we never use: the tests and demo run their own slapd with their own config.
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# A system slapd started by the package is not ours: stop it so it holds no port.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	$SUDO systemctl stop slapd >/dev/null 2>&1 || true
fi
