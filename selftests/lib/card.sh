# SPDX-License-Identifier: GPL-2.0
# For the tests of a BIP card link (pcsc_test, modem_test): source it after
# tap.sh with work set, and FETCH_TIMEOUT (seconds) if 60 is too short.
psk_id=client1
psk_key=00112233445566778899aabbccddeeff
url=https://127.0.0.1:4116

count() { grep -c "$1" "$2" 2>/dev/null; }

fetch() { curl -sS --max-time "${FETCH_TIMEOUT:-60}" --cacert "$work/card.pem" "$@"; }

psk_fetch() {
	printf 'GET / HTTP/1.1\r\nHost: card\r\nConnection: close\r\n\r\n' |
		timeout 60 openssl s_client -quiet -ign_eof -connect 127.0.0.1:4116 \
			-psk_identity "$psk_id" -psk "$psk_key" "$@" 2>/dev/null |
		sed '1,/^\r$/d'
}

# The card's files: a page, 64 KiB and 1 MiB of noise.
make_pages() {
	rm -rf "$work"
	mkdir -p "$work/www"
	printf '<!DOCTYPE html>\n<title>card</title><p>Hello from the UICC.</p>\n' \
		>"$work/www/index.html"
	head -c $((64 << 10)) /dev/urandom >"$work/www/page.bin"
	head -c $((1 << 20)) /dev/urandom >"$work/www/big.bin"
	: >"$work/sctlsd.log"
}

# check_pages LINK: the page by curl and by PSK, and 64 KiB, through LINK.
check_pages() {
	check "curl, X.509, through $1: the page byte-exact" \
		eval 'fetch "$url/" | cmp -s - "$work/www/index.html"'
	check "openssl s_client, TLS 1.3 PSK: the page byte-exact" \
		eval 'psk_fetch -tls1_3 | cmp -s - "$work/www/index.html"'
	check "64 KiB through RECEIVE and SEND DATA, intact" \
		eval 'fetch "$url/page.bin" | cmp -s - "$work/www/page.bin"'
}

three_on_two() {
	local i pids=() bad=0 waited
	waited=$(count "waited .* for a channel" "$work/sctlsd.log")
	for i in 1 2 3; do
		fetch -o "$work/got.$i" "$url/page.bin" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || bad=1; done
	for i in 1 2 3; do cmp -s "$work/got.$i" "$work/www/page.bin" || bad=1; done
	[ $bad = 0 ] && [ "$(count "waited .* for a channel" "$work/sctlsd.log")" -gt "$waited" ]
}

# The card's test mode logs the terminal's answer to each broken command.
broken_answered() {
	local result
	for result in "$@"; do
		grep -q "broken command .*: the terminal answered $result" "$work/cardsim.log" ||
			return 1
	done
}

sigterm() {
	kill -TERM $sctlsd
	wait $sctlsd
	local rc=$?
	sctlsd=
	[ $rc -eq 0 ]
}

# Last: the logs when something failed, and the status.
finish() {
	[ $failed -eq 0 ] || { echo "# logs:"; tail -n "$1" "$work"/*.log | sed 's/^/# /'; }
	[ $failed -eq 0 ]
}
