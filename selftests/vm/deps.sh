#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install, idempotently, every Debian package that building, testing and the
# demo need, then fetch what is not installed (fetch-root, gki-tree). Does
# nothing when all are present; when something is missing and we are not
# root, names the packages and fails.
set -eu

pkgs="build-essential pkg-config cpio xz-utils kmod iproute2 perl python3
clang libclang-rt-14-dev
nginx libnginx-mod-stream socat
linux-headers-amd64 linux-source linux-headers-6.12-amd64
qemu-system-x86 busybox-static sparse iptables
flex bison bc libelf-dev
libnl-genl-3-dev libjson-c-dev libssl-dev openssl curl libcap-dev
libpcsclite-dev pcscd vsmartcard-vpcd libmbim-glib-dev libmbim-proxy
linux-source-6.12 lld llvm mmdebstrap qemu-system-arm gcc-aarch64-linux-gnu
checkpolicy m4 policycoreutils selinux-utils setools
debhelper dh-dkms dkms lintian fakeroot groff-base"

missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: run 'make deps' as root, or: apt-get install$missing" >&2
		exit 1
	fi
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine may have stale or empty package lists.
	apt-get update -q
	# What is installed here is for the tests: the nginx it brings must not
	# serve port 80, now or after a reboot. policy-rc.d stops
	# invoke-rc.d and deb-systemd-invoke; ours is removed afterwards.
	policy=/usr/sbin/policy-rc.d
	own_policy=0
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' >$policy
		chmod 0755 $policy
		own_policy=1
		trap 'rm -f $policy' EXIT
	fi
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
	[ $own_policy = 0 ] || { rm -f $policy; trap - EXIT; }
	case " $missing " in
	*" nginx "*) systemctl disable nginx.service >/dev/null 2>&1 || true ;;
	esac
fi

# What is fetched or prepared once and cached outside the clone (each does
# nothing when current): the kernels the VM boots, unpacked rather than
# installed so that the host's boot kernel stays its own (amd64: those of
# the installed headers; arm64; PREEMPT_RT), and the GKI-like clang trees.
here=$(dirname "$0")
"$here/fetch-root" amd64 >/dev/null
"$here/fetch-root" arm64 >/dev/null
"$here/fetch-root" rt >/dev/null
"$here/gki-tree" 6.1 >/dev/null
"$here/gki-tree" 6.12 >/dev/null
