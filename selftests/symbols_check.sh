#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module's imports against its allow-list: every symbol `nm -u` names
# in each given sctls.ko must be listed in kmod/symbols.allow, whose entries
# were each checked against Android's GKI symbol lists (see its header). A
# new import fails here until someone checks it and lists it. Prints TAP.
# usage: symbols_check.sh ALLOW_LIST NAME=MODULE...
set -uo pipefail

allow=$1
shift
echo "TAP version 13"
echo "1..$#"
n=0 status=0
for arg in "$@"; do
	n=$((n + 1))
	name=${arg%%=*} ko=${arg#*=}
	if [ ! -f "$ko" ]; then
		echo "not ok $n - $name: no module at $ko"
		status=1
		continue
	fi
	extra=$(nm -u "$ko" | awk '{ print $2 }' | sort -u |
		comm -23 - <(grep -v '^#' "$allow" | awk 'NF { print $1 }' | sort -u))
	if [ -z "$extra" ]; then
		echo "ok $n - $name: imports $(nm -u "$ko" | wc -l) symbols, all on the allow-list"
	else
		echo "not ok $n - $name: imports symbols not on $allow:"
		echo "$extra" | sed 's/^/#   /'
		status=1
	fi
done
exit $status
