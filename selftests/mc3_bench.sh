#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, the MC-3 part, on the host: mc3sig --batch signing and
# verifying on one core, against the raw HMAC limit and against one
# `openssl dgst` process per request. usage: mc3_bench.sh MC3SIG HMAC_LIMIT
set -euo pipefail
mc3sig=$1 limit=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077
n=1000000
cpu=$(($(nproc) - 1))

"$mc3sig" keygen --apikeyid bench -o "$work/ks"
"$mc3sig" keygen --apikeyid bench64 --encoding base64 -o "$work/ks64"
key=$(sed 's/.*hex://' "$work/ks")
# Unique tids: the replay cache must not refuse any.
seq -f 'tid=%.0f&ici=ICI-0123456789&user=user-42&cc=FR' 1 $n >"$work/plain"

# rate COUNT T0 T1: COUNT requests from T0 to T1, a second.
rate() { echo "$1 $2 $3" | awk '{ printf "%.0f", $1 / ($3 - $2) }'; }

# sign_rate KEYSTORE ID: sign every request; prints the rate.
sign_rate() {
	local t0 t1
	t0=$(date +%s.%N)
	taskset -c $cpu "$mc3sig" sign -k "$1" --apikeyid "$2" --batch <"$work/plain" >/dev/null
	t1=$(date +%s.%N)
	rate $n "$t0" "$t1"
}

# verify_rate KEYSTORE SIGNED: every request must verify; prints the rate.
# Every MAC is remembered against replay: --rate leaves room for all n.
verify_rate() {
	local t0 t1
	t0=$(date +%s.%N)
	taskset -c $cpu "$mc3sig" verify -k "$1" --batch --rate 4000 <"$2" >"$work/verdicts"
	t1=$(date +%s.%N)
	[ "$(sort "$work/verdicts" | uniq -c | awk '{ print $1, $2 }')" = "$n ok" ] ||
		{ echo "mc3 bench: not every request of $2 verified" >&2; exit 1; }
	rate $n "$t0" "$t1"
}

"$mc3sig" sign -k "$work/ks" --apikeyid bench --batch <"$work/plain" >"$work/signed"
"$mc3sig" sign -k "$work/ks64" --apikeyid bench64 --batch <"$work/plain" >"$work/signed64"
# Written back before the clock starts, not while a verify reads them.
sync

# best NAME RATE: NAME becomes the larger of itself and RATE, which must be
# a number (a measure that failed has stopped the bench already).
best() {
	[[ $2 =~ ^[0-9]+$ ]] || { echo "mc3 bench: $1: not a rate: '$2'" >&2; exit 1; }
	((${!1} >= $2)) || printf -v "$1" '%s' "$2"
}

# The machine is shared: each measure is the best of $rounds, and the
# rounds interleave them, so that a slow spell costs all of them alike
# rather than one the ratio is taken against. Each measure is taken into a
# variable of its own first, so that set -e stops the bench if it fails.
rounds=5 sign_rate=0 verify_rate=0 verify64_rate=0 raw=0 bare=0
for ((round = 0; round < rounds; round++)); do
	r=$(sign_rate "$work/ks" bench)
	best sign_rate "$r"
	r=$(verify_rate "$work/ks" "$work/signed")
	best verify_rate "$r"
	r=$(verify_rate "$work/ks64" "$work/signed64")
	best verify64_rate "$r"
	r=$(taskset -c $cpu "$limit" "$key" <"$work/signed")
	best raw "$r"
	r=$(taskset -c $cpu "$limit" --bare "$key" <"$work/signed" 2>&1 >/dev/null)
	best bare "$r"
done

# The way without this tool: a process per request.
m=200
t0=$(date +%s.%N)
head -n $m "$work/plain" | while read -r line; do
	printf '%s' "$line" | taskset -c $cpu openssl dgst -sha256 -hmac "$key" -r >/dev/null
done
t1=$(date +%s.%N)
dgst=$(rate $m "$t0" "$t1")

echo "mc3 bench: $n requests, HMAC-SHA-256, cr profile, one core ($(nproc) CPUs), $(openssl version | cut -d' ' -f1-2), best of $rounds interleaved rounds"
echo "| measure | per second | vs raw HMAC | vs openssl dgst per request |"
echo "|---|---|---|---|"
awk -v s="$sign_rate" -v v="$verify_rate" -v v64="$verify64_rate" -v r="$raw" -v b="$bare" -v d="$dgst" 'BEGIN {
	printf "| mc3sig verify --batch | %d | %.2fx | %.0fx |\n", v, v / r, v / d
	printf "| mc3sig verify --batch, base64 signatures | %d | %.2fx | %.0fx |\n", v64, v64 / r, v64 / d
	printf "| mc3sig sign --batch | %d | %.2fx | %.0fx |\n", s, s / r, s / d
	printf "| signature check alone: no field rules, no replay cache | %d | %.2fx | %.0fx |\n", b, b / r, b / d
	printf "| raw HMAC, one reused EVP_MAC context | %d | 1.00x | %.0fx |\n", r, r / d
	printf "| openssl dgst, one process per request | %d | %.4fx | 1x |\n", d, d / r
}'
