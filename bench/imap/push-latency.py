#!/usr/bin/env python3
"""How long an LMTP delivery takes to reach a session in IDLE.

Starts cove-imapd and cove-lmtpd (Release build, private temp store on
loopback), parks S sessions in IDLE on S users' INBOXes, then delivers N
messages one at a time to random users of them. For each delivery the time
runs from the LMTP 250 (the message is committed and durable) to the
"* n EXISTS" pushed to that user's IDLE session; the RECENT that comes with
it means the push also claimed the message as \\Recent (in the worker's write
batch). Optional background load: W threads of LMTP deliveries to other
users meanwhile. Prints p50 / p90 / p99 / max in milliseconds.

    bench/imap/push-latency.py --build build/release [--sessions 20]
        [--deliveries 200] [--load 0]
"""
import argparse
import os
import random
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import free_port, wait_port  # noqa: E402


def covectl(build, conf, *args, data=None):
    subprocess.run([os.path.join(build, "cli", "covectl"), "-c", conf, *args],
                   input=data, check=True, capture_output=True)


class IdleSession:
    def __init__(self, port, user):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.line()
        self.sock.sendall(b"a LOGIN " + user.encode() + b" pw\r\nb SELECT INBOX\r\n")
        while not self.line().startswith(b"b OK"):
            pass
        self.sock.sendall(b"i IDLE\r\n")
        while not self.line().startswith(b"+"):
            pass

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("session closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def wait_recent(self):
        """Reads pushes up to the RECENT that follows an EXISTS; returns
        when it arrived."""
        while True:
            if self.line().endswith(b" RECENT"):
                return time.monotonic()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--deliveries", type=int, default=200)
    ap.add_argument("--load", type=int, default=0,
                    help="threads delivering to other users meanwhile")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="cove-bench-push-")
    conf = os.path.join(tmp, "cove.conf")
    imap_port, lmtp_port = free_port(), free_port()
    with open(conf, "w") as f:
        f.write(f"""[store]
engine = lmdb
path = {tmp}/store
plugin_dir = {build}/plugins
[server]
workers = {args.workers}
log_level = warn
max_connections_per_ip = 0
[imap]
listen = 127.0.0.1:{imap_port}
[lmtp]
listen = 127.0.0.1:{lmtp_port}
""")
    covectl(build, conf, "init")
    users = [f"p{i:03d}@example.org" for i in range(args.sessions)]
    others = [f"o{i:03d}@example.org" for i in range(max(args.load, 1) * 4)]
    for u in users + others:
        covectl(build, conf, "user", "add", u, "--password-stdin", data=b"pw\n")
    procs = [subprocess.Popen([os.path.join(build, d, f"cove-{d}"), "-F", "-c", conf],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for d in ("imapd", "lmtpd")]
    stop = threading.Event()
    try:
        wait_port(imap_port, procs[0])
        wait_port(lmtp_port, procs[1])
        sessions = {u: IdleSession(imap_port, u) for u in users}

        def load(seed):
            rnd = random.Random(seed)
            try:
                with smtplib.LMTP("127.0.0.1", lmtp_port) as l:
                    while not stop.is_set():
                        l.sendmail("x@example.org", [rnd.choice(others)], b"Subject: load"
                                   b"\r\n\r\n" + b"x" * rnd.randrange(100, 20000))
            except (OSError, smtplib.SMTPException):
                pass   # the servers stop under it at the end
        loaders = [threading.Thread(target=load, args=(i,), daemon=True)
                   for i in range(args.load)]
        for t in loaders:
            t.start()
        rnd = random.Random(1)
        delays = []
        with smtplib.LMTP("127.0.0.1", lmtp_port) as l:
            for i in range(args.deliveries):
                u = rnd.choice(users)
                l.sendmail("x@example.org", [u], b"Subject: push %d\r\n\r\nhello\r\n" % i)
                t0 = time.monotonic()
                delays.append((sessions[u].wait_recent() - t0) * 1000)
        stop.set()
        delays.sort()
        q = statistics.quantiles(delays, n=100)
        print(f"sessions={args.sessions} deliveries={args.deliveries} load_threads={args.load} "
              f"push after 250, ms: p50={q[49]:.2f} p90={q[89]:.2f} p99={q[98]:.2f} "
              f"max={delays[-1]:.2f}")
    finally:
        stop.set()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
