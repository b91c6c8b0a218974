#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages after a user installed them and rebooted: a clean
# bookworm (selftests/vm/package-root) where dpkg -i ran
# (selftests/vm/package-install: DKMS built the module), booted with
# systemd (run --systemd-root). The module loads at boot, udev gives the
# device to group sctls, and the sctlsd unit, with the packaged
# configuration (the card in the first PC/SC reader), serves cardsim's page
# to curl. No step by hand but the card itself. Prints TAP.
# usage: package_test.sh VERSION
set -u
. "$(dirname "$0")/lib/tap.sh"

version=$1
work=/tmp/sctls-package
vpcd_port=35963
cardsim=

echo "TAP version 13"
echo "1..13"
mkdir -p "$work/www"
printf '<!DOCTYPE html>\n<title>card</title><p>Hello from the UICC.</p>\n' >"$work/www/index.html"

journal() { journalctl -q -o cat -u sctlsd; }

# The card: vsmartcard's reader in pcscd, cardsim in it.
vpcd_up() { (exec 3<>/dev/tcp/127.0.0.1/$vpcd_port) 2>/dev/null; }
card() {
	systemctl start pcscd.service && wait_for 60 vpcd_up || return 1
	/usr/bin/cardsim --vpcd "127.0.0.1:$vpcd_port" --root "$work/www" \
		--self-signed "$work/card.pem" 2>"$work/cardsim.log" &
	cardsim=$!
}

check "sctls is loaded at boot (modules-load.d, the unit)" \
	eval 'grep -q "^sctls " /proc/modules'

dkms_built() {
	dkms status sctls >"$work/dkms.status" 2>&1
	grep -q "sctls/$version, $(uname -r), .*: installed" "$work/dkms.status" &&
		[ "$(modinfo -F version sctls)" = "$version" ] &&
		case $(modinfo -n sctls) in */updates/dkms/sctls.ko*) true ;; *) false ;; esac
}
check "DKMS built and installed sctls $version for $(uname -r)" dkms_built

# Secure Boot: DKMS signs what it builds with its MOK, to enroll once.
signed() {
	local serial
	serial=$(openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout -serial) &&
		[ "$(modinfo -F signer sctls)" = "DKMS module signing key" ] &&
		[ "$(modinfo -F sig_key sctls | tr -d ':')" = "${serial#serial=}" ]
}
check "the module is signed with DKMS's MOK, /var/lib/dkms/mok.pub" signed

check "cardsim is installed (sctls-tools) and in vpcd's reader" card

active() {
	# Type=notify: active only after sctlsd said READY=1.
	wait_for 300 eval '[ "$(systemctl is-active sctlsd)" = active ]' || {
		systemctl status sctlsd | sed 's/^/# /'
		return 1
	}
	journal | grep -q "info: ready"
}
check "the sctlsd unit, enabled by the package, becomes active (ready)" active

device() {
	[ "$(stat -c '%U:%G %a' /dev/sctls)" = "root:sctls 660" ] ||
		{ echo "# /dev/sctls: $(stat -c '%U:%G %a' /dev/sctls)"; return 1; }
}
check "udev gives /dev/sctls to group sctls, mode 0660" device

unprivileged() {
	local pid
	pid=$(systemctl show -p MainPID --value sctlsd)
	[ "$(ps -o user= -p "$pid")" = sctlsd ] &&
		grep -q '^CapEff:.*0000000000001000$' "/proc/$pid/status"
}
check "sctlsd runs as user sctlsd with CAP_NET_ADMIN alone" unprivileged

page() {
	# The card opens its channels once the terminal's profile is in.
	wait_for 120 eval 'journal | grep -q "listens on port 4116"' || return 1
	curl -sS --max-time 120 --cacert "$work/card.pem" https://127.0.0.1:4116/ |
		cmp -s - "$work/www/index.html"
}
check "curl gets cardsim's page through the installed gateway, byte-exact" page

cli() {
	sctls -j show | grep -Eq "\"helper_pid\": *$(systemctl show -p MainPID --value sctlsd)[ ,}]" &&
		sctls --version | grep -qx "module $version"
}
check "sctls show names the service's sctlsd; --version the module's" cli

check "sctls show: the unit's status file says the card is in, two channels listening" \
	eval 'sctls show | grep -Eq "^link 4116 +pcsc:0: card, 2 channels listening"'

reload() {
	sed -i 's/^#allow-uid 1000$/allow-uid 0,1000/' /etc/sctls/sctlsd.conf &&
		systemctl reload sctlsd &&
		wait_for 30 eval 'journal | grep -q "reloaded: 2 allowed uid"' &&
		[ "$(systemctl is-active sctlsd)" = active ]
}
check "systemctl reload: the new uid list, the same process" reload

stopped() {
	systemctl stop sctlsd && [ "$(systemctl is-active sctlsd)" = inactive ] &&
		journal | grep -q "stopping: closed"
}
check "systemctl stop: an orderly stop, not a failure" stopped

removed() {
	kill "$cardsim" 2>/dev/null
	rmmod sctls &&
		dpkg --purge sctls-dkms sctlsd sctls sctls-tools mc3sig libmc3-dev libmc3-1 \
			>"$work/purge.log" 2>&1 &&
		! modinfo sctls >/dev/null 2>&1 && [ ! -e /etc/sctls/sctlsd.conf ] ||
		{ sed 's/^/# /' "$work/purge.log" | tail -n 20; return 1; }
}
check "dpkg --purge removes the module and the configuration" removed

[ $failed -eq 0 ]
