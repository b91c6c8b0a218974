#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every test of the project, as `make check` runs it: host unit tests under
# ASan and UBSan, the uapi header on its own, the SPDX lines, checkpatch, sparse with W=1,
# then the kselftests in a VM (amd64 6.1, 6.12 and 6.12-rt, arm64 6.1 and
# 6.12), the LLVM=1 builds for GKI-like trees and the module's imports, the
# Android policy, then the sanitizer kernel's pass. Each step
# reports TAP; the last line sums them up as "N passed, N failed, N skipped"
# and the exit status is 1 on any failure. Needs KDIR, KVER, BUILD,
# LINUX_TOOLS, SELFTESTS, UNIT_TESTS, FUZZERS, DEBUG_SERIES and KFUZZ from the
# Makefile. Besides KDIR's kernel, the newest installed Debian kernel of
# every other series gets the static checks and the kselftests.
set -uo pipefail

project=$(cd "$(dirname "$0")/.." && pwd)
cd "$project" || exit 1
results=$BUILD/check
rm -rf "$results"
mkdir -p "$results"

passed=0 failed=0 skipped=0

# record ok|fail|skip NAME [DETAIL]: one result of a step that is not TAP.
record() {
	case $1 in
	ok) passed=$((passed + 1)); echo "ok - $2" ;;
	skip) skipped=$((skipped + 1)); echo "ok - $2 # SKIP ${3:-}" ;;
	*) failed=$((failed + 1)); echo "not ok - $2${3:+: $3}" ;;
	esac
}

# want STEP: whether CHECK_STEPS (default all) names the step. Steps: host
# (unit tests, fuzzers, checkpatch, the build without IPv6), amd64 (KDIR's
# kernel and the other series), rt, arm64, gki (LLVM=1 builds and the
# imports), android, package (the Debian packages installed and serving),
# debug (the sanitizer kernel).
want() {
	case " ${CHECK_STEPS:-all} " in
	*" all "*|*" $1 "*) return 0 ;;
	esac
	return 1
}

# Count the results of a TAP log of one or more programs, each closed by a
# "# sctls-exit NAME STATUS" line. A program that stopped short of its plan,
# or failed without saying which test, counts as one more failure.
count_tap() {
	local counts
	counts=$(tr -d '\r' <"$1" | awk '
		function close_prog(name, status) {
			if (plan >= 0 && seen != plan) {
				print "not ok - " name ": ran " seen " of " plan " tests" > "/dev/stderr"
				f++
			} else if (status != 0 && status != 4 && fails == 0) {
				print "not ok - " name ": exited with status " status > "/dev/stderr"
				f++
			}
			plan = -1; seen = 0; fails = 0
		}
		BEGIN { plan = -1 }
		/^TAP version/ { plan = -1; seen = 0; fails = 0; running = 1 }
		/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0 }
		/^ok / { seen++; if ($0 ~ /# [Ss][Kk][Ii][Pp]/) s++; else p++ }
		/^not ok / { seen++; fails++; f++ }
		/^# sctls-exit / { close_prog($3, $4 + 0); running = 0 }
		END {
			if (running)
				close_prog("the last program (no exit status)", 1)
			print p + 0, f + 0, s + 0
		}')
	read -r p f s <<<"$counts"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# run_tap NAME CMD...: run a TAP program on the host and count its results.
run_tap() {
	local name=$1 status
	shift
	"$@" >"$results/$name.tap" 2>&1
	status=$?
	echo "# sctls-exit $name $status" >>"$results/$name.tap"
	cat "$results/$name.tap"
	count_tap "$results/$name.tap"
}

if want host; then
echo "# host unit tests (ASan, UBSan)"
for t in $UNIT_TESTS; do
	run_tap "$t" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$BUILD/unit/$t"
done

echo "# mc3sig against openssl dgst (ASan, UBSan)"
run_tap mc3sig_test env ASAN_OPTIONS=detect_leaks=1 userspace/mc3/mc3sig_test.sh "$BUILD/asan/mc3sig"

echo "# libmc3 installed, and a program built by its pkg-config file"
run_tap libmc3_install_test selftests/libmc3_install_test.sh

echo "# libFuzzer, 10 s per parser (make fuzz runs longer)"
for f in $FUZZERS; do
	mkdir -p "$BUILD/fuzz/corpus-$f"
	if "$BUILD/fuzz/$f" -max_total_time=10 -artifact_prefix="$BUILD/fuzz/" "$BUILD/fuzz/corpus-$f" \
		userspace/*/corpus/"${f%_fuzz}" >"$results/$f.log" 2>&1; then
		record ok "$f: $(grep -o 'Done [0-9]* runs' "$results/$f.log"), no crash, no leak"
	else
		tail -n 30 "$results/$f.log"
		record fail "$f" "see $results/$f.log"
	fi
done

echo "# the programs' options, versions and usage errors (ASan, UBSan)"
run_tap cli_test env ASAN_OPTIONS=detect_leaks=1 selftests/cli_test.sh "$BUILD/asan"

echo "# one version everywhere; the man pages"
run_tap version_check selftests/version_check.sh "$project/sctls.ko" "$BUILD/bin"

echo "# licenses: an SPDX line in every source file and script, its text in LICENSES/"
run_tap license_check selftests/license_check.sh

echo "# uapi/linux/sctls.h compiles alone in userspace (-std=c99 -Wall -Werror)"
if out=$(echo '#include <linux/sctls.h>' |
	 ${CC:-cc} -std=c99 -Wall -Werror -Iuapi -fsyntax-only -x c - 2>&1); then
	record ok "uapi header, c99"
else
	record fail "uapi header, c99" "$out"
fi

echo "# checkpatch --strict over kmod/ and uapi/"
out=$(perl "$LINUX_TOOLS/scripts/checkpatch.pl" --no-tree --strict --terse \
	--show-types -f kmod/*.[ch] uapi/linux/*.h 2>&1 | grep -E 'ERROR|WARNING|CHECK')
if [ -z "$out" ]; then
	record ok "checkpatch --strict: no reports"
else
	echo "$out"
	record fail "checkpatch --strict" "$(echo "$out" | wc -l) reports"
fi

fi

# static_checks KDIR MODULE_DIR: sparse and W=1 over the module built there.
static_checks() {
	local out warnings status kver
	kver=$(release_of "$1")
	echo "# sparse (C=2) and W=1 over the module, for $kver"
	out=$(kmake "$1" "$2" C=2 W=1 modules 2>&1)
	status=$?
	warnings=$(echo "$out" | grep -E 'warning:|error:')
	if [ $status = 0 ] && [ -z "$warnings" ]; then
		record ok "sparse and W=1 for $kver: no warnings"
	else
		echo "$out"
		record fail "sparse and W=1 for $kver" \
			"$(echo "$warnings" | grep -c .) warnings, make status $status"
	fi
}

# The card-link tests, userspace's BIP terminal through the same kernel path
# as e2e_test: on KDIR's kernel and arm64 only (arm64's modem link is the
# phone's), not again on every amd64 series, which keeps make check inside
# CI's 90 minutes.
LINK_TESTS="pcsc_test modem_test mbim_test"
kernel_tests() {
	local t
	for t in $SELFTESTS; do
		case " $LINK_TESTS " in *" $t "*) ;; *) echo "$t" ;; esac
	done
}

# vm_suite KVER MODULE [ROOT [TESTS]]: the kselftests (default all) in a VM
# booting KVER, from the host's kernels or ROOT's (fetch-root). An arm64
# guest runs the static arm64 programs of `make arm64`; an amd64 one the
# ASan builds.
vm_suite() {
	local kver=$1 ko=$2 root=${3:-} names=${4:-$SELFTESTS}
	local log=$results/vm-$1.tap err=$results/vm-$1.err
	local start status bin=$BUILD/asan tests=$BUILD/selftests timeout=1200
	# Last, on amd64, 30 s of static-key flips under traffic: the emulator
	# must not turn x86 text patching into oopses (README, "Emulator noise").
	local stress='selftests/vm/text-poke-stress 30 || s=1'
	case $kver in *-arm64)
		bin=$BUILD/arm64/bin tests=$BUILD/arm64/selftests stress=: timeout=2400 ;;
	esac
	echo "# kselftests in a VM running $kver"
	start=$(date +%s)
	selftests/vm/run --kver "$kver" ${root:+--root "$root"} --timeout $timeout -- \
		env SCTLS_KO="$ko" SCTLSD="$bin/sctlsd" SCTLS_CLI="$bin/sctls" \
		CARDSIM="$bin/cardsim" sh -c 'selftests/run_kselftests.sh "$@"; s=$?
			'"$stress"'; exit $s' sh \
		"$tests" $names 2>"$err" | tee "$log"
	status=${PIPESTATUS[0]}
	cat "$err" >&2
	count_tap "$log"
	if grep -q '^vm: the kernel reported problems' "$err"; then
		record fail "$kver kernel log free of BUG, WARNING, Oops, corruption, hung tasks"
	elif [ "$status" != 0 ] && ! grep -q '^not ok' "$log"; then
		record fail "VM run on $kver" "status $status"
	else
		record ok "$kver kernel log free of BUG, WARNING, Oops, corruption, hung tasks"
	fi
	echo "# VM run on $kver took $(($(date +%s) - start)) s"
}

# module_copy NAME: the module's sources copied to $BUILD/kmod-NAME, where
# a build for another kernel leaves its objects. Prints the directory.
module_copy() {
	local copy=$BUILD/kmod-$1
	rm -rf "$copy" && mkdir -p "$copy/kmod" &&
	cp Kbuild "$copy/" && cp kmod/*.[ch] "$copy/kmod/" && cp -r uapi "$copy/" &&
	echo "$copy"
}

# kmake TREE MODULE_DIR ARGS...: build the module in MODULE_DIR against
# TREE. Never with an empty or wrong M=: that would build, and break, the
# kernel tree itself (a Debian headers package, say).
kmake() {
	local tree=$1 dir=$2
	shift 2
	if [ -z "$dir" ] || [ ! -f "$dir/Kbuild" ]; then
		echo "check: no module sources in '$dir'"
		return 2
	fi
	make -s -C "$tree" M="$dir" "$@"
}

release_of() {
	sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$1/include/generated/utsrelease.h"
}
series() { release_of "$1" | cut -d. -f1,2; }

# A kernel tree without IPv6 (phones' and routers' configs vary): Debian's
# linux-source, allnoconfig with just what the module needs, prepared for
# modules once and cached outside the clone. Prints its path.
noipv6_tree() {
	local tar tree
	tar=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
	[ -n "$tar" ] || return 1
	tree=${SCTLS_CACHE:-/var/cache/sctls}/noipv6-$(basename "$tar" .tar.xz)
	if [ ! -f "$tree/.ready" ] || [ "$tar" -nt "$tree/.ready" ]; then
		{ rm -rf "$tree" && mkdir -p "$tree" &&
		  tar -C "$tree" --strip-components=1 -xJf "$tar" &&
		  make -s -C "$tree" ARCH=x86_64 allnoconfig &&
		  "$tree/scripts/config" --file "$tree/.config" -e MODULES -e NET \
			-e INET -d IPV6 -e NETFILTER -e 64BIT &&
		  make -s -C "$tree" ARCH=x86_64 olddefconfig &&
		  grep -q '^# CONFIG_IPV6 is not set' "$tree/.config" &&
		  make -s -C "$tree" ARCH=x86_64 modules_prepare &&
		  touch "$tree/.ready"; } >&2 || return 1
	fi
	echo "$tree"
}

if want host; then
echo "# the module builds warning-free (W=1) for a kernel without IPv6"
if tree=$(noipv6_tree); then
	copy=$(module_copy noipv6)
	# Without the tree's vmlinux, modpost cannot resolve symbols: not ours.
	out=$(kmake "$tree" "$copy" ARCH=x86_64 W=1 KBUILD_MODPOST_WARN=1 modules 2>&1 |
	      grep -E 'warning:|error:')
	if [ -z "$out" ] && [ -f "$copy/sctls.ko" ]; then
		record ok "CONFIG_IPV6=n build: no warnings"
	else
		echo "$out"
		record fail "CONFIG_IPV6=n build" "$(echo "$out" | grep -c .) warnings"
	fi
else
	record fail "CONFIG_IPV6=n build" "could not prepare the tree (make deps?)"
fi

fi

if want amd64; then
static_checks "$KDIR" "$project"
vm_suite "$KVER" "$project/sctls.ko"

# The newest installed Debian kernel of each other series (bookworm's 6.1,
# bookworm-security's 6.12): the same sources, built out of a copy.
main_series=$(series "$KDIR")
others=$(for d in /usr/src/linux-headers-*-amd64; do
		[ -f "$d/include/generated/utsrelease.h" ] || continue
		echo "$(series "$d") $(release_of "$d") $d"
	done | sort -V | awk -v main="$main_series" '$1 != main { last[$1] = $3 }
		END { for (s in last) print last[s] }')
[ -n "$others" ] || record skip "tests on another kernel series" "only $main_series is installed"
for other in $others; do
	kver=$(release_of "$other")
	amd64=$(selftests/vm/fetch-root --path amd64 2>/dev/null)
	if [ ! -r "$amd64/boot/vmlinuz-$kver" ] && [ ! -r "/boot/vmlinuz-$kver" ]; then
		record skip "tests on $kver" "no vmlinuz-$kver (make deps)"
		continue
	fi
	copy=$(module_copy "$(series "$other")")
	static_checks "$other" "$copy"
	vm_suite "$kver" "$copy/sctls.ko" "" "$(kernel_tests)"
done

fi

# PREEMPT_RT: spinlocks sleep and softirq callbacks run in threads. Debian's
# 6.12-rt kernel and headers, unpacked by fetch-root (make deps).
if ! want rt; then
	:
elif rt=$(selftests/vm/fetch-root --path rt); then
	for hdr in "$rt"/usr/src/linux-headers-*-rt-amd64; do
		kver=$(release_of "$hdr")
		copy=$(module_copy "$(series "$hdr")-rt")
		static_checks "$hdr" "$copy"
		vm_suite "$kver" "$copy/sctls.ko" "$rt" "$(kernel_tests)"
	done
else
	record fail "tests on PREEMPT_RT" "no rt root: make deps"
fi

# arm64, as on a phone: Debian's arm64 6.1 and 6.12 kernels booted in
# qemu-system-aarch64, the module cross-built with gcc (W=1), the programs
# static (make arm64).
if ! want arm64; then
	:
elif arm64=$(selftests/vm/fetch-root --path arm64); then
	for hdr in "$arm64"/usr/src/linux-headers-*-arm64; do
		kver=$(release_of "$hdr")
		copy=$(module_copy "arm64-$(series "$hdr")")
		echo "# the module cross-built for $kver (W=1)"
		out=$(kmake "$hdr" "$copy" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
			W=1 modules 2>&1)
		warnings=$(echo "$out" | grep -E 'warning:|error:')
		if [ -z "$warnings" ] && [ -f "$copy/sctls.ko" ]; then
			record ok "arm64 build for $kver: no warnings"
			vm_suite "$kver" "$copy/sctls.ko" "$arm64"
		else
			echo "$out"
			record fail "arm64 build for $kver" "$(echo "$warnings" | grep -c .) warnings"
		fi
	done
else
	record fail "tests on arm64" "no arm64 root: make deps"
fi

# As a phone's vendor builds it: clang and LLVM's tools (LLVM=1) against a
# GKI-like arm64 tree (defconfig, CONFIG_PREEMPT), warning-free; and every
# symbol it imports on the allow-list checked against GKI's symbol lists.
if want gki; then
gki_modules=()
modpost_unresolved='undefined!$|Module.symvers is missing|may not have dependencies|unresolved symbol|KBUILD_MODPOST_WARN=1|at your own risk'
for series in 6.1 6.12; do
	echo "# the module built with LLVM=1 for a GKI-like arm64 $series tree (W=1)"
	if ! tree=$(selftests/vm/gki-tree --path "$series"); then
		record fail "LLVM=1 build for arm64 $series" "no tree: make deps"
		continue
	fi
	copy=$(module_copy "gki-$series")
	# No vmlinux in the tree: modpost cannot resolve imports (see gki-tree).
	out=$(kmake "$tree" "$copy" ARCH=arm64 LLVM=1 W=1 KBUILD_MODPOST_WARN=1 \
		modules 2>&1 | grep -vE "$modpost_unresolved")
	if [ -z "$(echo "$out" | grep -E 'warning:|error:|WARNING|ERROR')" ] && [ -f "$copy/sctls.ko" ]; then
		record ok "LLVM=1 build for GKI-like arm64 $series: no warnings"
		gki_modules+=("gki-arm64-$series=$copy/sctls.ko")
	else
		echo "$out"
		record fail "LLVM=1 build for GKI-like arm64 $series" "$(echo "$out" | grep -c .) lines of output"
	fi
done
echo "# the module's imports against kmod/symbols.allow"
run_tap symbols_check selftests/symbols_check.sh kmod/symbols.allow "${gki_modules[@]}"

fi

if want android; then
echo "# the Android SELinux policy, compiled against AOSP stand-ins"
run_tap android_sepolicy android/sepolicy/check
fi

# The Debian packages, built, checked by lintian, and installed in a clean
# bookworm booted with systemd: DKMS, udev, the unit, a page from the card.
if want package; then
echo "# the Debian packages (make deb)"
if make --no-print-directory deb >"$results/deb.log" 2>&1; then
	record ok "make deb: dpkg-buildpackage -us -uc -b builds every package"
	lint=$(lintian --pedantic -I -E "$BUILD"/deb/sctls_*.changes 2>&1 | grep -v 'root privileges')
	if [ -z "$lint" ]; then
		record ok "lintian --pedantic -I -E: nothing to report"
	else
		echo "$lint"
		record fail "lintian" "$(echo "$lint" | grep -c .) tags"
	fi
	installed=$BUILD/package-install
	if ! root=$(selftests/vm/package-root "$KVER" "$BUILD/deb" 2>"$results/package-root.log")
	then
		cat "$results/package-root.log"
		record fail "the clean root for the package test" "see $results/package-root.log"
	elif ! selftests/vm/package-install "$root" "$BUILD/deb" "$installed" \
			>"$results/package-install.log" 2>&1; then
		tail -n 40 "$results/package-install.log"
		record fail "dpkg -i of every package in a clean root" "see $results/package-install.log"
	else
		record ok "dpkg -i of every package in a clean root; DKMS built the module"
		echo "# the installed root booted with systemd ($KVER)"
		selftests/vm/run --kver "$KVER" --systemd-root "$installed/root" --timeout 1200 -- \
			"/sctls-host$project/selftests/package_test.sh" "$(cat VERSION)" \
			>"$results/package.tap" 2>"$results/package.err"
		status=$?
		cat "$results/package.tap" "$results/package.err"
		echo "# sctls-exit package_test $status" >>"$results/package.tap"
		count_tap "$results/package.tap"
	fi
	selftests/vm/package-install --clean "$installed"
else
	tail -n 30 "$results/deb.log"
	record fail "make deb" "see $results/deb.log"
fi
fi

# The sanitizer kernel: the kernel-facing kselftests, fault injection and
# the fuzzer, with KASAN, lockdep, UBSAN, DEBUG_OBJECTS and kmemleak
# watching. Its first build takes a while (README); it is cached after.
want debug || DEBUG_SERIES=
for series in $DEBUG_SERIES; do
	echo "# the module in the sanitizer kernel $series, and ${FUZZ_CHECK_SECONDS:-180} s of kfuzz"
	BUILD=$BUILD KFUZZ=$KFUZZ selftests/vm/debug-suite --fuzz-seconds "${FUZZ_CHECK_SECONDS:-180}" \
		--seed "${FUZZ_SEED:-1}" "$series" >"$results/debug-$series.tap" 2>&1
	status=$?
	cat "$results/debug-$series.tap"
	count_tap "$results/debug-$series.tap"
	if [ $status != 0 ] && ! grep -q '^not ok' "$results/debug-$series.tap"; then
		record fail "the sanitizer kernel pass on $series" "status $status"
	fi
done

echo "$passed passed, $failed failed, $skipped skipped" | tee "$results/summary"
[ $failed = 0 ]
