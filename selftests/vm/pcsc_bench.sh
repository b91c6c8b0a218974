#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM, for `make bench`: the PC/SC path. pcscd with vpcd, cardsim
# as the card, sctlsd --link 4116=pcsc:...; page transfers timed, and the
# APDUs they took counted by cardsim. usage: pcsc_bench.sh SCTLS_KO SCTLSD CARDSIM
set -eu
ko=$1 sctlsd_bin=$2 cardsim_bin=$3
work=/tmp/sctls-pcsc-bench
size=$((256 << 10)) rounds=3
mkdir -p $work/www
. "$(dirname "$0")/bench-lib.sh"

fail() { echo "pcsc bench: $*" >&2; exit 1; }

head -c $size /dev/urandom >$work/www/page.bin
pcscd --foreground >$work/pcscd.log 2>&1 & pids+=($!)
insmod "$ko"
wait_for 20 eval '(exec 3<>/dev/tcp/127.0.0.1/35963) 2>/dev/null' || fail "no vpcd"
"$sctlsd_bin" --link "4116=pcsc:Virtual PCD" 2>$work/sctlsd.log & pids+=($!)
"$cardsim_bin" --vpcd 127.0.0.1:35963 --root $work/www --self-signed $work/card.pem \
	2>$work/cardsim.log & cardsim=$!
pids+=($cardsim)
wait_for 20 eval '[ "$(grep -c "listens on port" $work/sctlsd.log)" -ge 2 ]' ||
	fail "the card opened no channels"

apdus() {
	local before
	before=$(grep -c "apdus" $work/cardsim.log || true)
	kill -USR1 $cardsim
	wait_for 5 eval '[ "$(grep -c "apdus" $work/cardsim.log)" -gt "$before" ]' ||
		fail "cardsim did not tell its APDU count"
	grep "apdus" $work/cardsim.log | tail -n 1 | awk '{ print $3 }'
}

fetch() { curl -sS --max-time 300 --cacert $work/card.pem -o $work/got https://127.0.0.1:4116/page.bin; }
fetch	# warm: TLS session and page cache
results=()
for r in $(seq $rounds); do
	a0=$(apdus)
	t0=$(date +%s%N)
	fetch
	t1=$(date +%s%N)
	a1=$(apdus)
	cmp -s $work/got $work/www/page.bin || fail "the page arrived damaged"
	results+=("$((t1 - t0)) $((a1 - a0))")
done
# Medians of the rounds.
printf '%s\n' "${results[@]}" | sort -n | awk -v size=$size -v n=$rounds '
	{ ns[NR] = $1; ap[NR] = $2 }
	END {
		m = int((n + 1) / 2); secs = ns[m] / 1e9; a = ap[m]
		rate = size / secs; per_kib = a / (size / 1024); aps = a / secs
		printf "pcsc bench: %d KiB pages over HTTPS, median of %d rounds, through pcscd and vpcd\n", size / 1024, n
		print "| measure | value |"
		print "|---|---|"
		printf "| page transfer | %.1f KiB/s |\n", rate / 1024
		printf "| APDUs per KiB | %.1f |\n", per_kib
		printf "| APDU round trips per second | %.0f |\n", aps
		printf "| ceiling: one 236-byte RECEIVE DATA per round trip | %.1f KiB/s |\n", aps * 236 / 1024
		printf "| page transfer vs the ceiling | %.2fx |\n", rate / (aps * 236)
	}'
