#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libmc3 as a server's build finds it: make install into a staging root,
# then a program built by its pkg-config file (and one in C++) links and
# runs against it. TAP on stdout; run from the top of the tree.
set -uo pipefail
version=$(cat VERSION)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

echo "TAP version 13"
echo "1..7"
root=$work/root
make -s install DESTDIR="$root" PREFIX=/usr >"$work/install.log" 2>&1
check "make install DESTDIR PREFIX=/usr" [ $? = 0 ]
multiarch=$(${CC:-cc} -print-multiarch)
pc=$root/usr/lib/$multiarch/pkgconfig/mc3.pc
placed() {
	[ -f "$root/usr/lib/$multiarch/libmc3.so.1" ] && [ -f "$pc" ] &&
		[ -f "$root/usr/include/mc3/mc3.h" ]
}
check "the library and mc3.pc are in the multiarch directory, the header in include/mc3" placed
pc_says() { grep -qx "Version: $version" "$pc" && grep -qx "libdir=/usr/lib/$multiarch" "$pc"; }
check "mc3.pc: the real version and the multiarch libdir" pc_says

cat >"$work/user.c" <<'C'
#include <mc3.h>
#include <mc3/mc3.h>	/* either way, once */
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct mc3_config cfg = MC3_CONFIG_INIT;
	struct mc3_keystore *ks;

	if (strcmp(MC3_VERSION, mc3_version()) || mc3_keystore_new(&cfg, &ks))
		return 1;
	mc3_keystore_free(ks);
	printf("%s %s\n", mc3_version(), mc3_strerror(MC3_EAUTH));
	return 0;
}
C
# The staging root as a sysroot; libcrypto's pkg-config file is the system's.
export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$root/usr/lib/$multiarch/pkgconfig
flags=$(pkg-config --cflags --libs mc3)
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$work/user" "$work/user.c" $flags 2>"$work/cc.log"
check "a C11 program builds with \`pkg-config --cflags --libs mc3\` alone" [ $? = 0 ]
out=$(LD_LIBRARY_PATH=$root/usr/lib/$multiarch "$work/user")
check "and runs: the header's MC3_VERSION is the library's, $version" \
	[ "$out" = "$version signature does not verify" ]
cp "$work/user.c" "$work/user.cc"
if command -v g++ >/dev/null; then
	g++ -Wall -Wextra -Werror -o "$work/user++" "$work/user.cc" $flags 2>"$work/cxx.log"
	check "the header builds as C++ too" [ $? = 0 ]
else
	n=$((n + 1)); echo "ok $n - the header builds as C++ too # SKIP no g++"
fi
mit() { head -1 "$root/usr/include/mc3/mc3.h" | grep -q "SPDX-License-Identifier: MIT"; }
check "the installed header is MIT, as the library is" mit
[ $failed = 0 ]
