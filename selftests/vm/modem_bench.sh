#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM, for `make bench`: the modem's AT link. cardsim --modem as
# the modem and card, sctlsd --link 4116=at:...; a page fetched over HTTPS
# at several line speeds, each against its own ceiling: the line carries
# hex, two characters an octet, at baud / 10 characters a second, so no
# page moves faster than baud / 20 octets a second. Unthrottled (0), the
# same exchange shows what the emulated machine itself allows.
# usage: modem_bench.sh SCTLS_KO SCTLSD CARDSIM
set -eu
ko=$1 sctlsd_bin=$2 cardsim_bin=$3
work=/tmp/sctls-modem-bench
size=$((64 << 10)) rounds=3
rm -rf $work
mkdir -p $work/www
. "$(dirname "$0")/bench-lib.sh"

fail() { echo "modem bench: $*" >&2; exit 1; }

head -c $size /dev/urandom >$work/www/page.bin
insmod "$ko"
"$sctlsd_bin" --link "4116=at:$work/modem" 2>$work/sctlsd.log & pids+=($!)
fetch() {
	curl -sS --max-time 600 --cacert $work/card.pem -o $work/got https://127.0.0.1:4116/page.bin
	cmp -s $work/got $work/www/page.bin || fail "the page arrived damaged"
}

# One line speed: the median of the rounds' seconds, and the line's
# octets (both ways, every round and the warm-up) per page octet.
measure() {
	local baud=$1 cardsim before r t0 t1 times=()
	before=$(grep -c "listens on port" $work/sctlsd.log || true)
	"$cardsim_bin" --modem $work/modem --baud $baud --root $work/www \
		--self-signed $work/card.pem 2>$work/cardsim-$baud.log &
	cardsim=$!
	wait_for 60 eval '[ "$(grep -c "listens on port" $work/sctlsd.log)" -ge $((before + 2)) ]' ||
		fail "the card opened no channels at $baud baud"
	fetch	# warm: the TLS session, the page cache
	for r in $(seq $rounds); do
		t0=$(date +%s%N)
		fetch
		t1=$(date +%s%N)
		times+=($((t1 - t0)))
	done
	kill -TERM $cardsim
	wait $cardsim || true
	line=$(sed -n 's/.*modem line: \([0-9]*\) octets to the TE, \([0-9]*\) from it/\1 \2/p' \
		$work/cardsim-$baud.log)
	[ -n "$line" ] || fail "cardsim did not tell its line's octets"
	printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p" |
		awk -v baud=$baud -v size=$size -v line="$line" -v pages=$((rounds + 1)) '{
			split(line, o, " "); secs = $1 / 1e9; rate = size / secs
			per = (o[1] + o[2]) / (size * pages)
			if (baud) {
				ceil = baud / 20
				printf "| %d | %.2f | %.1f | %.1f | %.2fx | %.2f |\n", baud, secs,
					rate / 1024, ceil / 1024, rate / ceil, per
			} else {
				printf "| unthrottled | %.2f | %.1f | - | - | %.2f |\n", secs,
					rate / 1024, per
			}
		}'
}

echo "modem bench: $((size >> 10)) KiB pages over HTTPS through sctlsd's at: link, median of $rounds rounds"
echo "| line (baud) | seconds a page | page KiB/s | ceiling KiB/s (baud / 20) | page vs ceiling | line octets per page octet |"
echo "|---|---|---|---|---|---|"
for baud in 115200 921600 0; do
	measure $baud
done
