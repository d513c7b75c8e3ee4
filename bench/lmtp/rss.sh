#!/bin/sh
# rss.sh - memory of cove-lmtpd while CONNS connections each deliver one
# message of SIZE bytes at once: the peak anonymous RSS (heap: spool buffers,
# engine scratch) and the peak total RSS (plus file pages mapped: spool
# mappings, the LMDB map) summed over the workers, sampled from /proc every
# 10 ms. Runs once per [lmtp] spool_memory value given; 1G keeps every
# message in memory (the behaviour before the file spool). Private store in a
# temp dir, daemon on loopback, stopped and removed afterwards.
#
# Usage: bench/lmtp/rss.sh [CONNS] [SIZE] [SPOOL_MEMORY...]
#        e.g. BUILD=build/release bench/lmtp/rss.sh 20 20000000 1G 1M
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build/release}
CONNS=${1:-20}; SIZE=${2:-20000000}
[ $# -gt 2 ] && shift 2 || set --
MEMS=${*:-1G 1M}
PORT=${PORT:-24250}
T=$(mktemp -d /tmp/cove-lmtp-rss.XXXXXX)
cleanup() {
        [ -f "$T/lmtpd.pid" ] && kill "$(cat "$T/lmtpd.pid")" 2>/dev/null || true
        sleep 1
        rm -rf "$T"
}
trap cleanup EXIT INT TERM
cc -O2 -Wall -o "$T/lmtp-load" "$SRC/bench/lmtp/lmtp-load.c"
cc -O2 -D_GNU_SOURCE -I"$SRC/core" -I"$SRC/storage" -I"$SRC/storage/include" \
   "$SRC/bench/lmtp/mkusers.c" "$BUILD/storage/libcove_storage.a" "$BUILD/core/libcove_mime.a" \
   "$BUILD/core/libcove_conf.a" "$BUILD/core/libcove_base.a" -ldl -o "$T/mkusers"

# Sums a field (kB) of /proc/PID/status over the PIDs.
sum_field() {   # FIELD PIDS...
        f=$1; shift
        cat $(for p in "$@"; do echo "/proc/$p/status"; done) 2>/dev/null |
                awk -v f="$f:" '$1 == f { s += $2 } END { print s + 0 }'
}

for mem in $MEMS; do
        rm -rf "$T/store"
        cat > "$T/cove.conf" <<CONF
[store]
engine = lmdb
path = $T/store
plugin_dir = $BUILD/plugins
[server]
log_level = warn
max_connections_per_ip = 0
[lmtp]
listen = 127.0.0.1:$PORT
spool_memory = $mem
CONF
        "$BUILD/cli/covectl" -c "$T/cove.conf" init
        "$T/mkusers" "$T/cove.conf" 100 example.org
        "$BUILD/lmtpd/cove-lmtpd" -F -c "$T/cove.conf" > "$T/lmtpd.log" 2>&1 &
        echo $! > "$T/lmtpd.pid"
        sleep 1
        workers=$(pgrep -P "$(cat "$T/lmtpd.pid")" | tr '\n' ' ')
        base_anon=$(sum_field RssAnon $workers)
        "$T/lmtp-load" --port "$PORT" --users 100 --connections "$CONNS" --size "$SIZE" \
                --messages 1 --label "mem=$mem" > "$T/load.out" &
        load=$!
        peak_anon=0; peak_rss=0
        while kill -0 "$load" 2>/dev/null; do
                a=$(sum_field RssAnon $workers); r=$(sum_field VmRSS $workers)
                [ "$a" -gt "$peak_anon" ] && peak_anon=$a
                [ "$r" -gt "$peak_rss" ] && peak_rss=$r
                sleep 0.01
        done
        wait "$load" || true
        cat "$T/load.out"
        echo "spool_memory=$mem conns=$CONNS size=$SIZE workers=$(echo $workers | wc -w):" \
             "RssAnon idle ${base_anon} kB, peak ${peak_anon} kB; VmRSS peak ${peak_rss} kB"
        kill "$(cat "$T/lmtpd.pid")"; rm -f "$T/lmtpd.pid"
        sleep 1
done
