#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end, in the VM: real TLS clients (curl, openssl s_client) fetch
# pages from cardsim through sctls.ko and sctlsd. Prints TAP.
# Needs SCTLS_KO, SCTLSD and CARDSIM; runs as root.
set -u
. "$(dirname "$0")/lib/tap.sh"

work=/tmp/sctls-e2e
psk_id=client1
psk_key=00112233445566778899aabbccddeeff
url=https://127.0.0.1:4116
plan=14

start_cardsim() {
	"$CARDSIM" --listen "unix:$work/card.sock" --root "$work/www" \
		--self-signed "$work/card.pem" --psk "$psk_id:$psk_key" \
		2>>"$work/cardsim.log" &
	cardsim=$!
	wait_for 10 grep -q "ready on" "$work/cardsim.log"
}

start_sctlsd() {
	: >"$work/sctlsd.log"
	"$SCTLSD" --link "4116=unix:$work/card.sock" "$@" 2>"$work/sctlsd.log" &
	sctlsd=$!
	wait_for 10 grep -q "info: ready" "$work/sctlsd.log"
}

fetch() { curl -sS --max-time 30 --cacert "$work/card.pem" "$@"; }

cleanup() {
	stop $sctlsd $cardsim
	rmmod sctls 2>/dev/null
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..$plan"
rm -rf "$work"
mkdir -p "$work/www"
cp /dev/null "$work/cardsim.log"
printf '<!DOCTYPE html>\n<title>card</title><p>Hello from the UICC.</p>\n' >"$work/www/index.html"
head -c $((5 << 20)) /dev/urandom >"$work/www/big.bin"
sctlsd= cardsim=

if ! insmod "$SCTLS_KO" || ! start_cardsim || ! start_sctlsd; then
	echo "Bail out! setup failed: $(cat "$work"/*.log 2>/dev/null)"
	exit 1
fi

check "curl over IPv4, X.509: the page byte-exact" \
	eval 'fetch "$url/" | cmp -s - "$work/www/index.html"'
check "curl over IPv6, X.509: the page byte-exact" \
	eval 'fetch "https://[::1]:4116/" | cmp -s - "$work/www/index.html"'

psk_fetch() {
	printf 'GET / HTTP/1.1\r\nHost: card\r\nConnection: close\r\n\r\n' |
		timeout 30 openssl s_client -quiet -ign_eof -connect 127.0.0.1:4116 \
			-psk_identity "$psk_id" -psk "$psk_key" "$@" 2>/dev/null |
		sed '1,/^\r$/d'
}
check "openssl s_client, TLS 1.3 PSK: the page byte-exact" \
	eval 'psk_fetch -tls1_3 | cmp -s - "$work/www/index.html"'
check "openssl s_client, TLS 1.2 PSK suite: the page byte-exact" \
	eval 'psk_fetch -tls1_2 -cipher PSK-AES128-GCM-SHA256 | cmp -s - "$work/www/index.html"'

check "a 5 MiB file arrives intact (sha256)" \
	eval '[ "$(fetch "$url/big.bin" | sha256sum)" = "$(sha256sum <"$work/www/big.bin")" ]'

# One small fetch's time in this guest, now, in ms: what time bounds scale
# with, so that a slow kernel (KASAN, emulation) or a busy host fails none.
baseline_ms() {
	local start
	start=$(date +%s%N)
	fetch -o /dev/null "$url/index.html" || return 1
	echo $((($(date +%s%N) - start) / 1000000))
}

# The larger of a floor and a multiple of the baseline, in ms.
bound_ms() {
	local floor=$1 times=$2 base
	base=$(baseline_ms) || base=$floor
	echo "# bound: ${floor} ms or ${times} x a ${base} ms fetch, whichever is larger" >&2
	echo $((base * times > floor ? base * times : floor))
}

fifty() {
	local i pids=() bad=0 max
	# The card serves one handshake at a time: fifty take about fifty
	# times one; thrice that before curl gives up.
	max=$(bound_ms 30000 150)
	for i in $(seq 1 50); do
		curl -sS --max-time $((max / 1000 + 1)) --cacert "$work/card.pem" \
			-o "$work/got.$i" "$url/index.html" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || bad=1; done
	for i in $(seq 1 50); do cmp -s "$work/got.$i" "$work/www/index.html" || bad=1; done
	return $bad
}
check "50 concurrent curl fetches, all byte-exact" fifty

check "HEAD gets the headers and no body" \
	eval 'fetch -I "$url/index.html" | grep -q "^Content-Length: $(stat -c %s "$work/www/index.html")"'
check "a missing file is 404 and a path escape is not served" \
	eval '[ "$(fetch -o /dev/null -w "%{http_code}" "$url/nope")" = 404 ] &&
	      [ "$(fetch -o /dev/null -w "%{http_code}" --path-as-is "$url/../../etc/passwd")" = 404 ]'

garbage_then_serve() {
	# Not a ClientHello, then half an HTTP request: closed, and others served.
	exec 3<>/dev/tcp/127.0.0.1/4116 && printf 'GARBAGE\r\n\r\n' >&3 &&
		timeout 10 cat <&3 >/dev/null 2>&1
	exec 3<&-
	printf 'GET / HTT' | timeout 10 openssl s_client -quiet -connect 127.0.0.1:4116 \
		-psk_identity "$psk_id" -psk "$psk_key" >/dev/null 2>&1
	[ "$(printf 'BLAH\r\n\r\n' | timeout 10 openssl s_client -quiet -ign_eof \
		-connect 127.0.0.1:4116 -psk_identity "$psk_id" -psk "$psk_key" 2>/dev/null |
		head -n 1 | tr -d '\r')" = "HTTP/1.1 400 Bad Request" ] &&
		fetch "$url/" | cmp -s - "$work/www/index.html"
}
check "garbage and a malformed request get a close or 400; cardsim serves on" garbage_then_serve

kill_mid_transfer() {
	local start elapsed max
	# A reset, not a timeout: within four small fetches' time (or 1 s).
	max=$(bound_ms 1000 4)
	rm -f "$work/partial"
	# A client reading as fast as it can (bytes already in its socket are
	# delivered before a reset), and more to fetch than could finish first.
	fetch --fail-early -o "$work/partial" $(printf "$url/big.bin %.0s" $(seq 10)) \
		>/dev/null 2>&1 &
	local client=$!
	# Under way once the first bytes have reached the client.
	wait_for 20 test -s "$work/partial" || return 1
	start=$(date +%s%N)
	stop $sctlsd
	wait $client && return 1	# it must fail, not complete
	elapsed=$((($(date +%s%N) - start) / 1000000))
	echo "# client failed ${elapsed} ms after sctlsd was killed"
	[ $elapsed -lt "$max" ]
}
check "kill -9 of sctlsd mid-transfer: the client fails at once (a reset, not a timeout)" \
	kill_mid_transfer
check "a restarted sctlsd serves again" \
	eval 'start_sctlsd && fetch "$url/" | cmp -s - "$work/www/index.html"'

no_card() {
	local start rc max
	max=$(bound_ms 10000 20)
	stop $cardsim
	start=$(date +%s%N)
	fetch -o /dev/null "$url/" 2>/dev/null
	rc=$?
	echo "# curl exit $rc after $((($(date +%s%N) - start) / 1000000)) ms without a card"
	# A reset, not curl's timeout (28); the bound leaves room for a busy host.
	[ $rc -ne 0 ] && [ $rc -ne 28 ] && [ $((($(date +%s%N) - start) / 1000000)) -lt "$max" ] &&
		kill -0 $sctlsd && grep -q "resetting it" "$work/sctlsd.log"
}
check "cardsim not running: a quick reset, and sctlsd keeps running" no_card

allow_uid() {
	start_cardsim || return 1
	stop $sctlsd
	start_sctlsd --allow-uid 1000 || return 1
	chmod 0644 "$work/card.pem"
	! setpriv --reuid 1001 --regid 1001 --clear-groups \
		curl -sS --max-time 10 --cacert "$work/card.pem" -o /dev/null "$url/" 2>/dev/null &&
	setpriv --reuid 1000 --regid 1000 --clear-groups \
		curl -sS --max-time 10 --cacert "$work/card.pem" "$url/" | cmp -s - "$work/www/index.html" &&
	grep -q "uid 1001 .*uid not allowed" "$work/sctlsd.log"
}
check "--allow-uid 1000: uid 1001 is reset, uid 1000 is served" allow_uid

sigterm() {
	kill -TERM $sctlsd
	wait $sctlsd
	local rc=$?
	sctlsd=
	[ $rc -eq 0 ] && grep -q "stopping" "$work/sctlsd.log"
}
check "SIGTERM: sctlsd stops cleanly with status 0" sigterm

[ $failed -eq 0 ]
