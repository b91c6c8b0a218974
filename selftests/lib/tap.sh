# SPDX-License-Identifier: GPL-2.0
# TAP for the shell selftests: source it, set plan, then check NAME CMD...
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }

# wait_for SECONDS CMD...: until CMD succeeds, at most SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# stop PID...: kill -9 and reap. None (unset variables) is nothing to do:
# a bare wait would wait for every child.
stop() { [ $# -gt 0 ] || return 0; kill -9 "$@" 2>/dev/null; wait "$@" 2>/dev/null; }
