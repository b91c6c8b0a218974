#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM, for `make bench`: every path to one echo backend, then the
# measurements. usage: bench.sh SCTLS_KO SCTLSD BENCH
set -eu
ko=$1 sctlsd_bin=$2 bench=$3
work=/tmp/sctls-bench
mkdir -p $work
. "$(dirname "$0")/bench-lib.sh"

# Until something listens on a loopback port, at most 10 s.
wait_port() {
	local deadline=$((SECONDS + 10))
	until (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "bench: nothing on port $1" >&2; exit 1; }
		sleep 0.1
	done
}

ulimit -n 8192
insmod "$ko" max_conns=1024
"$bench" --echo-server 5000 >$work/echo.log & pids+=($!)
wait_port 5000
"$sctlsd_bin" --link 4116=tcp:127.0.0.1:5000 2>$work/sctlsd.log & pids+=($!)
wait_port 4116
# nginx's stream proxy with one worker: one thread, as sctlsd.
cat >$work/nginx.conf <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
worker_rlimit_nofile 8192;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
# proxy_half_close: an app's FIN must not cut off what is still coming back.
stream { server { listen 127.0.0.1:5001 backlog=1024; proxy_half_close on; proxy_pass 127.0.0.1:5000; } }
CONF
nginx -c $work/nginx.conf & pids+=($!)
wait_port 5001
# -t 30: after one side ends, the other may take its time to finish.
socat -t 30 TCP-LISTEN:5002,bind=127.0.0.1,fork,reuseaddr,backlog=1024 TCP:127.0.0.1:5000 & pids+=($!)
wait_port 5002

"$bench"
