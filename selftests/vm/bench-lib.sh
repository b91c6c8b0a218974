# SPDX-License-Identifier: GPL-2.0
# Sourced by the VM's bench scripts: the processes they start (pids) are
# killed, and the module unloaded, on exit; wait_for from the selftests.
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rmmod sctls 2>/dev/null || true
}
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
