#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the sanitizer kernel's VM: the kernel-facing kselftests, systematic
# fault injection, the fuzzer's regression programs, a bounded fuzzing run,
# then the module's unload and kmemleak. Each step is TAP; the kernel's own
# reports (KASAN, lockdep, UBSAN, DEBUG_OBJECTS) are judged by the VM
# harness from the kernel log.
# usage: debug-pass.sh KO SELFTEST_DIR KFUZZ POINTS FUZZ_SECONDS SEED REPRO_DIR TEST...
set -u
ko=$1 dir=$2 kfuzz=$3 points=$4 seconds=$5 seed=$6 repro=$7
shift 7
status=0
leaks=/sys/kernel/debug/kmemleak

step() {	# step NAME STATUS: close a step for check.sh
	echo "# sctls-exit $1 $2"
	[ "$2" = 0 ] || [ "$2" = 4 ] || status=1
}

# Boot-time objects are not ours: scan, and forget them.
echo scan >$leaks && echo clear >$leaks

for t in "$@"; do
	SCTLS_KO=$ko "$dir/$t"
	step "$t" $?
done

# kfuzz runs from tmpfs: the fault-injecting task must not page in over 9p.
cp "$kfuzz" /tmp/kfuzz
# A test that failed may have left the module loaded, and busy for a while.
for i in $(seq 100); do
	[ -d /sys/module/sctls ] || break
	rmmod sctls 2>/dev/null || sleep 0.3
done
insmod "$ko" max_conns=16 window=4096 ports=4116,4117 || exit 1

echo "# kfuzz faults: each operation's n-th allocation and copy failed in turn"
/tmp/kfuzz faults
step kfuzz-faults $?

echo "# kfuzz minimize: a finding (a test one) is shortened to the call that makes it"
out=$(KFUZZ_TEST_FINDING=1 /tmp/kfuzz minimize "$(dirname "$repro")/tests/minimize.prog")
echo "$out" | sed 's/^/# /'
if [ "$(echo "$out" | grep -v '^kfuzz:')" = "sleep 1 0 19 0 0 -" ]; then
	echo "ok - kfuzz minimize: 8 calls down to the one that finds"; rc=0
else
	echo "not ok - kfuzz minimize"; rc=1
fi
step kfuzz-minimize $rc

set -- "$repro"/*.prog
if [ -e "$1" ]; then
	echo "# kfuzz: the saved reproducers, each run 20 times"
	/tmp/kfuzz run --repeat 20 "$@"
	step kfuzz-repro $?
fi

echo "# kfuzz: ${seconds} s of coverage-guided fuzzing, seed $seed"
mkdir -p /tmp/kfuzz-crashes
/tmp/kfuzz fuzz --points "$points" --seed "$seed" --seconds "$seconds" \
	--log /dev/ttyS3 --crashes /tmp/kfuzz-crashes --unreached /tmp/kfuzz-unreached
rc=$?
if [ $rc = 0 ]; then echo "ok - kfuzz: $seconds s, no finding"; else echo "not ok - kfuzz: a finding"; fi
step kfuzz $rc

rmmod sctls
rc=$?
if [ $rc = 0 ]; then echo "ok - rmmod sctls after all of it"; else echo "not ok - rmmod sctls"; fi
step rmmod $rc

# Twice, with a pause: kmemleak reports an object only on a second look.
echo scan >$leaks; sleep 5; echo scan >$leaks
if [ -s $leaks ]; then
	echo "not ok - kmemleak: unreferenced objects after the tests"
	sed 's/^/# /' $leaks | head -n 80
	rc=1
else
	echo "ok - kmemleak: no unreferenced object after the tests and the unload"
	rc=0
fi
step kmemleak $rc
exit $status
