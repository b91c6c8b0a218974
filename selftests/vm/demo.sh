#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM, for `make demo`: the gateway end to end. Loads sctls.ko,
# starts the simulated card and the helper, and fetches the card's page with
# curl as any app would, then shows the kernel's counters.
# usage: demo.sh SCTLS_KO SCTLSD CARDSIM SCTLS
set -euo pipefail
ko=$1 sctlsd_bin=$2 cardsim_bin=$3 sctls_bin=$4
run=/run/sctls

step() { printf '\n== %s\n' "$*"; }
# Until CMD succeeds, at most 10 s.
wait_for() {
	local deadline=$((SECONDS + 10))
	until "$@"; do
		[ $SECONDS -lt $deadline ] || { echo "demo: timed out waiting for: $*" >&2; exit 1; }
		sleep 0.1
	done
}

step "kernel $(uname -r): loading sctls.ko"
insmod "$ko"
ls -l /dev/sctls

step "the card: cardsim, a simulated UICC with a TLS web server"
mkdir -p $run
"$cardsim_bin" --listen unix:$run/card.sock --self-signed $run/card.pem 2>$run/cardsim.log &
cardsim=$!
wait_for grep -q "ready" $run/cardsim.log
cat $run/cardsim.log

step "the helper: sctlsd, port 4116 -> the card"
"$sctlsd_bin" --link 4116=unix:$run/card.sock 2>$run/sctlsd.log &
sctlsd=$!
wait_for grep -q "info: ready" $run/sctlsd.log
cat $run/sctlsd.log

step "an app: curl https://127.0.0.1:4116/ (nothing special about it)"
curl -sS -v --cacert $run/card.pem https://127.0.0.1:4116/ 2>$run/curl.log
echo "TLS: $(sed -n 's/^\* SSL connection using \(.*\)$/\1/p' $run/curl.log | tr -d '\r')"

step "the kernel's view: sctls show"
"$sctls_bin" show

step "stopping the helper (SIGTERM): its counters"
kill -TERM $sctlsd
wait $sctlsd
tail -n +$(($(wc -l <$run/sctlsd.log) - 1)) $run/sctlsd.log
kill $cardsim
rmmod sctls
