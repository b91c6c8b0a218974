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
linux-headers-amd64 linux-image-amd64 linux-source
linux-headers-6.12-amd64 linux-image-6.12-amd64
qemu-system-x86 busybox-static sparse iptables
flex bison bc libelf-dev
libnl-genl-3-dev libjson-c-dev libssl-dev openssl curl libcap-dev
libpcsclite-dev pcscd vsmartcard-vpcd libmbim-glib-dev libmbim-proxy
linux-source-6.12 lld llvm mmdebstrap qemu-system-arm gcc-aarch64-linux-gnu
checkpolicy m4 policycoreutils selinux-utils setools"

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
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

# What is fetched or prepared once and cached outside the clone (each does
# nothing when current): the arm64 and PREEMPT_RT kernels, unpacked rather
# than installed, and the GKI-like clang trees.
here=$(dirname "$0")
"$here/fetch-root" arm64 >/dev/null
"$here/fetch-root" rt >/dev/null
"$here/gki-tree" 6.1 >/dev/null
"$here/gki-tree" 6.12 >/dev/null
