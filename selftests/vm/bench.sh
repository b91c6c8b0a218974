#!/bin/bash
# Inside the VM, for `make bench`: load sctls.ko, run the benchmark, unload.
# usage: bench.sh SCTLS_KO BENCH
set -eu
insmod "$1"
status=0
"$2" || status=$?
rmmod sctls
exit $status
