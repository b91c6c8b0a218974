#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# One release number everywhere: VERSION, dkms.conf, debian/changelog, the
# built module's MODULE_VERSION and every program's --version; and the man
# pages render without warnings, every page they name of ours existing.
# Prints TAP; run from the top of the tree.
# usage: version_check.sh MODULE BINDIR
set -u
module=$1 bin=$2
version=$(cat VERSION)
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
same() { if [ "$2" = "$version" ]; then ok "$1 says $version"; else not_ok "$1 says '$2', VERSION $version"; fi; }

echo "TAP version 13"
echo "1..11"
same "dkms.conf's PACKAGE_VERSION" "$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)"
same "debian/changelog's latest entry" "$(sed -n '1s/^sctls (\([^)-]*\).*/\1/p' debian/changelog)"
same "the module's modinfo version" "$(modinfo -F version "$module")"
same "mc3.h's MC3_VERSION" "$(sed -n 's/^#define MC3_VERSION\t*"\(.*\)"$/\1/p' userspace/mc3/mc3.h)"
same "mc3.h's MC3_VERSION_NUMBER" "$(sed -n 's/^#define MC3_VERSION_NUMBER\t*0x\(..\)\(..\)\(..\)$/\1 \2 \3/p' userspace/mc3/mc3.h |
	awk '{ printf "%d.%d.%d", "0x" $1, "0x" $2, "0x" $3 }')"
for p in sctlsd sctls cardsim mc3sig; do
	same "$p --version" "$("$bin/$p" --version | sed -n "1s/^$p \([^ ]*\).*/\1/p")"
done

pages="userspace/sctlsd/sctlsd.8 userspace/sctls/sctls.8 userspace/cardsim/cardsim.1 userspace/mc3/mc3sig.1"
warnings=$(for page in $pages; do
	LC_ALL=C.UTF-8 MANWIDTH=80 groff -man -ww -z -t "$page" 2>&1 | sed "s|^|$page: |"
done)
if [ -z "$warnings" ]; then ok "the man pages render without warnings"; else
	echo "$warnings" | sed 's/^/# /'; not_ok "the man pages render without warnings"; fi
# .BR name (section) of ours must be one of ours.
missing=
for ref in $(cat $pages | sed -n 's/^\.BR \(sctls\|sctlsd\|cardsim\|mc3sig\) (\([18]\)).*/\1.\2/p' | sort -u); do
	echo "$pages" | tr ' ' '\n' | grep -q "/$ref\$" || missing="$missing $ref"
done
if [ -z "$missing" ]; then ok "every page of ours the man pages name exists"; else
	not_ok "pages named but missing:$missing"; fi
[ $failed = 0 ]
