#!/bin/sh
# run.sh - side-by-side durable LMTP delivery: cove-lmtpd and Debian's Dovecot
# LMTP (maildir, default mail_fsync=optimized), same machine, same load
# (lmtp-load.c), one after the other. Both run privately on loopback from a
# temp directory and are stopped at the end; nothing is installed or enabled
# except the dovecot-lmtpd package (apt-get install dovecot-lmtpd), which must
# be present. Needs a Release build: BUILD=build/release by default.
#
# Usage: bench/lmtp/run.sh [SECONDS] [CONNECTIONS...]   (as root for Dovecot)
# ONLY=cove or ONLY=dovecot runs one side; LOADGEN=py uses the Python
# generator, LOADGEN_CPU=1 prints its CPU time; PERF=1 records `perf record -g`
# of the cove-lmtpd workers into $PERF_OUT (default /tmp/cove-lmtpd.perf);
# LOG_LEVEL=debug KEEP_LOG=FILE keeps cove-lmtpd's log (group-commit sizes);
# FLUSH=group sets Cove's [store] flush (default: the config default, commit).
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build/release}
SECS=${1:-15}; [ $# -gt 0 ] && shift
CONNS=${*:-1 16 64}
USERS=${USERS:-10000}
T=$(mktemp -d /tmp/cove-lmtp-bench.XXXXXX)
chmod 755 "$T"   # Dovecot delivers as nobody below it
CPORT=${CPORT:-24240} DPORT=${DPORT:-24241}
cleanup() {
        [ -f "$T/lmtpd.pid" ] && kill "$(cat "$T/lmtpd.pid")" 2>/dev/null || true
        [ -f "$T/dovecot/run/master.pid" ] && kill "$(cat "$T/dovecot/run/master.pid")" 2>/dev/null || true
        sleep 1
        rm -rf "$T"
}
trap cleanup EXIT INT TERM
cc -O2 -Wall -o "$T/lmtp-load" "$SRC/bench/lmtp/lmtp-load.c"
# LOADGEN_CPU=1: print the generator's own CPU time after each run.
TIMER=; [ -n "${LOADGEN_CPU:-}" ] && TIMER="/usr/bin/time -f loadgen-cpu=%Us+%Ss"
load() {   # PORT CONNECTIONS LABEL
        if [ "${LOADGEN:-c}" = py ]; then
                $TIMER python3 "$SRC/bench/lmtp/lmtp-load.py" --port "$1" --users "$USERS" \
                        --connections "$2" --seconds "$SECS" --label "$3"
        else
                $TIMER "$T/lmtp-load" --port "$1" --users "$USERS" \
                        --connections "$2" --seconds "$SECS" --label "$3"
        fi
}

# --- Cove ---------------------------------------------------------------
if [ "${ONLY:-}" != dovecot ]; then
cat > "$T/cove.conf" <<CONF
[store]
engine = lmdb
path = $T/store
plugin_dir = $BUILD/plugins
flush = ${FLUSH:-commit}
[server]
log_level = ${LOG_LEVEL:-warn}
max_connections_per_ip = 0
[lmtp]
listen = 127.0.0.1:$CPORT
CONF
"$BUILD/cli/covectl" -c "$T/cove.conf" init
cc -O2 -D_GNU_SOURCE -I"$SRC/core" -I"$SRC/storage" -I"$SRC/storage/include" \
   "$SRC/bench/lmtp/mkusers.c" "$BUILD/storage/libcove_storage.a" "$BUILD/core/libcove_mime.a" \
   "$BUILD/core/libcove_conf.a" "$BUILD/core/libcove_base.a" -ldl -o "$T/mkusers"
"$T/mkusers" "$T/cove.conf" "$USERS" example.org
"$BUILD/lmtpd/cove-lmtpd" -F -c "$T/cove.conf" > "$T/lmtpd.log" 2>&1 &
echo $! > "$T/lmtpd.pid"
sleep 1
if [ -n "${PERF:-}" ]; then
        perf record -g -o "${PERF_OUT:-/tmp/cove-lmtpd.perf}" \
                -p "$(pgrep -d, -P "$(cat "$T/lmtpd.pid")")" > "$T/perf.log" 2>&1 &
        PERF_PID=$!
        sleep 1
fi
for c in $CONNS; do
        load $CPORT "$c" cove
done
[ -n "${PERF_PID:-}" ] && kill -INT "$PERF_PID" && wait "$PERF_PID" || true
kill "$(cat "$T/lmtpd.pid")"; rm -f "$T/lmtpd.pid"
[ -n "${KEEP_LOG:-}" ] && sleep 1 && cp "$T/lmtpd.log" "$KEEP_LOG"
fi

# --- Dovecot --------------------------------------------------------------
[ "${ONLY:-}" = cove ] && exit 0
mkdir -p "$T/dovecot/run/state" "$T/dovecot/mail"
chown nobody:nogroup "$T/dovecot/mail"
cat > "$T/dovecot/dovecot.conf" <<CONF
base_dir = $T/dovecot/run
state_dir = $T/dovecot/run/state
log_path = $T/dovecot/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$T/dovecot/mail/%d/%n allow_all_users=yes
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DPORT
  }
}
CONF
dovecot -c "$T/dovecot/dovecot.conf"
sleep 1
for c in $CONNS; do
        load $DPORT "$c" dovecot
done
