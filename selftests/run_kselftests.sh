#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: run the named kselftest programs of DIR one after another,
# each one's TAP followed by "# sctls-exit NAME STATUS" for check.sh.
# usage: run_kselftests.sh DIR NAME...
dir=$1
shift
status=0
for t in "$@"; do
	"$dir/$t"
	rc=$?
	echo "# sctls-exit $t $rc"
	[ $rc = 0 ] || [ $rc = 4 ] || status=1
done
exit $status
