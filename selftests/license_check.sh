#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every source file and script in git names its license in an SPDX line
# within its first three lines, and every license or exception it names
# has its text in LICENSES/. Prints TAP; run from the top of the tree.
set -u
n=0 bad=0
ids=$(sed -n 's/^\(Valid-License\|SPDX-Exception\)-Identifier: //p' LICENSES/*/*)

known() {
	for k in $ids; do [ "$k" = "$1" ] && return 0; done
	return 1
}

echo "TAP version 13"
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "1..1"
	echo "ok 1 the SPDX lines # SKIP not a git checkout: no list of the sources"
	exit 0
fi
echo "1..2"
# Sources and scripts: C, headers, shell, the build files, and every
# executable without an extension (the VM harness's scripts).
files=$(git ls-files | while read -r f; do
	case $f in
	*.c|*.h|*.sh|Makefile|Kbuild|*/Makefile) echo "$f" ;;
	*/corpus/*|*/repro/*|*/tests/*) ;;
	*) case ${f##*/} in *.*) ;; *) [ -x "$f" ] && echo "$f" ;; esac ;;
	esac
done)
missing=
for f in $files; do
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier: ' || missing="$missing $f"
done
if [ -z "$missing" ]; then
	n=$((n + 1)); echo "ok $n every source file and script has an SPDX line"
else
	n=$((n + 1)); bad=1; echo "not ok $n every source file and script has an SPDX line"
	for f in $missing; do echo "# no SPDX line: $f"; done
fi
unknown=
# The SPDX line itself, in the first three lines: not the words elsewhere.
for id in $(for f in $files; do head -n 3 "$f"; done |
	    sed -n 's/.*SPDX-License-Identifier: //p' | sed 's/ *\*\/.*$//' |
	    tr '()' '  ' | tr ' ' '\n' | grep -v -x -e '' -e OR -e AND -e WITH | sort -u); do
	known "$id" || unknown="$unknown $id"
done
if [ -z "$unknown" ]; then
	n=$((n + 1)); echo "ok $n every license named has its text in LICENSES/"
else
	n=$((n + 1)); bad=1; echo "not ok $n every license named has its text in LICENSES/"
	echo "# not in LICENSES/:$unknown"
fi
exit $bad
