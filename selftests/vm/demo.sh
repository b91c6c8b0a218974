#!/bin/bash
# Inside the VM, for `make demo`: load sctls.ko and show the device and the
# port it serves. Needs SCTLS_KO.
set -euo pipefail

step() { printf '\n== %s\n' "$*"; }

step "kernel $(uname -r); loading $SCTLS_KO"
insmod "$SCTLS_KO"
dmesg | grep -E '(^|\] )sctls: ' | sed 's/^\[[^]]*\] //'

step "the device the helper opens (root only, one helper per network namespace)"
ls -l /dev/sctls

step "the loopback TCP ports served while a helper holds /dev/sctls (parameter 'ports')"
echo "ports: $(cat /sys/module/sctls/parameters/ports)  (IANA smartcard-tls is 4116)"
echo "max_conns: $(cat /sys/module/sctls/parameters/max_conns)  window: $(cat /sys/module/sctls/parameters/window) bytes"

step "unloading"
rmmod sctls
echo "sctls unloaded; /dev/sctls $([ -e /dev/sctls ] && echo 'still there' || echo 'gone')"
