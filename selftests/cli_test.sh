#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The four programs' faces, on the host (no module needed): --version, one
# style of usage error and exit status, and the values once silently
# accepted or reported the wrong way. TAP on stdout.
# usage: cli_test.sh BINDIR   (sctlsd, cardsim, sctls and mc3sig in it)
set -u
. "$(dirname "$0")/lib/tap.sh"
bin=$1
version=$(cat "$(dirname "$0")/../VERSION")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
psk=card:00112233445566778899aabbccddeeff

echo "TAP version 13"
echo "1..17"

# run STATUS PATTERN CMD...: CMD exits STATUS and its stderr matches PATTERN
# (an extended regular expression); says what it got otherwise.
run() {
	local want=$1 pattern=$2 got
	shift 2
	# Bounded: a program that wrongly accepts its options serves on.
	timeout 20 "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" = "$want" ] && grep -Eq -- "$pattern" "$tmp/err"; then
		return 0
	fi
	echo "# $*: exit $got (want $want), stderr:"
	sed 's/^/#   /' "$tmp/err"
	return 1
}

# --version prints "NAME VERSION" first, exits 0, with nothing on stderr.
versions() {
	local p
	for p in sctlsd cardsim sctls mc3sig; do
		timeout 20 "$bin/$p" --version >"$tmp/out" 2>"$tmp/err" || return 1
		head -n 1 "$tmp/out" | grep -Eq "^$p $version( |\$)" && [ ! -s "$tmp/err" ] || {
			echo "# $p --version: $(head -n 1 "$tmp/out")"
			return 1
		}
	done
}
check "--version: every program prints its name and $version" versions

# A bad option: exit 2, the program named, then exactly one "Try" line.
usage_errors() {
	local p
	for p in sctlsd cardsim sctls mc3sig; do
		if [ $p = mc3sig ]; then set -- sign --bogus; else set -- --bogus; fi
		run 2 "$p" "$bin/$p" "$@" || return 1
		[ "$(tail -n 1 "$tmp/err")" = "Try '$p --help'." ] &&
			[ "$(grep -c Try "$tmp/err")" = 1 ] ||
			{ echo "# $p: $(cat "$tmp/err")"; return 1; }
	done
}
check "a bad option: exit 2, one 'Try PROG --help' line, in all four" usage_errors

check "sctlsd: a card link's port 70000 is refused, not wrapped to 4464" \
	run 2 "port 70000: expected 1\.\.65535" \
	"$bin/sctlsd" -d "$tmp/none" --link 4116=tcp:127.0.0.1:70000
check "sctlsd: a served port 70000 is refused" \
	run 2 "expected PORT=KIND:ADDRESS" "$bin/sctlsd" -d "$tmp/none" --link 70000=unix:/x
check "cardsim: --listen tcp:127.0.0.1:70000 is refused" \
	run 1 "port 70000: expected 1\.\.65535" "$bin/cardsim" --listen tcp:127.0.0.1:70000 --psk $psk

check "sctlsd: --allow-uid '' (an unset variable) is refused, not 'everyone'" \
	run 2 "empty uid list" "$bin/sctlsd" -d "$tmp/none" --link 4116=unix:/x --allow-uid ''
printf 'link 4116=unix:/x\nallow-uid\n' >"$tmp/bare.conf"
check "sctlsd: a bare 'allow-uid' line is refused, naming the line" \
	run 2 "bare\.conf:2: an empty uid list" "$bin/sctlsd" -d "$tmp/none" -c "$tmp/bare.conf"

check "sctlsd -c DIRECTORY: 'not a regular file', not 'no card link'" \
	run 2 "$tmp: not a regular file" "$bin/sctlsd" -c "$tmp"
check "sctlsd -c BINARY: 'not a configuration file', not 'no card link'" \
	run 2 "binary data: not a configuration file" "$bin/sctlsd" -c "$bin/sctlsd"
check "sctlsd -c MISSING: the file and the system's reason" \
	run 2 "$tmp/missing: No such file or directory" "$bin/sctlsd" -c "$tmp/missing"

check "cardsim --cert MISSING: the file and 'No such file', no '(null)'" \
	run 2 "^cardsim: --cert $tmp/missing: No such file or directory\$" \
	"$bin/cardsim" --listen "unix:$tmp/s" --cert "$tmp/missing"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=t \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
check "cardsim --cert without its key: says to give --key" \
	run 2 "holds no usable key .*give --key FILE" \
	"$bin/cardsim" --listen "unix:$tmp/s" --cert "$tmp/cert.pem"
check "cardsim --key MISSING: names --key and the file" \
	run 2 "^cardsim: --key $tmp/missing: No such file or directory\$" \
	"$bin/cardsim" --listen "unix:$tmp/s" --cert "$tmp/cert.pem" --key "$tmp/missing"

# cardsim's --listen takes over only a dead socket's path.
echo keep >"$tmp/file"
check "cardsim --listen unix:FILE: a file is not replaced, and says so" \
	eval 'run 1 "exists and is not a socket: not replacing it" \
		"$bin/cardsim" --listen "unix:$tmp/file" --psk $psk && [ "$(cat "$tmp/file")" = keep ]'

live_socket() {
	local first rc=1
	"$bin/cardsim" --listen "unix:$tmp/live.sock" --psk $psk 2>"$tmp/first.log" &
	first=$!
	if wait_for 10 grep -q "ready on" "$tmp/first.log"; then
		run 1 "another program listens on $tmp/live.sock" \
			"$bin/cardsim" --listen "unix:$tmp/live.sock" --psk $psk &&
			kill -0 $first && [ -S "$tmp/live.sock" ] && rc=0
	fi
	stop $first
	return $rc
}
check "cardsim --listen on a live socket's path: refused, the other one serves on" live_socket

port_in_use() {
	local holder port rc=1
	python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$tmp/port" &
	holder=$!
	if wait_for 10 test -s "$tmp/port"; then
		port=$(cat "$tmp/port")
		run 1 "cannot listen on tcp:127.0.0.1:$port: another program has that address .*give --listen another port" \
			"$bin/cardsim" --listen "tcp:127.0.0.1:$port" --psk $psk && rc=0
	fi
	stop $holder
	return $rc
}
check "cardsim --listen on a port in use: names the address and the way out" port_in_use

# Valid options, no device: exit 1 with the way forward (not a usage error).
check "sctlsd without the device: exit 1, 'load the module first'" \
	run 1 "does not exist: load the module first" \
	"$bin/sctlsd" -d "$tmp/none" --link 4116=unix:/x

[ $failed = 0 ]
