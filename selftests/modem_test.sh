#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The modem card links end to end, in the VM: cardsim as a modem with the
# card behind it, on a pseudo-terminal that stands for the modem's port,
# sctlsd --link 4116=at:... (FACE=at, the default: 3GPP TS 27.007 USAT
# commands) or mbim:... (FACE=mbim: MBIM's STK service through libmbim,
# and mbim-proxy), and real TLS clients through sctls.ko. Prints TAP.
# Needs SCTLS_KO, SCTLSD and CARDSIM; root.
set -u
. "$(dirname "$0")/lib/tap.sh"
FETCH_TIMEOUT=120
. "$(dirname "$0")/lib/card.sh"

face=${FACE:-at}
work=/tmp/sctls-$face
modem=$work/modem
# What sctlsd logs when the modem takes its claim, loses the card, or keeps BIP.
case $face in
at)	sim=--modem
	not_understood=31
	claimed="took the TE profile"
	gone="the port closed"
	restarted="the modem restarted"
	keeps="the modem refused the TE profile" ;;
mbim)	sim=--mbim
	# A type the host did not claim is the function's to answer: 30.
	not_understood=30
	claimed="handed over the BIP commands"
	gone="the modem went away"
	restarted=$gone
	keeps='keeps\? BIP to itself' ;;
*)	echo "Bail out! FACE is at or mbim, not '$face'"
	exit 1 ;;
esac
plan=17

# An AT port's line speed, BAUD (0: as fast as may be); MBIM has none.
line() { [ $face = at ] && echo "--baud ${BAUD:-0}"; }

# The modem on its pty, the card behind it; sctlsd takes the port and
# sees the card's channels open. BAUD paces the line (0: as fast as may be).
start_modem() {
	local before
	before=$(count "listens on port" "$work/sctlsd.log")
	: >"$work/cardsim.log"
	"$CARDSIM" $sim "$modem" $(line) --root "$work/www" --channels 2 \
		--self-signed "$work/card.pem" --psk "$psk_id:$psk_key" "$@" \
		2>>"$work/cardsim.log" &
	cardsim=$!
	wait_for 60 eval '[ "$(count "listens on port" "$work/sctlsd.log")" -ge $((before + 2)) ]'
}


cleanup() {
	stop $sctlsd $cardsim $holder $proxy
	rmmod sctls 2>/dev/null
}
sctlsd= cardsim= holder= proxy=
trap cleanup EXIT

echo "TAP version 13"
# A phone's sctlsd is built without libmbim (make MBIM=0): no mbim links.
if [ $face = mbim ] && "$SCTLSD" --help 2>&1 | grep -q "no mbim:DEVICE links"; then
	echo "1..1"
	echo "ok 1 the MBIM link # SKIP this sctlsd was built without libmbim (MBIM=0)"
	exit 0
fi
echo "1..$plan"
make_pages

if ! insmod "$SCTLS_KO"; then
	echo "Bail out! insmod failed"
	exit 1
fi
# sctlsd first: it waits for the modem's port to appear.
"$SCTLSD" --link "4116=$face:$modem" --status "$work/status.json" 2>"$work/sctlsd.log" &
sctlsd=$!
if ! wait_for 10 grep -q "info: ready" "$work/sctlsd.log" || ! start_modem; then
	echo "Bail out! setup failed: $(tail -n 20 "$work"/*.log)"
	exit 1
fi

check_pages "the modem ($face)"

# What sctls show says of the card, from sctlsd's status file.
shows_link() {
	SCTLS_STATUS="$work/status.json" "$SCTLS_CLI" show >"$work/show.out" &&
		grep -Eq "^link 4116 .*$face:.*: $1" "$work/show.out"
}
card_shown() {
	wait_for 10 shows_link "$1" ||
		{ sed 's/^/# /' "$work/show.out" "$work/status.json"; return 1; }
}
check "sctls show: the card link has the card, its two channels listening" \
	card_shown "card, 2 channels listening, [0-9]+ in use, 0 waiting"

check "three clients, a two-channel card: all three served, the third waited" three_on_two

modem_gone() {
	local client rc
	rm -f "$work/partial"
	fetch -o "$work/partial" "$url/big.bin" 2>/dev/null &
	client=$!
	wait_for 60 test -s "$work/partial" || return 1
	stop $cardsim
	wait $client
	rc=$?
	echo "# curl exit $rc when the modem went"
	[ $rc -ne 0 ] && [ $rc -ne 28 ] && grep -q "$face: lost the card in .*: $gone" \
		"$work/sctlsd.log"
}
check "the modem gone mid-transfer: the client is reset" modem_gone
check "sctls show: the card link has no card, and says why" card_shown "no card \\("

check "the modem back: the next fetch works, sctlsd not restarted" \
	eval 'start_modem && kill -0 $sctlsd && fetch "$url/" | cmp -s - "$work/www/index.html"'

# The modem restarts after a few terminal responses, mid-transfer (AT: RDY;
# MBIM: its port vanishes and comes back): the transfer is reset, then
# sctlsd claims the BIP commands again.
modem_reset() {
	local profiles rc
	stop $cardsim
	start_modem --modem-reset-after 40 || return 1
	profiles=$(count "$claimed" "$work/sctlsd.log")
	fetch -o /dev/null "$url/big.bin" 2>/dev/null
	rc=$?
	echo "# curl exit $rc when the modem restarted"
	[ $rc -ne 0 ] && [ $rc -ne 28 ] && grep -q "lost the card in .*: $restarted" \
		"$work/sctlsd.log" &&
		wait_for 60 eval '[ "$(count "$claimed" "$work/sctlsd.log")" -gt $profiles ]' &&
		fetch "$url/" | cmp -s - "$work/www/index.html"
}
check "the modem restarted mid-transfer: the client is reset, BIP claimed again" modem_reset

malformed() {
	stop $cardsim
	start_modem --malformed || return 1
	broken_answered $not_understood 36 32 && fetch "$url/" | cmp -s - "$work/www/index.html"
}
check "broken proactive commands get $not_understood, 36 and 32; the card is served on" malformed

busy() {
	stop $cardsim
	start_modem --busy || return 1
	fetch "$url/page.bin" | cmp -s - "$work/www/page.bin" &&
		grep -q "busy: the terminal is to send its envelope again" "$work/cardsim.log"
}
check "a busy toolkit: the terminal sends its envelopes again" busy

# A modem that keeps BIP to itself refuses the TE profile or the PAC:
# sctlsd says so, once, and a client is reset after its wait for a channel,
# not left hanging.
keeps_bip() {
	local rc
	stop $cardsim
	"$CARDSIM" $sim "$modem" $(line) --self-signed "$work/card.pem" \
		--modem-keeps-bip 2>>"$work/cardsim.log" &
	cardsim=$!
	wait_for 30 grep -q "$keeps" "$work/sctlsd.log" || return 1
	fetch -o /dev/null "$url/" 2>/dev/null
	rc=$?
	echo "# curl exit $rc; refusals logged: $(count "$keeps" "$work/sctlsd.log")"
	[ $rc -ne 0 ] && [ $rc -ne 28 ] && [ "$(count "$keeps" "$work/sctlsd.log")" = 1 ]
}
check "a modem that keeps BIP: the refusal logged once, clients reset" keeps_bip

# AT: another program holding the port's lock, as a second sctlsd would:
# sctlsd says the port is in use, and takes it once it is free.
# MBIM: ModemManager's mbim-proxy owns the modem: sctlsd shares it through
# the proxy, and another client (mbimcli) is served meanwhile.
port_shared() {
	if [ $face = mbim ]; then
		proxy_shared
	else
		port_locked
	fi
}

port_locked() {
	local before
	stop $cardsim
	"$CARDSIM" $sim "$modem" $(line) --root "$work/www" --channels 2 \
		--self-signed "$work/card.pem" --psk "$psk_id:$psk_key" 2>>"$work/cardsim.log" &
	cardsim=$!
	wait_for 30 test -e "$modem" || return 1
	before=$(count "listens on port" "$work/sctlsd.log")
	stop $sctlsd
	rm -f "$work/held"
	perl -e 'use Fcntl ":flock"; open(my $f, "+<", $ARGV[0]) or die "$!";
		 flock($f, LOCK_EX) or die "$!"; open(my $h, ">", $ARGV[1]); close($h);
		 sleep 120' "$modem" "$work/held" &
	holder=$!
	wait_for 30 test -e "$work/held" || return 1
	"$SCTLSD" --link "4116=$face:$modem" 2>>"$work/sctlsd.log" &
	sctlsd=$!
	wait_for 30 grep -q "another sctlsd uses the port" "$work/sctlsd.log" || return 1
	stop $holder
	holder=
	wait_for 60 eval '[ "$(count "listens on port" "$work/sctlsd.log")" -ge $((before + 2)) ]' &&
		fetch "$url/" | cmp -s - "$work/www/index.html"
}
proxy_shared() {
	local before
	stop $sctlsd $cardsim
	/usr/libexec/mbim-proxy --no-exit 2>"$work/proxy.log" &
	proxy=$!
	wait_for 30 grep -q mbim-proxy /proc/net/unix || return 1
	before=$(count "listens on port" "$work/sctlsd.log")
	"$SCTLSD" --link "4116=$face:$modem" 2>>"$work/sctlsd.log" &
	sctlsd=$!
	start_modem || return 1
	grep -q "handed over the BIP commands (through mbim-proxy)" "$work/sctlsd.log" &&
		timeout 60 mbimcli -p -d "$modem" --query-device-caps >"$work/mbimcli.out" 2>&1 &&
		fetch "$url/" | cmp -s - "$work/www/index.html"
}

case $face in
at)	what="the port locked by another program: said so, taken once free" ;;
mbim)	what="through ModemManager's mbim-proxy, shared with another client" ;;
esac
check "$what" port_shared

# The line at a real serial port's speed: 115200 baud, hex both ways (the
# page only: make bench times 64 KiB at this speed).
at_115200() {
	stop $cardsim
	BAUD=115200 start_modem && fetch "$url/" | cmp -s - "$work/www/index.html"
}
if [ $face = at ]; then
	check "at 115200 baud: the page byte-exact" at_115200
else
	ok "at 115200 baud # SKIP an MBIM function has no line speed"
fi


# A modem just powered answers its first lines late, after sctlsd's probe
# gave up: each late answer must stay with its own command. Here the TE
# profile's refusal must be reported as that, not as a later command's.
slow_start() {
	local before
	stop $cardsim
	before=$(count "refused the TE profile" "$work/sctlsd.log")
	"$CARDSIM" $sim "$modem" $(line) --self-signed "$work/card.pem" --modem-keeps-bip \
		--modem-slow-start 2500 2>>"$work/cardsim.log" &
	cardsim=$!
	wait_for 60 eval '[ "$(count "refused the TE profile" "$work/sctlsd.log")" -gt $before ]' &&
		! grep -q "would not activate" "$work/sctlsd.log"
}

# A modem that never says +CUSATEND: waited for once, then not again.
no_session_end() {
	stop $cardsim
	start_modem --modem-no-session-end &&
		fetch "$url/page.bin" | cmp -s - "$work/www/page.bin" &&
		grep -q "does not say +CUSATEND" "$work/sctlsd.log"
}

if [ $face = at ]; then
	check "a modem slow to start: each late answer kept with its command" slow_start
	check "a modem that never says +CUSATEND: 64 KiB byte-exact" no_session_end
else
	ok "a modem slow to start # SKIP MBIM's answers carry their transaction id"
	ok "a modem without +CUSATEND # SKIP an AT modem's"
fi

check "SIGTERM: sctlsd stops cleanly with status 0" sigterm

finish 40
