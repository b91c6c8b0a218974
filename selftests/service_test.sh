#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sctlsd as a service, in the VM: it says "ready" (and tells systemd,
# Type=notify) only once its card link answers; SIGHUP re-reads the
# configuration, keeping the one in use when the new one is bad; every
# connection ends with a summary line; under the journal each line carries
# its priority, elsewhere the time. Prints TAP.
# Needs SCTLS_KO, SCTLSD and CARDSIM; runs as root.
set -u
. "$(dirname "$0")/lib/tap.sh"

work=/tmp/sctls-service
psk=client1:00112233445566778899aabbccddeeff
url=https://127.0.0.1:4116

start_cardsim() {
	: >"$work/cardsim.log"
	"$CARDSIM" --listen "unix:$work/card.sock" --self-signed "$work/card.pem" --psk "$psk" \
		2>>"$work/cardsim.log" &
	cardsim=$!
	wait_for 10 grep -q "ready on" "$work/cardsim.log"
}

# The systemd side of sd_notify: every datagram sent to $work/notify.
start_listener() {
	rm -f "$work/notify"
	socat -u "UNIX-RECV:$work/notify" "OPEN:$work/notified,creat,append" &
	listener=$!
	wait_for 10 test -S "$work/notify"
}

fetch_as() {
	setpriv --reuid "$1" --regid "$1" --clear-groups \
		curl -sS --max-time 30 --cacert "$work/card.pem" -o /dev/null "$url/" 2>/dev/null
}

cleanup() {
	stop $sctlsd $cardsim $listener
	rmmod sctls 2>/dev/null
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..17"
rm -rf "$work"
mkdir -p "$work"
sctlsd= cardsim= listener=
printf 'link 4116=unix:%s/card.sock\nallow-uid 1000\n' "$work" >"$work/sctlsd.conf"

if ! insmod "$SCTLS_KO" || ! start_listener; then
	echo "Bail out! setup failed"
	exit 1
fi

# No card yet: sctlsd serves the device but is not ready.
NOTIFY_SOCKET=$work/notify "$SCTLSD" -c "$work/sctlsd.conf" --status "$work/status.json" \
	2>"$work/sctlsd.log" &
sctlsd=$!
not_ready_without_card() {
	wait_for 10 grep -q "card.sock does not answer" "$work/sctlsd.log" &&
		wait_for 10 grep -q "STATUS=waiting for card link" "$work/notified" &&
		! grep -q "info: ready" "$work/sctlsd.log" && ! grep -q "READY=1" "$work/notified"
}
check "no card: not ready, the log and systemd's status say which link waits" \
	not_ready_without_card

ready_with_card() {
	start_cardsim &&
		wait_for 20 grep -q "info: ready" "$work/sctlsd.log" &&
		wait_for 10 grep -q "READY=1" "$work/notified" &&
		grep -q "card.sock answers now" "$work/sctlsd.log"
}
check "the card comes: 'ready' in the log, READY=1 to systemd" ready_with_card

# sctls show adds what sctlsd's status file says of each card link.
export SCTLS_STATUS=$work/status.json
link_shown() {
	wait_for 10 eval '"$SCTLS_CLI" show | grep -Eq "^link 4116 +unix:$work/card.sock: answers\$"' ||
		{ "$SCTLS_CLI" show | sed 's/^/# /'; return 1; }
}
check "sctls show: the card link answers (sctlsd --status)" link_shown

summary() {
	chmod 0644 "$work/card.pem"
	fetch_as 1000 || return 1
	wait_for 10 grep -Eq "connection [0-9]+ closed \(.*\): [0-9]+ bytes to the card, [1-9][0-9]* to the app, [0-9.]+ s" \
		"$work/sctlsd.log"
}
check "a fetched page: a summary line with bytes each way and duration" summary

# curl leaves the card's close_notify unread: its socket resets, having
# had every byte. The counters call that the app leaving, not a reset.
counted() {
	local show
	show=$("$SCTLS_CLI" show)
	echo "$show" | grep -Eq '^closed-app-left +[1-9]' &&
		echo "$show" | grep -Eq '^closed-reset +0$' || { echo "$show" | sed 's/^/# /'; return 1; }
}
check "curl's fetch counts as closed-app-left, not closed-reset" counted

monitor_times() {
	local mon rc=1
	"$SCTLS_CLI" monitor -t >"$work/monitor.log" 2>&1 &
	mon=$!
	# The subscription is in place once a first fetch shows up.
	if wait_for 20 eval 'fetch_as 1000; grep -q "close id" "$work/monitor.log"'; then
		grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} open id [0-9]+ ' \
			"$work/monitor.log" && rc=0
	fi
	kill $mon; wait $mon 2>/dev/null
	[ $rc = 0 ] || sed 's/^/# /' "$work/monitor.log"
	return $rc
}
check "sctls monitor -t: each event with the time, as sctlsd's log has it" monitor_times

reload_uids() {
	fetch_as 1001 && return 1
	sed -i 's/^allow-uid .*/allow-uid 1000,1001/' "$work/sctlsd.conf"
	kill -HUP $sctlsd
	wait_for 10 grep -q "reloaded: 2 allowed uid" "$work/sctlsd.log" &&
		fetch_as 1001 && kill -0 $sctlsd &&
		wait_for 10 grep -q "RELOADING=1" "$work/notified"
}
check "SIGHUP: a new allow-uid list applies at once, the same process" reload_uids

reload_bad() {
	sed -i 's/^allow-uid .*/allow-uid 1000,oops/' "$work/sctlsd.conf"
	kill -HUP $sctlsd
	wait_for 10 grep -q "reload: .*sctlsd.conf:2: .*the configuration in use stays" \
		"$work/sctlsd.log" && fetch_as 1001 && kill -0 $sctlsd
}
check "SIGHUP with a bad file: says where, keeps the configuration in use" reload_bad

reload_links() {
	printf 'link 4116=unix:%s/other.sock\nallow-uid 1000,1001\n' "$work" >"$work/sctlsd.conf"
	kill -HUP $sctlsd
	wait_for 10 grep -q "reload: the card links changed: they apply when sctlsd restarts" \
		"$work/sctlsd.log" && fetch_as 1000
}
check "SIGHUP with other links: says they apply at restart, serves on" reload_links

unlinked_port() {
	"$SCTLS_CLI" set ports 4116,5000 2>"$work/set.err" &&
		grep -q "sctlsd has no card link for port 5000" "$work/set.err" &&
		! grep -q "port 4116" "$work/set.err" && "$SCTLS_CLI" set ports 4116
}
check "sctls set ports with a port sctlsd has no link for: a warning names it" unlinked_port

top_shows() {
	local idle rc=1
	# A connection that stays open: its card side waits for a TLS hello.
	setpriv --reuid 1000 --regid 1000 --clear-groups \
		bash -c 'exec 3<>/dev/tcp/127.0.0.1/4116; exec sleep 60' &
	idle=$!
	if wait_for 20 eval '[ "$("$SCTLS_CLI" -j conns)" != "[]" ]'; then
		"$SCTLS_CLI" top -n 2 -d 0.5 >"$work/top.out" 2>&1 &&
			[ "$(grep -c "^sctls top at .*: 1 connection(s)" "$work/top.out")" = 2 ] &&
			grep -Eq "^ *ID +STATE .*TO-APP/S +FROM-APP +FROM-APP/S" "$work/top.out" &&
			grep -Eq "^link 4116 +unix:" "$work/top.out" && rc=0
	fi
	stop $idle
	[ $rc = 0 ] || sed 's/^/# /' "$work/top.out"
	return $rc
}
check "sctls top: two rounds, the open connection with its rates, the card link" top_shows

status_gone() {
	local pid=$sctlsd
	kill -TERM $pid && wait $pid
	sctlsd=
	[ ! -e "$work/status.json" ]
}
check "sctlsd stopping removes its status file" status_gone

stamped() {
	# Every line of the log so far starts with the local time.
	! grep -Evq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} sctlsd: ' \
		"$work/sctlsd.log"
}
check "outside systemd, every log line starts with the time" stamped

journal() {
	local rc
	stop $sctlsd
	sctlsd=
	: >"$work/journal.log"
	# Lines end when the process does: a bad link's message is enough.
	JOURNAL_STREAM=$(stat -c '%d:%i' "$work/journal.log") \
		"$SCTLSD" -d "$work/none" --link "4116=unix:$work/card.sock" 2>>"$work/journal.log"
	rc=$?
	[ $rc = 1 ] && grep -q '^<3>sctlsd: error: .*none does not exist' "$work/journal.log"
}
check "under the journal (JOURNAL_STREAM): lines carry their priority, <3> for errors" journal

# A helper that is not root: the device's permissions, then the capability.
as_1000() {
	setpriv --reuid 1000 --regid 1000 --clear-groups "$@" \
		"$SCTLSD" --link "4116=unix:$work/card.sock" 2>"$work/user.log"
}
no_device_permission() {
	chown 0:0 /dev/sctls && chmod 0600 /dev/sctls || return 1
	as_1000
	[ $? = 1 ] && grep -q "permission denied: it is uid 0 gid 0 mode 600, sctlsd runs as uid 1000 gid 1000: run it in the device's group" \
		"$work/user.log" && ! grep -q "needs root" "$work/user.log"
}
check "not root, no permission on the device: says the device's owner and mode, not 'needs root'" \
	no_device_permission

no_capability() {
	chgrp 1000 /dev/sctls && chmod 0660 /dev/sctls || return 1
	as_1000
	[ $? = 1 ] && grep -q "needs CAP_NET_ADMIN in this network namespace" "$work/user.log"
}
check "the device's group but no CAP_NET_ADMIN: says so" no_capability

with_capability() {
	chmod 0666 "$work/card.sock"	# the card, for a helper that is not root
	# Not through as_1000: $! must be sctlsd's own pid, for cleanup.
	setpriv --reuid 1000 --regid 1000 --clear-groups --inh-caps +net_admin \
		--ambient-caps +net_admin "$SCTLSD" --link "4116=unix:$work/card.sock" \
		2>"$work/user.log" &
	sctlsd=$!
	wait_for 20 grep -q "info: ready" "$work/user.log" && fetch_as 1001 ||
		{ sed 's/^/# /' "$work/user.log"; return 1; }
}
check "the device's group and an ambient CAP_NET_ADMIN: serves as uid 1000" with_capability

[ $failed -eq 0 ]
