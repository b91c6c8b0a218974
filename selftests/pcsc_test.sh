#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The PC/SC card link end to end, in the VM, with a real PC/SC stack:
# pcscd with vsmartcard's vpcd reader, cardsim as the card in it (BIP in
# UICC server mode), sctlsd --link 4116=pcsc:..., and real TLS clients
# through sctls.ko. Prints TAP. Needs SCTLS_KO, SCTLSD and CARDSIM; root.
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/card.sh"

work=/tmp/sctls-pcsc
reader="Virtual PCD"
vpcd_port=35963
plan=11

# The card in vpcd's reader; sctlsd sees its channels open.
start_cardsim() {
	local before
	before=$(count "listens on port" "$work/sctlsd.log")
	: >"$work/cardsim.log"
	"$CARDSIM" --vpcd "127.0.0.1:$vpcd_port" --root "$work/www" --channels 2 \
		--self-signed "$work/card.pem" --psk "$psk_id:$psk_key" "$@" \
		2>>"$work/cardsim.log" &
	cardsim=$!
	wait_for 20 eval '[ "$(count "listens on port" "$work/sctlsd.log")" -ge $((before + 2)) ]'
}


cleanup() {
	stop $sctlsd $cardsim $pcscd
	rmmod sctls 2>/dev/null
}
sctlsd= cardsim= pcscd=
trap cleanup EXIT

echo "TAP version 13"
# A phone's sctlsd is built without PC/SC (make PCSC=0), and its root has
# no pcscd: nothing here can run.
if "$SCTLSD" --help 2>&1 | grep -q "no pcsc:READER links"; then
	echo "1..1"
	echo "ok 1 the PC/SC link # SKIP this sctlsd was built without PC/SC (PCSC=0)"
	exit 0
fi
echo "1..$plan"
make_pages

# pcscd loads vpcd from /etc/reader.conf.d; vpcd then listens for the card.
pcscd --foreground --debug >"$work/pcscd.log" 2>&1 &
pcscd=$!
vpcd_up() { (exec 3<>/dev/tcp/127.0.0.1/$vpcd_port) 2>/dev/null; }
if ! insmod "$SCTLS_KO" || ! wait_for 20 vpcd_up; then
	echo "Bail out! setup failed: $(tail -n 20 "$work/pcscd.log")"
	exit 1
fi
"$SCTLSD" --link "4116=pcsc:$reader" 2>"$work/sctlsd.log" &
sctlsd=$!
if ! wait_for 10 grep -q "info: ready" "$work/sctlsd.log" || ! start_cardsim; then
	echo "Bail out! setup failed: $(tail -n 20 "$work"/*.log)"
	exit 1
fi

check_pages "the PC/SC link"

check "three clients, a two-channel card: all three served, the third waited" three_on_two

card_removed() {
	local client rc
	rm -f "$work/partial"
	fetch -o "$work/partial" "$url/big.bin" 2>/dev/null &
	client=$!
	wait_for 30 test -s "$work/partial" || return 1
	stop $cardsim
	wait $client
	rc=$?
	echo "# curl exit $rc when the card went"
	[ $rc -ne 0 ] && [ $rc -ne 28 ] && grep -q "lost the card" "$work/sctlsd.log"
}
check "the card removed mid-transfer: the client is reset" card_removed

check "the card back: the next fetch works, sctlsd not restarted" \
	eval 'start_cardsim && kill -0 $sctlsd && fetch "$url/" | cmp -s - "$work/www/index.html"'

malformed() {
	stop $cardsim
	start_cardsim --malformed || return 1
	broken_answered 31 36 32 && fetch "$url/" | cmp -s - "$work/www/index.html"
}
check "broken proactive commands get 31, 36 and 32; the card is served on" malformed

# Port 3516 is not served: 3A, port not available. 4000 octets of buffer
# asked, 1500 granted (07). GET CHANNEL STATUS lists both channels.
opens() {
	stop $cardsim
	start_cardsim --port 4116 --port 3516 --buffer 4000 || return 1
	grep -q "OPEN CHANNEL for port 3516 refused: 3a 10" "$work/cardsim.log" &&
		grep -q "channel [1-7] listens on port 4116, buffer 1500" "$work/cardsim.log" &&
		wait_for 10 grep -q "reports 2 channel(s), 2 listening" "$work/cardsim.log" &&
		fetch "$url/page.bin" | cmp -s - "$work/www/page.bin"
}
check "OPEN CHANNEL: an unserved port refused (3A 10), a smaller buffer granted (07)" opens

busy() {
	stop $cardsim
	start_cardsim --busy || return 1
	fetch "$url/page.bin" | cmp -s - "$work/www/page.bin" &&
		grep -q "busy: the terminal is to send its envelope again" "$work/cardsim.log"
}
check "a busy toolkit (9300): the terminal sends its envelopes again" busy

# Two clients hold both channels; a third waits its 10 s, then is reset.
queue_timeout() {
	local holders=() rc start
	for i in 1 2; do
		(printf 'GET / HTTP/1.1\r\nHost: card\r\n\r\n'; sleep 30) |
			timeout 40 openssl s_client -quiet -connect 127.0.0.1:4116 \
				-psk_identity "$psk_id" -psk "$psk_key" >"$work/held.$i" 2>/dev/null &
		holders+=($!)
	done
	wait_for 20 eval 'grep -q "Hello from the UICC" "$work/held.1" &&
			  grep -q "Hello from the UICC" "$work/held.2"' || return 1
	start=$SECONDS
	fetch -o /dev/null "$url/" 2>/dev/null
	rc=$?
	echo "# curl exit $rc after $((SECONDS - start)) s"
	kill "${holders[@]}" 2>/dev/null
	wait "${holders[@]}" 2>/dev/null
	[ $rc -ne 0 ] && [ $rc -ne 28 ] && [ $((SECONDS - start)) -ge 9 ] &&
		grep -q "waited 10 s for a channel; resetting it" "$work/sctlsd.log"
}
check "more clients than channels: the one that waited too long is reset" queue_timeout

check "SIGTERM: sctlsd stops cleanly with status 0" sigterm

finish 30
