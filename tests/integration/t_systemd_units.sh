#!/usr/bin/env bash
# t_systemd_units: the units in systemd/ as systemd reads them, offline.
# Proves: systemd-analyze verify accepts rosterd.service, rosterd-sync.service
# and rosterd-sync.timer without a single message (ExecStart= pointed at the
# binary under test, as make install points it at the installed one); both
# services score at most 2.0 in systemd-analyze security --offline=yes, and
# the same units stripped of their sandbox score over 2.0 (the score is
# really read); rosterd.service has the settings rosterd(8) promises; make
# install writes the units with ExecStart= under PREFIX and the config under
# SYSCONFDIR, and make uninstall removes what it installed.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (scripts/install-deps.sh)"
U=$TEST_TMP/units
mkdir -p "$U"
for f in rosterd.service rosterd-sync.service rosterd-sync.timer; do
	sed "s|/usr/local/sbin/rosterd|$ROSTERD|" "$ROSTERD_TOP/systemd/$f" >"$U/$f"
done

note "systemd-analyze verify"
run systemd-analyze verify --man=no "$U/rosterd.service" "$U/rosterd-sync.service" "$U/rosterd-sync.timer"
assert_rc 0 "systemd-analyze verify"
assert_eq "" "$OUT$ERR" "systemd-analyze verify says nothing"

# score UNIT: the overall exposure systemd-analyze security gives it.
score() {
	systemd-analyze security --offline=yes "$1" |
		sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}

note "security scores"
for svc in rosterd rosterd-sync; do
	s=$(score "$U/$svc.service")
	echo "$svc.service: exposure $s"
	assert_match "$s" '^[0-9]+\.[0-9]$' "a score for $svc.service"
	awk -v s="$s" 'BEGIN { exit !(s <= 2.0) }' || fail "$svc.service scores $s, over 2.0"
done
sed '/^# Sandbox:/,/^$/d' "$U/rosterd.service" >"$U/bare.service"
s=$(score "$U/bare.service")
awk -v s="$s" 'BEGIN { exit !(s > 2.0) }' || fail "rosterd.service without its sandbox scores $s: the sandbox lines were not removed, or the score not read"

note "what rosterd(8) promises of rosterd.service"
svc=$(cat "$U/rosterd.service")
for line in Type=notify WatchdogSec=120s Restart=on-failure User=rosterd StateDirectory=rosterd \
	StateDirectoryMode=2770 LoadCredential=ldap-bind:/etc/rosterd/bind.pw \
	'ExecReload=/bin/kill -HUP $MAINPID'; do
	assert_match "$svc" "^$(printf '%s' "$line" | sed 's/[$.]/\\&/g')\$" "rosterd.service: $line"
done
assert_match "$(cat "$U/rosterd-sync.service")" "^ExecStart=$ROSTERD --once " "rosterd-sync.service runs --once"

note "make install / uninstall"
root=$TEST_TMP/root
# A build directory of its own: PREFIX=/opt/r rebuilds what depends on the
# paths, which in the build under test would change it for the tests after
# this one, and in the sanitizer build (other flags) would relink it without
# the sanitizers and fail.
ibuild=$TEST_TMP/build
run make -s -C "$ROSTERD_TOP" B="$ibuild" CFLAGS="-O1" DESTDIR="$root" PREFIX=/opt/r SYSCONFDIR=/etc/r install
assert_rc 0 "make install"
for f in opt/r/sbin/rosterd opt/r/bin/rosterctl opt/r/share/man/man8/rosterd.8 \
	opt/r/share/man/man8/rosterctl.8 opt/r/share/man/man5/rosterd.conf.5 \
	opt/r/lib/systemd/system/rosterd.service opt/r/lib/systemd/system/rosterd-sync.service \
	opt/r/lib/systemd/system/rosterd-sync.timer opt/r/lib/sysusers.d/rosterd.conf \
	etc/r/rosterd/rosterd.conf etc/r/rosterd/rosterd.conf.example; do
	assert_file_exists "$root/$f"
done
assert_eq 640 "$(stat -c %a "$root/etc/r/rosterd/rosterd.conf")" "the config is mode 0640"
assert_match "$(cat "$root/opt/r/lib/systemd/system/rosterd.service")" \
	'^ExecStart=/opt/r/sbin/rosterd -c /etc/r/rosterd/rosterd.conf$' "installed ExecStart="
assert_match "$(cat "$root/opt/r/lib/systemd/system/rosterd.service")" \
	'^LoadCredential=ldap-bind:/etc/r/rosterd/bind.pw$' "installed LoadCredential="
run make -s -C "$ROSTERD_TOP" B="$ibuild" CFLAGS="-O1" DESTDIR="$root" PREFIX=/opt/r SYSCONFDIR=/etc/r uninstall
assert_rc 0 "make uninstall"
assert_eq "$root/etc/r/rosterd/rosterd.conf" "$(find "$root" -type f)" "only the operator's config is left"
